"""Forward specs of the dedicated backward ops of the spatial nn ops: _backward_Convolution_data /
_weight, _backward_Deconvolution_data / _weight, _backward_Pooling and _backward_UpSampling.

References: convolution and deconvolution are linear in data and in weight, so each gradient is the
transposed Jacobian of the independent numpy forward references (spec_nn_conv) applied to ograd,
the Jacobian probed one basis vector at a time (small shapes). Pooling's gradient loops over the
windows with MXNet's window rules; UpSampling's sums the repeated blocks with numpy reshapes.
"""
import math

import numpy as np

from opspec import Case, rand
from specs.spec_nn_conv import ref_convolution, ref_deconvolution

F64_32 = ("float64", "float32")
HALF = ("float16", "bfloat16")


def _vjp(fn, g, arg):
    """sum(g * fn(e_i)) for every basis vector e_i shaped like arg (fn linear), in float64."""
    g64 = g.astype(np.float64)
    out = np.zeros(arg.shape)
    e = np.zeros(arg.shape)
    for idx in np.ndindex(*arg.shape):
        e[idx] = 1.0
        out[idx] = np.sum(g64 * fn(e))
        e[idx] = 0.0
    return out


def ref_conv_data(g, x, w, **p):
    p = dict(p, no_bias=True)
    return _vjp(lambda e: ref_convolution(e, w.astype(np.float64), **p), g, x).astype(g.dtype)


def ref_conv_weight(g, x, w, **p):
    p = dict(p, no_bias=True)
    return _vjp(lambda e: ref_convolution(x.astype(np.float64), e, **p), g, w).astype(g.dtype)


def ref_deconv_data(g, x, w, **p):
    p = dict(p, no_bias=True)
    return _vjp(lambda e: ref_deconvolution(e, w.astype(np.float64), **p), g, x).astype(g.dtype)


def ref_deconv_weight(g, x, w, **p):
    p = dict(p, no_bias=True)
    return _vjp(lambda e: ref_deconvolution(x.astype(np.float64), e, **p), g, w).astype(g.dtype)


def _tol(dt):
    return {"float64": (1e-10, 1e-10), "float32": (1e-5, 1e-4), "float16": (2e-2, 5e-2),
            "bfloat16": (5e-2, 2e-1)}[dt]


def _cases(ref, shapes_fn, params, name):
    """shapes_fn(params) -> (ograd, data, weight) shapes. One Case per dtype (tolerance per dtype)."""
    cases = []
    for dt in F64_32 + HALF:
        rt, at = _tol(dt)
        cases.append(Case(inputs=lambda d, rng: [rand(s, "float32" if d == "bfloat16" else d, rng)
                                                 for s in shapes_fn()],
                          ref=ref, params=params, dtypes=(dt,), rtol=rt, atol=at, name=f"{name}_{dt}"))
    return cases


