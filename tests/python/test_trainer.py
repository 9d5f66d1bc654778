"""gluon.Trainer on tiny models, against manual numpy optimization written out here."""
import math

import numpy as np
import pytest

import mx
from mx import autograd, gluon, nd

RNG = np.random.RandomState(0)
X = RNG.uniform(-1, 1, (8, 3))
W_TRUE = np.array([1.5, -2.0, 0.5])
Y = X @ W_TRUE + 0.3


def _params(w0=(0.1, 0.2, -0.1), b0=0.0, ctx=None, **kw):
    w = gluon.Parameter("fc_weight", shape=(3,), **kw)
    b = gluon.Parameter("fc_bias", shape=(1,))
    w.initialize(ctx=ctx)
    b.initialize(ctx=ctx)
    w.set_data(nd.array(np.array(w0)))
    b.set_data(nd.array(np.array([b0])))
    return w, b


def _forward_backward(w, b, x=X, y=Y, ctx=None):
    xa = nd.array(x, ctx=ctx)
    ya = nd.array(y, ctx=ctx)
    with autograd.record():
        pred = nd.broadcast_add(nd.sum(nd.broadcast_mul(xa, w.data(ctx).reshape((1, 3))), axis=1),
                                b.data(ctx))
        loss = nd.square(pred - ya)
    loss.backward()


def _np_grads(w, b, x=X, y=Y):
    r = x @ w + b - y
    return 2 * x.T @ r, np.array([2 * r.sum()])


