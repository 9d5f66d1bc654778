"""Specs for the dense NN ops: FullyConnected, Activation, LeakyReLU, softmax, log_softmax, softmin,
SoftmaxOutput, softmax_cross_entropy, smooth_l1.

References are written out in numpy in float64 and cast to the input dtype (the harness compares
float16/bfloat16 in float32). The harness runs in prediction mode: LeakyReLU(rrelu) uses the mean
slope there; its training-mode behaviour is tested in test_nn_dense.py.
"""
import math

import numpy as np

from opspec import Case, rand

FLOATS = ("float32", "float64", "float16", "bfloat16")


def _np(dt):
    return "float32" if dt == "bfloat16" else dt


def _out(res, like):
    return np.asarray(res).astype(like.dtype)


# ------------------------------------------------------------------ FullyConnected
def ref_fc(x, w, b=None, num_hidden=None, no_bias=False, flatten=True):
    x64, w64 = x.astype(np.float64), w.astype(np.float64)
    if flatten:
        x2 = x64.reshape(x.shape[0], -1)
        out_shape = (x.shape[0], num_hidden)
    else:
        x2 = x64.reshape(-1, x.shape[-1])
        out_shape = x.shape[:-1] + (num_hidden,)
    y = x2 @ w64.T
    if b is not None:
        y = y + b.astype(np.float64)
    return _out(y.reshape(out_shape), x)


def _fc_inputs(dshape, nh, k, bias=True):
    def make(dt, rng):
        d = _np(dt)
        xs = [rand(dshape, d, rng, -1, 1), rand((nh, k), d, rng, -1, 1)]
        if bias:
            xs.append(rand((nh,), d, rng, -1, 1))
        return xs
    return make


def _fc_cases():
    cases = []
    for name, dshape, nh, k, params in [
        ("2d", (4, 7), 5, 7, {}),
        ("flatten4d", (3, 2, 3, 4), 6, 24, {}),
        ("noflatten3d", (2, 3, 8), 4, 8, {"flatten": False}),
        ("no_bias", (5, 6), 3, 6, {"no_bias": True}),
        ("no_bias_noflatten", (2, 2, 2, 5), 7, 5, {"no_bias": True, "flatten": False}),
        ("vector", (6,), 2, 1, {}),
        ("large", (33, 130), 65, 130, {}),
    ]:
        p = dict(params, num_hidden=nh)
        bias = not p.get("no_bias", False)
        for dts, rtol, atol in [(("float32", "float64", "bfloat16"), None, None), (("float16",), 5e-3, 5e-3)]:
            cases.append(Case(inputs=_fc_inputs(dshape, nh, k, bias), ref=ref_fc, params=p, dtypes=dts,
                              rtol=rtol, atol=atol, name=f"{name}"))
    return cases


# ------------------------------------------------------------------ Activation
def _softplus(x):
    return np.logaddexp(0.0, x)


ACT = {
    "relu": lambda x: np.maximum(x, 0.0),
    "sigmoid": lambda x: 1.0 / (1.0 + np.exp(-x)),
    "tanh": np.tanh,
    "softrelu": _softplus,
    "softsign": lambda x: x / (1.0 + np.abs(x)),
    "log_sigmoid": lambda x: -_softplus(-x),
    "mish": lambda x: x * np.tanh(_softplus(x)),
}


def ref_activation(x, act_type):
    return _out(ACT[act_type](x.astype(np.float64)), x)


def _act_cases():
    cases = []
    for act in sorted(ACT):
        cases.append(Case(inputs=lambda dt, rng: [rand((3, 4, 5), _np(dt), rng, -4, 4)], ref=ref_activation,
                          params={"act_type": act}, name=act))
        # Large magnitudes: the stable forms must not overflow (float32/float64 only, halves overflow).
        cases.append(Case(inputs=lambda dt, rng: [np.array([-80.0, -30.0, -1e-3, 0.0, 2e-3, 30.0, 80.0],
                                                           dtype=_np(dt))],
                          ref=ref_activation, params={"act_type": act}, dtypes=("float32", "float64"),
                          name=act + "_extreme"))
    return cases


# ------------------------------------------------------------------ LeakyReLU
SELU_ALPHA = 1.6732632423543772848170429916717
SELU_LAMBDA = 1.0507009873554804934193349852946


def _erf(x):
    return np.vectorize(math.erf)(x)


