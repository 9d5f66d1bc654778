"""Specs of the indexing ops: take, pick, one_hot, where, gather_nd, scatter_nd, _scatter_set_nd.

Index inputs keep their own integer or float dtype (MXNet truncates float indices toward zero);
the data input follows the dtype under test.
"""
import numpy as np

from opspec import Case, rand


def data_and(shape, idx):
    """The data of the dtype under test, then a fixed index array made by idx(rng)."""
    return lambda dt, rng: [rand(shape, dt, rng), idx(rng)]


def ints(shape, low, high, dtype="int32"):
    return lambda rng: rng.integers(low, high, size=shape).astype(dtype)


def fixed(values, dtype="int32"):
    return lambda rng: np.array(values, dtype=dtype)


def take_ref(a, idx, axis=0, mode="clip"):
    return np.take(a, idx.astype(np.int64), axis=axis, mode=mode)


def pick_ref(data, index, axis=-1, keepdims=False, mode="clip"):
    n = data.shape[axis]
    idx = index.astype(np.int64)
    idx = np.clip(idx, 0, n - 1) if mode == "clip" else np.mod(idx, n)
    if idx.ndim < data.ndim:
        idx = np.expand_dims(idx, axis)
    out = np.take_along_axis(data, idx, axis=axis)
    return out if keepdims else np.squeeze(out, axis=axis)


def one_hot_ref(indices, depth, on_value=1.0, off_value=0.0, dtype="float32"):
    idx = indices.astype(np.int64)
    out = np.full(idx.shape + (depth,), off_value, dtype=np.float64)
    for pos in np.ndindex(*idx.shape):
        j = idx[pos]
        if 0 <= j < depth:
            out[pos + (j,)] = on_value
    return out.astype(dtype)


def where_ref(c, x, y):
    cond = c.astype(bool)
    if cond.ndim == 1 and x.ndim > 1:
        cond = cond.reshape((-1,) + (1,) * (x.ndim - 1))
    return np.where(cond, x, y)


def cond_xy(cshape, shape):
    def make(dt, rng):
        c = rng.integers(0, 2, size=cshape)
        c = c.astype(bool) if dt == "bool" else c.astype("float32" if dt == "bfloat16" else dt)
        return [c, rand(shape, dt, rng), rand(shape, dt, rng)]
    return make


def gather_nd_ref(data, indices):
    return data[tuple(indices.astype(np.int64))]


def scatter_nd_ref(data, indices, shape):
    out = np.zeros(shape, dtype=data.dtype)
    out[tuple(indices.astype(np.int64))] = data
    return out


def scatter_set_nd_ref(lhs, rhs, indices, shape):
    out = lhs.copy()
    out[tuple(indices.astype(np.int64))] = rhs
    return out


def unique_nd_indices(shape, n, m=None, dtype="int32"):
    """n distinct index columns into the first m axes of shape, as an (m, n) array."""
    m = len(shape) if m is None else m
    def make(rng):
        flat = rng.choice(int(np.prod(shape[:m])), size=n, replace=False)
        return np.array(np.unravel_index(flat, shape[:m]), dtype=dtype)
    return make


