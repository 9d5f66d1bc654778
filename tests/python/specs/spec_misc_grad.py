"""Forward specs of the dedicated backward ops of libmx/op/grad/misc_grad2.cc (_backward_diag,
_backward_gather_nd, _backward_slice_like, _backward_topk, _backward_SoftmaxOutput). References are
computed in float64 from the same input values and cast to the output dtype."""
import numpy as np

from opspec import Case, rand

F = ["float32", "float64", "float16", "bfloat16"]


def _d(a):
    return np.asarray(a, dtype=np.float64)


def _diag_back(g, d, k=0, axis1=0, axis2=1):
    g64 = _d(g)
    if d.ndim == 1:
        return np.diagonal(g64, offset=k).astype(g.dtype)
    out = np.zeros(d.shape, dtype=np.float64)
    view = np.diagonal(out, offset=k, axis1=axis1, axis2=axis2)  # read-only view: write through indices
    idx = np.indices(out.shape)
    a1, a2 = axis1 % d.ndim, axis2 % d.ndim
    on = (idx[a2] - idx[a1]) == k
    rest = [a for a in range(d.ndim) if a not in (a1, a2)]
    pos = np.minimum(idx[a1], idx[a2])
    sel = tuple(idx[a][on] for a in rest) + (pos[on],)
    assert view.shape == g64.shape
    out[on] = g64[sel]
    return out.astype(g.dtype)


def _gather_nd_back(g, ind, d):
    ind = np.asarray(ind).astype(np.int64)
    m = ind.shape[0]
    out = np.zeros(d.shape, dtype=np.float64)
    cols = ind.reshape(m, -1)
    cols = np.where(cols < 0, cols + np.array(d.shape[:m])[:, None], cols)
    gv = _d(g).reshape((cols.shape[1],) + d.shape[m:])
    np.add.at(out, tuple(cols), gv)
    return out.astype(g.dtype)


def _slice_like_back(g, d):
    out = np.zeros(d.shape, dtype=np.float64)
    out[tuple(slice(0, s) for s in g.shape)] = _d(g)
    return out.astype(g.dtype)


def _topk_back(g, ind, d, axis=-1):
    out = np.zeros(d.shape, dtype=np.float64)
    j = np.asarray(ind).astype(np.int64)
    if axis is None:
        np.add.at(out.reshape(-1), j, _d(g))
        return out.astype(g.dtype)
    axis %= d.ndim
    om, jm, gm = np.moveaxis(out, axis, -1), np.moveaxis(j, axis, -1), np.moveaxis(_d(g), axis, -1)
    lead = np.indices(jm.shape)[:-1]
    np.add.at(om, tuple(lead) + (jm,), gm)
    return out.astype(g.dtype)


def _softmax_out_back(og, out, label, grad_scale=1.0, ignore_label=-1.0, multi_output=False, use_ignore=False,
                      preserve_shape=False, normalization="null", out_grad=False, smooth_alpha=0.0):
    p = _d(out)
    lab = _d(label)
    if lab.shape == p.shape:
        g = (p - lab) * grad_scale
    else:
        s = p.shape
        if multi_output:
            R, K, D = s[0], s[1], p.size // s[0] // s[1]
        elif preserve_shape:
            K, D = s[-1], 1
            R = p.size // K
        else:
            R, D = s[0], 1
            K = p.size // R
        p3 = p.reshape(R, K, D)
        l2 = lab.reshape(R, D).astype(np.int64)
        target = np.where(np.arange(K)[None, :, None] == l2[:, None, :], 1.0 - smooth_alpha,
                          smooth_alpha / (K - 1) if K > 1 else 0.0)
        g = p3 - target
        ign = l2 == int(ignore_label)
        if use_ignore:
            g = g * (~ign)[:, None, :]
        cnt = {"batch": R, "valid": max(R * D - int(ign.sum()), 1), "null": 1}[normalization]
        scale = grad_scale / cnt
        if multi_output and normalization != "valid":
            scale /= D
        g = (g * scale).reshape(s)
    if out_grad:
        g = g * _d(og)
    return g.astype(out.dtype)


