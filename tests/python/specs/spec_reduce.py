"""Specs for the reductions: sum, mean, prod, max, min, nansum, nanprod, norm, argmax, argmin.

References follow MXNet 1.x's axis rules: axis None or () reduces everything to shape (1,) (unless
keepdims), exclude reduces the axes NOT listed. Integer results are the exact result cast to the
input dtype (numpy astype, wrapping); float references are computed in float64.
"""
import numpy as np

from opspec import Case, rand

FLOATS = ("float32", "float64", "float16", "bfloat16")
INTS = ("uint8", "int8", "int32", "int64")


def _np_dtype(dt):
    # bfloat16 inputs are made as float32 (the harness rounds them to bfloat16 precision).
    return "float32" if dt == "bfloat16" else dt


def _axes(ndim, axis, exclude):
    """The reduced axes under MXNet's rules."""
    if axis is None or (isinstance(axis, (tuple, list)) and len(axis) == 0):
        return tuple(range(ndim))
    ax = (axis,) if isinstance(axis, int) else tuple(axis)
    ax = tuple(a % ndim for a in ax)
    if exclude:
        ax = tuple(i for i in range(ndim) if i not in ax)
    return ax


def _finish(res, dtype):
    res = np.asarray(res)
    if res.ndim == 0:
        res = res.reshape(1)
    return res.astype(dtype)


def _is_int(x):
    return x.dtype.kind in "iub"


def _wide(x):
    return x.astype(np.int64) if _is_int(x) else x.astype(np.float64)


def _count(x, ax):
    n = 1
    for a in ax:
        n *= x.shape[a]
    return n


def ref_sum(x, axis=None, keepdims=False, exclude=False):
    ax = _axes(x.ndim, axis, exclude)
    return _finish(np.sum(_wide(x), axis=ax, keepdims=keepdims), x.dtype)


