"""Forward specs of the dedicated backward ops of the normalisation layers and Embedding
(libmx/op/grad/norm_grad.cc). The harness runs in predict mode, so _backward_BatchNorm is checked
here with the moving statistics; its training-mode path (batch statistics) is checked by the
finite-difference gradient test of BatchNorm and by tests/python/test_norm_grad.py.
References are computed in float64 from the same input values and cast to the output dtype."""
import numpy as np

from opspec import Case, rand

F = ["float32", "float64"]
H = ["float32", "float64", "float16"]
HALF = ["float16", "bfloat16"]


def _d(a):
    return np.asarray(a, dtype=np.float64)


def _norm_back(og, x, g, outer, A, inner, period, eps, ogm=None, ogs=None):
    """Gradient of y = (x - mean) / sqrt(var + eps) * g + b over the middle axis of (outer, A, inner)."""
    og3, x3 = _d(og).reshape(outer, A, inner), _d(x).reshape(outer, A, inner)
    g = _d(g)
    gb = g[np.arange(outer) % period][:, None, None] if period else g[None, :, None]
    m = x3.mean(axis=1, keepdims=True)
    s = np.sqrt(((x3 - m) ** 2).mean(axis=1, keepdims=True) + eps)
    xh = (x3 - m) / s
    gg = og3 * gb
    dx = (gg - gg.mean(axis=1, keepdims=True) - xh * (gg * xh).mean(axis=1, keepdims=True)) / s
    if ogm is not None:
        dx = dx + _d(ogm).reshape(outer, 1, inner) / A + _d(ogs).reshape(outer, 1, inner) * xh / A
    if period:
        dg = np.zeros(period)
        db = np.zeros(period)
        np.add.at(dg, np.arange(outer) % period, (og3 * xh).sum(axis=(1, 2)))
        np.add.at(db, np.arange(outer) % period, og3.sum(axis=(1, 2)))
    else:
        dg, db = (og3 * xh).sum(axis=(0, 2)), og3.sum(axis=(0, 2))
    dt = np.asarray(og).dtype
    return dx.reshape(x.shape).astype(x.dtype), dg.astype(dt), db.astype(dt)


def _ln_ref(og, x, g, *extra, axis=-1, eps=1e-5, output_mean_var=False):
    ax = axis % x.ndim
    outer, A, inner = int(np.prod(x.shape[:ax])), x.shape[ax], int(np.prod(x.shape[ax + 1:]))
    return _norm_back(og, x, g, outer, A, inner, 0, eps, *extra)


def _in_ref(og, x, g, eps=1e-3):
    C = x.shape[1]
    return _norm_back(og, x, g, x.shape[0] * C, int(np.prod(x.shape[2:])), 1, C, eps)


