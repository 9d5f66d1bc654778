"""Specs for the fused optimizer updates (MXNet 1.9 names): sgd_update, sgd_mom_update,
nag_mom_update, adam_update, _adamw_update, rmsprop_update, rmspropalex_update, ftrl_update,
_sparse_adagrad_update, lamb_update_phase1, lamb_update_phase2, multi_sum_sq.

The ``step_*`` functions are float64 numpy references of one update, written out from MXNet's
documented update rules: each takes (weight, grad, *states) and returns (new_weight, *new_states)
(lamb_update_phase1 returns (g, mean, var)). The harness checks the op's output (the new weight);
test_optimizer_ops.py also checks the in-place state updates over several steps.
"""
import numpy as np

from opspec import Case, rand

DTYPES = ("float32", "float64", "float16")


def _f(x):
    return np.asarray(x, dtype=np.float64)


def _clip(x, c):
    return np.clip(x, -c, c) if c >= 0 else x


# ------------------------------------------------------------------ references (float64)
def step_sgd(w, g, lr, wd=0.0, rescale_grad=1.0, clip_gradient=-1.0, lazy_update=True):
    w, g = _f(w), _f(g)
    return ((1 - lr * wd) * w - lr * _clip(rescale_grad * g, clip_gradient),)


def step_sgd_mom(w, g, mom, lr, momentum=0.0, wd=0.0, rescale_grad=1.0, clip_gradient=-1.0,
                 lazy_update=True):
    w, g, mom = _f(w), _f(g), _f(mom)
    mom = momentum * mom - lr * wd * w - lr * _clip(rescale_grad * g, clip_gradient)
    return w + mom, mom


def step_nag(w, g, mom, lr, momentum=0.0, wd=0.0, rescale_grad=1.0, clip_gradient=-1.0):
    w, g, mom = _f(w), _f(g), _f(mom)
    G = _clip(rescale_grad * g, clip_gradient) + wd * w
    mom = momentum * mom - lr * G
    return w + momentum * mom - lr * G, mom


def step_adam(w, g, mean, var, lr, beta1=0.9, beta2=0.999, epsilon=1e-8, wd=0.0, rescale_grad=1.0,
              clip_gradient=-1.0, lazy_update=True):
    w, g, mean, var = _f(w), _f(g), _f(mean), _f(var)
    G = _clip(rescale_grad * g + wd * w, clip_gradient)
    mean = beta1 * mean + (1 - beta1) * G
    var = beta2 * var + (1 - beta2) * G * G
    return w - lr * mean / (np.sqrt(var) + epsilon), mean, var


def step_adamw(w, g, mean, var, rescale_grad, lr, eta, beta1=0.9, beta2=0.999, epsilon=1e-8, wd=0.0,
               clip_gradient=-1.0):
    w, g, mean, var = _f(w), _f(g), _f(mean), _f(var)
    s = float(np.asarray(rescale_grad).reshape(-1)[0])
    if not np.isfinite(s) or s == 0:
        return w, mean, var  # the update is skipped
    G = _clip(s * g, clip_gradient)
    mean = beta1 * mean + (1 - beta1) * G
    var = beta2 * var + (1 - beta2) * G * G
    return w - eta * (lr * mean / (np.sqrt(var) + epsilon) + wd * w), mean, var


def step_rmsprop(w, g, n, lr, gamma1=0.95, epsilon=1e-8, wd=0.0, rescale_grad=1.0, clip_gradient=-1.0,
                 clip_weights=-1.0):
    w, g, n = _f(w), _f(g), _f(n)
    G = _clip(rescale_grad * g + wd * w, clip_gradient)
    n = (1 - gamma1) * G * G + gamma1 * n
    return _clip(w - lr * G / np.sqrt(n + epsilon), clip_weights), n


