"""The fused RNN operator: forward against the numpy model of specs/spec_nn_rnn.py (all modes,
stacked, bidirectional, state outputs, LSTM state clipping, saturating inputs), its gradient
against finite differences of the op itself in float64 for every input and every output (out, hy,
cy), dropout between layers in training mode, and clear errors for bad shapes and unsupported
parameters."""
import os
import sys

import numpy as np
import pytest

import mx

sys.path.insert(0, os.path.dirname(__file__))
from specs.spec_nn_rnn import param_size, rnn_model  # noqa: E402

MODES = ("rnn_relu", "rnn_tanh", "lstm", "gru")


def _inputs(rng, mode, T, N, I, H, L, D, scale=0.5, dtype="float64"):
    xs = [rng.uniform(-1, 1, size=(T, N, I)), rng.uniform(-scale, scale, size=param_size(mode, I, H, L, D)),
          rng.uniform(-1, 1, size=(L * D, N, H))]
    if mode == "lstm":
        xs.append(rng.uniform(-1, 1, size=(L * D, N, H)))
    return [x.astype(dtype) for x in xs]


def _params(mode, H, L, D, **kw):
    p = {"mode": mode, "state_size": H, "num_layers": L, "bidirectional": D == 2}
    p.update(kw)
    return p


def _run(xs, params, dtype=None):
    r = mx.nd.invoke("RNN", [mx.nd.array(x, dtype=dtype or str(x.dtype)) for x in xs], params)
    return [a.asnumpy() for a in (r if isinstance(r, list) else [r])]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("T,N,I,H,L,D", [(5, 3, 4, 6, 1, 1), (4, 2, 3, 5, 3, 1), (4, 3, 5, 4, 2, 2), (1, 1, 1, 1, 1, 2),
                                         (3, 13, 5, 48, 2, 2), (2, 17, 3, 16, 1, 1)])
def test_forward_matches_numpy(mode, dtype, T, N, I, H, L, D):
    rng = np.random.default_rng(hash((mode, T, N, I, H, L, D)) % 2**32)
    xs = _inputs(rng, mode, T, N, I, H, L, D, dtype=dtype)
    outs = _run(xs, _params(mode, H, L, D, state_outputs=True))
    out, hy, cy, _ = rnn_model(*xs[:3], xs[3] if mode == "lstm" else None, mode=mode, state_size=H,
                               num_layers=L, bidirectional=D == 2)
    exp = [out, hy] + ([cy] if mode == "lstm" else [])
    assert len(outs) == len(exp)
    for g, e in zip(outs, exp):
        assert g.dtype == np.dtype(dtype) and g.shape == e.shape
        # float32: rounding of sums (over up to ~150 terms here) that cancel, relative to the largest
        # values (relu grows them).
        tol = dict(rtol=1e-5, atol=5e-6 * max(1.0, np.abs(e).max())) if dtype == "float32" else \
            dict(rtol=1e-11, atol=1e-12)
        np.testing.assert_allclose(g, e, **tol)


@pytest.mark.parametrize("mode", MODES)
def test_saturating_inputs_and_wide_state_float32(mode):
    # Large pre-activations (saturated sigmoid/tanh) and H wide enough for the vectorised gate math,
    # with values near 0 as well (the tanh series branch).
    rng = np.random.default_rng(5)
    T, N, I, H = 6, 5, 9, 70
    # Large data saturates the gates; the weights stay small, so the recurrence is not chaotic (which
    # would amplify any float32 rounding difference step by step).
    xs = _inputs(rng, mode, T, N, I, H, 1, 1, scale=0.3, dtype="float32")
    xs[0] *= 40.0
    xs[0][0] *= 1e-4
    out = _run(xs, _params(mode, H, 1, 1))[0]
    ref = rnn_model(*xs[:3], xs[3] if mode == "lstm" else None, mode=mode, state_size=H)[0]
    assert np.isfinite(out).all()
    # relu passes the large values on: float32 sums of O(40) terms round at that scale.
    np.testing.assert_allclose(out, ref, rtol=1e-5, atol=2e-6 * max(1.0, np.abs(ref).max()))


def test_only_out_without_state_outputs_and_default_params():
    rng = np.random.default_rng(1)
    xs = _inputs(rng, "gru", 3, 2, 4, 5, 1, 1)
    r = mx.nd.invoke("RNN", [mx.nd.array(x, dtype="float64") for x in xs], {"mode": "gru", "state_size": 5,
                                                                          "num_layers": 1})
    r = r[0] if isinstance(r, list) else r
    assert r.shape == (3, 2, 5)


