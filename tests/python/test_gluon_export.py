"""HybridBlock.export and SymbolBlock: exported models load back (SymbolBlock.imports) and
compute what the original computed; imported blocks train; MXNet 1.9.1's own exported models
reproduce MXNet's stored outputs; bad files give errors naming the parameter.
"""
import json

import numpy as np
import pytest

import mx
from mx import autograd, gluon, nd
from mx.gluon import nn, rnn

TOL = dict(rtol=1e-5, atol=1e-6)


def _rand(*shape, seed=0):
    return np.random.RandomState(seed).uniform(-1, 1, size=shape).astype(np.float32)


def _train_a_bit(net, x, steps=2):
    """A few SGD steps in training mode (BatchNorm running statistics move off 0/1)."""
    tr = gluon.Trainer(net.collect_params(), "sgd", {"learning_rate": 0.1})
    for _ in range(steps):
        with autograd.record():
            y = net(x)
            loss = (y * y).mean()
        loss.backward()
        tr.step(x.shape[0])


def _bn_dropout_net():
    net = nn.HybridSequential(prefix="mlpbn_")
    with net.name_scope():
        net.add(nn.Dense(16), nn.BatchNorm(), nn.Activation("relu"), nn.Dropout(0.5),
                nn.Dense(4))
    return net


class _ConcatNet(gluon.HybridBlock):
    def __init__(self, **kw):
        super().__init__(**kw)
        with self.name_scope():
            self.a = nn.Conv2D(3, 3, padding=1)
            self.b = nn.Conv2D(2, 1, activation="relu")
            self.bn = nn.BatchNorm()
            self.out = nn.Dense(3)

    def hybrid_forward(self, F, x):
        return self.out(self.bn(F.concat(self.a(x), self.b(x), dim=1)))


class _TextNet(gluon.HybridBlock):
    def __init__(self, **kw):
        super().__init__(**kw)
        with self.name_scope():
            self.emb = nn.Embedding(20, 5)
            self.lstm = rnn.LSTM(6, layout="NTC")
            self.drop = nn.Dropout(0.3)
            self.out = nn.Dense(2)

    def hybrid_forward(self, F, tokens):
        return self.out(self.drop(self.lstm(self.emb(tokens))))


_NETS = {
    "bn_dropout": (_bn_dropout_net, lambda: nd.array(_rand(8, 10))),
    "concat_conv": (lambda: _ConcatNet(prefix="cc_"), lambda: nd.array(_rand(2, 3, 6, 6))),
    "embedding_lstm": (lambda: _TextNet(prefix="txt_"),
                       lambda: nd.array(np.random.RandomState(1).randint(0, 20, (3, 7)))),
}


@pytest.mark.parametrize("name", sorted(_NETS))
def test_export_imports_round_trip(tmp_path, name):
    make, data = _NETS[name]
    net, x = make(), data()
    net.initialize(mx.init.Xavier())
    net.hybridize()
    _train_a_bit(net, x)
    ref = net(x).asnumpy()  # inference mode
    sym_file, params_file = net.export(str(tmp_path / name), epoch=3)
    assert sym_file == str(tmp_path / name) + "-symbol.json"
    assert params_file == str(tmp_path / name) + "-0003.params"

    graph = json.loads(open(sym_file).read())
    assert {"nodes", "arg_nodes", "heads", "node_row_ptr", "attrs"} <= set(graph)
    saved = nd.load(params_file)
    sym = net._cached_graph[1]
    aux = set(sym.list_auxiliary_states())
    expected = {("aux:" if k in aux else "arg:") + k for k in net.collect_params().keys()}
    assert set(saved) == expected
    for k, p in net.collect_params().items():
        np.testing.assert_array_equal(saved[("aux:" if k in aux else "arg:") + k].asnumpy(),
                                      p.data().asnumpy())
    if name != "embedding_lstm":
        assert aux and all(k.endswith(("running_mean", "running_var")) for k in aux)

    back = gluon.SymbolBlock.imports(sym_file, ["data"], params_file)
    np.testing.assert_allclose(back(x).asnumpy(), ref, rtol=1e-5, atol=1e-5)
    for k in aux:
        assert back.params[k].grad_req == "null"
    # also with the context given, and a second call (the cached op)
    back2 = gluon.SymbolBlock.imports(sym_file, "data", params_file, ctx=mx.cpu())
    back2(x)
    np.testing.assert_allclose(back2(x).asnumpy(), ref, rtol=1e-5, atol=1e-5)


def test_export_needs_a_traced_graph(tmp_path):
    net = _bn_dropout_net()
    net.initialize()
    with pytest.raises(RuntimeError, match="hybridize"):
        net.export(str(tmp_path / "m"))
    net(nd.ones((2, 3)))  # imperative call: still no graph
    with pytest.raises(RuntimeError, match="hybridize"):
        net.export(str(tmp_path / "m"))
    net.hybridize()
    net(nd.ones((2, 3)))
    sym, arrays = net.export(None)
    assert isinstance(sym, mx.sym.Symbol)
    assert sorted(arrays) == sorted(("aux:" if k.endswith(("mean", "var")) else "arg:") + k
                                    for k in net.collect_params().keys())


