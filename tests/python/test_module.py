"""mx.module.Module (MXNet 1.x Module API), mx.model checkpoints and mx.callback.

References are independent of the module: numpy forward/backward formulas written here, the same
symbol bound directly, metrics computed by hand, and files written by real MXNet 1.9.1."""
import json
import logging
import os

import numpy as np
import pytest

import mx
import mx.callback
import mx.model
from mx import nd
from mx.io import DataBatch, DataDesc, NDArrayIter
from mx.module import Module, ModuleStateError

from conftest import run_mxnet

# ---------------------------------------------------------------------- helpers
N_IN, N_HID, N_OUT = 6, 4, 3


def _tiny_net():
    data = mx.sym.Variable("data")
    h = mx.sym.FullyConnected(data=data, num_hidden=N_HID, name="fc1")
    h = mx.sym.Activation(data=h, act_type="tanh", name="tanh1")
    z = mx.sym.FullyConnected(data=h, num_hidden=N_OUT, name="fc2")
    return mx.sym.SoftmaxOutput(data=z, name="softmax")


def _tiny_params(seed=0):
    rng = np.random.RandomState(seed)
    return {"fc1_weight": rng.uniform(-0.8, 0.8, (N_HID, N_IN)).astype(np.float32),
            "fc1_bias": rng.uniform(-0.3, 0.3, (N_HID,)).astype(np.float32),
            "fc2_weight": rng.uniform(-0.8, 0.8, (N_OUT, N_HID)).astype(np.float32),
            "fc2_bias": rng.uniform(-0.3, 0.3, (N_OUT,)).astype(np.float32)}


def _np_softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _np_forward(p, x):
    x = x.astype(np.float64)
    h = np.tanh(x @ p["fc1_weight"].T + p["fc1_bias"])
    return h, _np_softmax(h @ p["fc2_weight"].T + p["fc2_bias"])


def _np_backward(p, x, y):
    """Gradients of SoftmaxOutput (softmax - onehot, not normalized) through the tiny net."""
    x = x.astype(np.float64)
    h, prob = _np_forward(p, x)
    dz = prob.copy()
    dz[np.arange(len(y)), y.astype(int)] -= 1.0
    da = (dz @ p["fc2_weight"]) * (1.0 - h * h)
    return {"fc2_weight": dz.T @ h, "fc2_bias": dz.sum(0), "fc1_weight": da.T @ x,
            "fc1_bias": da.sum(0), "data": da @ p["fc1_weight"]}


def _nd_dict(d):
    return {k: nd.array(v) for k, v in d.items()}


def _xy(n, seed=1):
    rng = np.random.RandomState(seed)
    return (rng.normal(size=(n, N_IN)).astype(np.float32),
            rng.randint(0, N_OUT, size=(n,)).astype(np.float32))


def _bound_tiny(batch, for_training=False, **kw):
    mod = Module(_tiny_net(), context=mx.cpu())
    mod.bind(data_shapes=[("data", (batch, N_IN))], label_shapes=[("softmax_label", (batch,))],
             for_training=for_training, **kw)
    mod.set_params(_nd_dict(_tiny_params()), {})
    return mod


def _clusters(n, seed):
    """Three well separated Gaussian clusters in 10-D."""
    rng = np.random.RandomState(seed)
    centers = np.random.RandomState(123).normal(scale=3.0, size=(3, 10))
    y = rng.randint(0, 3, size=n)
    x = centers[y] + rng.normal(scale=0.7, size=(n, 10))
    return x.astype(np.float32), y.astype(np.float32)


def _mlp(num_hidden=32, num_classes=3):
    data = mx.sym.Variable("data")
    h = mx.sym.FullyConnected(data=data, num_hidden=num_hidden, name="fc1")
    h = mx.sym.Activation(data=h, act_type="relu", name="relu1")
    z = mx.sym.FullyConnected(data=h, num_hidden=num_classes, name="fc2")
    return mx.sym.SoftmaxOutput(data=z, name="softmax")


