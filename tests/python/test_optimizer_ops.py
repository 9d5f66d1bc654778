"""Fused optimizer updates used the way an optimizer uses them: several steps with
``mx.nd.invoke(name, [weight, grad, *states], params, out=weight)``, checking the new weight and the
in-place state updates against the float64 numpy references of specs/spec_optimizer.py."""
import os
import sys

import numpy as np
import pytest

import mx
from mx import base

sys.path.insert(0, os.path.dirname(__file__))
from specs.spec_optimizer import (  # noqa: E402
    step_adagrad, step_adam, step_adamw, step_ftrl, step_lamb1, step_lamb2, step_nag, step_rmsprop,
    step_rmspropalex, step_sgd, step_sgd_mom)

TOL = {"float64": (1e-9, 1e-11), "float32": (2e-5, 2e-6), "float16": (1e-2, 1e-2)}

# (op, reference, state kinds, params)
UPDATES = [
    ("sgd_update", step_sgd, (), {"lr": 0.1, "wd": 0.01, "clip_gradient": 0.5}),
    ("sgd_mom_update", step_sgd_mom, ("zero",), {"lr": 0.1, "momentum": 0.9, "wd": 0.01}),
    ("sgd_mom_update", step_sgd_mom, ("zero",), {"lr": 0.05, "momentum": 0.5, "rescale_grad": 2.0,
                                                 "clip_gradient": 1.0}),
    ("nag_mom_update", step_nag, ("zero",), {"lr": 0.1, "momentum": 0.9, "wd": 0.01}),
    ("nag_mom_update", step_nag, ("zero",), {"lr": 0.1, "momentum": 0.8, "clip_gradient": 0.5}),
    ("adam_update", step_adam, ("zero", "zero"), {"lr": 0.01, "wd": 0.01}),
    ("adam_update", step_adam, ("zero", "zero"), {"lr": 0.01, "beta1": 0.8, "beta2": 0.99,
                                                  "epsilon": 1e-6, "rescale_grad": 0.5,
                                                  "clip_gradient": 0.4}),
    ("rmsprop_update", step_rmsprop, ("zero",), {"lr": 0.01, "gamma1": 0.9, "epsilon": 1e-6}),
    ("rmsprop_update", step_rmsprop, ("zero",), {"lr": 0.05, "wd": 0.01, "clip_gradient": 0.5,
                                                 "clip_weights": 1.0, "epsilon": 1e-6}),
    ("rmspropalex_update", step_rmspropalex, ("zero", "zero", "zero"),
     {"lr": 0.01, "epsilon": 1e-4}),
    ("rmspropalex_update", step_rmspropalex, ("zero", "zero", "zero"),
     {"lr": 0.01, "gamma1": 0.9, "gamma2": 0.8, "wd": 0.01, "clip_weights": 1.5, "epsilon": 1e-4}),
    ("ftrl_update", step_ftrl, ("zero", "zero"), {"lr": 0.1}),
    ("ftrl_update", step_ftrl, ("zero", "zero"), {"lr": 0.5, "lamda1": 0.1, "beta": 0.5, "wd": 0.01,
                                                  "clip_gradient": 1.0}),
    ("_sparse_adagrad_update", step_adagrad, ("zero",), {"lr": 0.1}),
    ("_sparse_adagrad_update", step_adagrad, ("zero",), {"lr": 0.1, "epsilon": 1e-5,
                                                         "rescale_grad": 0.5, "clip_gradient": 0.5}),
]


def _ids():
    return [f"{u[0]}-{i}" for i, u in enumerate(UPDATES)]


