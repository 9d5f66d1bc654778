"""Gradients of the normalisation layers beyond what test_grad.py covers (it records in training
mode and checks only the first output): BatchNorm in predict mode and with use_global_stats (the
moving statistics are constants), the gradients flowing from the mean/var/std outputs of
output_mean_var=True, and no gradient for the moving statistics. Each is checked against central
finite differences in float64."""
import numpy as np
import pytest

import mx


def _fd(f, xs, i, w, eps=1e-6):
    num = np.zeros_like(xs[i])
    it = np.nditer(xs[i], flags=["multi_index"])
    for _ in it:
        idx = it.multi_index
        plus = [x.copy() for x in xs]
        minus = [x.copy() for x in xs]
        plus[i][idx] += eps
        minus[i][idx] -= eps
        num[idx] = sum(np.sum(wk * (a - b)) for wk, a, b in zip(w, f(plus), f(minus))) / (2 * eps)
    return num


def _check(op, xs, params, train, check, n_out=1, zero=()):
    """Gradients of sum_k w_k * out_k (the first n_out outputs) w.r.t. inputs `check` match finite
    differences run in the same mode; inputs in `zero` must get a zero gradient."""
    def fwd(arrays):
        with mx.autograd.train_mode() if train else mx.autograd.predict_mode():
            r = mx.nd.invoke(op, [mx.nd.array(a, dtype="float64") for a in arrays], params)
        r = r if isinstance(r, list) else [r]
        return [o.asnumpy() for o in r[:n_out]]

    rng = np.random.default_rng(7)
    nds = [mx.nd.array(x, dtype="float64") for x in xs]
    for i in list(check) + list(zero):
        nds[i].attach_grad()
    with mx.autograd.record(train_mode=train):
        ys = mx.nd.invoke(op, nds, params)
    ys = ys if isinstance(ys, list) else [ys]
    w = [rng.uniform(-1, 1, size=y.shape) for y in ys[:n_out]]
    mx.autograd.backward(ys[:n_out], [mx.nd.array(wk, dtype="float64") for wk in w])
    for i in check:
        np.testing.assert_allclose(nds[i].grad.asnumpy(), _fd(fwd, xs, i, w), rtol=1e-5, atol=1e-7,
                                   err_msg=f"{op} input {i}")
    for i in zero:
        np.testing.assert_array_equal(nds[i].grad.asnumpy(), np.zeros_like(xs[i]), err_msg=f"{op} input {i}")


def _bn_inputs(rng, shape=(4, 3, 2), c=3):
    return [rng.uniform(-2, 2, size=shape), rng.uniform(0.5, 1.5, size=c), rng.uniform(-1, 1, size=c),
            rng.uniform(-0.5, 0.5, size=c), rng.uniform(0.3, 2.0, size=c)]


@pytest.mark.parametrize("params", [{"fix_gamma": False}, {}, {"fix_gamma": False, "axis": -1, "eps": 1e-5}])
def test_batchnorm_predict_mode_uses_moving_stats(params):
    rng = np.random.default_rng(1)
    xs = _bn_inputs(rng, (2, 3, 3) if params.get("axis") == -1 else (4, 3, 2))
    # moving stats enter the output in predict mode, but get no gradient (MXNet's aux states)
    _check("BatchNorm", xs, params, train=False, check=[0, 1, 2], zero=[3, 4])


def test_batchnorm_predict_gradient_is_the_scale_shift_one():
    rng = np.random.default_rng(2)
    x, g, b, mm, mv = _bn_inputs(rng)
    nd_x = mx.nd.array(x, dtype="float64")
    nd_x.attach_grad()
    with mx.autograd.record(train_mode=False):
        y = mx.nd.invoke("BatchNorm", [nd_x] + [mx.nd.array(a, dtype="float64") for a in (g, b, mm, mv)],
                         {"fix_gamma": False})
    y.backward()
    want = np.broadcast_to((g / np.sqrt(mv + 1e-3)).reshape(1, 3, 1), x.shape)
    np.testing.assert_allclose(nd_x.grad.asnumpy(), want, rtol=1e-12)


def test_batchnorm_use_global_stats_in_training():
    rng = np.random.default_rng(3)
    _check("BatchNorm", _bn_inputs(rng), {"fix_gamma": False, "use_global_stats": True}, train=True,
           check=[0, 1, 2], zero=[3, 4])


def test_batchnorm_fix_gamma_gives_zero_gamma_grad_in_training():
    rng = np.random.default_rng(4)
    _check("BatchNorm", _bn_inputs(rng), {}, train=True, check=[0, 2], zero=[1, 3, 4])


def test_batchnorm_mean_var_outputs_are_differentiated_in_training():
    rng = np.random.default_rng(5)
    _check("BatchNorm", _bn_inputs(rng, (5, 3), 3), {"fix_gamma": False, "output_mean_var": True}, train=True,
           check=[0, 1, 2], n_out=3)


def test_batchnorm_mean_var_outputs_are_constants_in_predict_mode():
    rng = np.random.default_rng(6)
    _check("BatchNorm", _bn_inputs(rng, (5, 3), 3), {"fix_gamma": False, "output_mean_var": True}, train=False,
           check=[0, 1, 2], n_out=3)


@pytest.mark.parametrize("op,shapes,params", [
    ("LayerNorm", [(2, 3, 4), (3,), (3,)], {"axis": 1, "output_mean_var": True}),
    ("LayerNorm", [(3, 5), (5,), (5,)], {"output_mean_var": True}),
    ("GroupNorm", [(2, 4, 3), (2,), (2,)], {"num_groups": 2, "output_mean_var": True}),
])
def test_mean_std_outputs_are_differentiated(op, shapes, params):
    rng = np.random.default_rng(8)
    xs = [rng.uniform(-2, 2, size=s) for s in shapes]
    _check(op, xs, params, train=True, check=[0, 1, 2], n_out=3)


def test_norm_layers_same_gradient_in_predict_mode():
    rng = np.random.default_rng(9)
    xs = [rng.uniform(-2, 2, size=s) for s in [(2, 3, 4), (3,), (3,)]]
    _check("InstanceNorm", xs, {}, train=False, check=[0, 1, 2])


def test_embedding_weight_gradient_scatter_adds_repeated_and_clipped_indices():
    w = np.arange(8.0).reshape(4, 2)
    idx = np.array([[0, 3, 3], [7, -2, 1]], dtype=np.float64)  # 7 -> 3, -2 -> 0 (clipped)
    nd_w = mx.nd.array(w, dtype="float64")
    nd_w.attach_grad()
    og = np.arange(12.0).reshape(2, 3, 2)
    with mx.autograd.record():
        y = mx.nd.invoke("Embedding", [mx.nd.array(idx, dtype="float64"), nd_w],
                         {"input_dim": 4, "output_dim": 2, "dtype": "float64"})
    y.backward(mx.nd.array(og, dtype="float64"))
    want = np.zeros((4, 2))
    for k, row in zip([0, 3, 3, 3, 0, 1], og.reshape(-1, 2)):
        want[k] += row
    np.testing.assert_array_equal(nd_w.grad.asnumpy(), want)