def test_fine_tuning_an_imported_block(tmp_path):
    rs = np.random.RandomState(0)
    x = nd.array(rs.randn(32, 10).astype(np.float32))
    target = nd.array(rs.randn(32, 4).astype(np.float32))
    net = _bn_dropout_net()
    net.initialize(mx.init.Xavier())
    net.hybridize()
    net(x)
    sym_file, params_file = net.export(str(tmp_path / "ft"))
    block = gluon.SymbolBlock.imports(sym_file, ["data"], params_file)
    before = {k: p.data().asnumpy().copy() for k, p in block.collect_params().items()}
    loss_fn = gluon.loss.L2Loss()
    tr = gluon.Trainer(block.collect_params(), "adam", {"learning_rate": 0.01})
    losses = []
    for _ in range(30):
        with autograd.record():
            loss = loss_fn(block(x), target)
        loss.backward()
        tr.step(32)
        losses.append(float(loss.asnumpy().mean()))
    assert losses[-1] < 0.7 * losses[0]
    for k, p in block.collect_params().items():
        if p.grad_req != "null":
            assert not np.allclose(p.data().asnumpy(), before[k]), k
            assert np.abs(p.grad().asnumpy()).sum() > 0
    # the running statistics (aux) were updated in training mode
    rm = [k for k in before if k.endswith("running_mean")][0]
    assert not np.allclose(block.params[rm].data().asnumpy(), before[rm])


def test_imported_block_as_child_of_hybridized_parent(tmp_path):
    x = nd.array(_rand(6, 10))
    net = _bn_dropout_net()
    net.initialize()
    net.hybridize()
    _train_a_bit(net, x)
    sym_file, params_file = net.export(str(tmp_path / "child"))
    features = gluon.SymbolBlock.imports(sym_file, ["data"], params_file)

    parent = nn.HybridSequential(prefix="parent_")
    parent.add(features)
    with parent.name_scope():
        parent.add(nn.Dense(2, in_units=4))
    parent[1].initialize(mx.init.Xavier())
    head = parent[1]
    ref_out = parent(x).asnumpy()  # imperative parent, the SymbolBlock runs its cached op
    with autograd.record(train_mode=False):  # deterministic (no dropout mask)
        loss = parent(x).sum()
    loss.backward()
    ref_grads = {k: p.grad().asnumpy().copy() for k, p in parent.collect_params().items()
                 if p.grad_req != "null"}
    parent.hybridize()
    np.testing.assert_allclose(parent(x).asnumpy(), ref_out, **TOL)
    graph = parent._cached_graph[1]
    assert set(features.collect_params().keys()) <= set(graph.list_inputs())
    assert head.weight.name in graph.list_arguments()
    with autograd.record(train_mode=False):
        loss = parent(x).sum()
    loss.backward()
    for k, g in ref_grads.items():
        np.testing.assert_allclose(parent.collect_params()[k].grad().asnumpy(), g, rtol=1e-4,
                                   atol=1e-5, err_msg=k)
    # and the combined graph exports and imports again
    f2, p2 = parent.export(str(tmp_path / "parent"))
    again = gluon.SymbolBlock.imports(f2, ["data"], p2)
    np.testing.assert_allclose(again(x).asnumpy(), ref_out, **TOL)