def _check(got, exp, dtype, what):
    rtol, atol = TOL[dtype]
    np.testing.assert_allclose(got.astype(np.float64), np.asarray(exp, dtype=np.float64), rtol=rtol, atol=atol,
                               err_msg=what)


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16"])
@pytest.mark.parametrize("case", UPDATES, ids=_ids())
def test_update_steps_in_place(case, dtype):
    op, step, kinds, params = case
    rng = np.random.default_rng(7)
    shape = (4, 5)
    w_np = rng.uniform(-1, 1, shape).astype(dtype)
    states_np = [np.zeros(shape, dtype=dtype) for _ in kinds]
    w = mx.nd.array(w_np, dtype=dtype)
    states = [mx.nd.array(s, dtype=dtype) for s in states_np]
    for it in range(5):
        g_np = rng.uniform(-2, 2, shape).astype(dtype)
        exp = step(w_np, g_np, *states_np, **params)
        res = mx.nd.invoke(op, [w, mx.nd.array(g_np, dtype=dtype)] + states, params, out=w)
        assert res is w
        assert str(w.dtype) == dtype and w.shape == shape
        _check(w.asnumpy(), exp[0], dtype, f"{op} weight, step {it}")
        for k, s in enumerate(states):
            _check(s.asnumpy(), exp[1 + k], dtype, f"{op} state {k}, step {it}")
        # the next step starts from what MX holds (float16 rounding does not accumulate apart)
        w_np = w.asnumpy()
        states_np = [s.asnumpy() for s in states]


