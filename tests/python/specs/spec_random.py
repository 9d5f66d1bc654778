"""Specs of the random ops: _random_uniform, _random_normal, _random_randint, _shuffle,
_sample_multinomial.

Samples cannot be compared with a reference, so each case checks statistics of a large sample
(bounds at about five standard errors, so a correct generator fails with negligible probability)
and reproducibility: the same seed gives the same numbers, in this process and in a fresh one that
runs the naive engine on one thread.
"""
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import pytest

import mx
from opspec import Case

FLOATS = ["float32", "float64", "float16", "bfloat16"]
ALL = FLOATS + ["uint8", "int8", "int32", "int64", "bool"]


def _np(out):
    out = out.asnumpy() if hasattr(out, "asnumpy") else out
    return np.asarray(out)


def _as_list(out):
    return list(out) if isinstance(out, (list, tuple)) else [out]


def _call(op, inputs, params):
    return [_np(o) for o in _as_list(mx.nd.invoke(op, inputs, params))]


def _no_inputs(dtype, rng):
    return []


def _resolution(dtype):
    """Relative spacing of the dtype's values (how far rounding can move a statistic)."""
    return {"float16": 2.0 ** -10, "bfloat16": 2.0 ** -7}.get(dtype, 0.0)


def _check_reproducible(op, inputs, params):
    """Same seed, same numbers; the next call and another seed give different ones."""
    arrays = [mx.nd.array(x) for x in inputs]
    mx.random.seed(1234)
    a = _call(op, arrays, params)
    b = _call(op, arrays, params)
    mx.random.seed(1234)
    c = _call(op, arrays, params)
    mx.random.seed(4321)
    d = _call(op, arrays, params)
    for x, y in zip(a, c):
        np.testing.assert_array_equal(x, y)
    if a[0].size >= 64:
        assert not np.array_equal(a[0], b[0]), "two calls after one seed gave the same numbers"
        assert not np.array_equal(a[0], d[0]), "two seeds gave the same numbers"


def _with_repro(check, op, inputs=lambda: [], params=None):
    def run(outputs, case_inputs, case_params):
        check([_np(o) for o in _as_list(outputs)], case_inputs, case_params)
        _check_reproducible(op, inputs(), dict(case_params if params is None else params))
    return run


# ------------------------------------------------------------------ uniform
def _uniform_check(outputs, inputs, params):
    x = outputs[0].astype(np.float64)
    low, high = params.get("low", 0.0), params.get("high", 1.0)
    dt = params.get("dtype", "float32")
    assert x.shape == tuple(params["shape"])
    assert x.min() >= low and x.max() < high, (x.min(), x.max())
    n, width = x.size, high - low
    slack = _resolution(dt) * max(abs(low), abs(high))
    assert abs(x.mean() - (low + high) / 2) < 5 * width / np.sqrt(12 * n) + slack
    assert abs(x.std() - width / np.sqrt(12)) < 0.01 * width + slack
    if dt in ("float32", "float64"):
        counts = np.histogram(x, bins=20, range=(low, high))[0]
        expect = n / 20
        assert np.all(np.abs(counts - expect) < 5 * np.sqrt(expect)), counts


_uniform = []
for _d in FLOATS:
    _p = {"low": -1.0, "high": 3.0, "shape": (400, 500), "dtype": _d}
    _uniform.append(Case(inputs=_no_inputs, params=_p, dtypes=[_d], name=_d,
                         check=_with_repro(_uniform_check, "_random_uniform")))
_uniform.append(Case(inputs=_no_inputs, params={"shape": (100000,), "dtype": "float32"}, dtypes=["float32"],
                     name="defaults", check=_uniform_check))
_uniform.append(Case(inputs=_no_inputs, params={"low": 5.0, "high": 5.0, "shape": (10,), "dtype": "float32"},
                     dtypes=["float32"], name="low==high",
                     check=lambda o, i, p: np.testing.assert_array_equal(_np(_as_list(o)[0]), np.full(10, 5.0, np.float32))))


