"""MXNet's graph-era loss layers and gradient stoppers: BlockGrad (stop_gradient), make_loss, MakeLoss,
Linear/MAE/LogisticRegressionOutput, SVMOutput, and _rnn_param_concat's shape inference.

The loss layers' gradients are MXNet's rules, not derivatives of their outputs (the head gradient is
ignored, labels get none), so test_grad.py's finite differences exempt them; here each is checked
against its numpy formula through mx.autograd and through a bound mx.sym graph, and against real
MXNet 1.9.1 ($MX_REF_MXNET_PYTHON, as in test_mxnet_interop.py; missing, the test fails). The formulas: m = label.size / label.shape[0] label values per sample for
the regression outputs; MakeLoss's 'batch' divides by the rows of data viewed as 2-d (all dims but
the last), 'valid' by the number of data elements greater than valid_thresh (at least 1)."""
import json

import numpy as np
import pytest

import mx
from mx import autograd, nd

from conftest import run_mxnet


@pytest.fixture(autouse=True)
def _fresh_names():
    with mx.name.NameManager():
        yield


def _arr(x, dtype="float64"):
    return nd.array(np.asarray(x), dtype=dtype)


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def _grads(op, arrays, params=None, head=None, attach=(0,)):
    """Forward output and the gradients autograd gives to the inputs listed in attach."""
    nds = [_arr(a) for a in arrays]
    for i in attach:
        nds[i].attach_grad()
    with autograd.record():
        y = nd.invoke(op, nds, params or {})
    y.backward(None if head is None else _arr(head))
    return y.asnumpy(), [nds[i].grad.asnumpy() for i in attach]


def _bind_run(sym, args, grad_names, head=None):
    """Forward/backward of a bound graph; outputs and the gradients of grad_names."""
    shapes = {k: v.shape for k, v in args.items()}
    ex = sym.simple_bind(mx.cpu(), type_dict={k: "float64" for k in args}, **shapes)
    for k, v in args.items():
        ex.arg_dict[k][:] = _arr(v)
    outs = ex.forward(is_train=True)
    ex.backward(None if head is None else [_arr(head)])
    return outs[0].asnumpy(), {k: ex.grad_dict[k].asnumpy() for k in grad_names}


# ------------------------------------------------------------------ BlockGrad / stop_gradient
def test_block_grad_is_identity_with_zero_gradient():
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, size=(3, 4))
    for name in ("BlockGrad", "stop_gradient"):
        y, (g,) = _grads(name, [x], head=rng.uniform(-1, 1, size=(3, 4)))
        np.testing.assert_array_equal(y, x)
        np.testing.assert_array_equal(g, np.zeros_like(x))
    # Only the blocked path is cut: d/dx (x * x + stop_gradient(3 x)) = 2 x.
    xn = _arr(x)
    xn.attach_grad()
    with autograd.record():
        y = xn * xn + nd.stop_gradient(xn * 3)
    y.backward()
    np.testing.assert_allclose(xn.grad.asnumpy(), 2 * x, rtol=1e-12)
    np.testing.assert_allclose(y.asnumpy(), x * x + 3 * x, rtol=1e-12)


def test_block_grad_in_a_graph_mxnet_doc_example():
    # MXNet's documented example: loss = MakeLoss(stop_gradient(3 * b) + a).
    a, b = mx.sym.var("a"), mx.sym.var("b")
    loss = mx.sym.MakeLoss(mx.sym.stop_gradient(3 * b) + a)
    out, g = _bind_run(loss, {"a": np.array([[1.0, 2.0]]), "b": np.array([[0.0, 1.0]])}, ["a", "b"])
    np.testing.assert_array_equal(out, [[1.0, 5.0]])
    np.testing.assert_array_equal(g["a"], [[1.0, 1.0]])
    np.testing.assert_array_equal(g["b"], [[0.0, 0.0]])
    ops = [n["op"] for n in json.loads(loss.tojson())["nodes"]]
    assert "BlockGrad" in ops and "stop_gradient" not in ops  # the alias is stored canonically, as MXNet