# ---------------------------------------------------------------------- forward / backward
def test_forward_matches_numpy_and_direct_bind():
    x, y = _xy(5)
    mod = _bound_tiny(5)
    assert mod.data_names == ["data"] and mod.output_names == ["softmax_output"]
    assert mod.data_shapes == [DataDesc("data", (5, N_IN))]
    assert mod.label_shapes == [DataDesc("softmax_label", (5,))]
    assert mod.output_shapes == [("softmax_output", (5, N_OUT))]
    mod.forward(DataBatch([nd.array(x)], [nd.array(y)]), is_train=False)
    out = mod.get_outputs()[0].asnumpy()
    _, ref = _np_forward(_tiny_params(), x)
    np.testing.assert_allclose(out, ref, rtol=1e-5, atol=1e-6)

    args = dict(_nd_dict(_tiny_params()), data=nd.array(x), softmax_label=nd.array(y))
    exe = _tiny_net().bind(mx.cpu(), args)
    direct = exe.forward(is_train=False)[0].asnumpy()
    np.testing.assert_array_equal(out, direct)
    assert mod.get_outputs(merge_multi_context=False)[0][0].shape == (5, N_OUT)


def test_backward_input_grads_and_sgd_update_match_numpy():
    x, y = _xy(5)
    p = _tiny_params()
    mod = _bound_tiny(5, for_training=True, inputs_need_grad=True)
    lr = 0.5
    mod.init_optimizer(optimizer="sgd", optimizer_params={"learning_rate": lr})
    mod.forward_backward(DataBatch([nd.array(x)], [nd.array(y)]))
    grads = _np_backward(p, x, y)
    np.testing.assert_allclose(mod.get_input_grads()[0].asnumpy(), grads["data"], rtol=1e-4,
                               atol=1e-6)
    mod.update()
    arg, aux = mod.get_params()
    assert aux == {} and sorted(arg) == sorted(p)
    for name in p:   # rescale_grad defaults to 1 / batch_size
        np.testing.assert_allclose(arg[name].asnumpy(), p[name] - lr * grads[name] / 5.0,
                                   rtol=1e-4, atol=1e-6, err_msg=name)


def test_forward_with_another_batch_size_shares_parameters():
    mod = _bound_tiny(4, for_training=True)
    mod.init_optimizer(optimizer_params={"learning_rate": 0.1})
    x7, y7 = _xy(7, seed=3)
    mod.forward(DataBatch([nd.array(x7)], [nd.array(y7)]), is_train=False)
    assert mod.get_outputs()[0].shape == (7, N_OUT)
    assert mod.output_shapes == [("softmax_output", (7, N_OUT))]
    assert mod.data_shapes[0].shape == (7, N_IN)
    np.testing.assert_allclose(mod.get_outputs()[0].asnumpy(), _np_forward(_tiny_params(), x7)[1],
                               rtol=1e-5, atol=1e-6)
    # train a step at batch 4, then the batch-7 executor sees the updated weights
    x4, y4 = _xy(4, seed=4)
    mod.forward_backward(DataBatch([nd.array(x4)], [nd.array(y4)]))
    mod.update()
    new_p = {k: v.asnumpy() for k, v in mod.get_params()[0].items()}
    assert not np.allclose(new_p["fc1_weight"], _tiny_params()["fc1_weight"])
    mod.forward(DataBatch([nd.array(x7)], [nd.array(y7)]), is_train=False)
    np.testing.assert_allclose(mod.get_outputs()[0].asnumpy(), _np_forward(new_p, x7)[1],
                               rtol=1e-5, atol=1e-6)


def test_batchnorm_aux_states_follow_training_forward():
    data = mx.sym.Variable("data")
    bn = mx.sym.BatchNorm(data=data, fix_gamma=False, momentum=0.9, name="bn")
    net = mx.sym.SoftmaxOutput(mx.sym.FullyConnected(bn, num_hidden=2, name="fc"), name="softmax")
    mod = Module(net)
    mod.bind([("data", (8, 5))], [("softmax_label", (8,))])
    mod.init_params(mx.init.Xavier())
    arg, aux = mod.get_params()
    assert sorted(aux) == ["bn_moving_mean", "bn_moving_var"]
    np.testing.assert_array_equal(aux["bn_moving_mean"].asnumpy(), np.zeros(5))
    np.testing.assert_array_equal(aux["bn_moving_var"].asnumpy(), np.ones(5))
    x = np.random.RandomState(0).normal(2.0, 3.0, size=(8, 5)).astype(np.float32)
    mod.forward(DataBatch([nd.array(x)], [nd.zeros((8,))]), is_train=True)
    _, aux = mod.get_params()
    np.testing.assert_allclose(aux["bn_moving_mean"].asnumpy(), 0.1 * x.mean(0), rtol=1e-4,
                               atol=1e-6)


