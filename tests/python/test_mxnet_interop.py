"""What MX writes loads in real Apache MXNet 1.9.1 and computes the same thing there.

Real MXNet runs in its own interpreter ($MX_REF_MXNET_PYTHON, set up by tools/run_tests.sh as
./.venv-mxnet): each check writes files with MX, runs a short script under MXNet on them, and
compares MXNet's numbers with MX's. A missing reference interpreter fails the test (never a skip).
"""
import json

import numpy as np
import pytest

import mx
from mx import gluon, nd
from mx.gluon import nn, rnn

from conftest import run_mxnet


def _mlp_bn():
    net = nn.HybridSequential()
    with net.name_scope():
        net.add(nn.Dense(32), nn.BatchNorm(), nn.Activation("relu"), nn.Dropout(0.5), nn.Dense(10))
    return net, (8, 20)


def _cnn():
    net = nn.HybridSequential()
    with net.name_scope():
        net.add(nn.Conv2D(8, 3, padding=1, activation="relu"), nn.MaxPool2D(2),
                nn.Conv2D(16, 3, strides=2, activation="relu"), nn.AvgPool2D(2), nn.Flatten(), nn.Dense(5))
    return net, (4, 1, 16, 16)


class _Concat(gluon.HybridBlock):
    def __init__(self, **kw):
        super().__init__(**kw)
        with self.name_scope():
            self.a = nn.Dense(6, activation="tanh")
            self.b = nn.Dense(4, activation="sigmoid")
            self.out = nn.Dense(3)

    def hybrid_forward(self, F, x):
        return self.out(F.concat(self.a(x), self.b(x), dim=1))


def _concat():
    return _Concat(), (5, 7)


class _EmbedLSTM(gluon.HybridBlock):
    def __init__(self, **kw):
        super().__init__(**kw)
        with self.name_scope():
            self.emb = nn.Embedding(30, 8)
            self.lstm = rnn.LSTM(12, num_layers=1, layout="NTC")
            self.out = nn.Dense(4)

    def hybrid_forward(self, F, x):
        return self.out(self.lstm(self.emb(x)))


def _embed_lstm():
    return _EmbedLSTM(), (3, 6)


NETS = {"mlp_bn": _mlp_bn, "cnn": _cnn, "concat": _concat, "embed_lstm": _embed_lstm}


@pytest.mark.parametrize("which", sorted(NETS))
def test_exported_gluon_net_predicts_the_same_in_mxnet(which, tmp_path, mxnet_python):
    net, shape = NETS[which]()
    mx.random.seed(3)
    net.initialize(mx.init.Xavier())
    rng = np.random.default_rng(7)
    if which == "embed_lstm":
        x = rng.integers(0, 30, shape).astype(np.float32)
    else:
        x = rng.standard_normal(shape).astype(np.float32)
    net.hybridize()
    if which == "mlp_bn":
        # a few training-mode calls so the running statistics are not the initial ones
        from mx import autograd
        for _ in range(3):
            with autograd.record():
                net(nd.array(rng.standard_normal(shape).astype(np.float32)))
    ours = net(nd.array(x)).asnumpy()
    net.export(str(tmp_path / "m"), epoch=0)
    np.save(tmp_path / "x.npy", x)
    run_mxnet(mxnet_python, """
        import mxnet as mx, numpy as np
        blk = mx.gluon.SymbolBlock.imports("m-symbol.json", ["data"], "m-0000.params")
        y = blk(mx.nd.array(np.load("x.npy"))).asnumpy()
        np.save("y.npy", y)
        sym = mx.sym.load("m-symbol.json")
        ex = sym.simple_bind(mx.cpu(), grad_req="null", data=np.load("x.npy").shape)
    """, tmp_path)
    theirs = np.load(tmp_path / "y.npy")
    assert theirs.shape == ours.shape
    np.testing.assert_allclose(ours, theirs, rtol=1e-4, atol=1e-5)


def test_symbol_json_written_by_mx_loads_in_mxnet(tmp_path, mxnet_python):
    data = mx.sym.Variable("data")
    fc1 = mx.sym.FullyConnected(data, num_hidden=16, name="fc1")
    bn = mx.sym.BatchNorm(fc1, fix_gamma=False, name="bn1")
    act = mx.sym.Activation(bn, act_type="relu", name="relu1")
    drop = mx.sym.Dropout(act, p=0.25, name="drop1")
    fc2 = mx.sym.FullyConnected(drop, num_hidden=4, name="fc2")
    out = mx.sym.SoftmaxOutput(fc2, name="softmax")
    (tmp_path / "g.json").write_text(out.tojson())
    arg_shapes, out_shapes, aux_shapes = out.infer_shape(data=(5, 9))
    ours = {"args": out.list_arguments(), "aux": out.list_auxiliary_states(), "outs": out.list_outputs(),
            "arg_shapes": [list(s) for s in arg_shapes], "out_shapes": [list(s) for s in out_shapes],
            "aux_shapes": [list(s) for s in aux_shapes]}
    got = run_mxnet(mxnet_python, """
        import json, mxnet as mx
        s = mx.sym.load_json(open("g.json").read())
        a, o, x = s.infer_shape(data=(5, 9))
        print(json.dumps({"args": s.list_arguments(), "aux": s.list_auxiliary_states(),
                          "outs": s.list_outputs(), "arg_shapes": [list(t) for t in a],
                          "out_shapes": [list(t) for t in o], "aux_shapes": [list(t) for t in x]}))
    """, tmp_path)
    theirs = json.loads(got.strip().splitlines()[-1])
    assert theirs == ours


def test_checkpoint_written_by_mx_binds_in_mxnet(tmp_path, mxnet_python):
    data = mx.sym.Variable("data")
    net = mx.sym.FullyConnected(data, num_hidden=6, name="fc1")
    net = mx.sym.Activation(net, act_type="tanh", name="t1")
    net = mx.sym.FullyConnected(net, num_hidden=3, name="fc2")
    rng = np.random.default_rng(1)
    args = {"fc1_weight": nd.array(rng.standard_normal((6, 4)).astype(np.float32)),
            "fc1_bias": nd.array(rng.standard_normal(6).astype(np.float32)),
            "fc2_weight": nd.array(rng.standard_normal((3, 6)).astype(np.float32)),
            "fc2_bias": nd.array(rng.standard_normal(3).astype(np.float32))}
    x = rng.standard_normal((2, 4)).astype(np.float32)
    mx.model.save_checkpoint(str(tmp_path / "ck"), 3, net, args, {})
    ours = net.eval(mx.cpu(), data=nd.array(x), **args)[0].asnumpy()
    np.save(tmp_path / "x.npy", x)
    run_mxnet(mxnet_python, """
        import mxnet as mx, numpy as np
        sym, arg, aux = mx.model.load_checkpoint("ck", 3)
        arg["data"] = mx.nd.array(np.load("x.npy"))
        ex = sym.bind(mx.cpu(), arg, aux_states=aux)
        np.save("y.npy", ex.forward()[0].asnumpy())
    """, tmp_path)
    np.testing.assert_allclose(ours, np.load(tmp_path / "y.npy"), rtol=1e-5, atol=1e-6)
