"""Forward specs of the dedicated backward ops of libmx/op/grad/reduce_shape_grad.cc."""
import numpy as np

from opspec import Case, rand

F = ["float32", "float64", "float16", "bfloat16"]


def _cast_back(g, d):
    return g.astype(d.dtype)


def _concat_back(g, *data, num_args, dim=1):
    cuts = np.cumsum([d.shape[dim] for d in data])[:-1]
    return tuple(np.split(g, cuts, axis=dim))


def _fix(idx, n, mode):
    idx = np.trunc(np.asarray(idx, dtype=np.float64)).astype(np.int64)
    return np.clip(idx, 0, n - 1) if mode == "clip" else np.mod(idx, n)


def _take_back(g, idx, a, axis=0, mode="clip"):
    axis %= a.ndim
    j = _fix(idx, a.shape[axis], mode).ravel()
    out = np.zeros(a.shape, dtype=np.float64)
    gm = np.moveaxis(g.astype(np.float64).reshape(a.shape[:axis] + (j.size,) + a.shape[axis + 1:]), axis, 0)
    om = np.moveaxis(out, axis, 0)
    np.add.at(om, j, gm)
    return out.astype(g.dtype)


def _pick_back(g, idx, d, axis=-1, keepdims=False, mode="clip"):
    axis %= d.ndim
    j = _fix(idx, d.shape[axis], mode)
    reduced = d.shape[:axis] + d.shape[axis + 1:]
    j = j.reshape(reduced)
    gv = g.astype(np.float64).reshape(reduced)
    out = np.zeros(d.shape, dtype=np.float64)
    np.put_along_axis(out, np.expand_dims(j, axis), np.expand_dims(gv, axis), axis)
    return out.astype(g.dtype)


def _tile_back(g, d, reps):
    nd = max(d.ndim, len(reps))
    s = (1,) * (nd - d.ndim) + d.shape
    r = (1,) * (nd - len(reps)) + tuple(reps)
    inter = []
    for ri, si in zip(r, s):
        inter += [ri, si]
    summed = g.astype(np.float64).reshape(inter).sum(axis=tuple(range(0, 2 * nd, 2)))
    return summed.reshape(d.shape).astype(g.dtype)


def _repeat_back(g, d, repeats, axis=None):
    g64 = g.astype(np.float64)
    if axis is None:
        return g64.reshape(-1, repeats).sum(axis=1).reshape(d.shape).astype(g.dtype)
    axis %= d.ndim
    shp = d.shape[:axis] + (d.shape[axis], repeats) + d.shape[axis + 1:]
    return g64.reshape(shp).sum(axis=axis + 1).astype(g.dtype)


SPECS = {
    "_backward_Cast": [
        Case(inputs=lambda dt, rng: [rand((3, 4), dt, rng), rand((3, 4), "float64", rng)], ref=_cast_back),
        Case(inputs=lambda dt, rng: [rand((2, 5), dt, rng), rand((2, 5), "float16", rng)], ref=_cast_back,
             dtypes=["float64", "float32"], name="to_half"),
        Case(inputs=lambda dt, rng: [rand((2,), dt, rng), rand((2, 3), "float32", rng)], ref=_cast_back,
             dtypes=["float64"], name="dtype_only"),
    ],
    "_backward_Concat": [
        Case(inputs=lambda dt, rng: [rand((2, 6), dt, rng), rand((2, 1), dt, rng), rand((2, 3), dt, rng),
                                     rand((2, 2), dt, rng)], ref=_concat_back, params={"num_args": 3}),
        Case(inputs=lambda dt, rng: [rand((5, 2, 3), dt, rng), rand((2, 2, 3), dt, rng), rand((3, 2, 3), dt, rng)],
             ref=_concat_back, params={"num_args": 2, "dim": 0}, dtypes=["float32", "int64"], name="dim0"),
    ],
    "_backward_take": [
        Case(inputs=lambda dt, rng: [rand((2, 2, 3), dt, rng), np.array([[0, 2], [2, 4]], dtype=np.int32),
                                     rand((5, 3), dt, rng)], ref=_take_back, dtypes=F),
        Case(inputs=lambda dt, rng: [rand((2, 4, 3), dt, rng), np.array([-1, 5, 1, 1], dtype=np.float32),
                                     rand((2, 4, 3), dt, rng)], ref=_take_back, params={"axis": 1, "mode": "wrap"},
             dtypes=["float64", "float32"], name="wrap"),
        Case(inputs=lambda dt, rng: [rand((3, 3), dt, rng), np.array([7, -2, 1], dtype=np.int64),
                                     rand((3, 4), dt, rng)], ref=_take_back, params={"axis": -1},
             dtypes=["float64"], name="clip"),
    ],
    "_backward_pick": [
        Case(inputs=lambda dt, rng: [rand((3,), dt, rng), np.array([0, 3, 1], dtype=np.int32), rand((3, 4), dt, rng)],
             ref=_pick_back, params={"axis": 1}, dtypes=F),
        Case(inputs=lambda dt, rng: [rand((1, 4), dt, rng), np.array([[2, 0, 1, 2]], dtype=np.float64),
                                     rand((3, 4), dt, rng)], ref=_pick_back, params={"axis": 0, "keepdims": True},
             dtypes=["float64", "float32"], name="keepdims"),
        Case(inputs=lambda dt, rng: [rand((2, 2), dt, rng), np.array([[4, -1], [0, 2]], dtype=np.int64),
                                     rand((2, 3, 2), dt, rng)], ref=_pick_back, params={"axis": 1, "mode": "wrap"},
             dtypes=["float64"], name="wrap"),
    ],
    "_backward_tile": [
        Case(inputs=lambda dt, rng: [rand((2, 2, 6), dt, rng), rand((2, 3), dt, rng)], ref=_tile_back,
             params={"reps": (2, 1, 2)}, dtypes=F),
        Case(inputs=lambda dt, rng: [rand((2, 2, 3), dt, rng), rand((2, 1, 3), dt, rng)], ref=_tile_back,
             params={"reps": (2, 1)}, dtypes=["float64"], name="short_reps"),
    ],
    "_backward_repeat": [
        Case(inputs=lambda dt, rng: [rand((2, 6), dt, rng), rand((2, 3), dt, rng)], ref=_repeat_back,
             params={"repeats": 2, "axis": 1}, dtypes=F),
        Case(inputs=lambda dt, rng: [rand((18,), dt, rng), rand((2, 3), dt, rng)], ref=_repeat_back,
             params={"repeats": 3}, dtypes=["float64", "float32"], name="flat"),
        Case(inputs=lambda dt, rng: [rand((4, 3, 2), dt, rng), rand((2, 3, 2), dt, rng)], ref=_repeat_back,
             params={"repeats": 2, "axis": -3}, dtypes=["float64"], name="neg_axis"),
    ],
}