def _pad_back(g, d, mode, pad_width, constant_value=0.0):
    """The adjoint of numpy.pad, column by column: out[i] = sum(g * pad(e_i))."""
    pw = [(pad_width[2 * i], pad_width[2 * i + 1]) for i in range(d.ndim)]
    g64 = _d(g)
    out = np.zeros(d.size, dtype=np.float64)
    for i in range(d.size):
        e = np.zeros(d.size)
        e[i] = 1.0
        padded = np.pad(e.reshape(d.shape), pw, mode=mode) if mode != "constant" else np.pad(e.reshape(d.shape), pw)
        out[i] = np.sum(g64 * padded)
    return out.reshape(d.shape).astype(g.dtype)


def _rrelu_back(g, x, lower_bound=0.125, upper_bound=0.334, active=True, rng_seed="0", rng_stream="0"):
    assert not active
    return (_d(g) * np.where(_d(x) > 0, 1.0, (lower_bound + upper_bound) / 2)).astype(g.dtype)


def _rrelu_train_check(outputs, inputs, params):
    o = _d(outputs[0].asnumpy() if hasattr(outputs[0], "asnumpy") else outputs[0])
    g, x = _d(inputs[0]), _d(inputs[1])
    pos = x > 0
    np.testing.assert_allclose(o[pos], g[pos], rtol=1e-6)
    s = o[~pos] / g[~pos]
    assert np.all(s >= params["lower_bound"] - 1e-6) and np.all(s <= params["upper_bound"] + 1e-6), s
    assert np.unique(np.round(s, 6)).size > 1  # one slope per element


def _probs(shape, axis):
    def make(dt, rng):
        x = rng.uniform(-2, 2, size=shape)
        e = np.exp(x - x.max(axis=axis, keepdims=True))
        p = e / e.sum(axis=axis, keepdims=True)
        return p.astype("float32" if dt == "bfloat16" else dt)
    return make


def _so_inputs(shape, axis, label):
    return lambda dt, rng: [rand(shape, dt, rng), _probs(shape, axis)(dt, rng), np.array(label, dtype=dt if dt != "bfloat16" else "float32")]


