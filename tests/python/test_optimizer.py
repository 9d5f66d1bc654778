"""mx.optimizer: each optimizer, step by step, against its update rule written out in numpy."""
import math
import pickle

import numpy as np
import pytest

import mx
from mx import optimizer as opt

SHAPE = (3, 4)


def _clip(x, c):
    return x if c is None else np.clip(x, -c, c)


# --------------------------------------------------------------------- numpy references
# Each takes (w, g, state, t, lr, wd, p) and returns the new w (state is a dict it updates).
def ref_sgd(w, g, s, t, lr, wd, p):
    gr = _clip(g * p["rescale_grad"], p.get("clip_gradient")) + wd * w
    m = p.get("momentum", 0.0)
    if m:
        s["mom"] = m * s.get("mom", np.zeros_like(w)) - lr * gr
        return w + s["mom"]
    return w - lr * gr


def ref_nag(w, g, s, t, lr, wd, p):
    gr = _clip(g * p["rescale_grad"], p.get("clip_gradient")) + wd * w
    m = p.get("momentum", 0.0)
    if m:
        s["mom"] = m * s.get("mom", np.zeros_like(w)) - lr * gr
        return w + m * s["mom"] - lr * gr
    return w - lr * gr


def ref_adam(w, g, s, t, lr, wd, p):
    b1, b2, eps = p.get("beta1", 0.9), p.get("beta2", 0.999), p.get("epsilon", 1e-8)
    gr = _clip(g * p["rescale_grad"] + wd * w, p.get("clip_gradient"))
    s["m"] = b1 * s.get("m", 0) + (1 - b1) * gr
    s["v"] = b2 * s.get("v", 0) + (1 - b2) * gr * gr
    lr_t = lr * math.sqrt(1 - b2 ** t) / (1 - b1 ** t)
    return w - lr_t * s["m"] / (np.sqrt(s["v"]) + eps)


def ref_adamw(w, g, s, t, lr, wd, p):
    b1, b2, eps = p.get("beta1", 0.9), p.get("beta2", 0.999), p.get("epsilon", 1e-6)
    gr = _clip(g * p["rescale_grad"], p.get("clip_gradient"))
    s["m"] = b1 * s.get("m", 0) + (1 - b1) * gr
    s["v"] = b2 * s.get("v", 0) + (1 - b2) * gr * gr
    # the bias correction is applied as MXNet does: sqrt(1-b2^t)/(1-b1^t) times m/(sqrt(v)+eps)
    coef = math.sqrt(1 - b2 ** t) / (1 - b1 ** t)
    return w - lr * (coef * s["m"] / (np.sqrt(s["v"]) + eps) + wd * w)


def ref_rmsprop(w, g, s, t, lr, wd, p):
    g1, eps = p.get("gamma1", 0.9), p.get("epsilon", 1e-8)
    gr = _clip(g * p["rescale_grad"] + wd * w, p.get("clip_gradient"))
    s["n"] = (1 - g1) * gr * gr + g1 * s.get("n", 0)
    w = w - lr * gr / np.sqrt(s["n"] + eps)
    return _clip(w, p.get("clip_weights"))


def ref_rmsprop_centered(w, g, s, t, lr, wd, p):
    g1, g2, eps = p.get("gamma1", 0.9), p.get("gamma2", 0.9), p.get("epsilon", 1e-8)
    gr = _clip(g * p["rescale_grad"] + wd * w, p.get("clip_gradient"))
    s["n"] = (1 - g1) * gr * gr + g1 * s.get("n", 0)
    s["g"] = (1 - g1) * gr + g1 * s.get("g", 0)
    s["d"] = g2 * s.get("d", 0) - lr * gr / np.sqrt(s["n"] - s["g"] * s["g"] + eps)
    return _clip(w + s["d"], p.get("clip_weights"))


def ref_adagrad(w, g, s, t, lr, wd, p):
    eps = p.get("eps", 1e-7)
    gr = _clip(g * p["rescale_grad"], p.get("clip_gradient"))
    s["h"] = s.get("h", 0) + gr * gr
    return w - lr * (gr / np.sqrt(s["h"] + eps) + wd * w)