SPECS = {
    "take": [
        Case(data_and((5, 4), ints((3,), 0, 5)), take_ref),
        Case(data_and((5, 4), ints((2, 3), 0, 4)), take_ref, {"axis": 1}),
        Case(data_and((2, 3, 4), ints((5,), 0, 4, "int64")), take_ref, {"axis": -1}),
        Case(data_and((5, 4), fixed([0.0, 2.7, 4.2, 1.0], "float32")), take_ref, name="float-indices"),
        Case(data_and((5, 4), fixed([-7, -1, 0, 4, 5, 12])), take_ref, {"mode": "clip"}, name="clip"),
        Case(data_and((5, 4), fixed([-7, -1, 0, 4, 5, 12])), take_ref, {"mode": "wrap"}, name="wrap"),
        Case(data_and((3, 6), fixed([[5, 0], [2, 3]], "int64")), take_ref, {"axis": 1, "mode": "raise"},
             name="raise-in-range"),
        Case(data_and((4, 3, 2), fixed([1, 1, 3], "uint8")), take_ref, {"axis": 0}),
    ],
    "pick": [
        Case(data_and((3, 4), ints((3,), 0, 4)), pick_ref, {"axis": 1}),
        Case(data_and((3, 4), ints((3,), 0, 4)), pick_ref),
        Case(data_and((3, 4), ints((4,), 0, 3)), pick_ref, {"axis": 0}),
        Case(data_and((3, 4), ints((3,), 0, 4)), pick_ref, {"axis": -1, "keepdims": True}),
        Case(data_and((2, 5, 3), ints((2, 3), 0, 5, "int64")), pick_ref, {"axis": 1}),
        Case(data_and((2, 5, 3), ints((2, 1, 3), 0, 5)), pick_ref, {"axis": -2}, name="index-keeps-axis"),
        Case(data_and((3, 4), fixed([-1, 5, 9], "float32")), pick_ref, {"axis": 1}, name="clip"),
        Case(data_and((3, 4), fixed([-1, 5, 9])), pick_ref, {"axis": 1, "mode": "wrap"}, name="wrap"),
    ],
    "one_hot": [
        Case(lambda dt, rng: [rand((4,), dt, rng, -1, 6)], one_hot_ref, {"depth": 5}),
        Case(lambda dt, rng: [rand((2, 3), dt, rng, 0, 4)], one_hot_ref,
             {"depth": 4, "on_value": 3.0, "off_value": -1.0, "dtype": "int32"}),
        Case(lambda dt, rng: [rand((3,), dt, rng, 0, 3)], one_hot_ref, {"depth": 3, "dtype": "float64"}),
        Case(lambda dt, rng: [rand((3, 2), dt, rng, 0, 3)], one_hot_ref,
             {"depth": 3, "on_value": 1.0, "off_value": 0.0, "dtype": "uint8"}),
        Case(lambda dt, rng: [rand((5,), dt, rng, 0, 3)], one_hot_ref,
             {"depth": 3, "on_value": 2.5, "off_value": 0.5, "dtype": "float16"}),
        Case(lambda dt, rng: [rand((5,), dt, rng, 0, 3)], one_hot_ref, {"depth": 3, "dtype": "int64"}),
        Case(lambda dt, rng: [rand((4,), dt, rng, 0, 3)], one_hot_ref, {"depth": 3, "dtype": "bool"}),
        Case(lambda dt, rng: [rand((4,), dt, rng, 0, 3)], one_hot_ref, {"depth": 0}, name="depth0"),
    ],
    "where": [
        Case(cond_xy((3, 4), (3, 4)), where_ref),
        Case(cond_xy((3,), (3, 4)), where_ref, name="row-condition"),
        Case(cond_xy((2,), (2, 3, 2)), where_ref, name="row-condition-3d"),
        Case(cond_xy((2, 3, 4), (2, 3, 4)), where_ref),
        Case(cond_xy((5,), (5,)), where_ref),
    ],
    "gather_nd": [
        Case(data_and((3, 4, 5), ints((2, 6), 0, 3)), gather_nd_ref),
        Case(data_and((3, 4, 5), ints((3, 2, 2), 0, 3, "int64")), gather_nd_ref),
        Case(data_and((3, 4), ints((1, 5), -3, 3)), gather_nd_ref, name="negative"),
        Case(data_and((3, 4), fixed([[0.0, 2.0], [3.0, 1.0]], "float32")), gather_nd_ref, name="float-indices"),
    ],
    "scatter_nd": [
        Case(lambda dt, rng: [rand((6,), dt, rng), unique_nd_indices((3, 4), 6)(rng)], scatter_nd_ref,
             {"shape": (3, 4)}),
        Case(lambda dt, rng: [rand((3, 5), dt, rng), unique_nd_indices((3, 4, 5), 3, m=2, dtype="int64")(rng)],
             scatter_nd_ref, {"shape": (3, 4, 5)}),
        Case(lambda dt, rng: [rand((2, 2), dt, rng), unique_nd_indices((5,), 4)(rng).reshape(1, 2, 2)],
             scatter_nd_ref, {"shape": (5,)}),
    ],
    "_scatter_set_nd": [
        Case(lambda dt, rng: [rand((3, 4), dt, rng), rand((5,), dt, rng), unique_nd_indices((3, 4), 5)(rng)],
             scatter_set_nd_ref, {"shape": (3, 4)}),
        Case(lambda dt, rng: [rand((3, 4, 2), dt, rng), rand((2, 2), dt, rng),
                              unique_nd_indices((3, 4, 2), 2, m=2, dtype="int64")(rng)],
             scatter_set_nd_ref, {"shape": (3, 4, 2)}),
    ],
}