def test_rebind_keeps_trained_parameters_and_states_feed_inputs():
    mod = _bound_tiny(4, for_training=True)
    mod.init_optimizer(optimizer_params={"learning_rate": 0.3})
    x, y = _xy(4, seed=10)
    mod.forward_backward(DataBatch([nd.array(x)], [nd.array(y)]))
    mod.update()
    trained = {k: v.asnumpy().copy() for k, v in mod.get_params()[0].items()}
    mod.bind([("data", (3, N_IN))], [("softmax_label", (3,))])          # ignored: bound
    assert mod.data_shapes[0].shape == (4, N_IN)
    with pytest.warns(UserWarning, match="label_names"):      # no label shapes: MXNet warns too
        mod.bind([("data", (3, N_IN))], None, for_training=False, force_rebind=True)
    assert mod.data_shapes[0].shape == (3, N_IN) and mod.label_shapes is None
    np.testing.assert_allclose(mod.predict(x[:3]).asnumpy(), _np_forward(trained, x[:3])[1],
                               rtol=1e-5, atol=1e-6)
    with pytest.warns(UserWarning, match="label_names"):
        mod.reshape([("data", (2, N_IN))])
    assert mod.output_shapes == [("softmax_output", (2, N_OUT))]

    fresh = Module(_tiny_net())                                          # rebind before init
    fresh.bind([("data", (4, N_IN))], [("softmax_label", (4,))])
    fresh.bind([("data", (5, N_IN))], [("softmax_label", (5,))], force_rebind=True)
    fresh.init_params()
    assert fresh.get_params()[0]["fc1_weight"].shape == (N_HID, N_IN)

    # a state input: set by set_states, kept across batches, not a parameter
    data, state = mx.sym.Variable("data"), mx.sym.Variable("state")
    net = mx.sym.FullyConnected(data, num_hidden=2, name="fc") + state
    smod = Module(net, label_names=None, state_names=["state"])
    smod.bind([("data", (3, 4))], for_training=False)
    smod.init_params(mx.init.One())
    assert sorted(smod.get_params()[0]) == ["fc_bias", "fc_weight"]
    smod.set_states(value=0.5)
    xs = np.arange(12, dtype=np.float32).reshape(3, 4)
    smod.forward(DataBatch([nd.array(xs)]))
    want = xs.sum(1, keepdims=True) + 0.0 + 0.5    # ones weight, zero bias (bias init), state
    np.testing.assert_allclose(smod.get_outputs()[0].asnumpy(), np.repeat(want, 2, 1))
    smod.set_states(states=[nd.array(np.full((3, 2), 2.0, np.float32))])
    np.testing.assert_array_equal(smod.get_states()[0].asnumpy(), np.full((3, 2), 2.0))


# ---------------------------------------------------------------------- fit / score / predict
def test_fit_reaches_high_accuracy_and_score_matches_predict():
    mx.random.seed(7)
    np.random.seed(7)
    xtr, ytr = _clusters(600, seed=1)
    xva, yva = _clusters(200, seed=2)
    train = NDArrayIter(xtr, ytr, batch_size=30, shuffle=True)
    val = NDArrayIter(xva, yva, batch_size=40)
    mod = Module(_mlp())
    batches, epochs = [], []
    mod.fit(train, eval_data=val, eval_metric="acc", optimizer="sgd",
            optimizer_params={"learning_rate": 0.1, "momentum": 0.9},
            initializer=mx.init.Xavier(), num_epoch=6,
            batch_end_callback=lambda p: batches.append((p.epoch, p.nbatch)),
            epoch_end_callback=lambda e, s, a, x: epochs.append((e, sorted(a), sorted(x))))
    assert len(batches) == 6 * 20 and batches[-1] == (5, 19)
    assert [e[0] for e in epochs] == list(range(6))
    assert epochs[0][1] == ["fc1_bias", "fc1_weight", "fc2_bias", "fc2_weight"]
    (name, acc), = mod.score(val, "acc")
    assert name == "accuracy" and acc > 0.95
    pred = mod.predict(val)
    assert pred.shape == (200, 3)
    by_hand = float(np.mean(pred.asnumpy().argmax(1) == yva))
    assert acc == pytest.approx(by_hand, abs=1e-12)