def test_symbol_block_from_symbols_with_deferred_init():
    data = mx.sym.var("data")
    fc1 = mx.sym.FullyConnected(data, num_hidden=5, name="fc1")
    act = mx.sym.Activation(fc1, act_type="relu", name="relu1")
    fc2 = mx.sym.FullyConnected(act, num_hidden=3, name="fc2")
    out = mx.sym.Group([fc2, act])
    block = gluon.SymbolBlock(out, data)
    assert sorted(block.collect_params().keys()) == ["fc1_bias", "fc1_weight", "fc2_bias",
                                                     "fc2_weight"]
    # (MXNet's rule: a Parameter without its own init gets the given one, biases included)
    block.initialize(mx.init.Normal(0.5))
    x = _rand(4, 6)
    y, h = block(nd.array(x))
    p = {k: v.data().asnumpy() for k, v in block.collect_params().items()}
    assert p["fc1_weight"].shape == (5, 6)
    ref_h = np.maximum(x @ p["fc1_weight"].T + p["fc1_bias"], 0)
    np.testing.assert_allclose(h.asnumpy(), ref_h, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(y.asnumpy(), ref_h @ p["fc2_weight"].T + p["fc2_bias"],
                               rtol=1e-5, atol=1e-6)
    # gradients flow to its parameters
    with autograd.record():
        y, h = block(nd.array(x))
        loss = y.sum()
    loss.backward()
    g = block.params["fc2_bias"].grad().asnumpy()
    np.testing.assert_allclose(g, np.full(3, 4.0), rtol=1e-6)
    # symbolic call composes the graph
    s = block(mx.sym.var("other"))
    assert isinstance(s, list) and len(s) == 2 and "other" in s[0].list_arguments()
    with pytest.raises(ValueError, match="input"):
        block(nd.ones((2, 6)), nd.ones((2, 6)))


def test_params_file_without_prefixes(tmp_path):
    net = _bn_dropout_net()
    net.initialize()
    net.hybridize()
    x = nd.array(_rand(4, 3))
    _train_a_bit(net, x)
    ref = net(x).asnumpy()
    sym_file, _ = net.export(str(tmp_path / "plain"))
    net.collect_params().save(str(tmp_path / "plain.params"))  # full names, no arg:/aux:
    back = gluon.SymbolBlock.imports(sym_file, ["data"], str(tmp_path / "plain.params"))
    np.testing.assert_allclose(back(x).asnumpy(), ref, **TOL)


# ----------------------------------------------------------------------------- errors
@pytest.fixture
def exported(tmp_path):
    net = _bn_dropout_net()
    net.initialize()
    net.hybridize()
    net(nd.ones((2, 3)))
    sym_file, params_file = net.export(str(tmp_path / "e"))
    return net, sym_file, params_file, tmp_path


def test_missing_parameter_is_named(exported):
    net, sym_file, params_file, tmp = exported
    arrays = nd.load(params_file)
    del arrays["arg:mlpbn_dense1_weight"]
    nd.save(str(tmp / "missing.params"), arrays)
    with pytest.raises(KeyError, match="mlpbn_dense1_weight"):
        gluon.SymbolBlock.imports(sym_file, ["data"], str(tmp / "missing.params"))
    # allow_missing: the rest loads; the missing one is initialized explicitly
    block = gluon.SymbolBlock.imports(sym_file, ["data"], str(tmp / "missing.params"),
                                      allow_missing=True)
    block.params["mlpbn_dense1_weight"].initialize()
    assert block(nd.ones((2, 3))).shape == (2, 4)


def test_extra_parameter_is_named(exported):
    net, sym_file, params_file, tmp = exported
    arrays = nd.load(params_file)
    arrays["arg:not_in_graph"] = nd.ones((2,))
    nd.save(str(tmp / "extra.params"), arrays)
    with pytest.raises(KeyError, match="not_in_graph"):
        gluon.SymbolBlock.imports(sym_file, ["data"], str(tmp / "extra.params"))
    block = gluon.SymbolBlock.imports(sym_file, ["data"], str(tmp / "extra.params"),
                                      ignore_extra=True)
    np.testing.assert_allclose(block(nd.ones((2, 3))).asnumpy(), net(nd.ones((2, 3))).asnumpy(),
                               **TOL)


def test_wrong_shape_names_parameter_and_shapes(exported):
    net, sym_file, params_file, tmp = exported
    arrays = nd.load(params_file)
    arrays["arg:mlpbn_dense1_weight"] = nd.ones((4, 7))  # (4, 16) in the graph
    nd.save(str(tmp / "bad.params"), arrays)
    with pytest.raises(Exception, match=r"mlpbn_dense1_weight(.|\n)*\(4, 16\)(.|\n)*\(4, 7\)"
                       r"|mlpbn_dense1_weight(.|\n)*\(4, 7\)(.|\n)*\(4, 16\)") as info:
        block = gluon.SymbolBlock.imports(sym_file, ["data"], str(tmp / "bad.params"))
        block(nd.ones((2, 3)))
    assert isinstance(info.value, (ValueError, mx.MXNetError))


def test_wrong_input_shape_is_an_error(exported):
    net, sym_file, params_file, _ = exported
    block = gluon.SymbolBlock.imports(sym_file, ["data"], params_file)
    with pytest.raises(mx.MXNetError, match="mlpbn_dense0"):
        block(nd.ones((2, 5)))  # the first Dense was made for 3 features
    with pytest.raises(ValueError, match="input"):
        gluon.SymbolBlock(mx.sym.load(sym_file), [mx.sym.var("data") + 1])


# ----------------------------------------------------------------------------- MXNet's files
@pytest.mark.parametrize("stem", ["cnn", "mlp_bn"])
def test_mxnet_exported_models_reproduce_outputs(mxnet_fixtures, stem):
    sym_file = str(mxnet_fixtures / ("%s-symbol.json" % stem))
    params_file = str(mxnet_fixtures / ("%s-0000.params" % stem))
    x = np.load(mxnet_fixtures / ("%s_input.npy" % stem))
    expected = np.load(mxnet_fixtures / ("%s_output.npy" % stem))
    block = gluon.SymbolBlock.imports(sym_file, ["data"], params_file)
    for _ in range(2):  # first call and cached call
        np.testing.assert_allclose(block(nd.array(x)).asnumpy(), expected, rtol=1e-4, atol=1e-5)
    saved = nd.load(params_file)
    assert sorted(block.collect_params().keys()) == sorted(k[4:] for k in saved)
    aux = [k for k in saved if k.startswith("aux:")]
    assert (len(aux) > 0) == (stem == "mlp_bn")
    for k in aux:
        assert block.params[k[4:]].grad_req == "null"
    # hybridized re-export keeps loading
    block.hybridize()
    block(nd.array(x))