def test_block_grad_in_a_hybridized_block():
    class Net(mx.gluon.HybridBlock):
        def hybrid_forward(self, F, x):
            return x * x + F.stop_gradient(x * 3) + F.BlockGrad(x)

    for hybridize in (False, True):
        net = Net()
        if hybridize:
            net.hybridize()
        x = _arr([1.0, 2.0, -0.5])
        x.attach_grad()
        with autograd.record():
            y = net(x)
        y.backward()
        np.testing.assert_allclose(y.asnumpy(), [5.0, 12.0, -1.75], rtol=1e-12)
        np.testing.assert_allclose(x.grad.asnumpy(), [2.0, 4.0, -1.0], rtol=1e-12)


def test_block_grad_keeps_integer_dtypes():
    x = nd.array(np.array([[1, -2], [3, 4]], dtype=np.int32), dtype="int32")
    y = nd.BlockGrad(x)
    assert str(y.dtype) == "int32"
    np.testing.assert_array_equal(y.asnumpy(), [[1, -2], [3, 4]])


# ------------------------------------------------------------------ make_loss / MakeLoss
def test_make_loss_gradient_is_ones_whatever_the_head():
    rng = np.random.default_rng(1)
    x = rng.uniform(-1, 1, size=(2, 3))
    xn = _arr(x)
    xn.attach_grad()
    with autograd.record():
        y = nd.make_loss(xn * 2)
    y.backward(_arr(rng.uniform(-5, 5, size=(2, 3))))
    np.testing.assert_allclose(y.asnumpy(), 2 * x, rtol=1e-12)
    np.testing.assert_array_equal(xn.grad.asnumpy(), np.full((2, 3), 2.0))


def _make_loss_grad(x, grad_scale=1.0, valid_thresh=0.0, normalization="null"):
    if normalization == "batch":
        return np.full(x.shape, grad_scale / (np.prod(x.shape[:-1]) if x.ndim > 1 else 1))
    if normalization == "valid":
        return np.full(x.shape, grad_scale / max(1, int(np.sum(x > valid_thresh))))
    return np.full(x.shape, grad_scale)


@pytest.mark.parametrize("params,shape", [
    ({}, (3, 4)),
    ({"grad_scale": 3.0}, (3, 4)),
    ({"normalization": "batch", "grad_scale": 2.0}, (4, 3)),
    ({"normalization": "batch"}, (2, 3, 4)),      # rows of the 2-d view: 6, not the batch 2 (MXNet)
    ({"normalization": "batch"}, (5,)),           # 1-d data is one row
    ({"normalization": "valid", "valid_thresh": 0.25}, (3, 4)),
    ({"normalization": "valid", "valid_thresh": 5.0, "grad_scale": 0.5}, (3, 4)),  # none valid: count 1
])
def test_make_loss_scaling_and_normalization(params, shape):
    rng = np.random.default_rng(2)
    x = rng.uniform(-1, 1, size=shape)
    x.flat[0] = 0.0  # on the default threshold: not counted (strictly greater)
    y, (g,) = _grads("MakeLoss", [x], params, head=rng.uniform(-3, 3, size=shape))
    np.testing.assert_array_equal(y, x)
    np.testing.assert_allclose(g, _make_loss_grad(x, **params), rtol=1e-12)
    # The same through a graph.
    sym = mx.sym.MakeLoss(mx.sym.var("data"), **params)
    out, gg = _bind_run(sym, {"data": x}, ["data"])
    np.testing.assert_array_equal(out, x)
    np.testing.assert_allclose(gg["data"], _make_loss_grad(x, **params), rtol=1e-12)


def test_make_loss_valid_threshold_is_strict():
    _, (g,) = _grads("MakeLoss", [np.array([[0.0, 0.5, -1.0, 2.0]])], {"normalization": "valid"})
    np.testing.assert_array_equal(g, np.full((1, 4), 0.5))  # two elements > 0