def _uniform_errors(outputs, inputs, params):
    with pytest.raises(mx.MXNetError, match="low"):
        _call("_random_uniform", [], {"low": 2.0, "high": 1.0, "shape": (3,)})
    with pytest.raises(mx.MXNetError, match="dtype"):
        _call("_random_uniform", [], {"shape": (3,), "dtype": "int32"})
    with pytest.raises(mx.MXNetError, match="shape"):
        _call("_random_uniform", [], {"shape": (3, -2)})
    # Aliases reach the same op and the default dtype is float32.
    for alias in ("uniform", "random_uniform"):
        out = _call(alias, [], {"shape": (4,)})[0]
        assert out.dtype == np.float32 and out.shape == (4,)


_uniform.append(Case(inputs=_no_inputs, params={"shape": (2,), "dtype": "float32"}, dtypes=["float32"],
                     name="errors-aliases", check=_uniform_errors))


def _engine_independent(outputs, inputs, params):
    """A fresh process with the naive engine and one thread draws the same numbers."""
    ops = [("_random_uniform", {"shape": (70000,), "low": -2.0, "high": 2.0}),
           ("_random_normal", {"shape": (70001,), "dtype": "float64"}),
           ("_random_randint", {"low": -9, "high": 1000, "shape": (66000,), "dtype": "int64"})]
    mx.random.seed(77)
    here = [_call(op, [], p)[0] for op, p in ops]
    here.append(_call("_sample_multinomial", [mx.nd.array(np.full((4, 6), 1 / 6, np.float32))],
                      {"shape": (20000,)})[0])
    script = (
        "import json, sys, numpy as np, mx\n"
        "ops = json.loads(sys.argv[1])\n"
        "mx.random.seed(77)\n"
        "res = []\n"
        "for op, p in ops:\n"
        "    p = {k: tuple(v) if isinstance(v, list) else v for k, v in p.items()}\n"
        "    res.append(mx.nd.invoke(op, [], p).asnumpy())\n"
        "res.append(mx.nd.invoke('_sample_multinomial', [mx.nd.array(np.full((4, 6), 1 / 6, np.float32))],"
        " {'shape': (20000,)}).asnumpy())\n"
        "np.savez(sys.argv[2], *res)\n")
    env = dict(os.environ, MX_ENGINE_TYPE="NaiveEngine", MX_NUM_THREADS="1", OMP_NUM_THREADS="1",
               PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "out.npz")
        r = subprocess.run([sys.executable, "-c", script, json.dumps(ops), path], env=env, capture_output=True,
                           text=True, timeout=300)
        assert r.returncode == 0, r.stderr
        there = np.load(path)
        for i, x in enumerate(here):
            np.testing.assert_array_equal(x, there[f"arr_{i}"])


_uniform.append(Case(inputs=_no_inputs, params={"shape": (2,), "dtype": "float32"}, dtypes=["float32"],
                     name="engine-independent", check=_engine_independent))


# ------------------------------------------------------------------ normal
def _normal_check(outputs, inputs, params):
    x = outputs[0].astype(np.float64)
    loc, scale = params.get("loc", 0.0), params.get("scale", 1.0)
    dt = params.get("dtype", "float32")
    assert x.shape == tuple(params["shape"])
    assert np.all(np.isfinite(x))
    n = x.size
    slack = _resolution(dt) * (abs(loc) + 3 * scale)
    assert abs(x.mean() - loc) < 5 * scale / np.sqrt(n) + slack
    assert abs(x.std() / scale - 1) < 0.02 + slack / scale
    z = (x - loc) / scale
    for k, p in ((1, 0.682689492), (2, 0.954499736)):
        frac = np.mean(np.abs(z) < k)
        assert abs(frac - p) < 5 * np.sqrt(p * (1 - p) / n) + (0.01 if slack else 0), (k, frac)
    # Skewness ~ 0 (catches a sign-biased Box-Muller branch).
    assert abs(np.mean(z ** 3)) < 0.05