def test_predict_padded_last_batch_returns_exactly_n_rows():
    x, y = _xy(10, seed=5)
    ref = _np_forward(_tiny_params(), x)[1]
    mod = _bound_tiny(4)
    it = NDArrayIter(x, y, batch_size=4)            # last batch: 2 samples + 2 of padding
    out = mod.predict(it)
    assert isinstance(out, nd.NDArray) and out.shape == (10, N_OUT)
    np.testing.assert_allclose(out.asnumpy(), ref, rtol=1e-5, atol=1e-6)
    per_batch = mod.predict(it, merge_batches=False)
    assert [b[0].shape[0] for b in per_batch] == [4, 4, 2]
    np.testing.assert_allclose(per_batch[2][0].asnumpy(), ref[8:], rtol=1e-5, atol=1e-6)
    assert mod.predict(it, num_batch=2).shape == (8, N_OUT)
    listed = mod.predict(it, always_output_list=True)
    assert isinstance(listed, list) and listed[0].shape == (10, N_OUT)
    seen = []
    for outputs, nbatch, batch in mod.iter_predict(it):
        seen.append((nbatch, outputs[0].shape[0], batch.pad))
    assert seen == [(0, 4, 0), (1, 4, 0), (2, 2, 2)]
    # one array: a single batch
    np.testing.assert_allclose(mod.predict(x[:4]).asnumpy(), ref[:4], rtol=1e-5, atol=1e-6)


def test_score_equals_metrics_computed_by_hand():
    x, y = _xy(12, seed=6)
    prob = _np_forward(_tiny_params(), x)[1]
    mod = _bound_tiny(4)
    res = dict(mod.score(NDArrayIter(x, y, batch_size=4), ["acc", mx.metric.CrossEntropy()]))
    assert res["accuracy"] == pytest.approx(np.mean(prob.argmax(1) == y), abs=1e-12)
    ce = -np.mean(np.log(prob[np.arange(12), y.astype(int)] + 1e-12))
    assert res["cross-entropy"] == pytest.approx(ce, rel=1e-5)
    # as in MXNet, the padded samples of the last batch are counted (10 samples, pad 2 -> 12)
    x10, y10 = x[:10], y[:10]
    idx = np.r_[np.arange(10), 0, 1]
    (_, acc), = mod.score(NDArrayIter(x10, y10, batch_size=4), "acc")
    assert acc == pytest.approx(np.mean(prob[idx].argmax(1) == y10[idx]), abs=1e-12)
    # num_batch limits the batches; callbacks see every batch and the end
    ends = []
    mod.score(NDArrayIter(x, y, batch_size=4), "acc", num_batch=2,
              score_end_callback=lambda p: ends.append(p.nbatch))
    assert ends == [2]


def test_fixed_params_are_not_updated():
    xtr, ytr = _clusters(120, seed=3)
    mod = Module(_mlp(), fixed_param_names=["fc1_weight"])
    it = NDArrayIter(xtr, ytr, batch_size=20)
    mod.bind(it.provide_data, it.provide_label)
    mod.init_params(mx.init.Xavier())
    before = {k: v.asnumpy().copy() for k, v in mod.get_params()[0].items()}
    with pytest.warns(UserWarning, match="already initialized"):   # fit keeps these values
        mod.fit(it, num_epoch=2, optimizer_params={"learning_rate": 0.1})
    after = {k: v.asnumpy() for k, v in mod.get_params()[0].items()}
    np.testing.assert_array_equal(after["fc1_weight"], before["fc1_weight"])
    assert not np.allclose(after["fc2_weight"], before["fc2_weight"])
    assert not np.allclose(after["fc1_bias"], before["fc1_bias"])


