"""Specs for dot and batch_dot (MXNet semantics), against numpy matmul in float64 / int64.

Integer results are the exact product cast to the input dtype (wrapping, as numpy's astype).
Float inputs are multiples of 1/8 in [-2, 2): every product and partial sum is then exact in float32,
so results are compared at the dtype's default tolerance whatever order the GEMM sums in.
"""
import numpy as np

from opspec import Case, rand


def _wide(x):
    return x.astype(np.int64) if x.dtype.kind in "iub" else x.astype(np.float64)


def ref_dot(a, b, transpose_a=False, transpose_b=False, forward_stype=None):
    A, B = _wide(a), _wide(b)
    if a.ndim == 1 and b.ndim == 1:
        return np.array([A @ B]).astype(a.dtype)
    size = lambda dims: int(np.prod(dims, dtype=np.int64))  # noqa: E731
    if transpose_a:
        A2, lout = A.reshape(A.shape[0], size(A.shape[1:])).T, A.shape[1:]
    else:
        A2, lout = A.reshape(size(A.shape[:-1]), A.shape[-1]), A.shape[:-1]
    if transpose_b:
        B2, rout = B.reshape(size(B.shape[:-1]), B.shape[-1]).T, B.shape[:-1]
    else:
        B2, rout = B.reshape(B.shape[0], size(B.shape[1:])), B.shape[1:]
    shape = (tuple(lout) if a.ndim > 1 else ()) + (tuple(rout) if b.ndim > 1 else ())
    return (A2 @ B2).reshape(shape).astype(a.dtype)


def ref_batch_dot(a, b, transpose_a=False, transpose_b=False, forward_stype=None):
    A, B = _wide(a), _wide(b)
    if transpose_a:
        A = np.swapaxes(A, -1, -2)
    if transpose_b:
        B = np.swapaxes(B, -1, -2)
    return np.matmul(A, B).astype(a.dtype)


def _rand8(shape, dt, rng, low=-2.0, high=2.0):
    x = rand(shape, dt, rng, low, high)
    if x.dtype.kind == "f":
        x = (np.round(x.astype(np.float64) * 8) / 8).astype(x.dtype)
    return x


def _gen(sa, sb):
    return lambda dt, rng: [_rand8(sa, dt, rng), _rand8(sb, dt, rng)]


def _dot_case(sa, sb, params=None, name=None, **kw):
    params = params or {}
    return Case(inputs=_gen(sa, sb), ref=ref_dot, params=params, name=name or f"{sa} x {sb} {params}", **kw)


SPECS = {
    "dot": [
        _dot_case((3, 4), (4, 5)),
        _dot_case((4, 3), (4, 5), {"transpose_a": True}),
        _dot_case((3, 4), (5, 4), {"transpose_b": True}),
        _dot_case((4, 3), (5, 4), {"transpose_a": True, "transpose_b": True}),
        _dot_case((6,), (6,), name="vector inner product"),
        _dot_case((6,), (6, 3), name="vector x matrix"),
        _dot_case((3, 6), (6,), name="matrix x vector"),
        _dot_case((6,), (6, 3), {"transpose_a": True}, name="vector x matrix, transpose_a"),
        _dot_case((3, 6), (6,), {"transpose_b": True}, name="matrix x vector, transpose_b"),
        _dot_case((2, 3, 4), (4, 5), name="3d x 2d"),
        _dot_case((2, 3, 4), (4, 2, 5), name="3d x 3d"),
        _dot_case((4, 2, 3), (4, 5), {"transpose_a": True}, name="3d transpose_a"),
        _dot_case((2, 3, 4), (5, 2, 4), {"transpose_b": True}, name="3d transpose_b"),
        _dot_case((1, 1), (1, 1), name="1x1"),
        _dot_case((0, 4), (4, 3), name="empty rows"),
        _dot_case((3, 0), (0, 5), name="empty contraction"),
        _dot_case((5, 4), (4, 0), name="empty columns"),
        # Sizes that cross the GEMM blocking (panels, depth blocks) and run multi-threaded.
        Case(inputs=_gen((97, 300), (300, 45)), ref=ref_dot, dtypes=("float32", "float64", "float16", "int32"),
             name="blocked"),
        Case(inputs=_gen((300, 97), (45, 300)), ref=ref_dot, params={"transpose_a": True, "transpose_b": True},
             dtypes=("float32", "float64", "int64"), name="blocked transposed"),
        Case(inputs=_gen((256, 600), (600, 130)), ref=ref_dot, dtypes=("float32", "float64", "bfloat16", "int8"),
             name="big"),
        # Integer products that overflow the input type wrap as a cast of the exact result.
        Case(inputs=lambda dt, rng: [rand((4, 30), dt, rng, 0, 100), rand((30, 3), dt, rng, 0, 100)], ref=ref_dot,
             dtypes=("uint8", "int8", "int32", "int64"), name="integer wrap"),
    ],
    "batch_dot": [
        Case(inputs=_gen((2, 3, 4), (2, 4, 5)), ref=ref_batch_dot, name="3d"),
        Case(inputs=_gen((2, 4, 3), (2, 4, 5)), ref=ref_batch_dot, params={"transpose_a": True}, name="transpose_a"),
        Case(inputs=_gen((2, 3, 4), (2, 5, 4)), ref=ref_batch_dot, params={"transpose_b": True}, name="transpose_b"),
        Case(inputs=_gen((3, 4, 3), (3, 5, 4)), ref=ref_batch_dot, params={"transpose_a": True, "transpose_b": True},
             name="both transposed"),
        Case(inputs=_gen((2, 3, 4, 5), (2, 3, 5, 2)), ref=ref_batch_dot, name="4d"),
        Case(inputs=_gen((1, 1, 1), (1, 1, 1)), ref=ref_batch_dot, name="1x1"),
        Case(inputs=_gen((0, 3, 4), (0, 4, 5)), ref=ref_batch_dot, name="empty batch"),
        Case(inputs=_gen((2, 3, 0), (2, 0, 5)), ref=ref_batch_dot, name="empty contraction"),
        # Many small matrices (parallel across the batch) and a few large ones (threaded GEMMs).
        Case(inputs=_gen((500, 6, 7), (500, 7, 5)), ref=ref_batch_dot, dtypes=("float32", "float64", "int32"),
             name="many small"),
        Case(inputs=_gen((3, 80, 120), (3, 120, 70)), ref=ref_batch_dot, 
             dtypes=("float32", "float64", "float16"), name="few large"),
    ],
}