def step_rmspropalex(w, g, n, gs, delta, lr, gamma1=0.95, gamma2=0.9, epsilon=1e-8, wd=0.0,
                     rescale_grad=1.0, clip_gradient=-1.0, clip_weights=-1.0):
    w, g, n, gs, delta = _f(w), _f(g), _f(n), _f(gs), _f(delta)
    G = _clip(rescale_grad * g + wd * w, clip_gradient)
    n = (1 - gamma1) * G * G + gamma1 * n
    gs = (1 - gamma1) * G + gamma1 * gs
    delta = gamma2 * delta - lr * G / np.sqrt(n - gs * gs + epsilon)
    return _clip(w + delta, clip_weights), n, gs, delta


def step_ftrl(w, g, z, n, lr, lamda1=0.01, beta=1.0, wd=0.0, rescale_grad=1.0, clip_gradient=-1.0):
    w, g, z, n = _f(w), _f(g), _f(z), _f(n)
    G = _clip(rescale_grad * g, clip_gradient)
    z = z + G - (np.sqrt(n + G * G) - np.sqrt(n)) * w / lr
    n = n + G * G
    w = (np.sign(z) * lamda1 - z) / ((beta + np.sqrt(n)) / lr + wd) * (np.abs(z) > lamda1)
    return w, z, n


def step_adagrad(w, g, h, lr, epsilon=1e-7, wd=0.0, rescale_grad=1.0, clip_gradient=-1.0):
    assert wd == 0
    w, g, h = _f(w), _f(g), _f(h)
    G = _clip(rescale_grad * g, clip_gradient)
    h = h + G * G
    return w - lr * G / np.sqrt(h + epsilon), h


def step_lamb1(w, g, mean, var, t, wd, beta1=0.9, beta2=0.999, epsilon=1e-6, bias_correction=True,
               rescale_grad=1.0, clip_gradient=-1.0):
    w, g, mean, var = _f(w), _f(g), _f(mean), _f(var)
    G = _clip(rescale_grad * g, clip_gradient)
    mean = beta1 * mean + (1 - beta1) * G
    var = beta2 * var + (1 - beta2) * G * G
    if bias_correction:
        m_hat, v_hat = mean / (1 - beta1 ** t), var / (1 - beta2 ** t)
    else:
        m_hat, v_hat = mean, var
    return m_hat / (np.sqrt(v_hat) + epsilon) + wd * w, mean, var


def step_lamb2(w, g, r1, r2, lr, lower_bound=-1.0, upper_bound=-1.0):
    w, g = _f(w), _f(g)
    r1, r2 = float(_f(r1).reshape(-1)[0]), float(_f(r2).reshape(-1)[0])
    if lower_bound >= 0:
        r1 = max(r1, lower_bound)
    if upper_bound >= 0:
        r1 = min(r1, upper_bound)
    ratio = 1.0 if (r1 == 0 or r2 == 0) else r1 / r2
    return (w - lr * ratio * g,)


def ref_multi_sum_sq(*arrays, num_arrays):
    assert len(arrays) == num_arrays
    return np.array([np.sum(_f(a) ** 2) for a in arrays], dtype=np.float32)


# ------------------------------------------------------------------ input makers
# Kinds: "w"/"g": uniform [-2, 2); "pos": positive states (var, n, history) in [0.1, 2);
# "small": signed states kept small in [-0.3, 0.3); "big": [1, 2) (rmspropalex n).
def _arr(kind, shape, dtype, rng):
    if kind == "pos":
        return rand(shape, dtype, rng, 0.1, 2.0)
    if kind == "small":
        return rand(shape, dtype, rng, -0.3, 0.3)
    if kind == "big":
        return rand(shape, dtype, rng, 1.0, 2.0)
    return rand(shape, dtype, rng)


def _inputs(shape, kinds):
    return lambda dt, rng: [_arr(k, shape, dt, rng) for k in kinds]


def _wref(step):
    """Spec reference: the op's output (first result) in the weight's dtype."""
    def ref(*xs, **p):
        return np.asarray(step(*xs, **p)[0]).astype(xs[0].dtype)
    return ref


# float16 updates round each stored state to half before it feeds the weight formula.
F16_TOL = {"float16": (5e-3, 5e-3)}