def ref_ftrl(w, g, s, t, lr, wd, p):
    l1, beta = p.get("lamda1", 0.01), p.get("beta", 1)
    gr = _clip(g * p["rescale_grad"], p.get("clip_gradient"))
    n = s.get("n", np.zeros_like(w))
    s["z"] = s.get("z", 0) + gr - (np.sqrt(n + gr * gr) - np.sqrt(n)) * w / lr
    s["n"] = n + gr * gr
    z = s["z"]
    return (np.sign(z) * l1 - z) / ((beta + np.sqrt(s["n"])) / lr + wd) * (np.abs(z) > l1)


def ref_lamb(w, g, s, t, lr, wd, p):
    b1, b2, eps = p.get("beta1", 0.9), p.get("beta2", 0.999), p.get("epsilon", 1e-6)
    gr = _clip(g * p["rescale_grad"], p.get("clip_gradient"))
    s["m"] = b1 * s.get("m", 0) + (1 - b1) * gr
    s["v"] = b2 * s.get("v", 0) + (1 - b2) * gr * gr
    m, v = s["m"], s["v"]
    if p.get("bias_correction", True):
        m, v = m / (1 - b1 ** t), v / (1 - b2 ** t)
    d = m / (np.sqrt(v) + eps) + wd * w
    r1 = np.linalg.norm(w)
    if p.get("lower_bound"):
        r1 = max(r1, p["lower_bound"])
    if p.get("upper_bound"):
        r1 = min(r1, p["upper_bound"])
    r2 = np.linalg.norm(d)
    ratio = r1 / r2 if r1 > 0 and r2 > 0 else 1.0
    return w - lr * ratio * d


CASES = [
    ("sgd", ref_sgd, dict(learning_rate=0.1)),
    ("sgd", ref_sgd, dict(learning_rate=0.1, wd=0.01, rescale_grad=0.5, clip_gradient=0.3)),
    ("sgd", ref_sgd, dict(learning_rate=0.05, momentum=0.9, wd=0.02, clip_gradient=0.5)),
    ("nag", ref_nag, dict(learning_rate=0.05, momentum=0.9, wd=0.02, rescale_grad=2.0)),
    ("nag", ref_nag, dict(learning_rate=0.05, wd=0.02)),
    ("adam", ref_adam, dict(learning_rate=0.01)),
    ("adam", ref_adam, dict(learning_rate=0.01, beta1=0.8, beta2=0.99, epsilon=1e-6, wd=0.05,
                            rescale_grad=0.25, clip_gradient=0.2)),
    ("adamw", ref_adamw, dict(learning_rate=0.01, wd=0.1)),
    ("adamw", ref_adamw, dict(learning_rate=0.02, wd=0.01, rescale_grad=0.5, clip_gradient=0.1,
                              beta1=0.85)),
    ("rmsprop", ref_rmsprop, dict(learning_rate=0.01, wd=0.01, rescale_grad=0.5)),
    ("rmsprop", ref_rmsprop, dict(learning_rate=0.01, gamma1=0.8, clip_gradient=0.2,
                                  clip_weights=0.9)),
    ("rmsprop", ref_rmsprop_centered, dict(learning_rate=0.01, centered=True, wd=0.01,
                                           gamma1=0.95, gamma2=0.8, clip_weights=2.0)),
    ("adagrad", ref_adagrad, dict(learning_rate=0.1, rescale_grad=0.5, clip_gradient=0.5)),
    ("adagrad", ref_adagrad, dict(learning_rate=0.1, wd=0.05, eps=1e-5)),
    ("ftrl", ref_ftrl, dict(learning_rate=0.1)),
    ("ftrl", ref_ftrl, dict(learning_rate=0.2, lamda1=0.05, beta=0.5, wd=0.1, rescale_grad=0.5,
                            clip_gradient=0.4)),
    ("lamb", ref_lamb, dict(learning_rate=0.01, wd=0.01)),
    ("lamb", ref_lamb, dict(learning_rate=0.01, wd=0.0, bias_correction=False, rescale_grad=0.5,
                            clip_gradient=0.3, lower_bound=0.5, upper_bound=1.5)),
]


def _run(name, ref, kwargs, steps=5, seed=0):
    rng = np.random.RandomState(seed)
    w0 = rng.uniform(-1, 1, SHAPE)
    o = opt.create(name, **kwargs)
    upd = opt.get_updater(o)
    w = mx.nd.array(w0, dtype="float32")
    wr = w0.astype(np.float64)
    state = {}
    p = dict(kwargs, rescale_grad=kwargs.get("rescale_grad", 1.0))
    lr = kwargs["learning_rate"]
    wd = kwargs.get("wd", 0.0)
    for t in range(1, steps + 1):
        g = rng.uniform(-1, 1, SHAPE)
        upd(0, mx.nd.array(g, dtype="float32"), w)
        wr = ref(wr, g, state, t, lr, wd, p)
        np.testing.assert_allclose(w.asnumpy(), wr, rtol=1e-4, atol=1e-5,
                                   err_msg="%s %s step %d" % (name, kwargs, t))
    return o, upd