SPECS = {
    "_backward_diag": [
        Case(inputs=lambda dt, rng: [rand((4, 4), dt, rng), rand((3,), dt, rng)], ref=_diag_back, params={"k": 1},
             dtypes=F),
        Case(inputs=lambda dt, rng: [rand((2,), dt, rng), rand((3, 4), dt, rng)], ref=_diag_back,
             params={"k": 1, "axis1": 1, "axis2": 0}, dtypes=["float64", "float32"], name="2d_swapped"),
        Case(inputs=lambda dt, rng: [rand((2, 3), dt, rng), rand((2, 3, 4), dt, rng)], ref=_diag_back,
             params={"k": -1, "axis1": 2, "axis2": 1}, dtypes=["float64"], name="3d"),
    ],
    "_backward_gather_nd": [
        Case(inputs=lambda dt, rng: [rand((3,), dt, rng), np.array([[0, 2, 2], [1, 3, 3]], dtype=np.int32),
                                     rand((3, 4), dt, rng)], ref=_gather_nd_back, dtypes=F),
        Case(inputs=lambda dt, rng: [rand((2, 2), dt, rng), np.array([[2, -1]], dtype=np.float32),
                                     rand((3, 2), dt, rng)], ref=_gather_nd_back, dtypes=["float64"], name="rows"),
    ],
    "_backward_slice_like": [
        Case(inputs=lambda dt, rng: [rand((2, 3), dt, rng), rand((3, 4), dt, rng)], ref=_slice_like_back, dtypes=F),
        Case(inputs=lambda dt, rng: [rand((1, 3, 2), dt, rng), rand((2, 3, 4), dt, rng)], ref=_slice_like_back,
             dtypes=["float64"], name="3d"),
    ],
    "_backward_topk": [
        Case(inputs=lambda dt, rng: [rand((3, 2), dt, rng), np.array([[4, 0], [1, 2], [3, 3]], dtype=np.float32),
                                     rand((3, 5), dt, rng)], ref=_topk_back, dtypes=F),
        Case(inputs=lambda dt, rng: [rand((2, 3), dt, rng), np.array([[0, 3, 1], [2, 0, 1]], dtype=np.int64),
                                     rand((4, 3), dt, rng)], ref=_topk_back, params={"axis": 0},
             dtypes=["float64"], name="axis0"),
        Case(inputs=lambda dt, rng: [rand((4,), dt, rng), np.array([5, 0, 2, 3], dtype=np.int32),
                                     rand((2, 3), dt, rng)], ref=_topk_back, params={"axis": None},
             dtypes=["float64"], name="flat"),
    ],
    "_backward_SoftmaxOutput": [
        Case(inputs=_so_inputs((3, 4), -1, [0, 3, 1]), ref=_softmax_out_back, dtypes=F),
        Case(inputs=_so_inputs((4, 3), -1, [0, 2, 1, 2]), ref=_softmax_out_back,
             params={"use_ignore": True, "ignore_label": 2, "normalization": "valid", "grad_scale": 0.5},
             dtypes=["float64", "float32"], name="ignore_valid"),
        Case(inputs=_so_inputs((3, 4), -1, [1, 0, 3]), ref=_softmax_out_back,
             params={"normalization": "batch", "smooth_alpha": 0.3, "out_grad": True},
             dtypes=["float64"], name="batch_smooth_outgrad"),
        Case(inputs=_so_inputs((2, 3, 2, 2), 1, [[[0, 2], [1, 1]], [[2, 0], [0, 1]]]), ref=_softmax_out_back,
             params={"multi_output": True}, dtypes=["float64"], name="multi_null"),
        Case(inputs=_so_inputs((2, 3, 2, 2), 1, [[[0, 2], [1, 1]], [[2, 0], [0, 1]]]), ref=_softmax_out_back,
             params={"multi_output": True, "normalization": "valid", "use_ignore": True, "ignore_label": 1},
             dtypes=["float64"], name="multi_valid"),
        Case(inputs=_so_inputs((2, 2, 3), -1, [[0, 2], [1, 1]]), ref=_softmax_out_back,
             params={"preserve_shape": True, "normalization": "batch"}, dtypes=["float64"], name="preserve"),
        Case(inputs=lambda dt, rng: [rand((2, 3), dt, rng), _probs((2, 3), -1)(dt, rng), _probs((2, 3), -1)(dt, rng)],
             ref=_softmax_out_back, params={"grad_scale": 2.0}, dtypes=["float64"], name="prob_label"),
    ],
    "_backward_Pad": [
        Case(inputs=lambda dt, rng: [rand((1, 2, 5, 6), dt, rng), rand((1, 2, 2, 3), dt, rng)], ref=_pad_back,
             params={"mode": "edge", "pad_width": (0, 0, 0, 0, 1, 2, 2, 1)}, dtypes=F),
        Case(inputs=lambda dt, rng: [rand((1, 1, 6, 7), dt, rng), rand((1, 1, 3, 4), dt, rng)], ref=_pad_back,
             params={"mode": "reflect", "pad_width": (0, 0, 0, 0, 2, 1, 3, 0)}, dtypes=["float64", "float32"],
             name="reflect"),
        Case(inputs=lambda dt, rng: [rand((1, 1, 3, 4, 4), dt, rng), rand((1, 1, 2, 2, 2), dt, rng)], ref=_pad_back,
             params={"mode": "constant", "pad_width": (0, 0, 0, 0, 1, 0, 1, 1, 0, 2), "constant_value": 3.0},
             dtypes=["float64"], name="constant5d"),
    ],
    "_backward_LeakyReLU_rrelu": [
        Case(inputs=lambda dt, rng: [rand((3, 4), dt, rng), rand((3, 4), dt, rng)], ref=_rrelu_back,
             params={"active": False}, dtypes=F),
        Case(inputs=lambda dt, rng: [rand((4, 5), dt, rng, 0.5, 2.0), rand((4, 5), dt, rng)], ref=None,
             check=_rrelu_train_check, params={"lower_bound": 0.1, "upper_bound": 0.5, "rng_seed": "5",
                                               "rng_stream": "9"}, dtypes=["float64", "float32"], name="train"),
    ],
}