def test_shared_module_uses_the_same_parameters():
    mod = _bound_tiny(4, for_training=True)
    mod.init_optimizer(optimizer_params={"learning_rate": 0.2})
    other = Module(_tiny_net())
    other.bind([("data", (6, N_IN))], [("softmax_label", (6,))], for_training=True,
               shared_module=mod)
    assert other.params_initialized and other.optimizer_initialized
    x4, y4 = _xy(4, seed=8)
    mod.forward_backward(DataBatch([nd.array(x4)], [nd.array(y4)]))
    mod.update()
    new_p = {k: v.asnumpy() for k, v in mod.get_params()[0].items()}
    x6, y6 = _xy(6, seed=9)
    other.forward(DataBatch([nd.array(x6)], [nd.array(y6)]), is_train=False)
    np.testing.assert_allclose(other.get_outputs()[0].asnumpy(), _np_forward(new_p, x6)[1],
                               rtol=1e-5, atol=1e-6)


# ---------------------------------------------------------------------- checkpoints
def test_checkpoint_round_trip_with_optimizer_states(tmp_path):
    xtr, ytr = _clusters(80, seed=4)
    it = NDArrayIter(xtr, ytr, batch_size=20)
    mod = Module(_mlp(8))
    mod.fit(it, num_epoch=1, initializer=mx.init.Xavier(),
            optimizer_params={"learning_rate": 0.05, "momentum": 0.9})
    prefix = str(tmp_path / "mlp")
    mod.save_checkpoint(prefix, 3, save_optimizer_states=True)
    for f in ("mlp-symbol.json", "mlp-0003.params", "mlp-0003.states"):
        assert (tmp_path / f).is_file(), f
    raw = nd.load(prefix + "-0003.params")
    assert sorted(raw) == ["arg:fc1_bias", "arg:fc1_weight", "arg:fc2_bias", "arg:fc2_weight"]

    sym, arg, aux = mx.model.load_checkpoint(prefix, 3)
    assert sym.list_arguments() == _mlp(8).list_arguments() and aux == {}
    cur = mod.get_params()[0]
    for k in cur:
        np.testing.assert_array_equal(arg[k].asnumpy(), cur[k].asnumpy())

    loaded = Module.load(prefix, 3, load_optimizer_states=True)
    loaded.bind(it.provide_data, it.provide_label)
    np.testing.assert_array_equal(loaded.predict(it).asnumpy(), mod.predict(it).asnumpy())
    loaded.init_optimizer(optimizer_params={"learning_rate": 0.05, "momentum": 0.9})
    # one more identical step on both: equal only if the momentum states were restored
    batch = next(iter(NDArrayIter(xtr[:20], ytr[:20], batch_size=20)))
    for m in (mod, loaded):
        m.forward_backward(batch)
        m.update()
    for k, v in mod.get_params()[0].items():
        np.testing.assert_allclose(loaded.get_params()[0][k].asnumpy(), v.asnumpy(), rtol=1e-6,
                                   atol=1e-7, err_msg=k)


def test_model_save_load_checkpoint_with_aux(tmp_path):
    data = mx.sym.Variable("data")
    net = mx.sym.BatchNorm(mx.sym.FullyConnected(data, num_hidden=3, name="fc"), name="bn")
    rng = np.random.RandomState(0)
    def f32(a):
        return nd.array(a.astype(np.float32))

    arg = {"fc_weight": f32(rng.normal(size=(3, 2))), "fc_bias": f32(rng.normal(size=3)),
           "bn_gamma": f32(rng.normal(size=3)), "bn_beta": f32(rng.normal(size=3))}
    aux = {"bn_moving_mean": f32(rng.normal(size=3)), "bn_moving_var": f32(rng.uniform(1, 2, 3))}
    prefix = str(tmp_path / "bn")
    mx.model.save_checkpoint(prefix, 12, net, arg, aux)
    assert (tmp_path / "bn-0012.params").is_file()
    sym, arg2, aux2 = mx.model.load_checkpoint(prefix, 12)
    assert sym.list_auxiliary_states() == ["bn_moving_mean", "bn_moving_var"]
    for src, dst in ((arg, arg2), (aux, aux2)):
        assert sorted(src) == sorted(dst)
        for k in src:
            np.testing.assert_array_equal(src[k].asnumpy(), dst[k].asnumpy())
    assert sorted(mx.model.load_params(prefix, 12)[1]) == sorted(aux)
    # Module.save_params / load_params use the same arg:/aux: layout
    mod = Module(net, label_names=None)
    mod.bind([("data", (4, 2))], for_training=False)
    mod.load_params(prefix + "-0012.params")
    mod.save_params(str(tmp_path / "again.params"))
    again = nd.load(str(tmp_path / "again.params"))
    assert sorted(again) == sorted(["arg:" + k for k in arg] + ["aux:" + k for k in aux])
    np.testing.assert_array_equal(again["aux:bn_moving_var"].asnumpy(),
                                  aux["bn_moving_var"].asnumpy())