@pytest.mark.parametrize("name,ref,kwargs", CASES,
                         ids=["%s-%d" % (c[0], i) for i, c in enumerate(CASES)])
def test_optimizer_steps(name, ref, kwargs):
    _run(name, ref, kwargs)


def test_registry_and_create():
    assert isinstance(opt.create("SGD"), opt.SGD)
    assert isinstance(opt.create("adam"), opt.Adam)
    assert isinstance(mx.optimizer.Optimizer.create_optimizer("RMSProp"), opt.RMSProp)
    for name in ("sgd", "nag", "adam", "adamw", "rmsprop", "adagrad", "ftrl", "lamb"):
        assert name in opt.Optimizer.opt_registry
    with pytest.raises(ValueError, match="Cannot find optimizer"):
        opt.create("no_such_optimizer")

    @opt.register
    class MyOpt(opt.Optimizer):  # pylint: disable=unused-variable
        def update(self, index, weight, grad, state):
            weight[:] = grad

    o = opt.create("myopt")
    w = mx.nd.zeros((2,))
    opt.get_updater(o)(0, mx.nd.array([3., 4.]), w)
    np.testing.assert_array_equal(w.asnumpy(), [3., 4.])


def test_defaults_match_mxnet():
    assert opt.SGD().learning_rate == 0.01
    assert opt.Adam().learning_rate == 0.001
    assert opt.RMSProp().learning_rate == 0.001
    assert opt.Ftrl().learning_rate == 0.1
    a = opt.Adam()
    assert (a.beta1, a.beta2, a.epsilon) == (0.9, 0.999, 1e-8)
    r = opt.RMSProp()
    assert (r.gamma1, r.gamma2, r.centered) == (0.9, 0.9, False)
    assert opt.AdaGrad().float_stable_eps == 1e-7
    assert opt.SGD().clip_gradient is None and opt.SGD().wd == 0.0


def test_lr_wd_mult_by_name_and_index():
    # param_idx2name: names not ending in _weight/_gamma get wd_mult 0 (MXNet's rule)
    o = opt.SGD(learning_rate=0.1, wd=0.1, param_idx2name={0: "fc_weight", 1: "fc_bias"})
    o.set_lr_mult({"fc_weight": 0.5})
    assert o._get_lr(0) == pytest.approx(0.05)
    assert o._get_lr(1) == pytest.approx(0.1)
    assert o._get_wd(0) == pytest.approx(0.1)
    assert o._get_wd(1) == 0.0
    o.set_wd_mult({1: 2.0})
    assert o._get_wd(1) == pytest.approx(0.2)
    upd = opt.get_updater(o)
    w0, w1 = np.array([1.0, -2.0]), np.array([0.5, 0.25])
    g = np.array([0.3, 0.1])
    a, b = mx.nd.array(w0), mx.nd.array(w1)
    upd([0, 1], [mx.nd.array(g), mx.nd.array(g)], [a, b])
    np.testing.assert_allclose(a.asnumpy(), w0 - 0.05 * (g + 0.1 * w0), rtol=1e-6)
    np.testing.assert_allclose(b.asnumpy(), w1 - 0.1 * (g + 0.2 * w1), rtol=1e-6)


class _P:
    def __init__(self, lr_mult, wd_mult):
        self.lr_mult, self.wd_mult = lr_mult, wd_mult


def test_param_dict_mults():
    o = opt.SGD(learning_rate=0.2, wd=0.5, param_dict={0: _P(0.5, 0.0), 1: _P(2.0, 3.0)})
    assert o._get_lr(0) == pytest.approx(0.1) and o._get_wd(0) == 0.0
    assert o._get_lr(1) == pytest.approx(0.4) and o._get_wd(1) == pytest.approx(1.5)