def test_make_loss_rejects_integer_data_and_bad_normalization():
    with pytest.raises(mx.MXNetError, match="MakeLoss"):
        nd.MakeLoss(nd.array(np.ones((2, 2), np.int32), dtype="int32"))
    with pytest.raises(mx.MXNetError, match="normalization"):
        nd.MakeLoss(nd.ones((2, 2)), normalization="mean")


# ------------------------------------------------------------------ regression outputs
REGRESSIONS = {
    "LinearRegressionOutput": (lambda x: x, lambda out, lab: out - lab),
    "MAERegressionOutput": (lambda x: x, lambda out, lab: np.where(out - lab > 0, 1.0, -1.0)),
    "LogisticRegressionOutput": (_sigmoid, lambda out, lab: out - lab),
}


@pytest.mark.parametrize("op", sorted(REGRESSIONS))
@pytest.mark.parametrize("dshape,lshape,scale", [((4, 3), (4, 3), 1.0), ((5, 1), (5,), 2.0),
                                                 ((2, 3, 4), (2, 12), 0.5), ((6,), (6,), 1.0)])
def test_regression_output_forward_and_gradient(op, dshape, lshape, scale):
    fwd, rule = REGRESSIONS[op]
    rng = np.random.default_rng(3)
    x = rng.uniform(-2, 2, size=dshape)
    lab = rng.uniform(0, 1, size=lshape)
    m = lab.size / lab.shape[0]
    y, (gx, gl) = _grads(op, [x, lab], {"grad_scale": scale}, head=rng.uniform(-4, 4, size=dshape), attach=(0, 1))
    np.testing.assert_allclose(y, fwd(x), rtol=1e-12)
    want = rule(fwd(x), lab.reshape(dshape)) * scale / m
    np.testing.assert_allclose(gx, want, rtol=1e-12, atol=1e-15)
    np.testing.assert_array_equal(gl, np.zeros(lshape))  # the label gets no gradient


def test_mae_regression_ties_give_minus_one():
    _, (g,) = _grads("MAERegressionOutput", [np.array([[1.0, 2.0, 3.0]]), np.array([[1.0, 1.0, 4.0]])])
    np.testing.assert_allclose(g, [[-1 / 3, 1 / 3, -1 / 3]], rtol=1e-12)


def test_regression_output_label_shape_inference():
    d = mx.sym.var("data")
    for op in REGRESSIONS:
        s = getattr(mx.sym, op)(d, name="out")
        assert s.list_arguments() == ["data", "out_label"]
        args, outs, _ = s.infer_shape(data=(3, 4))
        assert args == [(3, 4), (3, 4)] and outs == [(3, 4)]
        args, _, _ = s.infer_shape(data=(3, 1))   # a column: the label is (n,)
        assert args == [(3, 1), (3,)]
        args, _, _ = s.infer_shape(data=(3, 4), out_label=(3, 2, 2))  # reshapeable: same batch and size
        assert args == [(3, 4), (3, 2, 2)]
        for bad in [(3,), (12,), (4, 3), (1, 12)]:
            with pytest.raises(mx.MXNetError, match="label has shape"):
                s.infer_shape(data=(3, 4), out_label=bad)
    with pytest.raises(mx.MXNetError, match="label has shape"):
        nd.LinearRegressionOutput(nd.ones((3, 4)), nd.ones((4, 3)))


def test_regression_output_in_a_bound_linear_model():
    """FullyConnected -> LinearRegressionOutput: the weight gradient is dz^T x with dz = (y - label) / m."""
    rng = np.random.default_rng(4)
    x, w, b = rng.normal(size=(5, 3)), rng.normal(size=(2, 3)), rng.normal(size=2)
    lab = rng.normal(size=(5, 2))
    fc = mx.sym.FullyConnected(mx.sym.var("data"), num_hidden=2, name="fc")
    sym = mx.sym.LinearRegressionOutput(fc, name="lro", grad_scale=1.5)
    out, g = _bind_run(sym, {"data": x, "fc_weight": w, "fc_bias": b, "lro_label": lab},
                       ["fc_weight", "fc_bias", "data", "lro_label"], head=rng.normal(size=(5, 2)))
    z = x @ w.T + b
    dz = (z - lab) * 1.5 / 2
    np.testing.assert_allclose(out, z, rtol=1e-12)
    np.testing.assert_allclose(g["fc_weight"], dz.T @ x, rtol=1e-10)
    np.testing.assert_allclose(g["fc_bias"], dz.sum(0), rtol=1e-10)
    np.testing.assert_allclose(g["data"], dz @ w, rtol=1e-10)
    np.testing.assert_array_equal(g["lro_label"], np.zeros((5, 2)))


