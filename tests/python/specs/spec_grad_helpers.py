"""Forward specs of the ops gradients are built from."""
import numpy as np

from opspec import Case, rand

F = ["float32", "float64", "float16", "bfloat16"]


def _sum_to(d, like):
    nd = d.ndim - like.ndim
    axes = tuple(range(nd)) + tuple(i + nd for i, s in enumerate(like.shape) if s == 1 and d.shape[i + nd] != 1)
    r = d.astype(np.float64).sum(axis=axes, keepdims=True)
    return r.reshape(like.shape).astype(d.dtype)


def _spread(g, d, axis=None, keepdims=False, exclude=False, mean=False):
    axes = set(range(d.ndim)) if axis in (None, ()) else {a % d.ndim for a in axis}
    if exclude:
        axes = set(range(d.ndim)) - axes
    kshape = tuple(1 if i in axes else s for i, s in enumerate(d.shape))
    cnt = int(np.prod([d.shape[i] for i in axes])) if axes else 1
    r = np.broadcast_to(g.reshape(kshape).astype(np.float64), d.shape) / (cnt if mean else 1)
    return r.astype(g.dtype)


def _slice_grad(g, d, axis, begin, end):
    out = np.zeros(d.shape, dtype=g.dtype)
    idx = [slice(None)] * d.ndim
    idx[axis] = slice(begin, end)
    out[tuple(idx)] = g
    return out


SPECS = {
    "_reduce_sum_to": [
        Case(inputs=lambda dt, rng: [rand((2, 3, 4), dt, rng), rand((3, 1), dt, rng)], ref=_sum_to, dtypes=F),
        Case(inputs=lambda dt, rng: [rand((5, 4), dt, rng), rand((5, 4), dt, rng)], ref=_sum_to, dtypes=["float64"],
             name="same"),
    ],
    "_reduce_grad_spread": [
        Case(inputs=lambda dt, rng: [rand((2, 1, 4), dt, rng), rand((2, 3, 4), dt, rng)], ref=_spread,
             params={"axis": (1,), "keepdims": True}, dtypes=F),
        Case(inputs=lambda dt, rng: [rand((1,), dt, rng), rand((2, 3), dt, rng)], ref=_spread,
             params={"mean": True}, dtypes=["float64", "float32"], name="all_mean"),
        Case(inputs=lambda dt, rng: [rand((3,), dt, rng), rand((2, 3, 4), dt, rng)], ref=_spread,
             params={"axis": (1,), "exclude": True}, dtypes=["float64"], name="exclude"),
    ],
    "_slice_axis_grad": [
        Case(inputs=lambda dt, rng: [rand((2, 2, 4), dt, rng), rand((2, 5, 4), dt, rng)], ref=_slice_grad,
             params={"axis": 1, "begin": 1, "end": 3}, dtypes=F),
    ],
}