def test_sgd_matches_numpy_and_converges():
    w, b = _params()
    tr = gluon.Trainer([w, b], "sgd", {"learning_rate": 0.1, "momentum": 0.9, "wd": 0.001})
    wn, bn = np.array([0.1, 0.2, -0.1]), np.array([0.0])
    mw, mb = np.zeros(3), np.zeros(1)
    n = X.shape[0]
    for _ in range(60):
        _forward_backward(w, b)
        tr.step(n)
        gw, gb = _np_grads(wn, bn)
        mw = 0.9 * mw - 0.1 * (gw / n + 0.001 * wn)
        mb = 0.9 * mb - 0.1 * (gb / n + 0.001 * bn)
        wn, bn = wn + mw, bn + mb
        np.testing.assert_allclose(w.data().asnumpy(), wn, rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(b.data().asnumpy(), bn, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(w.data().asnumpy(), W_TRUE, atol=0.05)
    np.testing.assert_allclose(b.data().asnumpy(), [0.3], atol=0.05)


def test_param_dict_input_and_lr_wd_mult():
    w, b = _params(lr_mult=0.5, wd_mult=2.0)
    params = {"b": b, "a": w}
    tr = gluon.Trainer(params, "sgd", {"learning_rate": 0.2, "wd": 0.1})
    assert tr._params == [w, b]  # sorted keys
    w0, b0 = w.data().asnumpy(), b.data().asnumpy()
    _forward_backward(w, b)
    tr.step(4)
    gw, gb = _np_grads(w0, b0)
    np.testing.assert_allclose(w.data().asnumpy(), w0 - 0.1 * (gw / 4 + 0.2 * w0), rtol=1e-5)
    np.testing.assert_allclose(b.data().asnumpy(), b0 - 0.2 * (gb / 4 + 0.1 * b0), rtol=1e-5)


def test_parameter_dict_input():
    pd = gluon.ParameterDict("net_")
    z = pd.get("z_weight", shape=(2,))
    a = pd.get("a_weight", shape=(2,))
    pd.initialize()
    tr = gluon.Trainer(pd, "sgd")
    assert tr._params == [a, z]  # sorted by full name
    assert tr.optimizer.param_dict == {0: a, 1: z}


def test_grad_req_null_is_not_updated():
    w, b = _params()
    b.grad_req = "null"
    tr = gluon.Trainer([w, b], "sgd", {"learning_rate": 0.1})
    _forward_backward(w, b)
    tr.step(1)
    np.testing.assert_array_equal(b.data().asnumpy(), [0.0])
    assert not np.allclose(w.data().asnumpy(), [0.1, 0.2, -0.1])


def test_learning_rate_property_and_setter():
    w, b = _params()
    tr = gluon.Trainer([w, b], "sgd", {"learning_rate": 0.3})
    assert tr.learning_rate == 0.3
    tr.set_learning_rate(0.05)
    assert tr.learning_rate == 0.05
    assert isinstance(tr.optimizer, mx.optimizer.SGD)
    sched = mx.lr_scheduler.FactorScheduler(step=1, factor=0.5, base_lr=1.0)
    tr2 = gluon.Trainer([w, b], mx.optimizer.SGD(lr_scheduler=sched))
    with pytest.raises(UserWarning, match="LRScheduler"):
        tr2.set_learning_rate(0.1)


def test_allreduce_then_update_equals_step():
    w1, b1 = _params()
    w2, b2 = _params()
    t1 = gluon.Trainer([w1, b1], "adam", {"learning_rate": 0.01})
    t2 = gluon.Trainer([w2, b2], "adam", {"learning_rate": 0.01}, update_on_kvstore=False)
    for _ in range(3):
        _forward_backward(w1, b1)
        t1.step(8)
        _forward_backward(w2, b2)
        t2.allreduce_grads()
        t2.update(8)
    np.testing.assert_allclose(w1.data().asnumpy(), w2.data().asnumpy(), rtol=1e-6)
    np.testing.assert_allclose(b1.data().asnumpy(), b2.data().asnumpy(), rtol=1e-6)


def test_adam_trainer_matches_numpy():
    w, b = _params()
    tr = gluon.Trainer([w, b], "adam", {"learning_rate": 0.05})
    wn, bn = np.array([0.1, 0.2, -0.1]), np.array([0.0])
    st = {k: np.zeros(s) for k, s in (("mw", 3), ("vw", 3), ("mb", 1), ("vb", 1))}
    for t in range(1, 6):
        _forward_backward(w, b)
        tr.step(8)
        gw, gb = _np_grads(wn, bn)
        lr_t = 0.05 * math.sqrt(1 - 0.999 ** t) / (1 - 0.9 ** t)
        for key, g in (("w", gw / 8), ("b", gb / 8)):
            st["m" + key] = 0.9 * st["m" + key] + 0.1 * g
            st["v" + key] = 0.999 * st["v" + key] + 0.001 * g * g
        wn = wn - lr_t * st["mw"] / (np.sqrt(st["vw"]) + 1e-8)
        bn = bn - lr_t * st["mb"] / (np.sqrt(st["vb"]) + 1e-8)
        # float32 weights against a float64 reference (steps are ~lr = 0.05)
        np.testing.assert_allclose(w.data().asnumpy(), wn, rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(b.data().asnumpy(), bn, rtol=1e-4, atol=1e-5)


def test_save_and_load_states(tmp_path):
    w1, b1 = _params()
    t1 = gluon.Trainer([w1, b1], "adam", {"learning_rate": 0.02})
    for _ in range(3):
        _forward_backward(w1, b1)
        t1.step(8)
    fname = str(tmp_path / "trainer.states")
    t1.save_states(fname)
    w2, b2 = _params(w0=tuple(w1.data().asnumpy()), b0=float(b1.data().asnumpy()[0]))
    t2 = gluon.Trainer([w2, b2], "sgd", {"learning_rate": 9.0})
    t2.load_states(fname)
    assert isinstance(t2.optimizer, mx.optimizer.Adam)
    assert t2.learning_rate == 0.02
    assert t2.optimizer.param_dict[0] is w2
    for _ in range(2):
        _forward_backward(w1, b1)
        t1.step(8)
        _forward_backward(w2, b2)
        t2.step(8)
    np.testing.assert_allclose(w1.data().asnumpy(), w2.data().asnumpy(), rtol=1e-6)
    np.testing.assert_allclose(b1.data().asnumpy(), b2.data().asnumpy(), rtol=1e-6)


def test_multiple_contexts_sum_gradients():
    ctx = [mx.cpu(0), mx.cpu(1)]
    w, b = _params(ctx=ctx)
    tr = gluon.Trainer([w, b], "sgd", {"learning_rate": 0.1})
    halves = [(X[:4], Y[:4]), (X[4:], Y[4:])]
    for c, (x, y) in zip(ctx, halves):
        _forward_backward(w, b, x, y, ctx=c)
    tr.step(8)
    wn, bn = np.array([0.1, 0.2, -0.1]), np.array([0.0])
    gw, gb = _np_grads(wn, bn)  # the full-batch gradient = sum over the two halves
    for c in ctx:
        np.testing.assert_allclose(w.data(c).asnumpy(), wn - 0.1 * gw / 8, rtol=1e-5)
        np.testing.assert_allclose(b.data(c).asnumpy(), bn - 0.1 * gb / 8, rtol=1e-5)
    # MXNet refuses allreduce_grads/update when updating on the kvstore (the default here)
    with pytest.raises(AssertionError, match="update_on_kvstore"):
        tr.allreduce_grads()
    with pytest.raises(AssertionError, match="update_on_kvstore"):
        tr.update(8)
    # without a kvstore each context uses its own gradient
    w2, b2 = _params(ctx=ctx)
    tr2 = gluon.Trainer([w2, b2], "sgd", {"learning_rate": 0.1}, kvstore=None)
    for c, (x, y) in zip(ctx, halves):
        _forward_backward(w2, b2, x, y, ctx=c)
    tr2.step(4)
    for c, (x, y) in zip(ctx, halves):
        gw, _ = _np_grads(wn, bn, x, y)
        np.testing.assert_allclose(w2.data(c).asnumpy(), wn - 0.1 * gw / 4, rtol=1e-5)


def test_stale_gradient_error():
    w, b = _params()
    unused = gluon.Parameter("unused_weight", shape=(2,))
    unused.initialize()
    tr = gluon.Trainer([w, b, unused], "sgd", {"learning_rate": 0.1})
    _forward_backward(w, b)
    with pytest.raises(UserWarning, match="unused_weight.*has not been updated by backward"):
        tr.step(1)
    _forward_backward(w, b)
    before = unused.data().asnumpy()
    tr.step(1, ignore_stale_grad=True)
    np.testing.assert_array_equal(unused.data().asnumpy(), before)
    with pytest.raises(UserWarning, match="fc_weight"):
        tr.step(1)  # no backward since the last step


def test_argument_errors():
    w, b = _params()
    with pytest.raises(ValueError, match="list or dict of Parameters"):
        gluon.Trainer(w, "sgd")
    with pytest.raises(ValueError, match="list of"):
        gluon.Trainer([w, nd.zeros((2,))], "sgd")
    with pytest.raises(ValueError, match="optimizer_params must be None"):
        gluon.Trainer([w], mx.optimizer.SGD(), {"learning_rate": 0.1})
    with pytest.raises(ValueError, match="Cannot find optimizer"):
        gluon.Trainer([w], "nosuchopt")
    with pytest.raises(NotImplementedError, match="distributed"):
        gluon.Trainer([w], "sgd", kvstore="dist_sync")
    with pytest.raises(ValueError, match="unknown kvstore"):
        gluon.Trainer([w], "sgd", kvstore="bogus")
    w2 = gluon.Parameter("w2", shape=(3,))
    w2.initialize(ctx=[mx.cpu(0), mx.cpu(1)])
    with pytest.raises(ValueError, match="same set of contexts"):
        gluon.Trainer([w, w2], "sgd")


def test_shared_parameter_updated_once():
    w, b = _params()
    tr = gluon.Trainer([w, b, w], "sgd", {"learning_rate": 0.1})
    assert tr._params == [w, b]
    w0, b0 = w.data().asnumpy(), b.data().asnumpy()
    _forward_backward(w, b)
    tr.step(8)
    gw, _ = _np_grads(w0, b0)
    np.testing.assert_allclose(w.data().asnumpy(), w0 - 0.1 * gw / 8, rtol=1e-5)


def test_deferred_parameter_initialized_after_trainer():
    w = gluon.Parameter("late_weight", shape=(0,), allow_deferred_init=True)
    w.initialize()
    tr = gluon.Trainer([w], "sgd", {"learning_rate": 0.5})
    w.shape = (3,)
    w._finish_deferred_init()
    w.set_data(nd.array(np.array([1.0, 2.0, 3.0])))
    x = nd.array(np.array([1.0, -1.0, 2.0]))
    with autograd.record():
        loss = nd.sum(w.data() * x)
    loss.backward()
    tr.step(1)
    np.testing.assert_allclose(w.data().asnumpy(), [0.5, 2.5, 2.0], rtol=1e-6)