_normal = []
for _d in FLOATS:
    _p = {"loc": 1.5, "scale": 2.0, "shape": (200000,), "dtype": _d}
    _normal.append(Case(inputs=_no_inputs, params=_p, dtypes=[_d], name=_d,
                        check=_with_repro(_normal_check, "_random_normal")))
_normal.append(Case(inputs=_no_inputs, params={"shape": (300, 301), "dtype": "float32"}, dtypes=["float32"],
                    name="defaults-odd-size", check=_normal_check))
_normal.append(Case(inputs=_no_inputs, params={"loc": -3.0, "scale": 0.0, "shape": (5,), "dtype": "float64"},
                    dtypes=["float64"], name="scale0",
                    check=lambda o, i, p: np.testing.assert_array_equal(_np(_as_list(o)[0]), np.full(5, -3.0))))


def _normal_errors(outputs, inputs, params):
    with pytest.raises(mx.MXNetError, match="scale"):
        _call("_random_normal", [], {"scale": -1.0, "shape": (3,)})
    for alias in ("normal", "random_normal"):
        assert _call(alias, [], {"shape": (2, 2)})[0].shape == (2, 2)


_normal.append(Case(inputs=_no_inputs, params={"shape": (2,), "dtype": "float32"}, dtypes=["float32"],
                    name="errors-aliases", check=_normal_errors))


# ------------------------------------------------------------------ randint
def _randint_check(outputs, inputs, params):
    x = outputs[0]
    low, high = params["low"], params["high"]
    assert x.dtype == np.dtype(params.get("dtype", "int32"))
    assert x.shape == tuple(params["shape"])
    assert x.min() >= low and x.max() < high
    k = high - low
    if k <= 1000:
        counts = np.bincount((x.astype(np.int64) - low).ravel(), minlength=k)
        expect = x.size / k
        assert np.all(np.abs(counts - expect) < 5 * np.sqrt(expect * (1 - 1 / k)) + 1), counts
    else:
        u = (x.astype(np.float64) - low) / k
        assert abs(u.mean() - 0.5) < 5 / np.sqrt(12 * x.size)


_randint = []
for _d in ("int32", "int64"):
    _p = {"low": -5, "high": 7, "shape": (300, 400), "dtype": _d}
    _randint.append(Case(inputs=_no_inputs, params=_p, dtypes=[_d], name=_d,
                         check=_with_repro(_randint_check, "_random_randint")))
_randint.append(Case(inputs=_no_inputs, params={"low": -2 ** 40, "high": 2 ** 41, "shape": (100000,),
                                                "dtype": "int64"}, dtypes=["int64"], name="wide-int64",
                     check=_randint_check))
_randint.append(Case(inputs=_no_inputs, params={"low": -2 ** 31, "high": 2 ** 31 - 1, "shape": (100000,),
                                                "dtype": "int32"}, dtypes=["int32"], name="full-int32",
                     check=_randint_check))
_randint.append(Case(inputs=_no_inputs, params={"low": 3, "high": 4, "shape": (7,), "dtype": "int32"},
                     dtypes=["int32"], name="single-value",
                     check=lambda o, i, p: np.testing.assert_array_equal(_np(_as_list(o)[0]), np.full(7, 3))))


def _randint_errors(outputs, inputs, params):
    assert _call("_random_randint", [], {"low": 0, "high": 5, "shape": (3,)})[0].dtype == np.int32
    with pytest.raises(mx.MXNetError, match="high"):
        _call("_random_randint", [], {"low": 5, "high": 5, "shape": (3,)})
    with pytest.raises(mx.MXNetError, match="int32"):
        _call("_random_randint", [], {"low": 0, "high": 2 ** 40, "shape": (3,), "dtype": "int32"})
    with pytest.raises(mx.MXNetError, match="dtype"):
        _call("_random_randint", [], {"low": 0, "high": 5, "shape": (3,), "dtype": "float32"})
    for alias in ("randint", "random_randint"):
        assert _call(alias, [], {"low": 0, "high": 2, "shape": (3,)})[0].shape == (3,)