@pytest.mark.parametrize("name", ["cnn", "mlp_bn"])
def test_mxnet_fixture_checkpoints_reproduce_stored_outputs(mxnet_fixtures, name):
    x = np.load(str(mxnet_fixtures / ("%s_input.npy" % name)))
    ref = np.load(str(mxnet_fixtures / ("%s_output.npy" % name)))
    prefix = str(mxnet_fixtures / name)
    sym, arg, aux = mx.model.load_checkpoint(prefix, 0)
    mod = Module(sym, data_names=("data",), label_names=None)
    mod.bind(data_shapes=[("data", x.shape)], for_training=False)
    mod.set_params(arg, aux)
    mod.forward(DataBatch([nd.array(x)]), is_train=False)
    out = mod.get_outputs()[0].asnumpy()
    assert out.shape == ref.shape
    np.testing.assert_allclose(out, ref, rtol=1e-4, atol=1e-5)
    # Module.load + predict over an iterator with a padded last batch
    loaded = Module.load(prefix, 0, label_names=None)
    loaded.bind(data_shapes=[("data", (10,) + x.shape[1:])], for_training=False)
    pred = loaded.predict(NDArrayIter(x, batch_size=10))
    assert pred.shape == ref.shape
    np.testing.assert_allclose(pred.asnumpy(), ref, rtol=1e-4, atol=1e-5)


# ---------------------------------------------------------------------- callbacks
def test_callbacks(tmp_path, caplog):
    xtr, ytr = _clusters(60, seed=5)
    it = NDArrayIter(xtr, ytr, batch_size=10)
    mod = Module(_mlp(8))
    prefix = str(tmp_path / "cb")
    mod_prefix = str(tmp_path / "modcb")
    with caplog.at_level(logging.INFO):
        mod.fit(it, num_epoch=4, initializer=mx.init.Xavier(),
                epoch_end_callback=[mx.callback.do_checkpoint(prefix, period=2),
                                    mx.callback.module_checkpoint(mod, mod_prefix, period=4)],
                batch_end_callback=[mx.callback.Speedometer(10, frequent=2),
                                    mx.callback.log_train_metric(3),
                                    mx.callback.ProgressBar(total=6, length=10)])
    files = sorted(os.listdir(str(tmp_path)))
    assert files == ["cb-0002.params", "cb-0004.params", "cb-symbol.json", "modcb-0004.params",
                     "modcb-symbol.json"]
    text = caplog.text
    assert "Speed: " in text and "samples/sec" in text and "accuracy=" in text
    assert "Iter[0] Batch[3] Train-accuracy=" in text
    assert "[=====-----] 50%" in text and "[========--] 84%" in text
    assert "Epoch[3] Train-accuracy=" in text and "Epoch[0] Time cost=" in text
    _, arg, _ = mx.model.load_checkpoint(prefix, 4)
    final = mod.get_params()[0]
    np.testing.assert_array_equal(arg["fc1_weight"].asnumpy(), final["fc1_weight"].asnumpy())
    with pytest.raises(ValueError, match="total"):
        mx.callback.ProgressBar(total=0)


# ---------------------------------------------------------------------- errors
def test_state_errors():
    mod = Module(_tiny_net())
    x, y = _xy(4)
    batch = DataBatch([nd.array(x)], [nd.array(y)])
    with pytest.raises(ModuleStateError, match="not bound"):
        mod.forward(batch)
    with pytest.raises(AssertionError):        # what MXNet raises there
        mod.forward(batch)
    with pytest.raises(ModuleStateError, match="bind"):
        mod.init_params()
    with pytest.raises(ModuleStateError):
        _ = mod.data_shapes
    mod.bind([("data", (4, N_IN))], [("softmax_label", (4,))])
    with pytest.raises(ModuleStateError, match="init_params"):
        mod.forward(batch)
    mod.init_params()
    with pytest.raises(ModuleStateError, match="init_optimizer"):
        mod.update()
    with pytest.raises(ModuleStateError, match="inputs_need_grad"):
        mod.get_input_grads()
    with pytest.warns(UserWarning, match="already initialized"):
        mod.init_params()
    infer = _bound_tiny(4, for_training=False)
    infer.forward(batch)
    with pytest.raises(ModuleStateError, match="for_training=True"):
        infer.backward()
    with pytest.raises(ValueError, match="num_epoch"):
        Module(_tiny_net()).fit(NDArrayIter(x, y, batch_size=4))
    with pytest.raises(ValueError, match="DataIter"):
        infer.predict([1, 2, 3])


