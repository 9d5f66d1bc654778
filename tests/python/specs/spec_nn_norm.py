"""Specs of the normalisation, dropout and embedding ops: BatchNorm, LayerNorm, InstanceNorm,
GroupNorm, L2Normalization, LRN, Dropout, Embedding.

The harness invokes in predict mode: BatchNorm uses the moving statistics and Dropout is the
identity unless mode='always' (checked statistically). Training-mode behaviour is tested in
tests/python/test_nn_norm.py. References are computed in float64 and cast to the output dtype.
"""
import numpy as np

from opspec import DEFAULT_TOL, Case, rand

FLOATS = ("float32", "float64", "float16", "bfloat16")
ALL = FLOATS + ("uint8", "int8", "int32", "int64", "bool")


def _np_dtype(dt):
    # bfloat16 inputs are made as float32 (the harness rounds them to bfloat16 precision).
    return "float32" if dt == "bfloat16" else dt


def _param_dtype(dt):
    """BatchNorm keeps gamma/beta/moving stats in float32 for float16 data (MXNet's rule)."""
    return "float32" if dt in ("float16", "bfloat16") else dt


def _bshape(ndim, axis):
    s = [1] * ndim
    s[axis] = -1
    return s


# ------------------------------------------------------------------ BatchNorm
def _bn_inputs(shape, axis):
    def make(dtype, rng):
        x = rand(shape, dtype, rng)
        c = shape[axis]
        pd = _param_dtype(dtype)
        return [x, rand((c,), pd, rng, 0.5, 1.5), rand((c,), pd, rng, -1, 1), rand((c,), pd, rng, -0.5, 0.5),
                rand((c,), pd, rng, 0.2, 2.0)]
    return make


def _bn_ref(x, gamma, beta, mm, mv, eps=1e-3, momentum=0.9, fix_gamma=True, use_global_stats=False,
            output_mean_var=False, axis=1, **_):
    ax = axis % x.ndim
    bs = _bshape(x.ndim, ax)
    g = np.ones_like(gamma, dtype=np.float64) if fix_gamma else gamma.astype(np.float64)
    inv = 1.0 / np.sqrt(mv.astype(np.float64) + eps)
    out = (x.astype(np.float64) - mm.reshape(bs)) * (inv * g).reshape(bs) + beta.reshape(bs).astype(np.float64)
    out = out.astype(x.dtype)
    if not output_mean_var:
        return out
    return out, mm.copy(), inv.astype(mm.dtype)


# ------------------------------------------------------------------ LayerNorm / InstanceNorm / GroupNorm
def _affine_inputs(shape, c):
    def make(dtype, rng):
        dt = _np_dtype(dtype)
        return [rand(shape, dtype, rng), rand((c,), dt, rng, 0.5, 1.5), rand((c,), dt, rng, -1, 1)]
    return make


def _ln_ref(x, gamma, beta, axis=-1, eps=1e-5, output_mean_var=False, **_):
    ax = axis % x.ndim
    xd = x.astype(np.float64)
    mean = xd.mean(axis=ax, keepdims=True)
    std = np.sqrt(((xd - mean) ** 2).mean(axis=ax, keepdims=True) + eps)
    bs = _bshape(x.ndim, ax)
    out = ((xd - mean) / std * gamma.reshape(bs) + beta.reshape(bs)).astype(x.dtype)
    if not output_mean_var:
        return out
    return out, mean.astype(x.dtype), std.astype(x.dtype)


def _in_ref(x, gamma, beta, eps=1e-3, **_):
    xd = x.astype(np.float64)
    axes = tuple(range(2, x.ndim))
    mean = xd.mean(axis=axes, keepdims=True)
    var = ((xd - mean) ** 2).mean(axis=axes, keepdims=True)
    bs = _bshape(x.ndim, 1)
    return ((xd - mean) / np.sqrt(var + eps) * gamma.reshape(bs) + beta.reshape(bs)).astype(x.dtype)


def _gn_ref(x, gamma, beta, num_groups=1, eps=1e-5, output_mean_var=False, **_):
    n, g = x.shape[0], num_groups
    xd = x.astype(np.float64).reshape(n, g, -1)
    mean = xd.mean(axis=2, keepdims=True)
    std = np.sqrt(((xd - mean) ** 2).mean(axis=2, keepdims=True) + eps)
    out = (xd - mean) / std * gamma.reshape(1, g, 1) + beta.reshape(1, g, 1)
    out = out.reshape(x.shape).astype(x.dtype)
    if not output_mean_var:
        return out
    return out, mean.reshape(n, g).astype(x.dtype), std.reshape(n, g).astype(x.dtype)


# ------------------------------------------------------------------ L2Normalization
def _l2_ref(x, eps=1e-10, mode="instance", **_):
    xd = x.astype(np.float64)
    if mode == "instance":
        axes = tuple(range(1, x.ndim))
    elif mode == "channel":
        axes = (1,)
    else:
        axes = tuple(range(2, x.ndim))
    norm = np.sqrt((xd * xd).sum(axis=axes, keepdims=True) + eps)
    return (xd / norm).astype(x.dtype)