def test_lstm_state_clipping():
    rng = np.random.default_rng(2)
    xs = _inputs(rng, "lstm", 6, 3, 4, 5, 2, 2, scale=2.0)
    p = _params("lstm", 5, 2, 2, state_outputs=True, lstm_state_clip_min=-0.2, lstm_state_clip_max=0.3)
    out, hy, cy = _run(xs, p)
    e_out, e_hy, e_cy, _ = rnn_model(*xs, mode="lstm", state_size=5, num_layers=2, bidirectional=True,
                                     clip=(-0.2, 0.3))
    assert cy.min() >= -0.2 and cy.max() <= 0.3 and (np.isclose(cy, 0.3) | np.isclose(cy, -0.2)).any()
    np.testing.assert_allclose(out, e_out, rtol=1e-11, atol=1e-12)
    np.testing.assert_allclose(hy, e_hy, rtol=1e-11, atol=1e-12)
    np.testing.assert_allclose(cy, e_cy, rtol=1e-11, atol=1e-12)
    # Without clipping the same inputs leave the range: the clip did bite.
    assert np.abs(_run(xs, _params("lstm", 5, 2, 2, state_outputs=True))[2]).max() > 0.3


def test_lstm_state_clip_nan():
    xs = _inputs(np.random.default_rng(3), "lstm", 2, 1, 2, 3, 1, 1)
    xs[0][0, 0, 0] = np.nan
    p = _params("lstm", 3, 1, 1, state_outputs=True, lstm_state_clip_min=-1.0, lstm_state_clip_max=1.0)
    assert np.isnan(_run(xs, p)[2]).all()  # NaN propagates by default
    cy = _run(xs, dict(p, lstm_state_clip_nan=True))[2]
    np.testing.assert_array_equal(cy, np.ones_like(cy))  # NaN states become the clip maximum


# ------------------------------------------------------------------ gradients
def _fd_check(mode, T, N, I, H, L, D, seed, extra=None, train=False, rng_seed=None, rtol=1e-5, atol=1e-7):
    """Gradients of sum(w_out*out + w_hy*hy (+ w_cy*cy)) w.r.t. every input vs central differences."""
    rng = np.random.default_rng(seed)
    xs = _inputs(rng, mode, T, N, I, H, L, D, scale=0.6)
    params = _params(mode, H, L, D, state_outputs=True, **(extra or {}))
    nds = [mx.nd.array(x, dtype="float64") for x in xs]
    for a in nds:
        a.attach_grad()
    if rng_seed is not None:
        mx.random.seed(rng_seed)
    with mx.autograd.record(train_mode=train):
        outs = mx.nd.invoke("RNN", nds, params)
    ws = [rng.uniform(-1, 1, size=o.shape) for o in outs]
    mx.autograd.backward(outs, [mx.nd.array(w, dtype="float64") for w in ws])

    def loss(vals):
        if rng_seed is not None:
            mx.random.seed(rng_seed)
        with mx.autograd.train_mode() if train else mx.autograd.predict_mode():
            r = mx.nd.invoke("RNN", [mx.nd.array(v, dtype="float64") for v in vals], params)
        return sum(np.sum(w * o.asnumpy()) for w, o in zip(ws, r))

    eps = 1e-6
    for k, x in enumerate(xs):
        num = np.zeros_like(x)
        flat, nf = x.reshape(-1), num.reshape(-1)
        for i in range(flat.size):
            v = flat[i]
            flat[i] = v + eps
            lp = loss(xs)
            flat[i] = v - eps
            lm = loss(xs)
            flat[i] = v
            nf[i] = (lp - lm) / (2 * eps)
        np.testing.assert_allclose(nds[k].grad.asnumpy(), num, rtol=rtol, atol=atol,
                                   err_msg=f"{mode}: gradient of input {k}")


@pytest.mark.parametrize("mode", MODES)
def test_gradient_all_inputs_all_outputs_two_layers_bidirectional(mode):
    _fd_check(mode, 3, 2, 3, 3, 2, 2, seed=11)


@pytest.mark.parametrize("mode", MODES)
def test_gradient_three_layers_unidirectional(mode):
    _fd_check(mode, 4, 2, 2, 2, 3, 1, seed=12)


def test_gradient_lstm_with_state_clipping():
    _fd_check("lstm", 4, 2, 3, 3, 2, 2, seed=13, extra={"lstm_state_clip_min": -0.35, "lstm_state_clip_max": 0.3})


@pytest.mark.parametrize("mode", ["lstm", "gru"])
def test_gradient_with_dropout_between_layers(mode):
    # The same seed replays the same dropout masks, so finite differences see one fixed function.
    _fd_check(mode, 3, 2, 3, 3, 3, 2, seed=14, extra={"p": 0.4}, train=True, rng_seed=21)


