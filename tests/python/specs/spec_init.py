"""Specs of the creation ops: _zeros, _ones, _full, _arange, _linspace, _eye, zeros_like, ones_like.

Ops without inputs take their dtype from the `dtype` parameter, so every case names one dtype and
passes it as that parameter; references are numpy's own constructors.
"""
import numpy as np
import pytest

import mx
from opspec import Case, rand

ALL = ["float32", "float64", "float16", "bfloat16", "uint8", "int8", "int32", "int64", "bool"]
NUMERIC = [d for d in ALL if d != "bool"]
FLOATS = ["float32", "float64", "float16", "bfloat16"]


def _np(dtype):
    """numpy dtype used for the reference (bfloat16 is compared in float32)."""
    return np.float32 if dtype == "bfloat16" else np.dtype(dtype)


def _no_inputs(dtype, rng):
    return []


def _as_list(out):
    return list(out) if isinstance(out, (list, tuple)) else [out]


def _raises(op, params, fragment):
    """A check that the op rejects params with an error naming `fragment`."""
    def check(outputs, inputs, case_params):
        with pytest.raises(mx.MXNetError, match=fragment):
            _as_list(mx.nd.invoke(op, [], params))[0].asnumpy()
    return check


def _creation_cases(ref, param_sets, dtypes):
    cases = []
    for d in dtypes:
        for p in param_sets:
            params = dict(p, dtype=d)
            cases.append(Case(inputs=_no_inputs, ref=ref, params=params, dtypes=[d],
                              name=f"{d}-" + ",".join(f"{k}={v}" for k, v in p.items())))
    return cases


# ------------------------------------------------------------------ zeros / ones / full
SHAPES = [{"shape": (2, 3)}, {"shape": (4,)}, {"shape": ()}, {"shape": (0, 3)}, {"shape": (2, 1, 3, 2)},
          {"shape": (3, 2), "ctx": "cpu(0)"}, {"shape": (200, 300)}]


def _zeros_ref(shape, dtype, **kw):
    return np.zeros(shape, _np(dtype))


def _ones_ref(shape, dtype, **kw):
    return np.ones(shape, _np(dtype))


def _full_ref(shape, dtype, value, **kw):
    return np.full(shape, value, np.float64).astype(_np(dtype))


_zeros = _creation_cases(_zeros_ref, SHAPES, ALL)
_zeros.append(Case(inputs=_no_inputs, params={"shape": (2,)}, dtypes=["float32"], name="negative-dim",
                   check=_raises("_zeros", {"shape": (2, -1)}, "shape")))
_zeros.append(Case(inputs=_no_inputs, params={"shape": (2,)}, dtypes=["float32"], name="bad-dtype",
                   check=_raises("_zeros", {"shape": (2,), "dtype": "complex64"}, "dtype")))

_full = []
for _d in ALL:
    _v = 2.5 if _d in FLOATS else (1 if _d == "bool" else 7)
    _full += _creation_cases(_full_ref, [{"shape": (3, 4), "value": _v}, {"shape": (5,), "value": 0},
                                         {"shape": (), "value": _v}], [_d])
_full += _creation_cases(_full_ref, [{"shape": (2, 2), "value": -3.25}, {"shape": (3,), "value": 1e30}],
                         ["float32", "float64"])
_full += _creation_cases(_full_ref, [{"shape": (2, 2), "value": -5}], ["int8", "int32", "int64"])


# ------------------------------------------------------------------ arange
def _arange_ref(start, dtype, stop=None, step=1.0, repeat=1, **kw):
    if stop is None:
        start, stop = 0.0, start
    return np.repeat(np.arange(start, stop, step, dtype=np.float64), repeat).astype(_np(dtype))


_ARANGE_INT = [{"start": 0, "stop": 10}, {"start": 5}, {"start": 2, "stop": 11, "step": 3},
               {"start": 10, "stop": 0, "step": -2}, {"start": 0, "stop": 4, "repeat": 3},
               {"start": 3, "stop": 3}, {"start": 5, "stop": 1}]
_ARANGE_FLOAT = [{"start": 0.5, "stop": 3.1, "step": 0.25}, {"start": -1, "stop": 1, "step": 0.1},
                 {"start": 1.5, "stop": -2, "step": -0.5, "repeat": 2}, {"start": 0, "stop": 1e5}]