def _gn_ref(og, x, g, *extra, num_groups=1, eps=1e-5, output_mean_var=False):
    G = num_groups
    return _norm_back(og, x, g, x.shape[0] * G, int(np.prod(x.shape[1:])) // G, 1, G, eps, *extra)


def _bn_predict_ref(og, x, g, mm, mv, *extra, eps=1e-3, fix_gamma=True, use_global_stats=False,
                    output_mean_var=False, axis=1):
    ax = axis % x.ndim
    bs = [1] * x.ndim
    bs[ax] = -1
    red = tuple(i for i in range(x.ndim) if i != ax)
    gg = np.ones_like(_d(g)) if fix_gamma else _d(g)
    inv = 1.0 / np.sqrt(_d(mv) + eps)
    xh = (_d(x) - _d(mm).reshape(bs)) * inv.reshape(bs)
    dx = _d(og) * (gg * inv).reshape(bs)
    dg = np.zeros_like(gg) if fix_gamma else (_d(og) * xh).sum(axis=red)
    db = _d(og).sum(axis=red)
    return dx.astype(x.dtype), dg.astype(g.dtype), db.astype(g.dtype)


def _l2_ref(og, x, eps=1e-10, mode="instance"):
    if mode == "instance":
        shp = (x.shape[0], -1, 1)
    elif mode == "channel":
        shp = (x.shape[0], x.shape[1], -1)
    else:
        shp = (x.shape[0] * x.shape[1], -1, 1)
    o3, x3 = _d(og).reshape(shp), _d(x).reshape(shp)
    r = 1.0 / np.sqrt((x3 ** 2).sum(axis=1, keepdims=True) + eps)
    dx = r * o3 - x3 * r ** 3 * (o3 * x3).sum(axis=1, keepdims=True)
    return dx.reshape(x.shape).astype(x.dtype)


def _lrn_ref(og, x, nsize, alpha=1e-4, beta=0.75, knorm=2.0):
    o, xd = _d(og), _d(x)
    C, half, sa = x.shape[1], nsize // 2, alpha / nsize
    n = np.empty_like(xd)
    for c in range(C):
        lo, hi = max(0, c - half), min(C, c - half + nsize)
        n[:, c] = knorm + sa * (xd[:, lo:hi] ** 2).sum(axis=1)
    t = o * xd * n ** (-beta - 1.0)
    dx = o * n ** (-beta)
    for j in range(C):
        for c in range(C):
            if max(0, c - half) <= j < min(C, c - half + nsize):
                dx[:, j] -= 2.0 * beta * sa * xd[:, j] * t[:, c]
    return dx.astype(x.dtype)


def _emb_ref(og, data, w, input_dim, output_dim):
    idx = np.clip(np.trunc(_d(data)).astype(np.int64), 0, input_dim - 1).ravel()
    gw = np.zeros((input_dim, output_dim))
    np.add.at(gw, idx, _d(og).reshape(-1, output_dim))
    return gw.astype(og.dtype)


def _three(shape, gshape, extra=None):
    def make(dt, rng):
        r = [rand(shape, dt, rng), rand(shape, dt, rng), rand(gshape, dt, rng, 0.5, 1.5)]
        if extra is not None:
            r += [rand(extra, dt, rng), rand(extra, dt, rng)]
        return r
    return make


def _bn_inputs(shape, axis, mean_var=False):
    def make(dt, rng):
        c = (shape[axis],)
        r = [rand(shape, dt, rng), rand(shape, dt, rng), rand(c, dt, rng, 0.5, 1.5), rand(c, dt, rng, -0.5, 0.5),
             rand(c, dt, rng, 0.2, 2.0)]
        if mean_var:
            r += [rand(c, dt, rng), rand(c, dt, rng)]
        return r
    return make


def _emb_inputs(idx_shape, input_dim, output_dim):
    def make(dt, rng):
        idx = rng.integers(-1, input_dim + 2, size=idx_shape).astype(np.float64)
        idx = idx.astype("float32" if dt == "bfloat16" else dt)
        return [rand(idx_shape + (output_dim,), dt, rng), idx, rand((input_dim, output_dim), dt, rng)]
    return make


SPECS = {
    "_backward_BatchNorm": [
        Case(_bn_inputs((2, 3, 4), 1), _bn_predict_ref, {"fix_gamma": False, "eps": 1e-5}, dtypes=F, name="nchw"),
        Case(_bn_inputs((2, 3, 4), 1), _bn_predict_ref, {}, dtypes=F, name="fix_gamma"),
        Case(_bn_inputs((5, 2, 3), -1, True), _bn_predict_ref,
             {"fix_gamma": False, "axis": -1, "output_mean_var": True}, dtypes=F, name="axis_last_mean_var"),
        Case(_bn_inputs((4, 3), 1), _bn_predict_ref, {"fix_gamma": False, "use_global_stats": True}, dtypes=F,
             name="global"),
        Case(_bn_inputs((3, 2, 2), 1), _bn_predict_ref, {"fix_gamma": False}, dtypes=HALF, rtol=5e-2, atol=5e-2,
             name="half"),
    ],
    "_backward_LayerNorm": [
        Case(_three((3, 5), (5,)), _ln_ref, {}, dtypes=H, rtol=1e-2, atol=1e-2, name="2d"),
        Case(_three((2, 4, 3), (4,)), _ln_ref, {"axis": 1, "eps": 1e-3}, dtypes=F, name="mid_axis"),
        Case(_three((3, 4), (4,)), _ln_ref, {}, dtypes=["bfloat16"], rtol=5e-2, atol=5e-2, name="bf16"),
        Case(_three((2, 4, 3), (4,), (2, 1, 3)), _ln_ref, {"axis": 1, "output_mean_var": True}, dtypes=F,
             name="mean_var"),
    ],
    "_backward_InstanceNorm": [
        Case(_three((2, 3, 4), (3,)), _in_ref, {}, dtypes=F),
        Case(_three((2, 2, 2, 3), (2,)), _in_ref, {"eps": 1e-5}, dtypes=F, name="4d"),
        Case(_three((2, 3, 4), (3,)), _in_ref, {}, dtypes=HALF, rtol=5e-2, atol=5e-2, name="half"),
    ],
    "_backward_GroupNorm": [
        Case(_three((2, 4, 3), (2,)), _gn_ref, {"num_groups": 2}, dtypes=F),
        Case(_three((2, 4, 3), (2,)), _gn_ref, {"num_groups": 2}, dtypes=HALF, rtol=5e-2, atol=5e-2, name="half"),
        Case(_three((2, 6, 2), (3,), (2, 3)), _gn_ref, {"num_groups": 3, "output_mean_var": True}, dtypes=F,
             name="mean_var"),
    ],
    "_backward_L2Normalization": [
        Case(lambda dt, rng: [rand((2, 3, 4), dt, rng), rand((2, 3, 4), dt, rng)], _l2_ref, {"mode": m},
             dtypes=F, name=m) for m in ("instance", "channel", "spatial")
    ] + [Case(lambda dt, rng: [rand((2, 3, 4), dt, rng), rand((2, 3, 4), dt, rng)], _l2_ref, {"mode": "channel"},
              dtypes=HALF, rtol=5e-2, atol=5e-2, name="half")],
    "_backward_LRN": [
        Case(lambda dt, rng: [rand((2, 5, 2, 3), dt, rng), rand((2, 5, 2, 3), dt, rng)], _lrn_ref,
             {"nsize": 3, "alpha": 0.5, "beta": 0.75, "knorm": 1.5}, dtypes=F, name="odd"),
        Case(lambda dt, rng: [rand((1, 4, 2, 2), dt, rng), rand((1, 4, 2, 2), dt, rng)], _lrn_ref,
             {"nsize": 2, "alpha": 0.3}, dtypes=F, name="even"),
        Case(lambda dt, rng: [rand((1, 3, 2, 2), dt, rng), rand((1, 3, 2, 2), dt, rng)], _lrn_ref,
             {"nsize": 5, "alpha": 0.3}, dtypes=HALF, rtol=5e-2, atol=5e-2, name="half"),
    ],
    "_backward_Embedding": [
        Case(_emb_inputs((2, 5), 4, 3), _emb_ref, {"input_dim": 4, "output_dim": 3}, dtypes=F),
        Case(_emb_inputs((7,), 2, 5), _emb_ref, {"input_dim": 2, "output_dim": 5}, dtypes=H, rtol=1e-2, atol=1e-2,
             name="repeats"),
        Case(_emb_inputs((6,), 3, 2), _emb_ref, {"input_dim": 3, "output_dim": 2}, dtypes=["bfloat16"], rtol=5e-2,
             atol=5e-2, name="bf16"),
    ],
}