def ref_mean(x, axis=None, keepdims=False, exclude=False):
    ax = _axes(x.ndim, axis, exclude)
    s = np.sum(_wide(x), axis=ax, keepdims=keepdims)
    n = _count(x, ax)
    if _is_int(x):
        s = np.sign(s) * (np.abs(s) // max(n, 1))  # truncation toward zero
    else:
        with np.errstate(invalid="ignore", divide="ignore"):
            s = s / n  # an empty reduction is NaN, as numpy's mean
    return _finish(s, x.dtype)


def ref_prod(x, axis=None, keepdims=False, exclude=False):
    ax = _axes(x.ndim, axis, exclude)
    return _finish(np.prod(_wide(x), axis=ax, keepdims=keepdims), x.dtype)


def ref_nansum(x, axis=None, keepdims=False, exclude=False):
    ax = _axes(x.ndim, axis, exclude)
    return _finish(np.nansum(_wide(x), axis=ax, keepdims=keepdims), x.dtype)


def ref_nanprod(x, axis=None, keepdims=False, exclude=False):
    ax = _axes(x.ndim, axis, exclude)
    return _finish(np.nanprod(_wide(x), axis=ax, keepdims=keepdims), x.dtype)


def ref_max(x, axis=None, keepdims=False, exclude=False):
    ax = _axes(x.ndim, axis, exclude)
    return _finish(np.max(x, axis=ax, keepdims=keepdims), x.dtype)


def ref_min(x, axis=None, keepdims=False, exclude=False):
    ax = _axes(x.ndim, axis, exclude)
    return _finish(np.min(x, axis=ax, keepdims=keepdims), x.dtype)


def ref_norm(x, ord=2, axis=None, keepdims=False, out_dtype=None):
    ax = _axes(x.ndim, axis, False)
    w = x.astype(np.float64)
    if ord == 1:
        r = np.sum(np.abs(w), axis=ax, keepdims=keepdims)
    else:
        r = np.sqrt(np.sum(w * w, axis=ax, keepdims=keepdims))
    return _finish(r, out_dtype or x.dtype)


def _search(fn):
    def ref(x, axis=None, keepdims=False):
        if axis is None:
            idx = np.asarray(fn(x.reshape(-1)))
            shape = (1,) * x.ndim if keepdims else (1,)
            return idx.reshape(shape).astype(x.dtype)
        idx = fn(x, axis=axis)
        if keepdims:
            idx = np.expand_dims(idx, axis)
        return _finish(idx, x.dtype)
    return ref


ref_argmax = _search(np.argmax)
ref_argmin = _search(np.argmin)


# ---------------------------------------------------------------- inputs
def _gen(*shapes, low=-2.0, high=2.0):
    return lambda dt, rng: [rand(s, dt, rng, low, high) for s in shapes]


def _with_nan(shape, frac=0.3):
    def gen(dt, rng):
        x = rand(shape, dt, rng)
        if x.dtype.kind == "f":
            x[rng.random(shape) < frac] = np.nan
            x.reshape(-1)[0] = np.nan  # at least one NaN
        return [x]
    return gen


def _all_nan_row(dt, rng):
    x = rand((3, 4), dt, rng)
    x[1, :] = np.nan  # a slice that is entirely NaN: nansum 0, nanprod 1
    x[0, 2] = np.nan
    return [x]


def _prod_inputs(shape):
    def gen(dt, rng):
        if dt in INTS or dt == "bool":
            vals = np.array([1, 2, 1, 3] if dt == "uint8" else [-1, 1, 2, 1, -2], dtype=_np_dtype(dt))
            return [rng.choice(vals, size=shape)]
        return [rand(shape, dt, rng, 0.5, 1.5)]
    return gen


def _ties(dt, rng):
    # Several equal maxima/minima per row: the first index must win.
    x = np.array([[1, 3, 3, 0, 3], [2, 2, 0, 0, 1], [0, 0, 0, 0, 0]], dtype=_np_dtype(dt))
    return [x]


def _search_nan(dt, rng):
    x = rand((4, 6), dt, rng)
    x[0, 3] = np.nan
    x[0, 5] = np.nan
    x[2, 0] = np.nan
    return [x]


# Axis combinations every axis reduction runs on a (2, 3, 4, 5) input.
_AXES4 = [
    {},
    {"axis": ()},
    {"axis": 1},
    {"axis": -1},
    {"axis": (0, 2)},
    {"axis": (1, -1)},
    {"axis": (0, 1, 2, 3)},
    {"axis": 2, "keepdims": True},
    {"axis": (0, 3), "keepdims": True},
    {"keepdims": True},
    {"axis": 1, "exclude": True},
    {"axis": (0, -1), "exclude": True},
    {"axis": (1, 2), "exclude": True, "keepdims": True},
    {"axis": (0, 1, 2, 3), "exclude": True},
    {"axis": (), "exclude": True},
]


def _axis_cases(ref, gen4=None, **kw):
    gen4 = gen4 or _gen((2, 3, 4, 5))
    cases = [Case(inputs=gen4, ref=ref, params=p, name=f"4d {p}", **kw) for p in _AXES4]
    cases += [
        Case(inputs=_gen((7,)), ref=ref, params={}, name="1d all", **kw),
        Case(inputs=_gen((7,)), ref=ref, params={"axis": 0, "keepdims": True}, name="1d keepdims", **kw),
        Case(inputs=_gen((3, 1, 4)), ref=ref, params={"axis": 1}, name="size-1 axis", **kw),
        Case(inputs=_gen((1, 1)), ref=ref, params={"axis": 0}, name="all size-1", **kw),
    ]
    return cases


# Larger inputs that take the multi-threaded paths: many outputs, few long outputs, inner kept
# columns with long reductions, and a full reduction.
_BIG = [
    ((64, 1000), {"axis": 1}),
    ((1000, 64), {"axis": 0}),
    ((3, 40000), {"axis": 1}),
    ((40, 300, 7), {"axis": 1}),
    ((20, 30, 40), {"axis": (0, 2)}),
    ((100003,), {}),
    ((50, 2, 700), {"axis": 1, "exclude": True}),
]


def _big_cases(ref, low=-2.0, high=2.0, dtypes=("float32", "float64", "float16", "int32"), **kw):
    return [Case(inputs=_gen(s, low=low, high=high), ref=ref, params=p, dtypes=dtypes, name=f"big {s} {p}", **kw)
            for s, p in _BIG]


_empty = [
    Case(inputs=_gen((0, 3)), params={"axis": 0}, name="empty reduced axis"),
    Case(inputs=_gen((3, 0)), params={"axis": 0}, name="empty kept axis"),
]


def _empty_cases(ref, dtypes=None):
    return [Case(inputs=c.inputs, ref=ref, params=c.params, name=c.name, dtypes=dtypes) for c in _empty]


def _prod_big(ref):
    # Long products stay finite with inputs near one.
    return [Case(inputs=_prod_inputs(s), ref=ref, params=p, dtypes=("float32", "float64"), name=f"big {s} {p}")
            for s, p in [((64, 1000), {"axis": 1}), ((1000, 64), {"axis": 0})]]


SPECS = {
    "sum": _axis_cases(ref_sum) + _big_cases(ref_sum) + _empty_cases(ref_sum) + [
        # float32 sums accumulate in double: a sum whose float32 running total would lose the ones.
        Case(inputs=lambda dt, rng: [np.concatenate([[1e8], np.ones(1000), [-1e8]]).astype(_np_dtype(dt))], ref=ref_sum,
             dtypes=("float32", "float64"), name="compensated"),
        Case(inputs=_gen((200, 5), low=0, high=127), ref=ref_sum, params={"axis": 0}, dtypes=INTS,
             name="integer wrap"),
    ],
    "mean": _axis_cases(ref_mean) + _big_cases(ref_mean) + _empty_cases(ref_mean, dtypes=FLOATS) + [
        Case(inputs=_gen((6, 7), low=-100, high=100), ref=ref_mean, params={"axis": 1},
             dtypes=("int8", "int32", "int64"), name="integer truncation"),
    ],
    "prod": _axis_cases(ref_prod, gen4=_prod_inputs((2, 3, 4, 5))) + _prod_big(ref_prod)
    + _empty_cases(ref_prod),
    "max": _axis_cases(ref_max) + _big_cases(ref_max) + [
        Case(inputs=_with_nan((4, 5)), ref=ref_max, params={"axis": 1}, dtypes=FLOATS, name="nan propagates"),
    ],
    "min": _axis_cases(ref_min) + _big_cases(ref_min) + [
        Case(inputs=_with_nan((4, 5)), ref=ref_min, params={"axis": 0}, dtypes=FLOATS, name="nan propagates"),
    ],
    "nansum": _axis_cases(ref_nansum) + _big_cases(ref_nansum) + _empty_cases(ref_nansum) + [
        Case(inputs=_with_nan((4, 6)), ref=ref_nansum, params=p, dtypes=FLOATS, name=f"nan {p}")
        for p in ({}, {"axis": 0}, {"axis": 1}, {"axis": 1, "keepdims": True})
    ] + [
        Case(inputs=_all_nan_row, ref=ref_nansum, params={"axis": 1}, dtypes=FLOATS, name="all-nan slice"),
        Case(inputs=_with_nan((300, 400), frac=0.1), ref=ref_nansum, params={"axis": 0},
             dtypes=("float32", "float64"), name="big nan"),
    ],
    "nanprod": _axis_cases(ref_nanprod, gen4=_prod_inputs((2, 3, 4, 5))) + _prod_big(ref_nanprod) + [
        Case(inputs=lambda dt, rng: [np.where(rng.random((4, 6)) < 0.3, np.nan,
                                              rand((4, 6), dt, rng, 0.5, 1.5)).astype(_np_dtype(dt))],
             ref=ref_nanprod, params=p, dtypes=FLOATS, name=f"nan {p}")
        for p in ({}, {"axis": 0}, {"axis": 1})
    ] + [Case(inputs=_all_nan_row, ref=ref_nanprod, params={"axis": 1}, dtypes=FLOATS, name="all-nan slice")],
    "norm": [
        Case(inputs=_gen((2, 3, 4)), ref=ref_norm, params=p, name=f"norm {p}")
        for p in ({}, {"ord": 1}, {"axis": 1}, {"ord": 1, "axis": -1}, {"axis": (0, 2)}, {"axis": (1, 2)},
                  {"ord": 1, "axis": (0, 1), "keepdims": True}, {"axis": 2, "keepdims": True}, {"axis": ()},
                  {"keepdims": True})
    ] + [
        Case(inputs=_gen((3, 4)), ref=ref_norm, params={"axis": 1, "out_dtype": od}, dtypes=("float32", "float16"),
             name=f"out_dtype {od}")
        for od in ("float64", "float32", "float16")
    ] + [
        Case(inputs=_gen((3, 4), low=0, high=30), ref=ref_norm, params={"ord": o, "axis": 1, "out_dtype": od},
             dtypes=("float32", "float64"), name=f"int out_dtype {od} ord {o}")
        for od in ("int32", "int64", "int8") for o in (1, 2)
    ] + [
        # float64 keeps a scaled sum of squares: neither overflow nor underflow.
        Case(inputs=lambda dt, rng: [np.array([[3e200, 4e200], [3e-200, 4e-200]], dtype=_np_dtype(dt))],
             ref=lambda x, **kw: np.array([5e200, 5e-200]), params={"axis": 1}, dtypes=("float64",), name="scaled"),
        Case(inputs=lambda dt, rng: [np.array([[np.inf, np.inf, 1.0], [np.inf, np.nan, 2.0], [np.nan, -np.inf, 0.0],
                                               [3.0, -4.0, 0.0]], dtype=dt)],
             ref=ref_norm, params={"axis": 1}, dtypes=("float32", "float64"), name="inf and nan"),
        Case(inputs=_gen((1000, 64)), ref=ref_norm, params={"axis": 0}, dtypes=("float32", "float64"),
             name="big columns"),
        Case(inputs=_gen((100003,)), ref=ref_norm, params={"ord": 1}, dtypes=("float32", "float64"), name="big"),
        Case(inputs=_gen((0, 3)), ref=ref_norm, params={"axis": 0}, name="empty"),
    ],
    "argmax": [
        Case(inputs=_gen((3, 4, 5)), ref=ref_argmax, params=p, name=f"argmax {p}")
        for p in ({}, {"axis": 0}, {"axis": 1}, {"axis": -1}, {"axis": 1, "keepdims": True}, {"keepdims": True})
    ] + [
        Case(inputs=_gen((7,)), ref=ref_argmax, params={"axis": 0}, name="1d"),
        Case(inputs=_ties, ref=ref_argmax, params={"axis": 1}, name="ties first index"),
        Case(inputs=_ties, ref=ref_argmax, params={"axis": 0}, name="ties first index axis 0"),
        Case(inputs=_search_nan, ref=ref_argmax, params={"axis": 1}, dtypes=FLOATS, name="nan first"),
        Case(inputs=_gen((40, 300, 7)), ref=ref_argmax, params={"axis": 1}, dtypes=("float32", "float64"),
             name="big inner"),
        Case(inputs=_gen((300, 1000)), ref=ref_argmax, params={"axis": 1}, dtypes=("float32", "float64"),
             name="big rows"),
    ],
    "argmin": [
        Case(inputs=_gen((3, 4, 5)), ref=ref_argmin, params=p, name=f"argmin {p}")
        for p in ({}, {"axis": 0}, {"axis": 2}, {"axis": -2, "keepdims": True}, {"keepdims": True})
    ] + [
        Case(inputs=_ties, ref=ref_argmin, params={"axis": 1}, name="ties first index"),
        Case(inputs=_search_nan, ref=ref_argmin, params={"axis": 1}, dtypes=FLOATS, name="nan first"),
        Case(inputs=_gen((40, 300, 7)), ref=ref_argmin, params={"axis": 1}, dtypes=("float32",), name="big inner"),
    ],
}