def test_input_errors():
    with pytest.raises(ValueError, match="data_names"):
        Module(_tiny_net(), data_names=("image",))
    with pytest.warns(UserWarning, match="label_names"):
        Module(_tiny_net(), label_names=("lbl",))
    with pytest.raises(NotImplementedError, match="several contexts"):
        Module(_tiny_net(), context=[mx.cpu(0), mx.cpu(1)])
    mod = Module(_tiny_net())
    with pytest.raises(ValueError, match="don't match names"):
        mod.bind([("x", (4, N_IN))], [("softmax_label", (4,))])
    mod.bind([("data", (4, N_IN))], [("softmax_label", (4,))])
    p = _nd_dict(_tiny_params())
    missing = dict(p)
    del missing["fc2_bias"]
    with pytest.raises(RuntimeError, match="fc2_bias"):
        mod.set_params(missing, {})
    bad = dict(p, fc1_weight=nd.zeros((N_HID, N_IN + 1)))
    with pytest.raises(mx.MXNetError, match=r"fc1_weight.*\(4, 7\).*\(4, 6\)"):
        mod.set_params(bad, {})
    with pytest.raises(ValueError, match="allow_extra"):
        mod.set_params(dict(p, junk=nd.zeros((1,))), {})
    mod.set_params(dict(p, junk=nd.zeros((1,))), {}, allow_extra=True)
    # a batch whose feature size does not fit the weights: a shape error naming the shapes
    x = np.zeros((4, N_IN + 2), np.float32)
    with pytest.raises(mx.MXNetError, match=r"\(4, 8\)"):
        mod.forward(DataBatch([nd.array(x)], [nd.zeros((4,))]))
    with pytest.raises(ValueError, match="data arrays"):
        mod.forward(DataBatch([nd.zeros((4, N_IN)), nd.zeros((4, N_IN))], [nd.zeros((4,))]))
    # the module still works after the errors
    xx, yy = _xy(4)
    mod.forward(DataBatch([nd.array(xx)], [nd.array(yy)]), is_train=False)
    np.testing.assert_allclose(mod.get_outputs()[0].asnumpy(), _np_forward(_tiny_params(), xx)[1],
                               rtol=1e-5, atol=1e-6)


def test_kvstore_arguments():
    x, y = _xy(8)
    it = NDArrayIter(x, y, batch_size=4)
    for kv in ("local", "device", None):       # one device: no store needed
        mod = Module(_tiny_net())
        mod.fit(it, num_epoch=1, kvstore=kv)
        assert mod._kvstore is None
    with pytest.raises(TypeError, match="kvstore"):
        Module(_tiny_net()).fit(it, num_epoch=1, kvstore=3)


class _RecordingStore:
    """A single-process store speaking MXNet's KVStore protocol (init/push/pull/set_optimizer),
    recording the calls, to check how Module drives a KVStore object."""
    type = "local"

    def __init__(self):
        self.values, self.updater, self.calls = {}, None, []

    def init(self, key, value):
        self.calls.append(("init", key))
        self.values[key] = value.copy()

    def set_optimizer(self, optimizer):
        self.calls.append(("set_optimizer", type(optimizer).__name__))
        self.updater = mx.optimizer.get_updater(optimizer)

    def push(self, key, value, priority=0):
        self.calls.append(("push", key))
        grad = value[0] if isinstance(value, list) else value
        if self.updater is not None:
            self.updater(key, grad, self.values[key])
        else:
            self.values[key] = grad.copy()

    def pull(self, key, out=None, priority=0):
        self.calls.append(("pull", key))
        for o in (out if isinstance(out, list) else [out]):
            self.values[key].copyto(o)


