"""Specs for the spatial NN ops: Convolution, Deconvolution, Pooling, UpSampling.

The references are written independently of the kernels' im2col/GEMM lowering: convolution sums,
for every kernel offset, a strided slice of the zero-padded input times that offset's weights
(einsum over the group's channels); deconvolution scatters every input position times the weights
into a full-size output and crops the padding; pooling loops over output positions with MXNet's
window rules; upsampling repeats with numpy. All in float64, cast back to the input dtype.
"""
import itertools
import math

import numpy as np

from opspec import Case, rand

FLOATS = ("float32", "float64", "float16", "bfloat16")


def _np_dtype(dt):
    return "float32" if dt == "bfloat16" else dt


def _tuple(v, nd, fill):
    v = tuple(v) if v is not None else ()
    return v if len(v) else (fill,) * nd


# ------------------------------------------------------------------ Convolution
def ref_convolution(x, w, b=None, kernel=(), stride=(), dilate=(), pad=(), num_filter=1, num_group=1,
                    no_bias=False, **_):
    nd = len(kernel)
    s, d, p = _tuple(stride, nd, 1), _tuple(dilate, nd, 1), _tuple(pad, nd, 0)
    xf, wf = x.astype(np.float64), w.astype(np.float64)
    N, C = x.shape[:2]
    G, F = num_group, num_filter
    xp = np.pad(xf, [(0, 0), (0, 0)] + [(pi, pi) for pi in p])
    out = [(x.shape[2 + i] + 2 * p[i] - (d[i] * (kernel[i] - 1) + 1)) // s[i] + 1 for i in range(nd)]
    xg = xp.reshape((N, G, C // G) + xp.shape[2:])
    wg = wf.reshape((G, F // G, C // G) + tuple(kernel))
    y = np.zeros((N, G, F // G) + tuple(out))
    for off in itertools.product(*[range(k) for k in kernel]):
        sl = tuple(slice(off[i] * d[i], off[i] * d[i] + (out[i] - 1) * s[i] + 1, s[i]) for i in range(nd))
        patch = xg[(slice(None),) * 3 + sl]                   # (N, G, Cg, out...)
        wk = wg[(slice(None),) * 3 + tuple(off)]              # (G, Fg, Cg)
        y += np.einsum("ngc...,gfc->ngf...", patch, wk)
    y = y.reshape((N, F) + tuple(out))
    if not no_bias and b is not None:
        y += b.astype(np.float64).reshape((1, F) + (1,) * nd)
    return y.astype(x.dtype)


def _split32(inputs, ref, params, name, atol32):
    """One Case for every float dtype; with atol32, float32 gets its own Case with that absolute tolerance:
    float32 sums of many products carry rounding error proportional to the sum of |terms|, which the
    default atol (1e-6) is too tight for on outputs that cancel to near zero."""
    if atol32 is None:
        return [Case(inputs=inputs, ref=ref, params=params, dtypes=FLOATS, name=name)]
    return [Case(inputs=inputs, ref=ref, params=params, dtypes=("float32",), atol=atol32, name=name),
            Case(inputs=inputs, ref=ref, params=params, dtypes=("float64", "float16", "bfloat16"), name=name)]


def _conv_case(xs, ws, params, name, bias=True, atol32=None):
    def inputs(dt, rng):
        t = _np_dtype(dt)
        arrs = [rand(xs, t, rng), rand(ws, t, rng, -1.0, 1.0)]
        if bias:
            arrs.append(rand((params["num_filter"],), t, rng))
        return arrs
    return _split32(inputs, ref_convolution, params, name, atol32)


CONV_CASES = sum([
    _conv_case((2, 3, 7, 6), (4, 3, 3, 3), {"kernel": (3, 3), "num_filter": 4}, "2d"),
    _conv_case((2, 4, 9, 8), (6, 4, 3, 2),
               {"kernel": (3, 2), "stride": (2, 1), "pad": (1, 2), "dilate": (2, 1), "num_filter": 6},
               "2d_stride_pad_dilate"),
    _conv_case((2, 6, 6, 5), (4, 3, 3, 3), {"kernel": (3, 3), "num_filter": 4, "num_group": 2, "no_bias": True},
               "2d_groups_nobias", bias=False),
    _conv_case((3, 4, 11), (5, 4, 3),
               {"kernel": (3,), "stride": (2,), "pad": (1,), "dilate": (2,), "num_filter": 5, "layout": "NCW"},
               "1d"),
    _conv_case((2, 2, 5, 6, 4), (3, 2, 2, 3, 2),
               {"kernel": (2, 3, 2), "stride": (1, 2, 1), "pad": (1, 0, 1), "num_filter": 3}, "3d"),
    _conv_case((2, 4, 5, 6, 5), (4, 2, 2, 2, 3),
               {"kernel": (2, 2, 3), "dilate": (2, 1, 1), "pad": (0, 1, 1), "stride": (1, 1, 2), "num_filter": 4,
                "num_group": 2, "layout": "NCDHW"}, "3d_groups_dilate"),
    _conv_case((2, 5, 4, 4), (3, 5, 1, 1), {"kernel": (1, 1), "num_filter": 3}, "1x1"),
    _conv_case((2, 5, 6, 7), (3, 5, 1, 1), {"kernel": (1, 1), "stride": (2, 3), "num_filter": 3, "workspace": 64,
                                             "cudnn_tune": "fastest", "cudnn_off": True}, "1x1_strided_hints"),
    _conv_case((1, 4, 6, 6), (4, 1, 3, 3),
               {"kernel": (3, 3), "stride": (2, 2), "pad": (1, 1), "num_filter": 4, "num_group": 4}, "depthwise"),
    _conv_case((5, 8, 13, 12), (16, 8, 3, 3), {"kernel": (3, 3), "pad": (1, 1), "num_filter": 16, "layout": "NCHW"},
               "2d_larger", atol32=2e-5),
], [])


# ------------------------------------------------------------------ Deconvolution
def _deconv_geometry(in_sp, kernel, s, d, p, adj, target):
    nd = len(kernel)
    p, adj = list(p), list(adj)
    full = [s[i] * (in_sp[i] - 1) + d[i] * (kernel[i] - 1) + 1 for i in range(nd)]
    if any(target):
        for i in range(nd):
            total = full[i] - target[i]
            p[i] = (total + 1) // 2
            adj[i] = total % 2
    out = [full[i] - 2 * p[i] + adj[i] for i in range(nd)]
    return full, p, adj, out


def ref_deconvolution(x, w, b=None, kernel=(), stride=(), dilate=(), pad=(), adj=(), target_shape=(), num_filter=1,
                      num_group=1, no_bias=True, **_):
    nd = len(kernel)
    s, d = _tuple(stride, nd, 1), _tuple(dilate, nd, 1)
    p, a, t = _tuple(pad, nd, 0), _tuple(adj, nd, 0), _tuple(target_shape, nd, 0)
    N, C = x.shape[:2]
    G, F = num_group, num_filter
    in_sp = x.shape[2:]
    full, p, a, out = _deconv_geometry(in_sp, kernel, s, d, p, a, t)
    xg = x.astype(np.float64).reshape((N, G, C // G) + in_sp)
    wg = w.astype(np.float64).reshape((G, C // G, F // G) + tuple(kernel))
    yfull = np.zeros((N, G, F // G) + tuple(full[i] + a[i] for i in range(nd)))
    for off in itertools.product(*[range(k) for k in kernel]):
        sl = tuple(slice(off[i] * d[i], off[i] * d[i] + (in_sp[i] - 1) * s[i] + 1, s[i]) for i in range(nd))
        wk = wg[(slice(None),) * 3 + tuple(off)]              # (G, Cg, Fg)
        yfull[(slice(None),) * 3 + sl] += np.einsum("ngc...,gcf->ngf...", xg, wk)
    y = yfull[(slice(None),) * 3 + tuple(slice(p[i], p[i] + out[i]) for i in range(nd))]
    y = y.reshape((N, F) + tuple(out))
    if not no_bias and b is not None:
        y = y + b.astype(np.float64).reshape((1, F) + (1,) * nd)
    return y.astype(x.dtype)


def _deconv_case(xs, ws, params, name, bias=False, atol32=None):
    def inputs(dt, rng):
        t = _np_dtype(dt)
        arrs = [rand(xs, t, rng), rand(ws, t, rng, -1.0, 1.0)]
        if bias:
            arrs.append(rand((params["num_filter"],), t, rng))
        return arrs
    return _split32(inputs, ref_deconvolution, params, name, atol32)


DECONV_CASES = sum([
    _deconv_case((2, 3, 4, 5), (3, 4, 3, 3), {"kernel": (3, 3), "num_filter": 4}, "2d_default_nobias"),
    _deconv_case((2, 3, 4, 4), (3, 2, 3, 3),
                 {"kernel": (3, 3), "stride": (2, 2), "pad": (1, 1), "adj": (1, 1), "num_filter": 2,
                  "no_bias": False}, "2d_stride_pad_adj_bias", bias=True),
    _deconv_case((2, 4, 3, 5), (4, 3, 2, 3),
                 {"kernel": (2, 3), "dilate": (2, 1), "stride": (1, 2), "num_filter": 6, "num_group": 2},
                 "2d_groups_dilate"),
    _deconv_case((1, 2, 4, 4), (2, 3, 3, 3),
                 {"kernel": (3, 3), "stride": (2, 2), "target_shape": (8, 8), "num_filter": 3}, "target_shape"),
    _deconv_case((2, 2, 3, 5), (2, 2, 4, 4),
                 {"kernel": (4, 4), "stride": (2, 3), "target_shape": (7, 14), "pad": (5, 5), "num_filter": 2},
                 "target_shape_overrides_pad"),
    _deconv_case((2, 3, 6), (3, 2, 4),
                 {"kernel": (4,), "stride": (3,), "pad": (1,), "num_filter": 2, "no_bias": False, "layout": "NCW"},
                 "1d_bias", bias=True),
    _deconv_case((1, 2, 3, 3, 2), (2, 2, 2, 2, 3),
                 {"kernel": (2, 2, 3), "stride": (2, 1, 2), "pad": (0, 1, 1), "num_filter": 2}, "3d"),
    _deconv_case((3, 8, 7, 6), (8, 4, 4, 4),
                 {"kernel": (4, 4), "stride": (2, 2), "pad": (1, 1), "num_filter": 4, "workspace": 2048,
                  "cudnn_off": True}, "2d_larger", atol32=2e-5),
], [])


# ------------------------------------------------------------------ Pooling
def ref_pooling(x, kernel=(), pool_type="max", global_pool=False, pooling_convention="valid", stride=(), pad=(),
                p_value=None, count_include_pad=None, **_):
    nd = x.ndim - 2
    in_sp = x.shape[2:]
    if global_pool:
        k, s, p = tuple(in_sp), (1,) * nd, (0,) * nd
        out = [1] * nd
    else:
        k, s, p = tuple(kernel), _tuple(stride, nd, 1), list(_tuple(pad, nd, 0))
        if pooling_convention == "valid":
            out = [(in_sp[i] + 2 * p[i] - k[i]) // s[i] + 1 for i in range(nd)]
        elif pooling_convention == "full":
            out = [int(math.ceil((in_sp[i] + 2 * p[i] - k[i]) / s[i])) + 1 for i in range(nd)]
        else:  # same (1-d, no pad): ceil(in / stride) windows from o * stride, cut at the end
            out = [-(-in_sp[i] // s[i]) for i in range(nd)]
    include = True if count_include_pad is None else count_include_pad
    xf = x.astype(np.float64)
    y = np.zeros(x.shape[:2] + tuple(out))
    for o in np.ndindex(*out):
        sl, full = [], 1
        for i in range(nd):
            st = o[i] * s[i] - p[i]
            en = min(st + k[i], in_sp[i] + p[i])
            full *= en - st
            sl.append(slice(max(st, 0), min(en, in_sp[i])))
        win = xf[(slice(None), slice(None)) + tuple(sl)].reshape(x.shape[0], x.shape[1], -1)
        if pool_type == "max":
            v = win.max(axis=2)
        elif pool_type == "sum":
            v = win.sum(axis=2)
        elif pool_type == "avg":
            v = win.sum(axis=2) / (full if include else win.shape[2])
        else:
            v = (np.abs(win) ** p_value).sum(axis=2) ** (1.0 / p_value)
        y[(slice(None), slice(None)) + o] = v
    return y.astype(x.dtype)


def _pool_case(xs, params, name, low=-2.0, high=2.0):
    return Case(inputs=lambda dt, rng: [rand(xs, _np_dtype(dt), rng, low, high)], ref=ref_pooling, params=params,
                dtypes=FLOATS, name=name)


POOL_CASES = [
    _pool_case((2, 3, 7, 6), {"kernel": (2, 2), "stride": (2, 2)}, "max_2d"),
    _pool_case((2, 3, 7, 6), {"kernel": (3, 3), "stride": (2, 2), "pad": (1, 1), "pool_type": "max"}, "max_2d_pad",
               low=-3.0, high=-1.0),
    _pool_case((2, 3, 7, 8), {"kernel": (3, 3), "stride": (2, 2), "pad": (1, 1), "pool_type": "avg",
                              "pooling_convention": "full"}, "avg_full_pad"),
    _pool_case((2, 2, 7, 8), {"kernel": (3, 4), "stride": (2, 3), "pad": (1, 2), "pool_type": "avg",
                              "count_include_pad": False}, "avg_exclude_pad"),
    _pool_case((2, 2, 6, 7), {"kernel": (3, 3), "stride": (2, 2), "pad": (1, 1), "pool_type": "avg",
                              "count_include_pad": True, "layout": "NCHW"}, "avg_include_pad"),
    _pool_case((3, 4, 10), {"kernel": (3,), "stride": (2,), "pad": (1,), "pool_type": "sum"}, "sum_1d"),
    _pool_case((2, 3, 9), {"kernel": (4,), "stride": (3,), "pool_type": "sum", "pooling_convention": "full"},
               "sum_1d_full"),
    _pool_case((2, 3, 6, 5), {"kernel": (2, 3), "stride": (1, 2), "pool_type": "lp", "p_value": 2}, "lp2"),
    _pool_case((2, 3, 6, 5), {"kernel": (3, 2), "pad": (1, 1), "pool_type": "lp", "p_value": 1}, "lp1_pad"),
    _pool_case((2, 3, 6, 5), {"kernel": (2, 2), "pool_type": "lp", "p_value": 3}, "lp3", low=0.1, high=2.0),
    _pool_case((2, 3, 4, 5, 6), {"global_pool": True, "pool_type": "max"}, "global_max_3d"),
    _pool_case((2, 3, 5, 6), {"global_pool": True, "kernel": (2, 2), "pool_type": "avg"}, "global_avg_2d"),
    _pool_case((2, 3, 7), {"global_pool": True, "pool_type": "sum", "cudnn_off": True}, "global_sum_1d"),
    _pool_case((2, 2, 5, 6, 7), {"kernel": (2, 3, 2), "stride": (2, 2, 3), "pad": (1, 1, 0), "pool_type": "avg",
                                 "pooling_convention": "full", "layout": "NCDHW"}, "avg_3d_full"),
    _pool_case((2, 2, 5, 6, 7), {"kernel": (3, 2, 2), "stride": (1, 2, 2), "pool_type": "max"}, "max_3d"),
    _pool_case((2, 3, 10), {"kernel": (3,), "stride": (2,), "pooling_convention": "same"}, "max_1d_same"),
    _pool_case((2, 3, 11), {"kernel": (4,), "stride": (3,), "pool_type": "sum", "pooling_convention": "same",
                            "layout": "NCW"}, "sum_1d_same"),
]


# ------------------------------------------------------------------ UpSampling
def ref_upsampling(*xs, scale=1, multi_input_mode="concat", **_):
    oh, ow = xs[0].shape[2] * scale, xs[0].shape[3] * scale
    ups = [np.repeat(np.repeat(x.astype(np.float64), oh // x.shape[2], axis=2), ow // x.shape[3], axis=3)
           for x in xs]
    y = sum(ups) if multi_input_mode == "sum" else np.concatenate(ups, axis=1)
    return y.astype(xs[0].dtype)


def _up_case(shapes, params, name):
    return Case(inputs=lambda dt, rng: [rand(s, _np_dtype(dt), rng) for s in shapes], ref=ref_upsampling,
                params=dict(params, sample_type="nearest", num_args=len(shapes)), dtypes=FLOATS, name=name)


UP_CASES = [
    _up_case([(2, 3, 4, 5)], {"scale": 2}, "single"),
    _up_case([(1, 2, 3, 3)], {"scale": 3, "workspace": 1024}, "scale3"),
    _up_case([(2, 3, 4, 6), (2, 2, 2, 3), (2, 1, 8, 12)], {"scale": 2}, "concat3"),
    _up_case([(1, 3, 3, 4), (1, 3, 1, 2)], {"scale": 2, "multi_input_mode": "sum"}, "sum2"),
]


SPECS = {
    "Convolution": CONV_CASES,
    "Deconvolution": DECONV_CASES,
    "Pooling": POOL_CASES,
    "UpSampling": UP_CASES,
}