@pytest.mark.parametrize("op", ["LogisticRegressionOutput", "MAERegressionOutput", "SVMOutput"])
def test_graph_gradient_equals_autograd(op):
    rng = np.random.default_rng(5)
    x = rng.uniform(-2, 2, size=(4, 3))
    lab = rng.integers(0, 3, size=(4,)).astype(np.float64) if op == "SVMOutput" else rng.uniform(0, 1, size=(4, 3))
    params = {"margin": 0.7} if op == "SVMOutput" else {"grad_scale": 0.3}
    y, (gx,) = _grads(op, [np.exp(x), lab], params, head=None)
    e = mx.sym.exp(mx.sym.var("data"))
    sym = getattr(mx.sym, op)(e, mx.sym.var("label"), **params)
    out, g = _bind_run(sym, {"data": x, "label": lab}, ["data"])
    np.testing.assert_allclose(out, y, rtol=1e-12)
    np.testing.assert_allclose(g["data"], gx * np.exp(x), rtol=1e-12)  # chain rule through exp


def test_linear_regression_module_fit_converges():
    rng = np.random.RandomState(0)
    x = rng.normal(size=(64, 3)).astype(np.float32)
    w_true = np.array([[1.5, -2.0, 0.5]], np.float32)
    y = (x @ w_true.T + 0.25).astype(np.float32)
    fc = mx.sym.FullyConnected(mx.sym.var("data"), num_hidden=1, name="fc")
    net = mx.sym.LinearRegressionOutput(fc, name="lin")
    it = mx.io.NDArrayIter(x, y, batch_size=16, label_name="lin_label")
    mod = mx.mod.Module(net, label_names=["lin_label"], context=mx.cpu())
    mod.fit(it, num_epoch=60, optimizer="sgd", optimizer_params={"learning_rate": 0.1},
            initializer=mx.init.Zero(), eval_metric="mse")
    args, _ = mod.get_params()
    np.testing.assert_allclose(args["fc_weight"].asnumpy(), w_true, atol=1e-3)
    np.testing.assert_allclose(args["fc_bias"].asnumpy(), [0.25], atol=1e-3)


# ------------------------------------------------------------------ SVMOutput
def _svm_grad(x, lab, margin=1.0, regularization_coefficient=1.0, use_linear=False):
    onehot = np.zeros(x.shape, dtype=bool)
    onehot[np.arange(x.shape[0]), lab.astype(int)] = True
    c = regularization_coefficient
    if use_linear:
        return np.where(onehot, -c * (margin > x), c * (margin > -x))
    return np.where(onehot, np.where(margin > x, -2 * c * (margin - x), 0.0),
                    np.where(margin > -x, 2 * c * (margin + x), 0.0))


@pytest.mark.parametrize("params", [{}, {"margin": 0.5, "regularization_coefficient": 2.0}, {"use_linear": True},
                                    {"use_linear": True, "margin": 0.5, "regularization_coefficient": 3.0}])
def test_svm_output_gradient(params):
    rng = np.random.default_rng(6)
    x = rng.uniform(-1.5, 1.5, size=(5, 4))
    lab = np.array([0, 3, 1, 1, 2], dtype=np.float64)
    y, (gx, gl) = _grads("SVMOutput", [x, lab], params, head=rng.uniform(-2, 2, size=(5, 4)), attach=(0, 1))
    np.testing.assert_array_equal(y, x)
    np.testing.assert_allclose(gx, _svm_grad(x, lab, **params), rtol=1e-12, atol=1e-15)
    np.testing.assert_array_equal(gl, np.zeros(5))