_randint.append(Case(inputs=_no_inputs, params={"low": 0, "high": 3, "shape": (2,), "dtype": "int32"},
                     dtypes=["int32"], name="errors-aliases", check=_randint_errors))


# ------------------------------------------------------------------ shuffle
def _rows(x):
    """The rows of x (along axis 0) as a sorted list of byte strings: a multiset."""
    x = np.ascontiguousarray(x)
    return sorted(x[i].tobytes() for i in range(x.shape[0]))


def _shuffle_check(outputs, inputs, params):
    x, y = np.asarray(inputs[0]), outputs[0]
    assert y.shape == x.shape
    if x.ndim == 0:
        np.testing.assert_array_equal(y.astype(np.float64), x.astype(np.float64))
        return
    yx = y.astype(x.dtype) if y.dtype != x.dtype else y
    assert _rows(yx) == _rows(x), "shuffle is not a permutation of the rows"


def _shuffle_inputs(shape):
    def make(dtype, rng):
        n = int(np.prod(shape))
        if dtype == "bool":
            return [rng.integers(0, 2, size=shape).astype(bool)]
        # Values the dtype holds exactly (so rows can be compared after the round trip).
        modulus = {"int8": 100, "uint8": 100, "bfloat16": 100, "float16": 2000}.get(dtype, max(n, 1))
        vals = np.arange(n) % modulus
        vals = rng.permutation(vals).reshape(shape)
        return [vals.astype("float32" if dtype == "bfloat16" else dtype)]
    return make


def _shuffle_moves(outputs, inputs, params):
    """On distinct rows: every row is found in the output, and the order really changes."""
    x, y = np.asarray(inputs[0]), outputs[0]
    _shuffle_check(outputs, inputs, params)
    assert not np.array_equal(x, y)
    # Each position holds a row of x; where row 0 goes is spread over positions.
    first = []
    for s in range(200):
        mx.random.seed(s)
        out = _call("_shuffle", [mx.nd.array(np.arange(10, dtype=np.float32))], {})[0]
        first.append(int(np.nonzero(out == 0)[0][0]))
    counts = np.bincount(first, minlength=10)
    assert np.all(counts > 0) and counts.max() < 50, counts


_shuffle = [Case(inputs=_shuffle_inputs(s), name=str(s), check=_shuffle_check)
            for s in [(50, 3), (7,), (1, 4), (0, 3), (), (4, 3, 2), (5000, 17)]]
_shuffle.append(Case(inputs=lambda dt, rng: [np.arange(3000, dtype=np.float32).reshape(1000, 3)], dtypes=["float32"],
                     name="moves", check=_shuffle_moves))
_shuffle.append(Case(inputs=lambda dt, rng: [np.arange(600, dtype=np.float32).reshape(200, 3)], dtypes=["float32"],
                     name="reproducible",
                     check=_with_repro(_shuffle_check, "_shuffle",
                                       inputs=lambda: [np.arange(600, dtype=np.float32).reshape(200, 3)], params={})))


# ------------------------------------------------------------------ sample_multinomial
def _probs(shape):
    def make(dtype, rng):
        p = rng.uniform(0.05, 1.0, size=shape)
        p[..., 1] = 0.0  # a category that must never be drawn
        p /= p.sum(axis=-1, keepdims=True)
        return [p.astype("float32" if dtype == "bfloat16" else dtype)]
    return make


