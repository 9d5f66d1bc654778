"""Specs of the elementwise family: unary math, same-shape binary, broadcast_* and scalar ops.

References are numpy, written to MXNet 1.x's documented semantics where they differ from numpy:
comparison/logical results are 1/0 in the input dtype; integer division truncates toward zero and
x / 0 == 0 for integers; mod takes the sign of the divisor and mod by zero is 0; round() rounds
halves away from zero and rint() rounds halves down; a scalar is converted to the array's dtype
before use (2.5 -> 2 for integer arrays), and an integer (bool) array with is_int=False computes
in float64 (a bool array with is_int=True in int64).
"""
import math

import numpy as np

from opspec import Case, rand

FLOATS = ("float32", "float64", "float16", "bfloat16")
INTS = ("uint8", "int8", "int32", "int64")
SIGNED = ("int8", "int32", "int64")
NUMERIC = FLOATS + INTS
ALL = NUMERIC + ("bool",)


def npdt(dtype):
    """numpy dtype of the arrays handed to MX for a dtype name (bfloat16 travels as float32)."""
    return np.dtype("float32" if dtype == "bfloat16" else dtype)


def is_float(dtype):
    return npdt(dtype).kind == "f"


def arr(values, dtype):
    return np.asarray(values, dtype=npdt(dtype))


def cast_scalar(s, dtype):
    """MXNet's DType(scalar): truncation toward zero and wrapping for integer dtypes."""
    dt = np.dtype(dtype)
    if dt == np.bool_:
        return np.asarray(s != 0)
    if dt.kind in "iu":
        return np.asarray(int(s)).astype(np.int64).astype(dt)
    return np.asarray(s, dtype=dt)


def _errstate(fn):
    def wrapped(*args, **kw):
        with np.errstate(all="ignore"):
            return fn(*args, **kw)
    return wrapped


# ------------------------------------------------------------------ binary references
# Each takes two arrays of one dtype (broadcastable) and returns the result in that dtype.

def _int64(a, b):
    a, b = np.broadcast_arrays(np.asarray(a), np.asarray(b))
    return a.astype(np.int64), b.astype(np.int64)