def test_svm_output_1d_data_is_one_sample():
    x = _arr([0.5, -0.2, 0.1])
    x.attach_grad()
    lab = _arr([1.0]).reshape(())  # data (classes,) takes a 0-d label
    with autograd.record():
        y = nd.SVMOutput(x, lab)
    y.backward()
    np.testing.assert_allclose(x.grad.asnumpy(), [3.0, -2.4, 2.2], rtol=1e-12)


def test_svm_output_shapes_and_unsupported_rank():
    s = mx.sym.SVMOutput(mx.sym.var("data"), name="svm")
    args, outs, _ = s.infer_shape(data=(3, 4, 5))
    assert args == [(3, 4, 5), (3, 4)] and outs == [(3, 4, 5)]
    with pytest.raises(mx.MXNetError, match="label has shape"):
        s.infer_shape(data=(3, 4), svm_label=(3, 4))
    x = _arr(np.ones((2, 3, 4)))
    x.attach_grad()
    with autograd.record():
        y = nd.SVMOutput(x, _arr(np.zeros((2, 3))))
    np.testing.assert_array_equal(y.asnumpy(), np.ones((2, 3, 4)))  # the forward works at any rank
    with pytest.raises(mx.MXNetError, match="SVMOutput.*1 or 2 dims"):
        y.backward()


# ------------------------------------------------------------------ _rnn_param_concat
def test_rnn_param_concat_infers_unknown_inputs_from_the_output():
    a, b, c, o = (mx.sym.var(n) for n in "abco")
    cat = mx.sym._internal._rnn_param_concat(a, b, c, num_args=3, dim=0, name="cat")
    args, outs, _ = cat.infer_shape(a=(6,), b=(4,), c=(2,))
    assert outs == [(12,)]
    # One unknown input takes the rest of the output; two split it evenly.
    s = mx.sym.elemwise_add(cat, o)
    args, _, _ = s.infer_shape(a=(6,), c=(2,), o=(12,))
    assert dict(zip(s.list_arguments(), args)) == {"a": (6,), "b": (4,), "c": (2,), "o": (12,)}
    args, _, _ = s.infer_shape(c=(2,), o=(12,))
    assert dict(zip(s.list_arguments(), args)) == {"a": (5,), "b": (5,), "c": (2,), "o": (12,)}
    with pytest.raises(mx.MXNetError, match="already have"):
        s.infer_shape(a=(9,), c=(6,), o=(12,))
    # Plain Concat cannot do this.
    s2 = mx.sym.elemwise_add(mx.sym.Concat(a, b, c, num_args=3, dim=0), o)
    args, _, _ = s2.infer_shape_partial(a=(6,), c=(2,), o=(12,))
    assert args[1] is None


def test_rnn_param_concat_2d_and_gradient():
    x1, x2 = np.arange(6.0).reshape(2, 3), np.arange(4.0).reshape(2, 2) + 10
    y, (g1, g2) = _grads("_rnn_param_concat", [x1, x2], {"num_args": 2}, head=np.arange(10.0).reshape(2, 5),
                         attach=(0, 1))
    np.testing.assert_array_equal(y, np.concatenate([x1, x2], axis=1))
    np.testing.assert_array_equal(g1, np.arange(10.0).reshape(2, 5)[:, :3])
    np.testing.assert_array_equal(g2, np.arange(10.0).reshape(2, 5)[:, 3:])
    a, b, o = mx.sym.var("a"), mx.sym.var("b"), mx.sym.var("o")
    s = mx.sym.elemwise_add(mx.sym._internal._npi_rnn_param_concat(a, b, num_args=2), o)
    args, _, _ = s.infer_shape(a=(2, 3), o=(2, 7))
    assert dict(zip(s.list_arguments(), args))["b"] == (2, 4)
    with pytest.raises(mx.MXNetError, match="must match"):
        nd.invoke("_rnn_param_concat", [nd.ones((2, 3)), nd.ones((3, 3))], {"num_args": 2})