def _multinomial_check(outputs, inputs, params):
    p = np.asarray(inputs[0]).astype(np.float64)
    s = tuple(params.get("shape", ()))
    k = p.shape[-1]
    out = outputs[0]
    batch = p.shape[:-1]
    expect_shape = (s if s else (1,)) if p.ndim == 1 else batch + s
    assert out.shape == expect_shape, (out.shape, expect_shape)
    assert out.dtype == np.dtype(params.get("dtype", "int32"))
    idx = out.astype(np.int64)
    assert idx.min() >= 0 and idx.max() < k
    flat_p = p.reshape(-1, k)
    flat_i = idx.reshape(flat_p.shape[0], -1)
    m = flat_i.shape[1]
    for row in range(flat_p.shape[0]):
        pr = flat_p[row]
        assert not np.any(flat_i[row][pr[flat_i[row]] == 0]), "drew a category of probability 0"
        if m >= 1000:
            freq = np.bincount(flat_i[row], minlength=k) / m
            # Rows that do not sum to 1 after rounding to a short dtype move mass to the last category.
            slack = abs(1 - pr.sum()) + 0.005
            assert np.all(np.abs(freq - pr) < 5 * np.sqrt(pr * (1 - pr) / m) + slack + 1e-12), (freq, pr)
    if params.get("get_prob"):
        lp = outputs[1].astype(np.float64)
        assert lp.shape == out.shape
        ref = np.log(np.take_along_axis(flat_p, flat_i, axis=1)).reshape(out.shape)
        np.testing.assert_allclose(lp, ref, rtol=1e-2, atol=1e-2)


_multinomial = [
    Case(inputs=_probs((3, 5)), params={"shape": (4000,)}, name="batch", check=_multinomial_check),
    Case(inputs=_probs((6,)), params={"shape": (50, 80)}, name="1-d", check=_multinomial_check),
    Case(inputs=_probs((6,)), params={}, name="1-d-one-sample", check=_multinomial_check),
    Case(inputs=_probs((2, 3, 4)), params={}, name="no-shape", check=_multinomial_check),
    Case(inputs=_probs((2, 4)), params={"shape": (3000,), "get_prob": True}, name="get_prob",
         check=_multinomial_check),
]
for _od in ("uint8", "int64", "float16", "float32", "float64"):
    _multinomial.append(Case(inputs=_probs((2, 4)), params={"shape": (2000,), "dtype": _od}, dtypes=["float32"],
                             name="out-" + _od, check=_multinomial_check))


def _multinomial_repro(outputs, inputs, params):
    _multinomial_check(outputs, inputs, params)
    _check_reproducible("_sample_multinomial", [np.asarray(inputs[0])], params)


def _multinomial_errors(outputs, inputs, params):
    p = mx.nd.array(np.full((2, 3), 1 / 3, np.float32))
    with pytest.raises(mx.MXNetError, match="dtype"):
        _call("_sample_multinomial", [p], {"dtype": "bool"})
    with pytest.raises(mx.MXNetError, match="categories"):
        _call("_sample_multinomial", [mx.nd.array(np.zeros((2, 0), np.float32))], {})
    with pytest.raises(mx.MXNetError, match="uint8"):
        _call("_sample_multinomial", [mx.nd.array(np.full((300,), 1 / 300, np.float32))], {"dtype": "uint8"})
    assert _call("sample_multinomial", [p], {"shape": (5,)})[0].shape == (2, 5)


_multinomial.append(Case(inputs=_probs((2, 5)), params={"shape": (100,)}, dtypes=["float32"], name="reproducible",
                         check=_multinomial_repro))
_multinomial.append(Case(inputs=_probs((2, 5)), params={"shape": (10,)}, dtypes=["float32"], name="errors",
                         check=_multinomial_errors))

SPECS = {
    "_random_uniform": _uniform,
    "_random_normal": _normal,
    "_random_randint": _randint,
    "_shuffle": _shuffle,
    "_sample_multinomial": _multinomial,
}