def test_learning_rate_and_scheduler():
    o = opt.SGD(learning_rate=0.1)
    o.set_learning_rate(0.3)
    assert o.learning_rate == 0.3
    sched = mx.lr_scheduler.FactorScheduler(step=2, factor=0.5)
    with pytest.warns(UserWarning, match="overwritten"):
        o = opt.SGD(learning_rate=1.0, lr_scheduler=sched)
    assert sched.base_lr == 1.0
    with pytest.raises(UserWarning, match="LRScheduler"):
        o.set_learning_rate(0.5)
    upd = opt.get_updater(o)
    w = mx.nd.zeros((1,))
    expected = 0.0
    for t in range(1, 7):
        upd(0, mx.nd.ones((1,)), w)
        expected -= 1.0 * 0.5 ** ((t - 1) // 2)  # lr at num_update t
        np.testing.assert_allclose(w.asnumpy(), [expected], rtol=1e-6)
    assert o.num_update == 6


def test_update_counts_per_index_and_begin_num_update():
    o = opt.Adam(begin_num_update=10)
    upd = opt.get_updater(o)
    w = mx.nd.ones((2,))
    upd(0, mx.nd.ones((2,)), w)
    upd(0, mx.nd.ones((2,)), w)
    upd(1, mx.nd.ones((2,)), mx.nd.ones((2,)))
    assert o._index_update_count == {0: 12, 1: 11}
    assert o.num_update == 12


def test_multi_precision_float16():
    rng = np.random.RandomState(1)
    w0 = rng.uniform(-1, 1, SHAPE).astype(np.float16)
    o = opt.SGD(learning_rate=0.1, momentum=0.9, multi_precision=True)
    upd = opt.get_updater(o)
    w = mx.nd.array(w0, dtype="float16")
    master = w0.astype(np.float64)
    mom = np.zeros(SHAPE)
    for _ in range(4):
        g = rng.uniform(-1, 1, SHAPE).astype(np.float16)
        upd(0, mx.nd.array(g, dtype="float16"), w)
        mom = 0.9 * mom - 0.1 * g.astype(np.float64)
        master = master + mom
    st = upd.states[0]
    assert st[0].dtype == np.float32 and st[1].dtype == np.float32
    np.testing.assert_allclose(st[0].asnumpy(), master, rtol=1e-5, atol=1e-5)
    assert w.dtype == np.float16
    np.testing.assert_allclose(w.asnumpy().astype(np.float64), master.astype(np.float16),
                               rtol=1e-3, atol=1e-3)


def test_float16_without_multi_precision_warns():
    o = opt.SGD(learning_rate=0.1, momentum=0.5)
    with pytest.warns(UserWarning, match="multi_precision"):
        o.create_state_multi_precision(0, mx.nd.zeros((2,), dtype="float16"))


def test_updater_states_roundtrip():
    o, upd = _run("adam", ref_adam, dict(learning_rate=0.01), steps=3)
    blob = upd.get_states(dump_optimizer=True)
    obj = pickle.loads(blob)  # plain pickle of numpy arrays
    assert isinstance(obj, tuple)
    upd2 = opt.get_updater(opt.SGD())
    upd2.set_states(blob)
    assert isinstance(upd2.optimizer, opt.Adam)
    assert upd2.optimizer._index_update_count == {0: 3}
    for a, b in zip(upd.states[0], upd2.states[0]):
        np.testing.assert_array_equal(a.asnumpy(), b.asnumpy())
    # continuing with the loaded updater matches continuing with the original one
    w1, w2 = mx.nd.ones(SHAPE), mx.nd.ones(SHAPE)
    g = mx.nd.array(np.full(SHAPE, 0.3))
    upd(0, g, w1)
    upd2(0, g, w2)
    np.testing.assert_allclose(w1.asnumpy(), w2.asnumpy(), rtol=1e-6)
    # states only: the updater keeps its optimizer
    upd3 = opt.get_updater(opt.Adam())
    upd3.set_states(upd.get_states())
    assert upd3.optimizer is not upd.optimizer
    with pytest.raises(ValueError, match="get_states"):
        upd3.set_states(pickle.dumps({"x": 1}))


def test_optimizer_pickle_drops_param_dict():
    o = opt.SGD(learning_rate=0.3, param_dict={0: _P(1.0, 1.0)})
    o2 = pickle.loads(pickle.dumps(o))
    assert o2.param_dict == {} and o2.lr == 0.3


def test_bad_arguments():
    with pytest.raises(ValueError, match="param_idx2name"):
        opt.SGD(param_idx2name=[1, 2])
    with pytest.raises(TypeError):
        opt.register(int)