@pytest.mark.parametrize("on_store", ["1", "0"])
def test_kvstore_object_gives_the_same_training(monkeypatch, on_store):
    monkeypatch.setenv("MXNET_UPDATE_ON_KVSTORE", on_store)
    x, y = _xy(12, seed=13)
    results = []
    for kv in (None, _RecordingStore()):
        mod = _bound_tiny(4, for_training=True)
        mod.init_optimizer(kvstore=kv, optimizer_params={"learning_rate": 0.3, "momentum": 0.9,
                                                         "wd": 0.1})
        for batch in NDArrayIter(x, y, batch_size=4):
            mod.forward_backward(batch)
            mod.update()
        results.append({k: v.asnumpy() for k, v in mod.get_params()[0].items()})
    for k in results[0]:
        np.testing.assert_allclose(results[1][k], results[0][k], rtol=1e-5, atol=1e-6, err_msg=k)
    calls = kv.calls
    assert ("init", "fc1_weight") in calls and calls.count(("push", "fc2_bias")) == 3
    assert (("set_optimizer", "SGD") in calls) == (on_store == "1")


# ---------------------------------------------------------------------- real MXNet as reference
def test_fit_and_checkpoint_match_real_mxnet_module(tmp_path, mxnet_python):
    """The same fit (given initial parameters, SGD with momentum and weight decay, no shuffle)
    in MX and in MXNet 1.9.1's Module gives the same parameters and accuracy; MX's checkpoint
    loads in MXNet's Module.load and predicts what MX predicts."""
    x, y = _clusters(60, seed=11)
    rng = np.random.RandomState(12)
    init = {"fc1_weight": rng.uniform(-0.3, 0.3, (8, 10)), "fc1_bias": rng.uniform(-0.1, 0.1, 8),
            "fc2_weight": rng.uniform(-0.3, 0.3, (3, 8)), "fc2_bias": rng.uniform(-0.1, 0.1, 3)}
    init = {k: v.astype(np.float32) for k, v in init.items()}
    np.savez(str(tmp_path / "in.npz"), x=x, y=y, **init)
    opt_params = {"learning_rate": 0.1, "momentum": 0.9, "wd": 0.01}

    mod = Module(_mlp(8))
    it = NDArrayIter(x, y, batch_size=20)
    mod.fit(it, num_epoch=2, arg_params=_nd_dict(init), optimizer="sgd",
            optimizer_params=opt_params)
    mod.save_checkpoint(str(tmp_path / "mx"), 2)
    (_, acc), = mod.score(it, "acc")
    pred = mod.predict(NDArrayIter(x[:50], batch_size=20)).asnumpy()   # last batch padded

    script = """
        import json
        import mxnet as mx, numpy as np
        d = np.load("in.npz")
        mod = mx.mod.Module(mx.sym.load("mx-symbol.json"), context=mx.cpu())
        it = mx.io.NDArrayIter(d["x"], d["y"], batch_size=20)
        names = ["fc1_weight", "fc1_bias", "fc2_weight", "fc2_bias"]
        mod.fit(it, num_epoch=2, arg_params={k: mx.nd.array(d[k]) for k in names},
                optimizer="sgd", optimizer_params=%s)
        acc = mod.score(it, "acc")[0][1]
        arg, _ = mod.get_params()
        loaded = mx.mod.Module.load("mx", 2)
        loaded.bind(data_shapes=[("data", (20, 10))], for_training=False)
        pred = loaded.predict(mx.io.NDArrayIter(d["x"][:50], batch_size=20)).asnumpy()
        np.savez("ref.npz", pred=pred, **{k: v.asnumpy() for k, v in arg.items()})
        print(json.dumps({"acc": acc}))
    """ % (opt_params,)
    out = run_mxnet(mxnet_python, script, tmp_path)
    ref_acc = json.loads(out.strip().splitlines()[-1])["acc"]
    ref = np.load(str(tmp_path / "ref.npz"))
    trained = mod.get_params()[0]
    for k in init:
        np.testing.assert_allclose(trained[k].asnumpy(), ref[k], rtol=1e-4, atol=1e-5, err_msg=k)
    assert acc == pytest.approx(ref_acc, abs=1e-9)
    assert ref["pred"].shape == (50, 3)
    np.testing.assert_allclose(pred, ref["pred"], rtol=1e-4, atol=1e-6)