# Shapes for the float32 kernels (step and whole-sequence products): batch not a multiple of the
# 8-row blocks, state and input sizes with a 16-column remainder panel (48, 16), exactly one panel
# (16), and sizes that do not fit them (40, 6: the BLAS path).
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("N,H,I", [(4, 40, 6), (13, 48, 6), (3, 16, 32), (9, 64, 16)])
def test_float32_gradient_agrees_with_float64(mode, N, H, I):
    rng = np.random.default_rng(15)
    T, L, D = 5, 2, 2
    xs = _inputs(rng, mode, T, N, I, H, L, D, scale=0.3)
    params = _params(mode, H, L, D, state_outputs=True)
    ws = None
    grads = {}
    for dt in ("float32", "float64"):
        nds = [mx.nd.array(x, dtype=dt) for x in xs]
        for a in nds:
            a.attach_grad()
        with mx.autograd.record():
            outs = mx.nd.invoke("RNN", nds, params)
        if ws is None:
            ws = [rng.uniform(-1, 1, size=o.shape) for o in outs]
        mx.autograd.backward(outs, [mx.nd.array(w, dtype=dt) for w in ws])
        grads[dt] = [a.grad.asnumpy() for a in nds]
    for g32, g64 in zip(grads["float32"], grads["float64"]):
        assert g32.dtype == np.float32
        np.testing.assert_allclose(g32, g64, rtol=2e-3, atol=2e-4)


# ------------------------------------------------------------------ dropout
def test_dropout_between_layers_only_in_training():
    rng = np.random.default_rng(6)
    xs = _inputs(rng, "lstm", 4, 3, 5, 6, 2, 1)
    p0 = _params("lstm", 6, 2, 1)
    base = _run(xs, p0)[0]
    np.testing.assert_allclose(_run(xs, dict(p0, p=0.5))[0], base, rtol=1e-12)  # predict mode: no dropout
    with mx.autograd.train_mode():
        mx.random.seed(4)
        a = _run(xs, dict(p0, p=0.5))[0]
        mx.random.seed(4)
        b = _run(xs, dict(p0, p=0.5))[0]
        c = _run(xs, dict(p0, p=0.5))[0]
        one_layer = _run(xs[:1] + [xs[1][:param_size("lstm", 5, 6, 1, 1)]] + [x[:1] for x in xs[2:]],
                         _params("lstm", 6, 1, 1, p=0.5))[0]
    np.testing.assert_array_equal(a, b)       # same seed, same masks
    assert not np.allclose(a, base) and not np.allclose(a, c)
    # The first layer's output is not dropped (dropout sits between layers only).
    np.testing.assert_allclose(one_layer, rnn_model(xs[0], xs[1][:param_size("lstm", 5, 6, 1, 1)], xs[2][:1],
                                                    xs[3][:1], mode="lstm", state_size=6)[0], rtol=1e-11)


# ------------------------------------------------------------------ errors
def test_parameter_vector_size_is_checked():
    rng = np.random.default_rng(7)
    xs = _inputs(rng, "gru", 3, 2, 4, 5, 2, 2)
    want = param_size("gru", 4, 5, 2, 2)
    xs[1] = xs[1][:-1]
    with pytest.raises(mx.MXNetError, match=rf"parameters has shape \({want - 1},\), expected \({want},\)"):
        _run(xs, _params("gru", 5, 2, 2))


def test_state_shape_is_checked():
    xs = _inputs(np.random.default_rng(8), "rnn_tanh", 3, 2, 4, 5, 1, 1)
    xs[2] = xs[2][:, :1]
    with pytest.raises(mx.MXNetError, match="state has shape"):
        _run(xs, _params("rnn_tanh", 5, 1, 1))


def test_bad_data_rank_and_dtype_mix():
    xs = _inputs(np.random.default_rng(9), "rnn_relu", 3, 2, 4, 5, 1, 1)
    with pytest.raises(mx.MXNetError, match="seq_len, batch, input_size"):
        _run([xs[0][0]] + xs[1:], _params("rnn_relu", 5, 1, 1))
    with pytest.raises(mx.MXNetError, match="dtype"):
        mx.nd.invoke("RNN", [mx.nd.array(xs[0], dtype="float32")] + [mx.nd.array(x, dtype="float64") for x in xs[1:]],
                     _params("rnn_relu", 5, 1, 1)).asnumpy()


@pytest.mark.parametrize("extra,match", [({"projection_size": 3}, "projection_size"),
                                         ({"use_sequence_length": True}, "use_sequence_length"),
                                         ({"lstm_state_clip_min": -1.0}, "together")])
def test_unsupported_parameters_raise(extra, match):
    xs = _inputs(np.random.default_rng(10), "lstm", 3, 2, 4, 5, 1, 1)
    with pytest.raises(mx.MXNetError, match=match):
        _run(xs, _params("lstm", 5, 1, 1, **extra))