def ref_leaky(x, gamma=None, act_type="leaky", slope=0.25, lower_bound=0.125, upper_bound=0.334):
    v = x.astype(np.float64)
    if act_type == "leaky":
        y = np.where(v > 0, v, slope * v)
    elif act_type == "elu":
        y = np.where(v > 0, v, slope * np.expm1(v))
    elif act_type == "selu":
        y = SELU_LAMBDA * np.where(v > 0, v, SELU_ALPHA * np.expm1(v))
    elif act_type == "gelu":
        y = 0.5 * v * (1.0 + _erf(v / np.sqrt(2.0)))
    elif act_type == "rrelu":  # prediction mode: the mean slope
        y = np.where(v > 0, v, (lower_bound + upper_bound) / 2 * v)
    elif act_type == "prelu":
        g = gamma.astype(np.float64)
        if g.size == 1:
            gs = g.reshape(())
        elif v.ndim >= 2 and v.shape[1] == g.size:
            gs = g.reshape((1, -1) + (1,) * (v.ndim - 2))
        else:
            gs = g.reshape((-1,) + (1,) * (v.ndim - 1))
        y = np.where(v > 0, v, gs * v)
    return _out(y, x)


def _leaky_cases():
    cases = []
    for act, params in [("leaky", {}), ("leaky", {"slope": 0.1}), ("elu", {}), ("elu", {"slope": 1.5}),
                        ("selu", {}), ("gelu", {}), ("rrelu", {}), ("rrelu", {"lower_bound": 0.2, "upper_bound": 0.6})]:
        p = dict(params, act_type=act)
        cases.append(Case(inputs=lambda dt, rng: [rand((2, 3, 4), _np(dt), rng, -3, 3)], ref=ref_leaky, params=p,
                          name=act + ("_" + "_".join(f"{k}{v}" for k, v in params.items()) if params else "")))
    cases.append(Case(inputs=lambda dt, rng: [rand((4,), _np(dt), rng, -3, 3)], ref=ref_leaky,
                      params={"act_type": "leaky"}, name="leaky_1d"))
    for name, dshape, gshape in [("prelu_channel", (2, 3, 4, 5), (3,)), ("prelu_2d", (4, 6), (6,)),
                                 ("prelu_scalar", (2, 3, 4), (1,)), ("prelu_1d", (5,), (5,)),
                                 ("prelu_axis0", (3, 4), (3,))]:
        cases.append(Case(inputs=lambda dt, rng, dshape=dshape, gshape=gshape: [
            rand(dshape, _np(dt), rng, -3, 3), rand(gshape, _np(dt), rng, 0, 1)],
            ref=ref_leaky, params={"act_type": "prelu"}, name=name))
    return cases