@_errstate
def ref_div(a, b):
    dt = np.result_type(a, b)
    if dt.kind == "f":
        return np.asarray(a / b, dtype=dt)
    a64, b64 = _int64(a, b)
    safe = np.where(b64 == 0, 1, b64)
    q = (np.abs(a64) // np.abs(safe)) * np.sign(a64) * np.sign(safe)
    return np.where(b64 == 0, 0, q).astype(dt)


@_errstate
def ref_mod(a, b):
    dt = np.result_type(a, b)
    if dt.kind == "f":
        return np.asarray(np.where(b == 0, np.zeros((), dt), np.mod(a, b)), dtype=dt)
    a64, b64 = _int64(a, b)
    safe = np.where(b64 == 0, 1, b64)
    return np.where(b64 == 0, 0, np.mod(a64, safe)).astype(dt)


@_errstate
def ref_power(a, b):
    dt = np.result_type(a, b)
    if dt.kind == "f":
        return np.asarray(np.power(a, b), dtype=dt)
    a64, b64 = _int64(a, b)
    neg = b64 < 0
    res = np.power(a64, np.where(neg, 0, b64))
    # Negative exponent: the truncated value of 1 / a^n.
    negres = np.where(a64 == 1, 1, np.where(a64 == -1, np.where(b64 % 2 == 1, -1, 1), 0))
    return np.where(neg, negres, res).astype(dt)


@_errstate
def ref_hypot(a, b):
    dt = np.result_type(a, b)
    if dt.kind == "f":
        return np.asarray(np.hypot(a, b), dtype=dt)
    h = np.trunc(np.hypot(np.asarray(a, np.float64), np.asarray(b, np.float64)))
    return h.astype(np.int64).astype(dt)


def _same(fn):
    def ref(a, b):
        dt = np.result_type(a, b)
        with np.errstate(all="ignore"):
            return np.asarray(fn(a, b)).astype(dt)
    return ref


def _cmp(fn):
    def ref(a, b):
        dt = np.result_type(a, b)
        return np.asarray(fn(a, b)).astype(dt)
    return ref


BINARY = {
    # kind: (reference, dtypes, input ranges (lo, hi) for lhs and rhs)
    "add": (_same(lambda a, b: a + b), NUMERIC),
    "sub": (_same(lambda a, b: a - b), NUMERIC),
    "mul": (_same(lambda a, b: a * b), NUMERIC),
    "div": (ref_div, NUMERIC),
    "mod": (ref_mod, NUMERIC),
    "power": (ref_power, NUMERIC),
    "maximum": (_same(np.maximum), NUMERIC),
    "minimum": (_same(np.minimum), NUMERIC),
    "hypot": (ref_hypot, NUMERIC),
    "equal": (_cmp(lambda a, b: a == b), ALL),
    "not_equal": (_cmp(lambda a, b: a != b), ALL),
    "greater": (_cmp(lambda a, b: a > b), ALL),
    "greater_equal": (_cmp(lambda a, b: a >= b), ALL),
    "lesser": (_cmp(lambda a, b: a < b), ALL),
    "lesser_equal": (_cmp(lambda a, b: a <= b), ALL),
    "logical_and": (_cmp(lambda a, b: (a != 0) & (b != 0)), ALL),
    "logical_or": (_cmp(lambda a, b: (a != 0) | (b != 0)), ALL),
    "logical_xor": (_cmp(lambda a, b: (a != 0) ^ (b != 0)), ALL),
}


def _operand(kind, side, shape, dtype, rng):
    """A random operand suited to the kind (powers keep exponents small and bases positive for
    floats; division/mod use a wider integer range so zeros and negatives both occur)."""
    if kind == "power":
        if is_float(dtype):
            return rand(shape, dtype, rng, 0.5, 2.0) if side == 0 else rand(shape, dtype, rng, -2.0, 2.0)
        return rand(shape, dtype, rng, -3, 3) if side == 0 else rand(shape, dtype, rng, 0, 4)
    if kind in ("div", "mod"):
        return rand(shape, dtype, rng, -6, 6) if not is_float(dtype) else rand(shape, dtype, rng, -5.0, 5.0)
    if kind in ("equal", "not_equal") and not is_float(dtype):
        return rand(shape, dtype, rng, -1, 2)  # small range: equal elements do occur
    if kind in ("equal", "not_equal"):
        # Floats rounded to whole numbers so that equal elements do occur.
        return rand(shape, dtype, rng, -2.0, 2.0).round(0)
    return rand(shape, dtype, rng, -4, 4) if not is_float(dtype) else rand(shape, dtype, rng)


def _edges(kind):
    """Extra cases with fixed edge values (float zero division, negative mod, NaN, ...)."""
    ref = BINARY[kind][0]
    cases = []
    if kind == "div":
        cases.append(Case(lambda dt, rng: [arr([1.0, -1.0, 0.0, 2.5, -3.0], dt), arr([0.0, 0.0, 0.0, -0.0, 2.0], dt)],
                          ref, dtypes=FLOATS, name="float_zero_division"))
        cases.append(Case(lambda dt, rng: [arr([7, -7, 7, -7, 0, 5, -6], dt), arr([2, 2, -2, -2, 3, 0, 0], dt)],
                          ref, dtypes=SIGNED, name="int_truncation_and_zero"))
        cases.append(Case(lambda dt, rng: [arr([7, 0, 255], dt), arr([0, 0, 2], dt)],
                          ref, dtypes=("uint8",), name="uint_zero"))
        cases.append(Case(lambda dt, rng: [arr([-128, 127], dt), arr([-1, -1], dt)], ref, dtypes=("int8",),
                          name="int8_overflow"))
    if kind == "mod":
        cases.append(Case(lambda dt, rng: [arr([-7, 7, -7, 7, 0, 0, 5], dt), arr([3, 3, -3, -3, -3, 3, 0], dt)],
                          ref, dtypes=FLOATS + SIGNED, name="signs_and_zero"))
        cases.append(Case(lambda dt, rng: [arr([-7.5, 7.5, -0.25, 5.5], dt), arr([2.0, -2.0, 3.0, 0.0], dt)],
                          ref, dtypes=FLOATS, name="float_fraction"))
    if kind in ("maximum", "minimum"):
        cases.append(Case(lambda dt, rng: [arr([np.nan, 1.0, np.nan, -np.inf], dt), arr([1.0, np.nan, np.nan, 2.0], dt)],
                          ref, dtypes=FLOATS, name="nan"))
    if kind == "power":
        cases.append(Case(lambda dt, rng: [arr([2, -2, 1, -1, -1, 0, 3], dt), arr([-1, -2, -5, -3, -4, 3, 0], dt)],
                          ref, dtypes=SIGNED, name="int_negative_exponent"))
        cases.append(Case(lambda dt, rng: [arr([0.0, -8.0, 4.0, 0.0], dt), arr([-1.0, 1.0 / 3.0, 0.5, 0.0], dt)],
                          ref, dtypes=FLOATS, name="float_edges"))
    if kind in ("equal", "greater", "lesser_equal", "not_equal"):
        cases.append(Case(lambda dt, rng: [arr([np.nan, 1.0, np.inf], dt), arr([np.nan, np.nan, np.inf], dt)],
                          ref, dtypes=FLOATS, name="nan_inf"))
    return cases


SAME_SHAPES = [(), (0,), (7,), (2, 3), (3, 4, 5), (2, 0, 3), (70001,)]
BROADCAST_SHAPES = [
    ((2, 3), (2, 3)),
    ((2, 3), (3,)),
    ((2, 3), (2, 1)),
    ((2, 1), (1, 3)),
    ((4, 1, 5), (1, 3, 1)),
    ((), (2, 3)),
    ((2, 3), ()),
    ((1,), (5,)),
    ((0, 3), (1, 3)),
    ((2, 0), (2, 1)),
    ((2, 1, 3, 1), (1, 4, 1, 5)),
    ((5, 1, 1, 7), (5, 2, 3, 7)),
    ((1, 1), (1, 1, 1)),
    ((300, 257), (257,)),
    ((300, 257), (300, 1)),
    ((3, 40000), (3, 1)),
    ((1, 70000), (2, 1)),
    ((7, 9999), (7, 1)),
    ((33333, 3), (3,)),
    ((3, 1, 11111), (1, 3, 1)),
]


def _shape_case(kind, sa, sb, name):
    ref, dtypes = BINARY[kind]
    return Case(lambda dt, rng: [_operand(kind, 0, sa, dt, rng), _operand(kind, 1, sb, dt, rng)],
                ref, dtypes=dtypes, name=name)


def same_shape_cases(kind):
    cases = [_shape_case(kind, s, s, "x".join(map(str, s)) or "scalar") for s in SAME_SHAPES]
    return cases + _edges(kind)


def broadcast_cases(kind):
    cases = [_shape_case(kind, sa, sb, f"{'x'.join(map(str, sa)) or 's'}_{'x'.join(map(str, sb)) or 's'}")
             for sa, sb in BROADCAST_SHAPES]
    return cases + _edges(kind)


# ------------------------------------------------------------------ scalar references

def _scalar_ref(kind, reverse):
    fn = BINARY[kind][0]

    def ref(x, scalar=1.0, is_int=True):
        x = np.asarray(x)
        if x.dtype == np.bool_:
            t = np.dtype(np.int64 if is_int else np.float64)
        elif x.dtype.kind in "iu" and not is_int:
            t = np.dtype(np.float64)
        else:
            t = x.dtype
        xv = x.astype(t)
        s = cast_scalar(scalar, t)
        return fn(s, xv) if reverse else fn(xv, s)
    return ref


def _scalar_input(kind, reverse, dtype, rng, shape):
    side = 1 if reverse else 0
    if dtype == "bool":
        return rand(shape, "bool", rng)
    if kind == "power" and reverse and not is_float(dtype):
        return rand(shape, dtype, rng, 0, 5)  # integer exponents stay non-negative
    return _operand(kind, side, shape, dtype, rng)


SCALARS = {
    # kind: scalars to try (exact in float16 and bfloat16)
    "add": (2.5, -3.0), "sub": (2.5, -3.0), "mul": (2.5, -3.0, 0.0),
    "div": (2.5, -3.0, 0.0), "mod": (2.5, -3.0, 0.0), "power": (2.0, 0.5, 3.0),
    "maximum": (0.5, -1.0), "minimum": (0.5, -1.0), "hypot": (3.0, -1.5),
    "equal": (1.0, 0.0), "not_equal": (1.0, 0.0), "greater": (0.5, -1.0),
    "greater_equal": (1.0, -1.0), "lesser": (0.5, -1.0), "lesser_equal": (1.0, -1.0),
    "logical_and": (1.0, 0.0), "logical_or": (1.0, 0.0), "logical_xor": (2.5, 0.0),
}


def scalar_cases(kind, reverse=False):
    ref = _scalar_ref(kind, reverse)
    cases = []
    for si, s in enumerate(SCALARS[kind]):
        if kind == "power" and reverse and s == 0.5:
            s = 1.5
        if kind == "power" and not reverse and s == 0.5:
            # Fractional exponents only for floats (integers would truncate it to 0).
            cases.append(Case(lambda dt, rng, k=kind: [_scalar_input(k, reverse, dt, rng, (3, 4))], ref,
                              params={"scalar": s}, dtypes=FLOATS, name=f"s{si}"))
            continue
        for shape in ((3, 4), (), (0, 2)) if si == 0 else ((2, 5),):
            cases.append(Case(lambda dt, rng, k=kind, sh=shape: [_scalar_input(k, reverse, dt, rng, sh)], ref,
                              params={"scalar": s}, dtypes=ALL, name=f"s{si}_{len(shape)}d"))
    # is_int=False: integer and bool arrays compute in float64; float arrays are unchanged.
    s = SCALARS[kind][0]
    cases.append(Case(lambda dt, rng, k=kind: [_scalar_input(k, reverse, dt, rng, (4, 3))], ref,
                      params={"scalar": s, "is_int": False}, dtypes=ALL, name="float_scalar"))
    cases.append(Case(lambda dt, rng, k=kind: [_scalar_input(k, reverse, dt, rng, (70001,))], ref,
                      params={"scalar": s}, dtypes=("float32", "int32"), name="large"))
    return cases


# ------------------------------------------------------------------ unary references

def _unary(fn, lo=-2.0, hi=2.0, dtypes=FLOATS, edges=None):
    def ref(x):
        with np.errstate(all="ignore"):
            return np.asarray(fn(x)).astype(x.dtype)
    cases = []
    for shape in ((), (0,), (7,), (3, 4), (2, 3, 4), (70001,)):
        cases.append(Case(lambda dt, rng, sh=shape: [rand(sh, dt, rng, lo, hi)], ref, dtypes=dtypes,
                          name="x".join(map(str, shape)) or "scalar"))
    if edges is not None:
        cases.append(Case(lambda dt, rng: [arr(edges, dt)], ref, dtypes=FLOATS, name="edges"))
    return cases


def _round_half_away(x):
    if x.dtype.kind != "f":
        return x
    xf = x.astype(np.float64)
    return np.sign(xf) * np.floor(np.abs(xf) + 0.5)


def _rint_half_down(x):
    if x.dtype.kind != "f":
        return x
    xf = x.astype(np.float64)
    f, c = np.floor(xf), np.ceil(xf)
    return np.where(xf - f <= c - xf, f, c)


def _erf(x):
    return np.vectorize(math.erf, otypes=[np.float64])(x.astype(np.float64))


HALVES = [-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 1.4, -1.6, 0.0, 3.75]

UNARY = {
    "abs": _unary(np.abs, -4, 4, NUMERIC, edges=[-0.0, np.inf, -np.inf, np.nan]),
    "negative": _unary(np.negative, -4, 4, NUMERIC),
    "reciprocal": _unary(lambda x: 1 / x, 0.5, 3.0, edges=[0.0, -0.0, np.inf, -2.0]),
    "exp": _unary(np.exp, -3, 3, edges=[-np.inf, np.inf, np.nan, 0.0]),
    "log": _unary(np.log, 0.1, 4.0, edges=[0.0, -1.0, np.inf, 1.0]),
    "log1p": _unary(np.log1p, -0.9, 3.0, edges=[-1.0, 1e-7, -2.0]),
    "expm1": _unary(np.expm1, -3, 3, edges=[1e-7, -np.inf]),
    "sqrt": _unary(np.sqrt, 0.0, 4.0, edges=[0.0, -1.0, np.inf]),
    "rsqrt": _unary(lambda x: 1 / np.sqrt(x), 0.1, 4.0, edges=[0.0, -1.0, np.inf, 4.0]),
    "square": _unary(np.square, -4, 4, NUMERIC),
    "cbrt": _unary(np.cbrt, -8, 8, edges=[-27.0, 8.0, 0.0]),
    "sin": _unary(np.sin, -3, 3),
    "cos": _unary(np.cos, -3, 3),
    "tan": _unary(np.tan, -1.2, 1.2),
    "arcsin": _unary(np.arcsin, -0.99, 0.99, edges=[1.0, -1.0, 1.5]),
    "arccos": _unary(np.arccos, -0.99, 0.99, edges=[1.0, -1.0, 1.5]),
    "arctan": _unary(np.arctan, -4, 4, edges=[np.inf, -np.inf]),
    "sinh": _unary(np.sinh, -3, 3),
    "cosh": _unary(np.cosh, -3, 3),
    "tanh": _unary(np.tanh, -3, 3, edges=[np.inf, -np.inf, 20.0]),
    "sigmoid": _unary(lambda x: 1 / (1 + np.exp(-x)), -6, 6, edges=[-np.inf, np.inf, 0.0]),
    "relu": _unary(lambda x: np.maximum(x, np.zeros((), x.dtype)), -4, 4, NUMERIC, edges=[np.nan, -np.inf, 2.0]),
    "softsign": _unary(lambda x: x / (1 + np.abs(x)), -4, 4),
    "erf": _unary(_erf, -3, 3, edges=[np.inf, -np.inf, 0.0]),
    "floor": _unary(np.floor, -4, 4, NUMERIC, edges=HALVES),
    "ceil": _unary(np.ceil, -4, 4, NUMERIC, edges=HALVES),
    "round": _unary(_round_half_away, -4, 4, NUMERIC, edges=HALVES),
    "rint": _unary(_rint_half_down, -4, 4, NUMERIC, edges=HALVES),
    "trunc": _unary(np.trunc, -4, 4, NUMERIC, edges=HALVES),
    "sign": _unary(np.sign, -4, 4, NUMERIC, edges=[-0.0, 0.0, np.nan, -np.inf, np.inf]),
    "logical_not": _unary(lambda x: x == 0, -2, 2, ALL, edges=[0.0, -0.0, np.nan, 1e-3]),
    "_copy": _unary(lambda x: x.copy(), -4, 4, ALL, edges=[np.nan, np.inf, -0.0]),
}


def _clip_ref(x, a_min, a_max):
    lo, hi = cast_scalar(a_min, x.dtype), cast_scalar(a_max, x.dtype)
    return np.where(x > hi, hi, np.where(x < lo, lo, x)).astype(x.dtype)


CLIP = [
    Case(lambda dt, rng: [rand((4, 5), dt, rng, -4, 4)], _clip_ref, params={"a_min": -1.5, "a_max": 1.0},
         dtypes=FLOATS + SIGNED, name="signed"),
    Case(lambda dt, rng: [rand((3, 7), dt, rng, -4, 6)], _clip_ref, params={"a_min": 0.5, "a_max": 3.0},
         dtypes=NUMERIC, name="positive"),
    Case(lambda dt, rng: [rand((), dt, rng, -4, 6)], _clip_ref, params={"a_min": 0.0, "a_max": 2.0},
         dtypes=NUMERIC, name="scalar"),
    Case(lambda dt, rng: [rand((0, 3), dt, rng)], _clip_ref, params={"a_min": 0.0, "a_max": 2.0},
         dtypes=NUMERIC, name="empty"),
    Case(lambda dt, rng: [rand((70001,), dt, rng, -4, 6)], _clip_ref, params={"a_min": 1.0, "a_max": 2.0},
         dtypes=("float32", "int32"), name="large"),
    Case(lambda dt, rng: [arr([np.nan, -np.inf, np.inf, 0.5], dt)], _clip_ref,
         params={"a_min": -1.0, "a_max": 1.0}, dtypes=FLOATS, name="nan_inf"),
]


# ------------------------------------------------------------------ the table

SAME_SHAPE_NAMES = {
    "elemwise_add": "add", "elemwise_sub": "sub", "elemwise_mul": "mul", "elemwise_div": "div",
    "_mod": "mod", "_power": "power", "_maximum": "maximum", "_minimum": "minimum", "_hypot": "hypot",
    "_equal": "equal", "_not_equal": "not_equal", "_greater": "greater",
    "_greater_equal": "greater_equal", "_lesser": "lesser", "_lesser_equal": "lesser_equal",
    "_logical_and": "logical_and", "_logical_or": "logical_or", "_logical_xor": "logical_xor",
}

SCALAR_NAMES = {
    "_plus_scalar": ("add", False), "_minus_scalar": ("sub", False), "_rminus_scalar": ("sub", True),
    "_mul_scalar": ("mul", False), "_div_scalar": ("div", False), "_rdiv_scalar": ("div", True),
    "_mod_scalar": ("mod", False), "_rmod_scalar": ("mod", True), "_power_scalar": ("power", False),
    "_rpower_scalar": ("power", True), "_maximum_scalar": ("maximum", False),
    "_minimum_scalar": ("minimum", False), "_hypot_scalar": ("hypot", False),
    "_equal_scalar": ("equal", False), "_not_equal_scalar": ("not_equal", False),
    "_greater_scalar": ("greater", False), "_greater_equal_scalar": ("greater_equal", False),
    "_lesser_scalar": ("lesser", False), "_lesser_equal_scalar": ("lesser_equal", False),
    "_logical_and_scalar": ("logical_and", False), "_logical_or_scalar": ("logical_or", False),
    "_logical_xor_scalar": ("logical_xor", False),
}

SPECS = {}
SPECS.update(UNARY)
SPECS["clip"] = CLIP
for _op, _kind in SAME_SHAPE_NAMES.items():
    SPECS[_op] = same_shape_cases(_kind)
for _kind in BINARY:
    SPECS["broadcast_" + _kind] = broadcast_cases(_kind)
for _op, (_kind, _rev) in SCALAR_NAMES.items():
    SPECS[_op] = scalar_cases(_kind, _rev)