_arange = _creation_cases(_arange_ref, _ARANGE_INT, ["float32", "float64", "int32", "int64"])
_arange += _creation_cases(_arange_ref, [{"start": 0, "stop": 20, "step": 2}], ["float16", "bfloat16", "uint8", "int8"])
_arange += _creation_cases(_arange_ref, _ARANGE_FLOAT, ["float32", "float64"])
_arange.append(Case(inputs=_no_inputs, params={"start": 0, "stop": 3}, dtypes=["float32"], name="step0",
                    check=_raises("_arange", {"start": 0, "stop": 3, "step": 0}, "step")))
_arange.append(Case(inputs=_no_inputs, params={"start": 0, "stop": 3}, dtypes=["float32"], name="repeat0",
                    check=_raises("_arange", {"start": 0, "stop": 3, "repeat": 0}, "repeat")))
_arange.append(Case(inputs=_no_inputs, params={"start": 0, "stop": 3}, dtypes=["float32"], name="infer-range",
                    check=_raises("_arange", {"start": 0, "infer_range": True}, "infer_range")))
_arange.append(Case(inputs=_no_inputs, params={"start": 0, "stop": 3}, dtypes=["float32"], name="bool",
                    check=_raises("_arange", {"start": 0, "stop": 3, "dtype": "bool"}, "bool")))


# ------------------------------------------------------------------ linspace
def _linspace_ref(start, stop, num, dtype, endpoint=True, **kw):
    return np.linspace(start, stop, num, endpoint=endpoint, dtype=np.float64).astype(_np(dtype))


_linspace = _creation_cases(_linspace_ref, [{"start": 0, "stop": 10, "num": 11}, {"start": 0, "stop": 10, "num": 5,
                                            "endpoint": False}, {"start": 3, "stop": 7, "num": 1},
                                            {"start": 3, "stop": 7, "num": 0}], NUMERIC)
_linspace += _creation_cases(_linspace_ref, [{"start": 4, "stop": -4, "num": 9}],
                             [d for d in NUMERIC if d != "uint8"])
_linspace += _creation_cases(_linspace_ref, [{"start": -1.5, "stop": 2.25, "num": 50},
                                             {"start": 0, "stop": 1, "num": 7, "endpoint": False},
                                             {"start": 0, "stop": 1, "num": 100000}], ["float32", "float64"])
_linspace.append(Case(inputs=_no_inputs, params={"start": 0, "stop": 1, "num": 2}, dtypes=["float32"],
                      name="negative-num", check=_raises("_linspace", {"start": 0, "stop": 1, "num": -1}, "num")))


# ------------------------------------------------------------------ eye
def _eye_ref(N, dtype, M=0, k=0, **kw):
    return np.eye(N, M if M else None, k, dtype=np.float64).astype(_np(dtype))


_eye = _creation_cases(_eye_ref, [{"N": 4}, {"N": 3, "M": 5, "k": 1}, {"N": 5, "M": 3, "k": -2}, {"N": 3, "k": 4},
                                  {"N": 4, "k": -1}, {"N": 0}, {"N": 2, "M": 0}, {"N": 300, "M": 200, "k": 7}], ALL)
_eye.append(Case(inputs=_no_inputs, params={"N": 2}, dtypes=["float32"], name="negative-N",
                 check=_raises("_eye", {"N": -2}, "N")))


# ------------------------------------------------------------------ zeros_like / ones_like
def _like_inputs(shape):
    return lambda dtype, rng: [rand(shape, dtype, rng)]


_like_shapes = [(3, 4), (5,), (), (0, 2), (64, 64, 8)]
_zeros_like = [Case(inputs=_like_inputs(s), ref=lambda x, **kw: np.zeros_like(x), name=str(s)) for s in _like_shapes]
_ones_like = [Case(inputs=_like_inputs(s), ref=lambda x, **kw: np.ones_like(x), name=str(s)) for s in _like_shapes]

SPECS = {
    "_zeros": _zeros,
    "_ones": _creation_cases(_ones_ref, SHAPES, ALL),
    "_full": _full,
    "_arange": _arange,
    "_linspace": _linspace,
    "_eye": _eye,
    "zeros_like": _zeros_like,
    "ones_like": _ones_like,
}