def _lstm_export_json():
    """The graph Gluon's LSTM(5) exports (MXNet 1.9.1 layout): parameters flattened by Reshape and joined
    by _rnn_param_concat into the fused RNN op; the i2h weight's input size deferred ("(20, 0)")."""
    def var(name, shape=None):
        n = {"op": "null", "name": name, "inputs": []}
        if shape:
            n["attrs"] = {"__shape__": shape, "__dtype__": "0"}
        return n
    nodes = [var("data"),
             {"op": "SwapAxis", "name": "swap0", "attrs": {"dim1": "0", "dim2": "1"}, "inputs": [[0, 0, 0]]}]
    flat = []
    for name, shape in [("l0_i2h_weight", "(20, 0)"), ("l0_h2h_weight", "(20, 5)"), ("l0_i2h_bias", "(20,)"),
                        ("l0_h2h_bias", "(20,)")]:
        nodes.append(var(name, shape))
        nodes.append({"op": "Reshape", "name": name + "_flat", "attrs": {"shape": "-1"},
                      "inputs": [[len(nodes) - 1, 0, 0]]})
        flat.append([len(nodes) - 1, 0, 0])
    nodes.append({"op": "_rnn_param_concat", "name": "params", "attrs": {"dim": "0", "num_args": "4"},
                  "inputs": flat})
    cat = len(nodes) - 1
    nodes += [var("h0"), var("c0")]
    nodes.append({"op": "RNN", "name": "rnn0", "attrs": {"mode": "lstm", "num_layers": "1", "state_size": "5",
                                                          "state_outputs": "True", "p": "0"},
                  "inputs": [[1, 0, 0], [cat, 0, 0], [cat + 1, 0, 0], [cat + 2, 0, 0]]})
    nodes.append({"op": "SwapAxis", "name": "swap1", "attrs": {"dim1": "0", "dim2": "1"},
                  "inputs": [[len(nodes) - 1, 0, 0]]})
    arg_nodes = [i for i, n in enumerate(nodes) if n["op"] == "null"]
    return json.dumps({"nodes": nodes, "arg_nodes": arg_nodes, "node_row_ptr": list(range(len(nodes) + 1)),
                       "heads": [[len(nodes) - 1, 0, 0]], "attrs": {"mxnet_version": ["int", 10901]}})


def test_rnn_param_concat_in_an_exported_lstm_graph():
    sym = mx.sym.load_json(_lstm_export_json())
    internals = sym.get_internals()
    params = internals["params_output"]
    # The RNN op knows its parameter vector's size from data; _rnn_param_concat gives the deferred
    # i2h weight its flattened size: 4 * 5 * (input 4) = 80.
    _, outs, _ = internals.infer_shape_partial(data=(2, 3, 4), l0_h2h_weight=(20, 5), l0_i2h_bias=(20,),
                                               l0_h2h_bias=(20,))
    shapes = dict(zip(internals.list_outputs(), outs))
    assert shapes["params_output"] == (4 * 20 + 5 * 20 + 20 + 20,)
    assert shapes["l0_i2h_weight_flat_output"] == (80,)
    assert params.list_arguments() == ["l0_i2h_weight", "l0_h2h_weight", "l0_i2h_bias", "l0_h2h_bias"]
    # With every parameter given, the graph runs and equals the concatenation of the flattened weights.
    rng = np.random.default_rng(7)
    vals = {"l0_i2h_weight": rng.normal(size=(20, 4)), "l0_h2h_weight": rng.normal(size=(20, 5)),
            "l0_i2h_bias": rng.normal(size=20), "l0_h2h_bias": rng.normal(size=20)}
    out = params.eval(ctx=mx.cpu(), **{k: _arr(v) for k, v in vals.items()})[0].asnumpy()
    np.testing.assert_array_equal(out, np.concatenate([v.reshape(-1) for v in vals.values()]))