# ------------------------------------------------------------------ LRN
def _lrn_ref(x, nsize, alpha=1e-4, beta=0.75, knorm=2.0, **_):
    xd = x.astype(np.float64)
    c = x.shape[1]
    sq = xd * xd
    out = np.empty_like(xd)
    for ch in range(c):
        lo, hi = max(0, ch - nsize // 2), min(c, ch - nsize // 2 + nsize)
        s = sq[:, lo:hi].sum(axis=1)
        out[:, ch] = xd[:, ch] * (knorm + alpha / nsize * s) ** (-beta)
    return out.astype(x.dtype)


# ------------------------------------------------------------------ Dropout
def _identity(x, **_):
    return x.copy()


def _dropout_check(outputs, inputs, params):
    """mode='always': every element is 0 or x / (1 - p); the kept fraction is about 1 - p; with axes
    the mask is constant along the listed axes."""
    x = inputs[0].astype(np.float64)
    y = outputs[0].astype(np.float64)
    p = params.get("p", 0.5)
    assert y.shape == x.shape
    kept = y != 0
    # bfloat16 outputs arrive as float32, so one tolerance covers every dtype (a wrong scale such as
    # 1/p or no scaling is far outside it).
    np.testing.assert_allclose(y[kept], x[kept] / (1 - p), rtol=8e-3)
    axes = tuple(a % x.ndim for a in params.get("axes", ()))
    if axes:
        ref = np.take(kept, [0], axis=axes[0]) if len(axes) == 1 else kept[tuple(
            slice(0, 1) if i in axes else slice(None) for i in range(x.ndim))]
        assert np.array_equal(np.broadcast_to(ref, kept.shape), kept), "mask differs along a shared axis"
        kept = ref
    n = kept.size
    frac = kept.mean()
    assert abs(frac - (1 - p)) < 5 * np.sqrt(p * (1 - p) / n) + 1e-9, (frac, 1 - p, n)


def _pos_inputs(shape):
    def make(dtype, rng):
        return [rand(shape, dtype, rng, 0.5, 2.0)]
    return make


# ------------------------------------------------------------------ Embedding
def _emb_inputs(idx_shape, input_dim, output_dim, wdtype="float32"):
    def make(dtype, rng):
        if dtype == "bool":
            idx = rng.integers(0, 2, size=idx_shape).astype(bool)
        elif dtype in ("uint8",):
            idx = rng.integers(0, input_dim + 3, size=idx_shape).astype(dtype)
        elif dtype in ("int8", "int32", "int64"):
            idx = rng.integers(-2, input_dim + 3, size=idx_shape).astype(dtype)
        else:  # float indices (truncated toward zero), some out of range
            idx = rng.uniform(-2.0, input_dim + 2.0, size=idx_shape).astype(_np_dtype(dtype))
            if dtype == "bfloat16":
                idx = np.trunc(idx)  # integral values stay exact in bfloat16 (small magnitudes)
        w = rand((input_dim, output_dim), _np_dtype(wdtype), rng)
        return [idx, w]
    return make


def _emb_ref(idx, w, input_dim, output_dim, **_):
    k = np.clip(np.trunc(idx.astype(np.float64)), 0, input_dim - 1).astype(np.int64)
    return w[k]


def _cases_emb():
    out = []
    for dt in ALL:
        if dt == "bfloat16":
            continue
        out.append(Case(_emb_inputs((3, 4), 7, 5), _emb_ref, {"input_dim": 7, "output_dim": 5}, dtypes=[dt],
                        name=f"idx_{dt}"))
    out.append(Case(_emb_inputs((2, 3, 2), 10, 3, "float64"), _emb_ref,
                    {"input_dim": 10, "output_dim": 3, "dtype": "float64", "sparse_grad": True},
                    dtypes=["int32", "float64"], name="w_float64"))
    out.append(Case(_emb_inputs((6,), 4, 8, "float16"), _emb_ref, {"input_dim": 4, "output_dim": 8, "dtype": "float16"},
                    dtypes=["int64", "float32"], name="w_float16"))
    # bfloat16 indices: the harness turns every float32 input into bfloat16, the weight included.
    out.append(Case(_emb_inputs((3, 3), 6, 4), _emb_ref, {"input_dim": 6, "output_dim": 4, "dtype": "bfloat16"},
                    dtypes=["bfloat16"], name="bf16"))
    out.append(Case(_emb_inputs((), 5, 3), _emb_ref, {"input_dim": 5, "output_dim": 3}, dtypes=["int32"],
                    name="scalar_index"))
    return out


SPECS = {
    "BatchNorm": [
        Case(_bn_inputs((2, 3, 4, 5), 1), _bn_ref, {}, name="nchw_fix_gamma"),
        Case(_bn_inputs((2, 3, 4, 5), 1), _bn_ref, {"fix_gamma": False, "eps": 1e-5}, name="nchw"),
        Case(_bn_inputs((6, 4), 1), _bn_ref, {"fix_gamma": False, "output_mean_var": True}, name="nc_mean_var"),
        Case(_bn_inputs((2, 3, 4), -1), _bn_ref, {"fix_gamma": False, "axis": -1}, name="axis_last"),
        Case(_bn_inputs((5, 2, 3), 0), _bn_ref, {"fix_gamma": False, "axis": 0, "use_global_stats": True,
                                                  "output_mean_var": True}, name="axis0_global"),
        Case(_bn_inputs((3,), 0), _bn_ref, {"fix_gamma": False, "axis": 0, "momentum": 0.5}, name="1d"),
    ],
    "LayerNorm": [
        Case(_affine_inputs((4, 6), 6), _ln_ref, {}, name="last"),
        Case(_affine_inputs((2, 5, 3), 5), _ln_ref, {"axis": 1, "eps": 1e-3}, name="middle"),
        Case(_affine_inputs((3, 2, 4), 3), _ln_ref, {"axis": 0, "output_mean_var": True}, name="first_mean_std"),
        Case(_affine_inputs((2, 3, 8), 8), _ln_ref, {"axis": -1, "output_mean_var": True}, name="last_mean_std"),
        Case(_affine_inputs((7,), 7), _ln_ref, {"axis": 0}, name="1d"),
    ],
    "InstanceNorm": [
        Case(_affine_inputs((2, 3, 5), 3), _in_ref, {}, name="ncw"),
        Case(_affine_inputs((2, 4, 3, 3), 4), _in_ref, {"eps": 1e-5}, name="nchw"),
        Case(_affine_inputs((1, 2, 2, 3, 2), 2), _in_ref, {}, name="ncdhw"),
    ],
    "GroupNorm": [
        Case(_affine_inputs((2, 4, 3), 1), _gn_ref, {}, name="one_group"),
        Case(_affine_inputs((2, 6, 2, 2), 3), _gn_ref, {"num_groups": 3, "eps": 1e-3}, name="three_groups"),
        Case(_affine_inputs((3, 4, 5), 4), _gn_ref, {"num_groups": 4, "output_mean_var": True},
             name="per_channel_mean_std"),
    ],
    "L2Normalization": [
        Case(lambda dt, rng: [rand((3, 4, 5), dt, rng)], _l2_ref, {}, name="instance"),
        Case(lambda dt, rng: [rand((4, 6), dt, rng)], _l2_ref, {"mode": "instance", "eps": 1e-4}, name="instance_2d"),
        Case(lambda dt, rng: [rand((2, 3, 4, 2), dt, rng)], _l2_ref, {"mode": "channel"}, name="channel"),
        Case(lambda dt, rng: [rand((2, 3, 4, 2), dt, rng)], _l2_ref, {"mode": "spatial"}, name="spatial"),
        Case(lambda dt, rng: [rand((2, 5, 3), dt, rng)], _l2_ref, {"mode": "channel", "eps": 0.5}, name="channel_3d"),
    ],
    "LRN": [
        Case(lambda dt, rng: [rand((2, 5, 3, 3), dt, rng)], _lrn_ref, {"nsize": 3}, name="n3"),
        Case(lambda dt, rng: [rand((1, 7, 2, 4), dt, rng)], _lrn_ref,
             {"nsize": 5, "alpha": 0.5, "beta": 0.6, "knorm": 1.5}, name="n5_strong"),
        Case(lambda dt, rng: [rand((2, 4, 2, 2), dt, rng)], _lrn_ref, {"nsize": 2, "alpha": 0.3}, name="n2_even"),
        Case(lambda dt, rng: [rand((1, 3, 2, 2), dt, rng)], _lrn_ref, {"nsize": 1, "alpha": 1.0, "knorm": 1.0},
             name="n1"),
    ],
    "Dropout": [
        Case(lambda dt, rng: [rand((4, 5), dt, rng)], _identity, {}, name="predict_identity"),
        Case(lambda dt, rng: [rand((2, 3, 4), dt, rng)], _identity, {"p": 0.9, "axes": (1,)},
             name="predict_identity_axes"),
        Case(_pos_inputs((64, 64)), None, {"mode": "always", "p": 0.3}, check=_dropout_check, name="always"),
        Case(_pos_inputs((32, 8, 16)), None, {"mode": "always", "p": 0.5, "axes": (1,)}, check=_dropout_check,
             name="always_axes"),
        Case(_pos_inputs((8, 400, 6)), None, {"mode": "always", "p": 0.25, "axes": (0, 2)},
             check=_dropout_check, name="always_two_axes"),
        Case(_pos_inputs((3, 4)), _identity, {"mode": "always", "p": 0.0}, name="always_p0"),
    ],
    "Embedding": _cases_emb(),
}
