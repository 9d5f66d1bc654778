"""Specs for sort, argsort and topk (MXNet semantics; indices float32 by default).

The order is a stable one: equal values keep their original order, ascending or descending, so
integer inputs with many ties have one right answer. NaN orders above every number (last when
ascending, first when descending). The references use numpy's stable sorts in float64.
"""
import numpy as np

from opspec import Case, rand


def _order(x, axis, is_ascend):
    """Stable ordering indices of x along axis (axis None: the flattened array)."""
    if axis is None:
        x, axis = x.reshape(-1), 0
    keys = x.astype(np.float64)
    if is_ascend:
        return np.argsort(keys, axis=axis, kind="stable"), x, axis  # numpy puts NaN last
    nan = np.isnan(keys)
    # lexsort is stable; its last key is the primary one: NaN first, then descending values.
    return np.lexsort((np.where(nan, 0.0, -keys), ~nan), axis=axis), x, axis


def ref_sort(x, axis=-1, is_ascend=True):
    idx, x, axis = _order(x, axis, is_ascend)
    return np.take_along_axis(x, idx, axis=axis)


def ref_argsort(x, axis=-1, is_ascend=True, dtype="float32"):
    idx, _, _ = _order(x, axis, is_ascend)
    return idx.astype(dtype)


def ref_topk(x, axis=-1, k=1, ret_typ="indices", is_ascend=False, dtype="float32"):
    idx, xf, ax = _order(x, axis, is_ascend)
    n = xf.shape[ax]
    k = n if k < 1 else k
    top = np.take(idx, np.arange(k), axis=ax)
    if ret_typ == "mask":
        mask = np.zeros(xf.shape, dtype=x.dtype)
        np.put_along_axis(mask, top, 1, axis=ax)
        return mask.reshape(x.shape)
    values = np.take_along_axis(xf, top, axis=ax)
    if ret_typ == "value":
        return values
    if ret_typ == "indices":
        return top.astype(dtype)
    return values, top.astype(dtype)


def _np_dtype(dt):
    # bfloat16 inputs are made as float32 (the harness rounds them to bfloat16 precision).
    return "float32" if dt == "bfloat16" else dt


def _gen(shape, low=-2.0, high=2.0):
    return lambda dt, rng: [rand(shape, dt, rng, low, high)]


def _distinct(shape):
    # A permutation of distinct values (exact in every dtype): the order has no ties at all.
    def gen(dt, rng):
        n = int(np.prod(shape))
        v = rng.permutation(n).reshape(shape) - (0 if dt == "uint8" else n // 2)
        return [v.astype(_np_dtype(dt))]
    return gen


def _with_nan(dt, rng):
    x = rand((3, 7), dt, rng)
    x[0, 2] = np.nan
    x[1, 0] = np.nan
    x[1, 5] = np.nan
    return [x]


_SORT_PARAMS = [
    {},
    {"axis": 0},
    {"axis": 1},
    {"axis": -2},
    {"axis": None},
    {"is_ascend": False},
    {"axis": 0, "is_ascend": False},
    {"axis": None, "is_ascend": False},
]


def _sort_cases(ref, extra=()):
    cases = []
    for p in _SORT_PARAMS + list(extra):
        cases.append(Case(inputs=_gen((3, 4, 5)), ref=ref, params=p, name=f"ties {p}"))
        cases.append(Case(inputs=_distinct((3, 4, 5)), ref=ref, params=p, name=f"distinct {p}"))
    cases += [
        Case(inputs=_gen((9,)), ref=ref, params={}, name="1d"),
        Case(inputs=_gen((1, 6)), ref=ref, params={"axis": 0}, name="length-1 axis"),
        Case(inputs=_gen((0, 4)), ref=ref, params={"axis": 1}, name="empty"),
        Case(inputs=_with_nan, ref=ref, params={}, dtypes=("float32", "float64", "float16"), name="nan ascending"),
        Case(inputs=_distinct((64, 1000)), ref=ref, params={}, dtypes=("float32", "int32", "int64"),
             name="big rows"),
        Case(inputs=_distinct((300, 40, 9)), ref=ref, params={"axis": 1, "is_ascend": False},
             dtypes=("float32", "float64", "int32"), name="big strided"),
    ]
    return cases


_TOPK_PARAMS = [
    {},
    {"k": 3},
    {"k": 2, "axis": 0},
    {"k": 3, "axis": 1, "is_ascend": True},
    {"k": 0},
    {"k": -1, "axis": 0, "is_ascend": True},
    {"k": 4, "axis": None},
    {"k": 2, "ret_typ": "value"},
    {"k": 2, "ret_typ": "value", "axis": 1, "is_ascend": True},
    {"k": 3, "ret_typ": "both"},
    {"k": 2, "ret_typ": "both", "axis": 0, "dtype": "int32"},
    {"k": 5, "ret_typ": "both", "axis": None, "is_ascend": True},
    {"k": 2, "ret_typ": "mask"},
    {"k": 3, "ret_typ": "mask", "axis": 1, "is_ascend": True},
    {"k": 7, "ret_typ": "mask", "axis": None},
    {"k": 3, "dtype": "int64"},
    {"k": 3, "dtype": "float64"},
    {"k": 3, "dtype": "float16"},
    {"k": 3, "dtype": "uint8"},
]

SPECS = {
    "sort": _sort_cases(ref_sort),
    "argsort": _sort_cases(ref_argsort, extra=[
        {"dtype": "int32"},
        {"dtype": "int64", "is_ascend": False},
        {"dtype": "float64", "axis": None},
        {"dtype": "float16", "axis": 0},
        {"dtype": "uint8"},
    ]),
    "topk": [
        Case(inputs=gen, ref=ref_topk, params=p, name=f"{label} {p}")
        for p in _TOPK_PARAMS
        for label, gen in (("ties", _gen((3, 4, 5))), ("distinct", _distinct((3, 4, 5))))
    ] + [
        Case(inputs=_gen((8,)), ref=ref_topk, params={"k": 3, "ret_typ": "both"}, name="1d"),
        Case(inputs=_with_nan, ref=ref_topk, params={"k": 3, "ret_typ": "both"},
             dtypes=("float32", "float64"), name="nan is largest"),
        # k much smaller than the line takes the partial-sort path.
        Case(inputs=_distinct((50, 800)), ref=ref_topk, params={"k": 5, "ret_typ": "both"},
             dtypes=("float32", "float64", "int32"), name="big partial"),
        Case(inputs=_gen((40, 600, 3)), ref=ref_topk, params={"k": 10, "axis": 1, "ret_typ": "both"},
             dtypes=("float32", "int32"), name="big strided ties"),
        Case(inputs=_gen((50, 800)), ref=ref_topk, params={"k": 20, "ret_typ": "mask", "is_ascend": True},
             dtypes=("float32", "int8"), name="big mask"),
    ],
}