def _cases(step, kinds, param_sets, shapes=((5,), (3, 4), (2, 3, 4)), dtypes=DTYPES, rtol=None, atol=None):
    out = []
    for i, params in enumerate(param_sets):
        shape = shapes[i % len(shapes)]
        out.append(Case(inputs=_inputs(shape, kinds), ref=_wref(step), params=params, dtypes=dtypes,
                        rtol=rtol, atol=atol, name=f"p{i}"))
    return out


def _f16_cases(cases):
    """Splits each case into a float32/float64 case and a float16 case with looser tolerance."""
    out = []
    for c in cases:
        out.append(Case(inputs=c.inputs, ref=c.ref, params=c.params, dtypes=("float32", "float64"),
                        name=c.name))
        out.append(Case(inputs=c.inputs, ref=c.ref, params=c.params, dtypes=("float16",),
                        rtol=F16_TOL["float16"][0], atol=F16_TOL["float16"][1], name=c.name + "h"))
    return out


SGD_PARAMS = [
    {"lr": 0.1},
    {"lr": 0.05, "wd": 0.01},
    {"lr": 0.2, "rescale_grad": 0.5, "clip_gradient": 0.3},
    {"lr": 0.1, "wd": 0.1, "clip_gradient": 0.0, "lazy_update": False},
]
MOM_PARAMS = [
    {"lr": 0.1},
    {"lr": 0.1, "momentum": 0.9},
    {"lr": 0.05, "momentum": 0.8, "wd": 0.01, "rescale_grad": 2.0},
    {"lr": 0.1, "momentum": 0.9, "clip_gradient": 0.5, "wd": 0.001},
]
ADAM_PARAMS = [
    {"lr": 0.01},
    {"lr": 0.001, "beta1": 0.8, "beta2": 0.99, "epsilon": 1e-6},
    {"lr": 0.01, "wd": 0.1, "rescale_grad": 0.5, "clip_gradient": 0.4},
    {"lr": 0.01, "wd": 0.01, "lazy_update": False},
]
RMS_PARAMS = [
    {"lr": 0.01},
    {"lr": 0.01, "gamma1": 0.9, "epsilon": 1e-6, "wd": 0.01},
    {"lr": 0.1, "rescale_grad": 0.5, "clip_gradient": 0.5, "clip_weights": 1.0},
]
ALEX_PARAMS = [
    {"lr": 0.01},
    {"lr": 0.01, "gamma1": 0.9, "gamma2": 0.8, "wd": 0.01},
    {"lr": 0.1, "rescale_grad": 0.5, "clip_gradient": 0.5, "clip_weights": 1.0},
]
FTRL_PARAMS = [
    {"lr": 0.1},
    {"lr": 0.5, "lamda1": 0.5, "beta": 0.5, "wd": 0.01},
    {"lr": 0.1, "rescale_grad": 0.5, "clip_gradient": 0.5, "lamda1": 0.0},
]
ADAGRAD_PARAMS = [
    {"lr": 0.1},
    {"lr": 0.01, "epsilon": 1e-5, "rescale_grad": 2.0},
    {"lr": 0.1, "clip_gradient": 0.5},
]
LAMB1_PARAMS = [
    {"t": 1, "wd": 0.0},
    {"t": 5, "wd": 0.01, "beta1": 0.8, "beta2": 0.99},
    {"t": 3, "wd": 0.1, "bias_correction": False, "epsilon": 1e-4},
    {"t": 2, "wd": 0.01, "rescale_grad": 0.5, "clip_gradient": 0.3},
]


def _adamw_inputs(shape, scale):
    def make(dt, rng):
        xs = [_arr(k, shape, dt, rng) for k in ("w", "g", "small", "pos")]
        return xs + [np.array([scale], dtype=np.float32)]
    return make