def _conv_out(x, k, s, d, p):
    return [(x[i] + 2 * p[i] - (d[i] * (k[i] - 1) + 1)) // s[i] + 1 for i in range(len(k))]


def _conv_shapes(N, C, sp, F, G, k, s=None, d=None, p=None):
    nd = len(k)
    s, d, p = s or (1,) * nd, d or (1,) * nd, p or (0,) * nd
    o = _conv_out(sp, k, s, d, p)
    return lambda: [(N, F) + tuple(o), (N, C) + tuple(sp), (F, C // G) + tuple(k)]


def _deconv_shapes(N, C, sp, F, G, k, s=None, d=None, p=None, adj=None, target=None):
    nd = len(k)
    s, d, p, a = s or (1,) * nd, d or (1,) * nd, list(p or (0,) * nd), list(adj or (0,) * nd)
    out = []
    for i in range(nd):
        full = s[i] * (sp[i] - 1) + d[i] * (k[i] - 1) + 1
        if target:
            tot = full - target[i]
            p[i], a[i] = (tot + 1) // 2, tot % 2
        out.append(full - 2 * p[i] + a[i])
    return lambda: [(N, F) + tuple(out), (N, C) + tuple(sp), (C, F // G) + tuple(k)]


CONV = [
    ("1d", (2, 3, (7,), 4, 1, (3,)), {"kernel": (3,), "num_filter": 4}),
    ("2d_stride_pad", (2, 2, (5, 6), 3, 1, (3, 2), (2, 1), None, (1, 1)),
     {"kernel": (3, 2), "stride": (2, 1), "pad": (1, 1), "num_filter": 3}),
    ("2d_dilate_group", (1, 4, (6, 5), 6, 2, (2, 2), None, (2, 1)),
     {"kernel": (2, 2), "dilate": (2, 1), "num_group": 2, "num_filter": 6, "no_bias": True}),
    ("3d", (1, 2, (3, 4, 3), 2, 1, (2, 2, 2), (1, 2, 1), None, (0, 1, 1)),
     {"kernel": (2, 2, 2), "stride": (1, 2, 1), "pad": (0, 1, 1), "num_filter": 2}),
]

DECONV = [
    ("1d", (2, 3, (4,), 2, 1, (3,), (2,)), {"kernel": (3,), "stride": (2,), "num_filter": 2}),
    ("2d_pad_adj_group", (1, 4, (3, 4), 2, 2, (3, 2), (2, 2), None, (1, 0), (1, 1)),
     {"kernel": (3, 2), "stride": (2, 2), "pad": (1, 0), "adj": (1, 1), "num_group": 2, "num_filter": 2}),
    ("2d_dilate_target", (2, 2, (3, 3), 3, 1, (2, 3), (2, 1), (1, 2), None, None, (6, 5)),
     {"kernel": (2, 3), "stride": (2, 1), "dilate": (1, 2), "target_shape": (6, 5), "num_filter": 3}),
]


def _conv_specs(ref, table, shapes):
    out = []
    for name, args, params in table:
        out += _cases(ref, shapes(*args), params, name)
    return out


# ------------------------------------------------------------------ Pooling
def _pool_geom(shape, kernel=(), pool_type="max", global_pool=False, pooling_convention="valid", stride=(), pad=(),
               **_):
    nd = len(shape) - 2
    in_sp = shape[2:]
    if global_pool:
        return tuple(in_sp), (1,) * nd, (0,) * nd, [1] * nd
    k = tuple(kernel)
    s = tuple(stride) if stride else (1,) * nd
    p = tuple(pad) if pad else (0,) * nd
    if pooling_convention == "valid":
        out = [(in_sp[i] + 2 * p[i] - k[i]) // s[i] + 1 for i in range(nd)]
    elif pooling_convention == "full":
        out = [int(math.ceil((in_sp[i] + 2 * p[i] - k[i]) / s[i])) + 1 for i in range(nd)]
    else:
        out = [-(-in_sp[i] // s[i]) for i in range(nd)]
    return k, s, p, out


def ref_pool_backward(g, x, y, pool_type="max", p_value=None, count_include_pad=None, **params):
    k, s, p, out = _pool_geom(x.shape, pool_type=pool_type, **params)
    nd = x.ndim - 2
    in_sp = x.shape[2:]
    include = True if count_include_pad is None else count_include_pad
    xf, gf, yf = x.astype(np.float64), g.astype(np.float64), y.astype(np.float64)
    dx = np.zeros(x.shape)
    for n in range(x.shape[0]):
        for c in range(x.shape[1]):
            for o in np.ndindex(*out):
                sl, full = [], 1
                for i in range(nd):
                    st = o[i] * s[i] - p[i]
                    en = min(st + k[i], in_sp[i] + p[i])
                    full *= en - st
                    sl.append(slice(max(st, 0), min(en, in_sp[i])))
                win = xf[(n, c) + tuple(sl)]
                gv = gf[(n, c) + o]
                d = np.zeros(win.shape)
                if pool_type == "max":
                    d[np.unravel_index(np.argmax(win), win.shape)] = gv
                elif pool_type == "sum":
                    d[...] = gv
                elif pool_type == "avg":
                    d[...] = gv / (full if include else win.size)
                else:
                    yv = yf[(n, c) + o]
                    if p_value == 1:
                        d = gv * np.sign(win)
                    elif yv > 0:
                        d = gv * np.abs(win) ** (p_value - 1) * np.sign(win) / yv ** (p_value - 1)
                dx[(n, c) + tuple(sl)] += d
    return dx.astype(g.dtype)


def _pool_fwd(x, **params):
    from specs.spec_nn_conv import ref_pooling
    return ref_pooling(x, **params)


def _pool_case(shape, params, name, low=-2.0, high=2.0, dtypes=F64_32 + HALF):
    _, _, _, out = _pool_geom(shape, **params)
    oshape = shape[:2] + tuple(out)
    cases = []
    for dt in dtypes:
        rt, at = _tol(dt)

        def inputs(d, rng):
            npd = "float32" if d == "bfloat16" else d
            x = rand(shape, npd, rng, low, high)
            if d == "bfloat16":  # the harness rounds inputs to bfloat16: use rounded values for out_data
                x = (x.view(np.uint32) & 0xFFFF0000).view(np.float32)
            return [rand(oshape, npd, rng), x, _pool_fwd(x, **params)]
        cases.append(Case(inputs=inputs, ref=ref_pool_backward, params=params, dtypes=(dt,), rtol=rt, atol=at,
                          name=f"{name}_{dt}"))
    return cases


POOL = [
    ((2, 2, 5, 6), {"kernel": (2, 2), "stride": (2, 2)}, "max_2d"),
    ((2, 2, 6, 5), {"kernel": (3, 3), "stride": (2, 2), "pad": (1, 1), "pool_type": "avg",
                    "pooling_convention": "full"}, "avg_full_pad"),
    ((2, 2, 6, 7), {"kernel": (3, 4), "stride": (2, 3), "pad": (1, 2), "pool_type": "avg",
                    "count_include_pad": False}, "avg_exclude_pad"),
    ((2, 3, 9), {"kernel": (3,), "stride": (2,), "pad": (1,), "pool_type": "sum"}, "sum_1d"),
    ((2, 3, 10), {"kernel": (3,), "stride": (2,), "pooling_convention": "same"}, "max_1d_same"),
    ((2, 2, 5, 4), {"kernel": (2, 3), "stride": (1, 2), "pool_type": "lp", "p_value": 2}, "lp2"),
    ((2, 2, 5, 4), {"kernel": (3, 2), "pad": (1, 1), "pool_type": "lp", "p_value": 1}, "lp1_pad"),
    ((2, 2, 4, 5, 3), {"global_pool": True, "pool_type": "max"}, "global_max_3d"),
    ((1, 2, 4, 5, 4), {"kernel": (2, 3, 2), "stride": (2, 2, 1), "pad": (1, 1, 0), "pool_type": "avg"}, "avg_3d"),
]

POOL_SPECS = []
for _shape, _params, _name in POOL:
    POOL_SPECS += _pool_case(_shape, _params, _name)
POOL_SPECS += _pool_case((2, 2, 5, 4), {"kernel": (2, 2), "pool_type": "lp", "p_value": 3}, "lp3", low=0.1,
                         dtypes=F64_32)


# ------------------------------------------------------------------ UpSampling
def ref_up_backward(g, *xs, scale=1, multi_input_mode="concat", **_):
    gf = g.astype(np.float64)
    N, _, OH, OW = g.shape
    outs, off = [], 0
    for x in xs:
        C, H, W = x.shape[1:]
        part = gf if multi_input_mode == "sum" else gf[:, off:off + C]
        outs.append(part.reshape(N, C, H, OH // H, W, OW // W).sum(axis=(3, 5)).astype(g.dtype))
        if multi_input_mode != "sum":
            off += C
    return tuple(outs)


def _up_case(shapes, params, name):
    N, _, H, W = shapes[0]
    s = params["scale"]
    C = shapes[0][1] if params.get("multi_input_mode") == "sum" else sum(x[1] for x in shapes)
    params = dict(params, sample_type="nearest", num_args=len(shapes))
    cases = []
    for dt in F64_32 + HALF:
        rt, at = _tol(dt)
        cases.append(Case(inputs=lambda d, rng: [rand(sh, "float32" if d == "bfloat16" else d, rng)
                                                 for sh in [(N, C, H * s, W * s)] + list(shapes)],
                          ref=ref_up_backward, params=params, dtypes=(dt,), rtol=rt, atol=at, name=f"{name}_{dt}"))
    return cases


SPECS = {
    "_backward_Convolution_data": _conv_specs(ref_conv_data, CONV, _conv_shapes),
    "_backward_Convolution_weight": _conv_specs(ref_conv_weight, CONV, _conv_shapes),
    "_backward_Deconvolution_data": _conv_specs(ref_deconv_data, DECONV, _deconv_shapes),
    "_backward_Deconvolution_weight": _conv_specs(ref_deconv_weight, DECONV, _deconv_shapes),
    "_backward_Pooling": POOL_SPECS,
    "_backward_UpSampling": (_up_case([(2, 3, 2, 3)], {"scale": 2}, "single")
                             + _up_case([(1, 2, 2, 2), (1, 3, 4, 4), (1, 1, 1, 2)], {"scale": 2}, "concat")
                             + _up_case([(2, 2, 3, 2), (2, 2, 1, 2)], {"scale": 3, "multi_input_mode": "sum"},
                                        "sum")),
}