def test_update_without_out_leaves_weight_and_updates_states():
    rng = np.random.default_rng(3)
    w_np = rng.uniform(-1, 1, (6,)).astype("float32")
    g_np = rng.uniform(-1, 1, (6,)).astype("float32")
    mom_np = rng.uniform(-0.1, 0.1, (6,)).astype("float32")
    w, g, mom = mx.nd.array(w_np), mx.nd.array(g_np), mx.nd.array(mom_np)
    params = {"lr": 0.1, "momentum": 0.9}
    new_w = mx.nd.invoke("sgd_mom_update", [w, g, mom], params)
    exp_w, exp_mom = step_sgd_mom(w_np, g_np, mom_np, **params)
    np.testing.assert_allclose(new_w.asnumpy(), exp_w, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(mom.asnumpy(), exp_mom, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(w.asnumpy(), w_np)


def _adamw_run(dtype, scales):
    rng = np.random.default_rng(11)
    shape = (3, 4)
    params = {"lr": 0.01, "eta": 0.5, "wd": 0.1, "clip_gradient": 1.0}
    w_np = rng.uniform(-1, 1, shape).astype(dtype)
    m_np, v_np = np.zeros(shape, dtype), np.zeros(shape, dtype)
    w, m, v = (mx.nd.array(a, dtype=dtype) for a in (w_np, m_np, v_np))
    for it, scale in enumerate(scales):
        g_np = rng.uniform(-2, 2, shape).astype(dtype)
        sc = np.array([scale], dtype=np.float32)
        exp = step_adamw(w_np, g_np, m_np, v_np, sc, **params)
        mx.nd.invoke("_adamw_update", [w, mx.nd.array(g_np, dtype=dtype), m, v, mx.nd.array(sc)], params, out=w)
        for got, e, what in zip((w, m, v), exp, ("weight", "mean", "var")):
            _check(got.asnumpy(), e, dtype, f"_adamw_update {what}, step {it} (scale {scale})")
        w_np, m_np, v_np = w.asnumpy(), m.asnumpy(), v.asnumpy()
    return w_np


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16"])
def test_adamw_steps_and_skips(dtype):
    _adamw_run(dtype, [1.0, 0.5, float("nan"), 2.0, 0.0, float("inf"), 1.0])


def test_adamw_skip_leaves_everything_unchanged():
    w_np = np.arange(6, dtype=np.float32).reshape(2, 3)
    w, g = mx.nd.array(w_np), mx.nd.ones((2, 3))
    m, v = mx.nd.ones((2, 3)) * 0.5, mx.nd.ones((2, 3)) * 0.25
    for bad in (0.0, float("nan"), float("inf"), float("-inf")):
        mx.nd.invoke("_adamw_update", [w, g, m, v, mx.nd.array([bad])], {"lr": 0.1, "eta": 1.0}, out=w)
        np.testing.assert_array_equal(w.asnumpy(), w_np)
        np.testing.assert_array_equal(m.asnumpy(), np.full((2, 3), 0.5, np.float32))
        np.testing.assert_array_equal(v.asnumpy(), np.full((2, 3), 0.25, np.float32))
    # without out=, the output is the unchanged weight
    res = mx.nd.invoke("_adamw_update", [w, g, m, v, mx.nd.array([0.0])], {"lr": 0.1, "eta": 1.0})
    np.testing.assert_array_equal(res.asnumpy(), w_np)


def test_adamw_rescale_grad_must_be_float32():
    w = mx.nd.ones((3,), dtype="float64")
    with pytest.raises(base.DTypeError, match="rescale_grad"):
        mx.nd.invoke("_adamw_update", [w, w, w, w, mx.nd.array([1.0], dtype="float64")],
                     {"lr": 0.1, "eta": 1.0})


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16"])
@pytest.mark.parametrize("bias_correction", [True, False])
def test_lamb_two_phases_over_steps(dtype, bias_correction):
    """A LAMB optimizer step: phase1 -> norms -> phase2 (out=weight), mean/var mutated."""
    rng = np.random.default_rng(5)
    shape = (4, 3)
    p1 = {"wd": 0.01, "beta1": 0.9, "beta2": 0.999, "epsilon": 1e-6, "bias_correction": bias_correction,
          "clip_gradient": 1.5}
    lr = 0.05
    w_np = rng.uniform(-1, 1, shape).astype(dtype)
    m_np, v_np = np.zeros(shape, dtype), np.zeros(shape, dtype)
    w, m, v = (mx.nd.array(a, dtype=dtype) for a in (w_np, m_np, v_np))
    for t in range(1, 5):
        g_np = rng.uniform(-2, 2, shape).astype(dtype)
        d_exp, m_exp, v_exp = step_lamb1(w_np, g_np, m_np, v_np, t=t, **p1)
        d = mx.nd.invoke("lamb_update_phase1", [w, mx.nd.array(g_np, dtype=dtype), m, v], dict(p1, t=t))
        _check(d.asnumpy(), d_exp, dtype, f"phase1 g, t={t}")
        _check(m.asnumpy(), m_exp, dtype, f"mean, t={t}")
        _check(v.asnumpy(), v_exp, dtype, f"var, t={t}")
        d_np = d.asnumpy()
        r1_np = np.array([np.linalg.norm(w_np.astype(np.float64))], dtype=dtype)
        r2_np = np.array([np.linalg.norm(d_np.astype(np.float64))], dtype=dtype)
        p2 = {"lr": lr, "lower_bound": 0.1, "upper_bound": 10.0}
        (w_exp,) = step_lamb2(w_np, d_np, r1_np, r2_np, **p2)
        res = mx.nd.invoke("lamb_update_phase2", [w, d, mx.nd.array(r1_np, dtype=dtype),
                                                  mx.nd.array(r2_np, dtype=dtype)], p2, out=w)
        assert res is w
        _check(w.asnumpy(), w_exp, dtype, f"phase2 weight, t={t}")
        w_np, m_np, v_np = w.asnumpy(), m.asnumpy(), v.asnumpy()


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16"])
def test_multi_sum_sq(dtype):
    rng = np.random.default_rng(2)
    shapes = [(3, 4), (10,), (2, 2, 5), (0,)]
    xs = [rng.uniform(-2, 2, s).astype(dtype) for s in shapes]
    out = mx.nd.invoke("multi_sum_sq", [mx.nd.array(x, dtype=dtype) for x in xs], {"num_arrays": len(xs)})
    assert out.shape == (4,) and str(out.dtype) == "float32"
    exp = np.array([np.sum(x.astype(np.float64) ** 2) for x in xs])
    np.testing.assert_allclose(out.asnumpy(), exp, rtol=1e-6, atol=1e-6)


def test_multi_sum_sq_large_parallel():
    rng = np.random.default_rng(9)
    xs = [rng.standard_normal(200_000).astype("float32") for _ in range(3)]
    out = mx.nd.invoke("multi_sum_sq", [mx.nd.array(x) for x in xs], {"num_arrays": 3})
    exp = [np.sum(x.astype(np.float64) ** 2) for x in xs]
    np.testing.assert_allclose(out.asnumpy(), exp, rtol=1e-6)


def test_large_update_matches_reference():
    """Big enough to run the parallel path."""
    rng = np.random.default_rng(4)
    n = 300_000
    w_np, g_np = rng.uniform(-1, 1, n).astype("float32"), rng.uniform(-1, 1, n).astype("float32")
    m_np, v_np = np.zeros(n, "float32"), np.zeros(n, "float32")
    w, m, v = mx.nd.array(w_np), mx.nd.array(m_np), mx.nd.array(v_np)
    params = {"lr": 0.01, "wd": 0.01}
    mx.nd.invoke("adam_update", [w, mx.nd.array(g_np), m, v], params, out=w)
    ew, em, ev = step_adam(w_np, g_np, m_np, v_np, **params)
    np.testing.assert_allclose(w.asnumpy(), ew, rtol=2e-5, atol=2e-6)
    np.testing.assert_allclose(m.asnumpy(), em, rtol=2e-5, atol=2e-6)
    np.testing.assert_allclose(v.asnumpy(), ev, rtol=2e-5, atol=2e-7)


# ------------------------------------------------------------------ errors and registry facts
def test_shape_mismatch_names_inputs():
    w, g = mx.nd.ones((2, 3)), mx.nd.ones((3, 2))
    with pytest.raises(base.ShapeError, match=r"grad.*\(3, 2\).*\(2, 3\)"):
        mx.nd.invoke("sgd_update", [w, g], {"lr": 0.1})
    with pytest.raises(base.ShapeError, match="var"):
        mx.nd.invoke("adam_update", [w, w, w, mx.nd.ones((6,))], {"lr": 0.1})


def test_out_shape_must_match():
    w = mx.nd.ones((2, 3))
    with pytest.raises(base.ShapeError):
        mx.nd.invoke("sgd_update", [w, w], {"lr": 0.1}, out=mx.nd.ones((3, 2)))


def test_lamb_phase2_norm_inputs_hold_one_value():
    w = mx.nd.ones((2, 3))
    with pytest.raises(base.ShapeError, match="r1"):
        mx.nd.invoke("lamb_update_phase2", [w, w, mx.nd.ones((2,)), mx.nd.ones((1,))], {"lr": 0.1})


def test_required_params():
    w = mx.nd.ones((3,))
    with pytest.raises(base.InvalidArgumentError, match="lr"):
        mx.nd.invoke("sgd_update", [w, w], {})
    with pytest.raises(base.InvalidArgumentError, match="eta"):
        mx.nd.invoke("_adamw_update", [w, w, w, w, mx.nd.array([1.0])], {"lr": 0.1})
    with pytest.raises(base.InvalidArgumentError):
        mx.nd.invoke("lamb_update_phase1", [w, w, w, w], {"wd": 0.0})  # t missing


def test_adagrad_refuses_weight_decay():
    w = mx.nd.ones((3,))
    with pytest.raises(base.UnsupportedError, match="wd"):
        mx.nd.invoke("_sparse_adagrad_update", [w, w, w], {"lr": 0.1, "wd": 0.1})


def test_integer_dtype_rejected():
    w = mx.nd.ones((3,), dtype="int32")
    with pytest.raises(base.DTypeError):
        mx.nd.invoke("sgd_update", [w, w], {"lr": 0.1})


def test_multi_sum_sq_input_count_follows_num_arrays():
    with pytest.raises(base.InvalidArgumentError):
        mx.nd.invoke("multi_sum_sq", [mx.nd.ones((2,))], {"num_arrays": 2})


def test_mutated_inputs_declared():
    from mx._api import ffi, lib
    expect = {"sgd_update": "", "sgd_mom_update": "2", "nag_mom_update": "2", "adam_update": "2,3",
              "_adamw_update": "2,3", "rmsprop_update": "2", "rmspropalex_update": "2,3,4",
              "ftrl_update": "2,3", "_sparse_adagrad_update": "2", "lamb_update_phase1": "2,3",
              "lamb_update_phase2": ""}
    for name, idx in expect.items():
        op = ffi.new("const mx_op**")
        assert lib.mx_op_find(name.encode(), op) == 0, name
        val = ffi.new("const char**")
        assert lib.mx_op_attr(op[0], b"mutate_inputs", val) == 0 and val[0] != ffi.NULL
        got = ffi.string(val[0]).decode()
        assert got == idx, f"{name}: mutated inputs {got!r}, expected {idx!r}"