def _adamw_cases():
    out = []
    settings = [
        ((5,), 1.0, {"lr": 0.01, "eta": 1.0}),
        ((3, 4), 0.5, {"lr": 0.01, "eta": 0.5, "wd": 0.1, "beta1": 0.8, "beta2": 0.99}),
        ((2, 3, 2), 2.0, {"lr": 0.1, "eta": 1.0, "wd": 0.01, "clip_gradient": 0.5, "epsilon": 1e-6}),
        ((4,), 0.0, {"lr": 0.1, "eta": 1.0}),           # skipped: weight passes through
        ((4,), float("inf"), {"lr": 0.1, "eta": 1.0}),  # skipped
        ((4,), float("nan"), {"lr": 0.1, "eta": 1.0}),  # skipped
    ]
    for i, (shape, scale, params) in enumerate(settings):
        out.append(Case(inputs=_adamw_inputs(shape, scale), ref=_wref(step_adamw), params=params,
                        dtypes=DTYPES, name=f"s{i}"))
    return _f16_cases(out)


def _lamb2_inputs(shape, r1, r2):
    def make(dt, rng):
        return [_arr("w", shape, dt, rng), _arr("g", shape, dt, rng),
                np.array([r1], dtype=dt), np.array([r2], dtype=dt)]
    return make


def _lamb2_cases():
    settings = [
        ((5,), 2.0, 4.0, {"lr": 0.1}),
        ((3, 4), 3.0, 1.5, {"lr": 0.01, "lower_bound": 0.5, "upper_bound": 2.0}),
        ((2, 2, 3), 0.1, 1.0, {"lr": 0.1, "lower_bound": 0.5}),
        ((4,), 0.0, 2.0, {"lr": 0.1}),   # r1 == 0: plain lr
        ((4,), 2.0, 0.0, {"lr": 0.1}),   # r2 == 0: plain lr
    ]
    out = [Case(inputs=_lamb2_inputs(s, a, b), ref=_wref(step_lamb2), params=p, dtypes=DTYPES, name=f"s{i}")
           for i, (s, a, b, p) in enumerate(settings)]
    return _f16_cases(out)


def _mss_inputs(shapes):
    return lambda dt, rng: [rand(s, dt, rng) for s in shapes]


def _mss_cases():
    settings = [[(5,)], [(3, 4), (7,), (2, 2, 2)], [(1,), (0,), (10, 3)]]
    out = []
    for i, shapes in enumerate(settings):
        out.append(Case(inputs=_mss_inputs(shapes), ref=ref_multi_sum_sq, params={"num_arrays": len(shapes)},
                        dtypes=("float32", "float64"), name=f"n{len(shapes)}"))
        # float16 inputs are exact in float64; the sum runs in a wider type than the input
        out.append(Case(inputs=_mss_inputs(shapes), ref=ref_multi_sum_sq, params={"num_arrays": len(shapes)},
                        dtypes=("float16",), rtol=1e-5, atol=1e-5, name=f"n{len(shapes)}h"))
    return out


SPECS = {
    "sgd_update": _f16_cases(_cases(step_sgd, ("w", "g"), SGD_PARAMS)),
    "sgd_mom_update": _f16_cases(_cases(step_sgd_mom, ("w", "g", "small"), MOM_PARAMS)),
    "nag_mom_update": _f16_cases(_cases(step_nag, ("w", "g", "small"), MOM_PARAMS)),
    "adam_update": _f16_cases(_cases(step_adam, ("w", "g", "small", "pos"), ADAM_PARAMS)),
    "_adamw_update": _adamw_cases(),
    "rmsprop_update": _f16_cases(_cases(step_rmsprop, ("w", "g", "pos"), RMS_PARAMS)),
    "rmspropalex_update": _f16_cases(_cases(step_rmspropalex, ("w", "g", "big", "small", "small"), ALEX_PARAMS)),
    "ftrl_update": _f16_cases(_cases(step_ftrl, ("w", "g", "small", "pos"), FTRL_PARAMS)),
    "_sparse_adagrad_update": _f16_cases(_cases(step_adagrad, ("w", "g", "pos"), ADAGRAD_PARAMS)),
    "lamb_update_phase1": _f16_cases(_cases(step_lamb1, ("w", "g", "small", "pos"), LAMB1_PARAMS)),
    "lamb_update_phase2": _lamb2_cases(),
    "multi_sum_sq": _mss_cases(),
}