# ------------------------------------------------------------------ softmax family
def _softmax_ref(x, length=None, axis=-1, temperature=None, dtype=None, use_length=False, log=False, negate=False):
    v = x.astype(np.float64)
    t = 1.0 if temperature is None else temperature
    v = (-v if negate else v) / t
    ax = axis % x.ndim
    if use_length:
        idx = np.arange(x.shape[ax]).reshape((-1,) + (1,) * (x.ndim - 1 - ax))
        mask = idx < np.expand_dims(length.reshape([s for i, s in enumerate(x.shape) if i != ax] or [1])
                                    if x.ndim > 1 else length.reshape(()), ax)
    else:
        mask = np.ones(x.shape, dtype=bool)
    vm = np.where(mask, v, -np.inf)
    m = np.max(vm, axis=ax, keepdims=True)
    m = np.where(np.isfinite(m), m, 0.0)
    e = np.where(mask, np.exp(vm - m), 0.0)
    s = np.sum(e, axis=ax, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        y = (vm - m - np.log(s)) if log else e / s
    y = np.where(mask, y, 0.0)
    out_dt = x.dtype if dtype is None else np.dtype(dtype)
    return y.astype(out_dt)


def ref_softmax(x, length=None, **p):
    return _softmax_ref(x, length, **p)


def ref_log_softmax(x, length=None, **p):
    return _softmax_ref(x, length, log=True, **p)


def ref_softmin(x, length=None, **p):
    return _softmax_ref(x, length, negate=True, **p)


def _softmax_cases(ref):
    cases = []
    for name, shape, params, lo, hi in [
        ("last", (3, 7), {}, -3, 3),
        ("axis0", (5, 4), {"axis": 0}, -3, 3),
        ("axis1_4d", (2, 3, 4, 5), {"axis": 1}, -3, 3),
        ("axis_neg2", (2, 6, 70), {"axis": -2}, -3, 3),
        ("temperature", (4, 6), {"temperature": 2.5}, -3, 3),
        ("large_values", (3, 5), {}, 500, 900),
        ("vector", (9,), {}, -3, 3),
        ("wide_row", (2, 300), {}, -5, 5),
    ]:
        cases.append(Case(inputs=lambda dt, rng, shape=shape, lo=lo, hi=hi: [rand(shape, _np(dt), rng, lo, hi)],
                          ref=ref, params=params, dtypes=FLOATS if lo < 100 else ("float32", "float64"), name=name))
    for odt in ("float32", "float64"):
        cases.append(Case(inputs=lambda dt, rng: [rand((3, 5), _np(dt), rng, -3, 3)], ref=ref,
                          params={"dtype": odt}, dtypes=("float16", "float32"), name="dtype_" + odt))
    # use_length: length has data's shape without the axis.
    for name, shape, axis, lshape, ldt in [("len_last", (3, 6), -1, (3,), "int32"),
                                           ("len_axis1", (2, 5, 3), 1, (2, 3), "int64"),
                                           ("len_1d", (6,), -1, (1,), "int32")]:
        def make(dt, rng, shape=shape, axis=axis, lshape=lshape, ldt=ldt):
            x = rand(shape, _np(dt), rng, -3, 3)
            n = shape[axis]
            length = rng.integers(0, n + 1, size=lshape).astype(ldt)
            length.reshape(-1)[0] = n  # one full row, one empty row when there are several
            if length.size > 1:
                length.reshape(-1)[1] = 0
            return [x, length]
        cases.append(Case(inputs=make, ref=ref, params={"axis": axis, "use_length": True}, name=name))
    return cases


# ------------------------------------------------------------------ SoftmaxOutput
def ref_softmax_output(x, label, multi_output=False, preserve_shape=False, **_):
    v = x.astype(np.float64)
    if multi_output:
        y = _softmax_ref(v, axis=1)
    elif preserve_shape:
        y = _softmax_ref(v, axis=-1)
    else:
        y = _softmax_ref(v.reshape(x.shape[0], -1), axis=-1).reshape(x.shape)
    return y.astype(x.dtype)


def _so_inputs(dshape, lshape, ncls):
    def make(dt, rng):
        return [rand(dshape, _np(dt), rng, -3, 3), rng.integers(0, ncls, size=lshape).astype(_np(dt))]
    return make


def _so_cases():
    return [
        Case(inputs=_so_inputs((4, 5), (4,), 5), ref=ref_softmax_output, name="2d"),
        Case(inputs=_so_inputs((2, 3, 4), (2, 3), 4), ref=ref_softmax_output, name="flatten3d"),
        Case(inputs=_so_inputs((2, 3, 4), (2, 3), 4), ref=ref_softmax_output, params={"preserve_shape": True},
             name="preserve_shape"),
        Case(inputs=_so_inputs((2, 4, 3, 2), (2, 3, 2), 4), ref=ref_softmax_output,
             params={"multi_output": True}, name="multi_output"),
        Case(inputs=_so_inputs((2, 4, 3, 2), (2, 6), 4), ref=ref_softmax_output,
             params={"multi_output": True}, name="multi_output_flat_label"),
        Case(inputs=_so_inputs((3, 6), (3,), 6), ref=ref_softmax_output,
             params={"grad_scale": 2.0, "ignore_label": 1, "use_ignore": True, "normalization": "valid",
                     "out_grad": True, "smooth_alpha": 0.1}, name="backward_params"),
    ]


# ------------------------------------------------------------------ softmax_cross_entropy
def ref_sce(x, label):
    v = x.astype(np.float64)
    m = v.max(axis=1, keepdims=True)
    lse = (m + np.log(np.exp(v - m).sum(axis=1, keepdims=True)))[:, 0]
    lab = label.astype(np.int64)
    return np.array([np.sum(lse - v[np.arange(v.shape[0]), lab])]).astype(x.dtype)


def _sce_cases():
    cases = []
    for name, n, k, lo, hi in [("small", 4, 5, -3, 3), ("one_row", 1, 7, -3, 3), ("wide", 6, 40, -2, 2),
                               ("large_values", 3, 4, 300, 400)]:
        cases.append(Case(inputs=lambda dt, rng, n=n, k=k, lo=lo, hi=hi: [
            rand((n, k), _np(dt), rng, lo, hi), rng.integers(0, k, size=(n,)).astype(_np(dt))],
            ref=ref_sce, dtypes=FLOATS if hi < 100 else ("float32", "float64"), name=name))
    return cases


# ------------------------------------------------------------------ smooth_l1
def ref_smooth_l1(x, scalar=1.0, is_int=True):
    v = x.astype(np.float64)
    s2 = scalar * scalar
    y = np.where(v > 1.0 / s2, v - 0.5 / s2, np.where(v < -1.0 / s2, -v - 0.5 / s2, 0.5 * v * v * s2))
    return _out(y, x)


def _smooth_l1_cases():
    return [Case(inputs=lambda dt, rng: [rand((3, 4, 5), _np(dt), rng, -3, 3)], ref=ref_smooth_l1,
                 params=p, name=name)
            for name, p in [("default", {}), ("sigma2", {"scalar": 2.0}), ("sigma_half", {"scalar": 0.5}),
                            ("is_int_false", {"scalar": 1.5, "is_int": False})]]


SPECS = {
    "FullyConnected": _fc_cases(),
    "Activation": _act_cases(),
    "LeakyReLU": _leaky_cases(),
    "softmax": _softmax_cases(ref_softmax),
    "log_softmax": _softmax_cases(ref_log_softmax),
    "softmin": _softmax_cases(ref_softmin),
    "SoftmaxOutput": _so_cases(),
    "softmax_cross_entropy": _sce_cases(),
    "smooth_l1": _smooth_l1_cases(),
}