# ------------------------------------------------------------------ real MXNet 1.9.1 as reference
# (op, data shape, label shape or None, label kind, params): each runs in both frameworks.
MXNET_CASES = [
    ("LinearRegressionOutput", (4, 3), (4, 3), "real", {"grad_scale": 1.5}),
    ("LinearRegressionOutput", (5, 1), (5,), "real", {}),
    ("LinearRegressionOutput", (2, 3, 4), (2, 12), "real", {}),
    ("MAERegressionOutput", (4, 3), (4, 3), "real", {"grad_scale": 0.5}),
    ("LogisticRegressionOutput", (4, 3), (4, 3), "prob", {"grad_scale": 2.0}),
    ("LogisticRegressionOutput", (6, 1), (6,), "prob", {}),
    ("SVMOutput", (5, 4), (5,), "class", {}),
    ("SVMOutput", (5, 4), (5,), "class", {"margin": 0.5, "regularization_coefficient": 2.0}),
    ("SVMOutput", (5, 4), (5,), "class", {"use_linear": True, "margin": 0.7}),
    ("MakeLoss", (3, 4), None, "", {"grad_scale": 3.0}),
    ("MakeLoss", (2, 3, 4), None, "", {"normalization": "batch"}),
    ("MakeLoss", (3, 4), None, "", {"normalization": "valid", "valid_thresh": 0.2}),
    ("make_loss", (3, 4), None, "", {}),
    ("BlockGrad", (3, 4), None, "", {}),
]


def _case_arrays(i, dshape, lshape, kind):
    rng = np.random.default_rng(100 + i)
    x = rng.uniform(-1.5, 1.5, size=dshape).astype(np.float32)
    head = rng.uniform(-2, 2, size=dshape).astype(np.float32)
    lab = None
    if kind == "real":
        lab = rng.uniform(-1, 1, size=lshape).astype(np.float32)
    elif kind == "prob":
        lab = rng.uniform(0, 1, size=lshape).astype(np.float32)
    elif kind == "class":
        lab = rng.integers(0, dshape[-1], size=lshape).astype(np.float32)
    return x, lab, head


def test_loss_layers_match_real_mxnet(tmp_path, mxnet_python):
    """Forward outputs and data gradients (exp(data) feeds the layer, so the gradient also flows through
    an op before it) of every loss layer, bound as graphs in MXNet 1.9.1 and in MX, with a head gradient
    that the loss layers must ignore."""
    arrays = {}
    for i, (op, dshape, lshape, kind, params) in enumerate(MXNET_CASES):
        x, lab, head = _case_arrays(i, dshape, lshape, kind)
        arrays[f"x{i}"], arrays[f"h{i}"] = x, head
        if lab is not None:
            arrays[f"l{i}"] = lab
    np.savez(str(tmp_path / "in.npz"), **arrays)
    cases = [(op, lshape is not None, params) for op, _, lshape, _, params in MXNET_CASES]
    script = """
        import mxnet as mx, numpy as np
        d = np.load("in.npz")
        res = {}
        for i, (op, has_label, params) in enumerate(%r):
            data = mx.sym.exp(mx.sym.var("data"))
            args = {"data": mx.nd.array(d["x%%d" %% i])}
            if has_label:
                sym = getattr(mx.sym, op)(data, mx.sym.var("label"), **params)
                args["label"] = mx.nd.array(d["l%%d" %% i])
            else:
                sym = getattr(mx.sym, op)(data, **params)
            grads = {k: mx.nd.zeros(v.shape) for k, v in args.items()}
            ex = sym.bind(mx.cpu(), args, args_grad=grads)
            ex.forward(is_train=True)
            ex.backward([mx.nd.array(d["h%%d" %% i])])
            res["y%%d" %% i] = ex.outputs[0].asnumpy()
            res["g%%d" %% i] = grads["data"].asnumpy()
        np.savez("ref.npz", **res)
    """ % (cases,)
    run_mxnet(mxnet_python, script, tmp_path)
    ref = np.load(str(tmp_path / "ref.npz"))
    for i, (op, has_label, params) in enumerate(cases):
        data = mx.sym.exp(mx.sym.var("data"))
        args = {"data": nd.array(arrays[f"x{i}"])}
        if has_label:
            sym = getattr(mx.sym, op)(data, mx.sym.var("label"), **params)
            args["label"] = nd.array(arrays[f"l{i}"])
        else:
            sym = getattr(mx.sym, op)(data, **params)
        grads = {k: nd.zeros(v.shape) for k, v in args.items()}
        ex = sym.bind(mx.cpu(), args, args_grad=grads)
        ex.forward(is_train=True)
        ex.backward([nd.array(arrays[f"h{i}"])])
        what = f"{op} {params}"
        np.testing.assert_allclose(ex.outputs[0].asnumpy(), ref[f"y{i}"], rtol=1e-6, atol=1e-7, err_msg=what)
        np.testing.assert_allclose(grads["data"].asnumpy(), ref[f"g{i}"], rtol=1e-5, atol=1e-6, err_msg=what)


