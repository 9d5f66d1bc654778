"""Specs of the extra shape ops: SwapAxis (swapaxes), depth_to_space, space_to_depth, reshape_like,
shape_array, size_array and diag.

References are numpy: np.swapaxes, the reshape/transpose formulation of depth_to_space and
space_to_depth written out below, np.diag / np.diagonal, and plain shape arithmetic.
"""
import numpy as np

from opspec import Case, rand


def one(shape):
    return lambda dt, rng: [rand(shape, dt, rng)]


# ------------------------------------------------------------------ SwapAxis
def swap_case(shape, dim1, dim2):
    return Case(one(shape), lambda x, dim1=0, dim2=0: np.swapaxes(x, dim1, dim2),
                {"dim1": dim1, "dim2": dim2}, name=f"{shape}-{dim1}-{dim2}")


# ------------------------------------------------------------------ depth_to_space / space_to_depth
def depth_to_space_ref(x, block_size):
    b = block_size
    n, c, h, w = x.shape
    t = x.reshape(n, b, b, c // (b * b), h, w)
    t = t.transpose(0, 3, 4, 1, 5, 2)
    return t.reshape(n, c // (b * b), h * b, w * b)


def space_to_depth_ref(x, block_size):
    b = block_size
    n, c, h, w = x.shape
    t = x.reshape(n, c, h // b, b, w // b, b)
    t = t.transpose(0, 3, 5, 1, 2, 4)
    return t.reshape(n, c * b * b, h // b, w // b)


def d2s_case(shape, b):
    return Case(one(shape), depth_to_space_ref, {"block_size": b}, name=f"{shape}-b{b}")


def s2d_case(shape, b):
    return Case(one(shape), space_to_depth_ref, {"block_size": b}, name=f"{shape}-b{b}")


# ------------------------------------------------------------------ reshape_like
def reshape_like_ref(lhs, rhs, lhs_begin=None, lhs_end=None, rhs_begin=None, rhs_end=None):
    def rng_of(nd, b, e):
        b = 0 if b is None else (b + nd if b < 0 else b)
        e = nd if e is None else (e + nd if e < 0 else e)
        return b, e

    lb, le = rng_of(lhs.ndim, lhs_begin, lhs_end)
    rb, re = rng_of(rhs.ndim, rhs_begin, rhs_end)
    shape = lhs.shape[:lb] + rhs.shape[rb:re] + lhs.shape[le:]
    return lhs.reshape(shape)


def like_case(lshape, rshape, rhs_dtype=None, **params):
    def inputs(dt, rng):
        rd = rhs_dtype or dt
        return [rand(lshape, dt, rng), rand(rshape, "float32" if rd == "bfloat16" else rd, rng)]

    return Case(inputs, reshape_like_ref, params, name=f"{lshape}-{rshape}-{rhs_dtype or 'same'}-"
                + "-".join(f"{k}{v}" for k, v in sorted(params.items())))


# ------------------------------------------------------------------ shape_array / size_array
def shape_array_ref(x):
    return np.array(x.shape, dtype=np.int64)


def size_array_ref(x):
    return np.array([x.size], dtype=np.int64)


# ------------------------------------------------------------------ diag
def diag_ref(x, k=0, axis1=0, axis2=1):
    if x.ndim == 1:
        return np.diag(x, k)
    return np.diagonal(x, k, axis1, axis2)


def diag_case(shape, **params):
    return Case(one(shape), diag_ref, params,
                name=f"{shape}-" + "-".join(f"{k}{v}" for k, v in sorted(params.items())))


SPECS = {
    "SwapAxis": [
        swap_case((2, 3), 0, 1),
        swap_case((2, 3, 4), 0, 2),
        swap_case((2, 3, 4, 5), 1, -1),
        swap_case((2, 3, 4, 5), -3, -2),
        swap_case((3, 4), 1, 1),
        swap_case((4,), 0, -1),
        swap_case((2, 0, 3), 0, 2),
        Case(one((2, 3, 4)), lambda x: np.swapaxes(x, 0, 0), {}, name="defaults"),
    ],
    "depth_to_space": [
        d2s_case((1, 4, 2, 3), 2),
        d2s_case((2, 8, 3, 2), 2),
        d2s_case((2, 18, 2, 2), 3),
        d2s_case((1, 3, 2, 2), 1),
        d2s_case((3, 16, 1, 4), 4),
    ],
    "space_to_depth": [
        s2d_case((1, 1, 4, 6), 2),
        s2d_case((2, 3, 4, 2), 2),
        s2d_case((2, 2, 6, 3), 3),
        s2d_case((1, 3, 2, 2), 1),
        s2d_case((3, 1, 4, 8), 4),
    ],
    "reshape_like": [
        like_case((6,), (3, 2)),
        like_case((2, 3, 4), (4, 6), rhs_dtype="int32"),
        like_case((30, 7), (15, 2, 4), lhs_begin=0, lhs_end=1, rhs_begin=0, rhs_end=2),
        like_case((3, 5), (1, 15, 4), rhs_dtype="float64", lhs_begin=0, lhs_end=2, rhs_begin=1, rhs_end=2),
        like_case((30, 12), (4, 2, 2, 3), lhs_begin=-1, rhs_begin=1),
        like_case((2, 12, 5), (3, 4), rhs_dtype="uint8", lhs_begin=-2, lhs_end=-1, rhs_begin=-2),
        like_case((4, 6), (2, 2, 6), rhs_dtype="bool", lhs_end=1, rhs_end=-1),
    ],
    "shape_array": [
        Case(one((2, 3, 4)), shape_array_ref, name="3d"),
        Case(one((7,)), shape_array_ref, name="1d"),
        Case(one((1, 0, 5, 2, 1)), shape_array_ref, name="5d-empty"),
        Case(one(()), shape_array_ref, name="0d"),
    ],
    "size_array": [
        Case(one((2, 3, 4)), size_array_ref, name="3d"),
        Case(one((7,)), size_array_ref, name="1d"),
        Case(one((3, 0)), size_array_ref, name="empty"),
        Case(one(()), size_array_ref, name="0d"),
    ],
    "diag": [
        diag_case((4,)),
        diag_case((3,), k=2),
        diag_case((3,), k=-1),
        diag_case((4, 4)),
        diag_case((3, 5), k=1),
        diag_case((5, 3), k=-2),
        diag_case((3, 5), k=7),
        diag_case((3, 5), k=-3),
        diag_case((2, 3, 4), axis1=1, axis2=2),
        diag_case((2, 3, 4), k=1, axis1=-1, axis2=0),
        diag_case((2, 3, 4, 5), k=-1, axis1=3, axis2=1),
        diag_case((3, 4, 2), axis1=-2, axis2=-3),
    ],
}