def _shape_attr(nodes, var):
    text = [n for n in nodes if n["name"] == var][0]["attrs"]["__shape__"]
    return tuple(int(d) for d in text.strip("()").split(",") if d.strip())


def test_mxnet_exported_bidirectional_lstm_loads_and_runs(tmp_path, mxnet_python):
    """A 2-layer bidirectional Gluon LSTM exported by MXNet 1.9.1 (its parameters joined by
    _rnn_param_concat, the first layer's i2h weights deferred as "(20, 0)") loads in MX; from the data
    shape alone the concat gives the two unknown i2h weights the rest of the RNN parameter vector
    (split evenly), and with MXNet's parameters the graph computes MXNet's output."""
    script = """
        import mxnet as mx, numpy as np
        mx.random.seed(0)
        net = mx.gluon.rnn.LSTM(5, num_layers=2, layout="NTC", bidirectional=True)
        net.initialize(mx.init.Uniform(0.5))
        net.hybridize()
        x = mx.nd.array(np.random.RandomState(0).normal(size=(2, 3, 4)))
        y = net(x)
        net.export("lstm")
        np.savez("ref.npz", x=x.asnumpy(), y=y.asnumpy())
    """
    run_mxnet(mxnet_python, script, tmp_path)
    ref = np.load(str(tmp_path / "ref.npz"))
    sym = mx.sym.load(str(tmp_path / "lstm-symbol.json"))
    nodes = json.loads(sym.tojson())["nodes"]
    cats = [n for n in nodes if n["op"] == "_rnn_param_concat"]
    assert len(cats) == 1 and cats[0]["attrs"]["num_args"] == "16"
    # The flattened parameters: {variable name: its Reshape's output}.
    flat = {nodes[n["inputs"][0][0]]["name"]: n["name"] + "_output" for n in nodes if n["op"] == "Reshape"}
    assert len(flat) == 16
    internals = sym.get_internals()
    _, outs, _ = internals.infer_shape_partial(data0=(2, 3, 4))
    shapes = dict(zip(internals.list_outputs(), outs))
    # Layer 0's i2h weights (deferred input size) get 4 * 5 gates x 4 inputs = 80 each; the others
    # are known from their __shape__.
    for var, out in flat.items():
        assert shapes[out] == ((80,) if "l0_i2h_weight" in var or "r0_i2h_weight" in var else
                               (int(np.prod(_shape_attr(nodes, var))),)), (var, shapes[out])
    params = {k.split(":", 1)[1]: v for k, v in nd.load(str(tmp_path / "lstm-0000.params")).items()}
    args = dict(params, data0=nd.array(ref["x"]), data1=nd.zeros((4, 2, 5)), data2=nd.zeros((4, 2, 5)))
    out = sym.bind(mx.cpu(), args).forward()[0].asnumpy()
    np.testing.assert_allclose(out, ref["y"], rtol=1e-5, atol=1e-6)
