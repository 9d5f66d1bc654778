"""HybridBlock.hybridize(): the traced graph (one CachedOp) computes what the imperative block
computes, outputs and gradients, in training and inference mode.

The reference is always the same network run imperatively (op by op through mx.nd), with the
same parameter values: either the same block before hybridize(), or a twin block whose
parameters are copied. Dropout is checked through mask-independent identities.
"""
import gc
import warnings

import numpy as np
import pytest

import mx
from mx import autograd, gluon, nd
from mx.gluon import nn, rnn

TOL = dict(rtol=1e-5, atol=1e-6)


def _rand(*shape, seed=0):
    return np.random.RandomState(seed).uniform(-1, 1, size=shape).astype(np.float32)


def _leaves(out):
    if isinstance(out, (list, tuple)):
        return [a for o in out for a in _leaves(o)]
    return [out]


def _copy_params(src, dst):
    """Copies parameter values in collect_params() order (same architecture)."""
    sp, dp = list(src.collect_params().values()), list(dst.collect_params().values())
    assert [p.shape for p in sp] == [p.shape for p in dp]
    for a, b in zip(sp, dp):
        b.set_data(a.data())


def _twins(make, *inputs, **init):
    """Two identical nets (the second with the first's parameters), deferred init done."""
    a, b = make(), make()
    for n in (a, b):
        n.initialize(**init)
        with autograd.pause():
            n(*inputs)
    _copy_params(a, b)
    return a, b


def _step(net, inputs, train=True, weights=None, input_grads=False):
    """Forward under record, loss = sum(out * w) over all outputs, backward. Returns
    (outputs as numpy, {param name suffix: grad numpy}); input_grads adds the gradients of the
    (flat) inputs as 'input<i>'."""
    flat_in = _leaves(inputs)
    if input_grads:
        for a in flat_in:
            a.attach_grad()
    with autograd.record(train_mode=train):
        out = net(*inputs)
        leaves = _leaves(out)
        loss = None
        for i, o in enumerate(leaves):
            w = nd.array(_rand(*o.shape, seed=100 + i)) if weights is None else weights[i]
            term = (o * w).sum()
            loss = term if loss is None else loss + term
    loss.backward()
    prefix = len(net.prefix)
    grads = {k[prefix:]: p.grad().asnumpy() for k, p in net.collect_params().items()
             if p.grad_req != "null"}
    if input_grads:
        grads.update(("input%d" % i, a.grad.asnumpy()) for i, a in enumerate(flat_in))
    return [o.asnumpy() for o in leaves], grads


def _assert_same_step(ref, hyb, inputs, train=True, tol=TOL, input_grads=False):
    ro, rg = _step(ref, inputs, train, input_grads=input_grads)
    ho, hg = _step(hyb, inputs, train, input_grads=input_grads)
    assert len(ro) == len(ho)
    for a, b in zip(ro, ho):
        np.testing.assert_allclose(b, a, **tol)
    assert rg.keys() == hg.keys()
    for k in rg:
        np.testing.assert_allclose(hg[k], rg[k], err_msg="gradient of " + k, **tol)


def _mlp():
    net = nn.HybridSequential(prefix="mlp_")
    with net.name_scope():
        net.add(nn.Dense(16, activation="relu"), nn.Dense(8, activation="tanh"), nn.Dense(3))
    return net


def _cnn():
    net = nn.HybridSequential(prefix="cnn_")
    with net.name_scope():
        net.add(nn.Conv2D(4, 3, padding=1, activation="relu"), nn.MaxPool2D(2),
                nn.Conv2D(6, 3, strides=1), nn.AvgPool2D(2), nn.Flatten(), nn.Dense(5))
    return net


def _bn_net():
    net = nn.HybridSequential(prefix="bn_")
    with net.name_scope():
        net.add(nn.Dense(12), nn.BatchNorm(), nn.Activation("relu"), nn.Dense(4))
    return net


# ----------------------------------------------------------------------------- equivalence
def test_mlp_same_outputs_and_gradients():
    x = nd.array(_rand(5, 7))
    ref, hyb = _twins(_mlp, x)
    hyb.hybridize()
    for train in (True, False):
        _assert_same_step(ref, hyb, [x], train)
    assert hyb._cached_op is not None  # it really ran the cached graph


def test_same_block_before_and_after_hybridize():
    net = _mlp()
    net.initialize(mx.init.Xavier())
    x = nd.array(_rand(3, 7))
    o1, g1 = _step(net, [x])
    net.hybridize()
    o2, g2 = _step(net, [x])
    np.testing.assert_allclose(o2[0], o1[0], **TOL)
    for k in g1:
        np.testing.assert_allclose(g2[k], g1[k], **TOL)


def test_conv_net_same_outputs_and_gradients():
    x = nd.array(_rand(2, 3, 9, 9))
    ref, hyb = _twins(_cnn, x)
    hyb.hybridize()
    _assert_same_step(ref, hyb, [x], True, tol=dict(rtol=1e-4, atol=1e-5))


def test_batchnorm_training_updates_running_stats_like_imperative():
    x1, x2 = nd.array(_rand(6, 5, seed=1)), nd.array(_rand(6, 5, seed=2) * 3 + 1)
    ref, hyb = _twins(_bn_net, x1)
    hyb.hybridize()
    for x in (x1, x2):
        _assert_same_step(ref, hyb, [x], True, tol=dict(rtol=1e-4, atol=1e-5))
    for name in ("running_mean", "running_var"):
        r = [p.data().asnumpy() for k, p in ref.collect_params().items() if k.endswith(name)]
        h = [p.data().asnumpy() for k, p in hyb.collect_params().items() if k.endswith(name)]
        np.testing.assert_allclose(h[0], r[0], rtol=1e-5, atol=1e-6)
        assert not np.allclose(h[0], 0 if name == "running_mean" else 1)  # really updated
    # inference mode uses the running statistics (and does not change them)
    before = [p.data().asnumpy() for p in hyb.collect_params().values()]
    _assert_same_step(ref, hyb, [x1], False, tol=dict(rtol=1e-4, atol=1e-5))
    after = [p.data().asnumpy() for p in hyb.collect_params().values()]
    for a, b in zip(before, after):
        np.testing.assert_array_equal(a, b)


def test_dropout_mask_identities():
    p = 0.4
    net = nn.HybridSequential()
    with net.name_scope():
        net.add(nn.Dropout(p))
    net.initialize()
    net.hybridize()
    x = nd.array(np.abs(_rand(64, 50)) + 0.5)
    x.attach_grad()
    with autograd.record():
        y = net(x)
    y.backward()
    yn, gn, xn = y.asnumpy(), x.grad.asnumpy(), x.asnumpy()
    # y = x * mask / (1 - p) and dy/dx = mask / (1 - p): the same mask forward and backward
    np.testing.assert_allclose(yn, xn * gn, rtol=1e-6)
    kept = gn != 0
    np.testing.assert_allclose(gn[kept], 1 / (1 - p), rtol=1e-6)
    assert abs((~kept).mean() - p) < 0.05
    # two training calls draw different masks
    with autograd.record():
        y2 = net(x)
    assert not np.array_equal(y2.asnumpy() != 0, kept)
    # inference: identity
    np.testing.assert_array_equal(net(x).asnumpy(), xn)


def test_dropout_zero_rate_same_as_imperative():
    def make():
        net = nn.HybridSequential(prefix="d_")
        with net.name_scope():
            net.add(nn.Dense(6), nn.Dropout(0.0), nn.Dense(2))
        return net
    x = nd.array(_rand(4, 3))
    ref, hyb = _twins(make, x)
    hyb.hybridize()
    _assert_same_step(ref, hyb, [x], True)


class _EmbConcat(gluon.HybridBlock):
    def __init__(self, **kw):
        super().__init__(**kw)
        with self.name_scope():
            self.emb = nn.Embedding(11, 4)
            self.a = nn.Dense(3, flatten=False)
            self.b = nn.Dense(2, flatten=False, activation="sigmoid")

    def hybrid_forward(self, F, tokens):
        e = self.emb(tokens)
        return F.concat(self.a(e), self.b(e), dim=2)


def test_embedding_concat_same_outputs_and_gradients():
    tokens = nd.array(np.random.RandomState(3).randint(0, 11, size=(3, 5)))
    ref, hyb = _twins(lambda: _EmbConcat(prefix="ec_"), tokens)
    hyb.hybridize()
    _assert_same_step(ref, hyb, [tokens], True)


def test_hybrid_concatenate_same_outputs():
    def make():
        net = nn.HybridConcatenate(axis=1, prefix="hc_")
        with net.name_scope():
            net.add(nn.Dense(3), nn.Dense(2, activation="relu"), nn.Identity())
        return net
    x = nd.array(_rand(4, 6))
    ref, hyb = _twins(make, x)
    hyb.hybridize()
    _assert_same_step(ref, hyb, [x], True)


class _Seq2Vec(gluon.HybridBlock):
    """Embedding -> LSTM (zero begin states made inside the graph) -> Dense on the last step."""

    def __init__(self, layout="TNC", **kw):
        super().__init__(**kw)
        with self.name_scope():
            self.emb = nn.Embedding(13, 6)
            self.lstm = rnn.LSTM(7, num_layers=2, layout=layout)
            self.out = nn.Dense(3, flatten=False)
        self._layout = layout

    def hybrid_forward(self, F, tokens):
        seq = self.lstm(self.emb(tokens))
        return self.out(seq)


@pytest.mark.parametrize("layout", ["TNC", "NTC"])
def test_lstm_inside_a_traced_block(layout):
    tokens = nd.array(np.random.RandomState(4).randint(0, 13, size=(5, 3)))
    ref, hyb = _twins(lambda: _Seq2Vec(layout=layout, prefix="s2v_"), tokens)
    hyb.hybridize()
    _assert_same_step(ref, hyb, [tokens], True, tol=dict(rtol=1e-4, atol=1e-5))


def test_lstm_layer_with_states_hybridized():
    x = nd.array(_rand(4, 2, 5))
    h0, c0 = nd.array(_rand(1, 2, 6, seed=5)), nd.array(_rand(1, 2, 6, seed=6))
    ref, hyb = _twins(lambda: rnn.LSTM(6, prefix="lstm_"), x, [h0, c0])
    hyb.hybridize()
    _assert_same_step(ref, hyb, [x, [h0, c0]], True, tol=dict(rtol=1e-4, atol=1e-5))
    out, states = hyb(x, [h0, c0])
    assert out.shape == (4, 2, 6) and [s.shape for s in states] == [(1, 2, 6)] * 2
    # without states: the layer makes zero states (as NDArray inputs of its graph)
    np.testing.assert_allclose(hyb(x).asnumpy(), ref(x).asnumpy(), rtol=1e-5, atol=1e-6)


class _Nested(gluon.HybridBlock):
    def __init__(self, **kw):
        super().__init__(**kw)
        with self.name_scope():
            self.d = nn.Dense(3)

    def hybrid_forward(self, F, x, y):
        h = self.d(x)
        return h, [F.relu(h) + y, F.sum(y, axis=1)]


def test_nested_outputs_keep_their_structure():
    x, y = nd.array(_rand(2, 4)), nd.array(_rand(2, 3, seed=1))
    ref, hyb = _twins(lambda: _Nested(prefix="n_"), x, y)
    hyb.hybridize()
    out = hyb(x, y)
    assert isinstance(out, (list, tuple)) and len(out) == 2
    assert isinstance(out[1], (list, tuple)) and len(out[1]) == 2
    r = ref(x, y)
    for a, b in zip(_leaves(r), _leaves(out)):
        np.testing.assert_allclose(b.asnumpy(), a.asnumpy(), **TOL)
    _assert_same_step(ref, hyb, [x, y], True)
    names = hyb._cached_graph[1].list_inputs()
    assert "data0" in names and "data1" in names


class _Optional(gluon.HybridBlock):
    def __init__(self, **kw):
        super().__init__(**kw)
        with self.name_scope():
            self.d = nn.Dense(2, in_units=3)

    def hybrid_forward(self, F, x, bias=None):
        out = self.d(x)
        return out if bias is None else F.broadcast_add(out, bias)


def test_retrace_when_inputs_change():
    net = _Optional()
    net.initialize()
    x, b = nd.array(_rand(4, 3)), nd.array(_rand(1, 2, seed=9))
    ref = net(x).asnumpy()
    ref_b = net(x, b).asnumpy()
    net.hybridize()
    np.testing.assert_allclose(net(x).asnumpy(), ref, **TOL)
    np.testing.assert_allclose(net(x, b).asnumpy(), ref_b, **TOL)
    np.testing.assert_allclose(net(x).asnumpy(), ref, **TOL)
    assert len(net._cached_ops) == 2
    # a new batch size reuses the graph
    x2 = nd.array(_rand(7, 3, seed=2))
    np.testing.assert_allclose(net(x2).asnumpy(), x2.asnumpy() @ net.d.weight.data().asnumpy().T
                               + net.d.bias.data().asnumpy(), rtol=1e-5, atol=1e-6)
    assert len(net._cached_ops) == 2


def test_static_alloc_same_as_default():
    x = nd.array(_rand(6, 7))
    a, b = _twins(_mlp, x)
    a.hybridize()
    b.hybridize(static_alloc=True, static_shape=True)
    for _ in range(3):
        _assert_same_step(a, b, [x], True)
    c, d = _twins(_bn_net, x)
    c.hybridize(static_alloc=True)
    d.hybridize()
    for _ in range(2):
        _assert_same_step(c, d, [x], True, tol=dict(rtol=1e-4, atol=1e-5))


@pytest.mark.parametrize("static", [False, True])
def test_repeated_calls_do_not_grow_memory(static):
    net = _bn_net()
    net.initialize()
    net.hybridize(static_alloc=static, static_shape=static)
    x = nd.array(_rand(32, 20))

    def step():
        with autograd.record():
            y = net(x)
            loss = (y * y).mean()
        loss.backward()
        loss.asnumpy()
    for _ in range(3):
        step()
        net(x).asnumpy()  # the inference graph too
    nd.waitall()
    gc.collect()
    base = mx.cpu().memory_stats()[0]
    for _ in range(30):
        step()
        net(x).asnumpy()
    nd.waitall()
    gc.collect()
    assert mx.cpu().memory_stats()[0] <= base


# ----------------------------------------------------------------------------- behaviour
def test_first_call_with_deferred_init_then_cached():
    net = _cnn()
    net.initialize()
    net.hybridize()
    x = nd.array(_rand(2, 3, 9, 9))
    y1 = net(x).asnumpy()  # finishes deferred initialization, traces the graph
    assert net._cached_graph
    y2 = net(x).asnumpy()  # the cached op
    np.testing.assert_allclose(y2, y1, rtol=1e-5, atol=1e-6)
    assert all(p.shape[-1] != 0 for p in net.collect_params().values())


def test_hybridize_options():
    net = _mlp()
    net.initialize()
    net.hybridize(static_alloc=True, inline_limit=2, forward_bulk_size=15, backward_bulk_size=15,
                  backend=None)
    assert dict(net._flags) == {"static_alloc": True, "static_shape": False}
    assert dict(net[0]._flags)["static_alloc"] is True
    with pytest.raises(ValueError, match="unknown option 'not_a_flag'"):
        net.hybridize(not_a_flag=1)
    with pytest.raises(NotImplementedError, match="backend"):
        net.hybridize(backend="MKLDNN")
    seq = nn.Sequential()
    with pytest.raises(ValueError, match="unknown option"):
        seq.hybridize(bogus=True)


def test_hybridize_off_runs_imperatively_again():
    net = _mlp()
    net.initialize()
    x = nd.array(_rand(2, 7))
    net.hybridize()
    y = net(x).asnumpy()
    net.hybridize(False)
    assert net._cached_op is None and not net._active
    np.testing.assert_allclose(net(x).asnumpy(), y, **TOL)
    assert net._cached_op is None


def test_cast_rebuilds_the_graph():
    net = _mlp()
    net.initialize()
    x = nd.array(_rand(3, 7))
    net.hybridize()
    y32 = net(x).asnumpy()
    net.cast("float64")
    assert net._cached_op is None
    y64 = net(x.astype("float64"))
    assert y64.dtype == np.float64
    np.testing.assert_allclose(y64.asnumpy(), y32, rtol=1e-5, atol=1e-6)


def test_force_reinit_and_set_data_are_seen():
    net = _mlp()
    net.initialize()
    x = nd.array(_rand(3, 7))
    net.hybridize()
    net(x)
    net.initialize(mx.init.Uniform(0.5), force_reinit=True)
    y = net(x).asnumpy()
    h = x.asnumpy()
    p = {k: v.data().asnumpy() for k, v in net.collect_params().items()}
    h = np.maximum(h @ p["mlp_dense0_weight"].T + p["mlp_dense0_bias"], 0)
    h = np.tanh(h @ p["mlp_dense1_weight"].T + p["mlp_dense1_bias"])
    h = h @ p["mlp_dense2_weight"].T + p["mlp_dense2_bias"]
    np.testing.assert_allclose(y, h, rtol=1e-5, atol=1e-6)
    # set_data writes into the arrays the graph reads
    net[2].bias.set_data(nd.ones((3,)))
    np.testing.assert_allclose(net(x).asnumpy(), h - p["mlp_dense2_bias"] + 1, rtol=1e-5,
                               atol=1e-6)


def test_grad_req_add_accumulates_through_cached_graph():
    x = nd.array(_rand(4, 7))
    net = _mlp()
    net.initialize()
    net.hybridize()
    _, g1 = _step(net, [x])
    net.collect_params().setattr("grad_req", "add")
    net.collect_params().zero_grad()
    _step(net, [x])
    _, g2 = _step(net, [x])
    for k in g1:
        np.testing.assert_allclose(g2[k], 2 * g1[k], rtol=1e-5, atol=1e-6)


def test_trainer_on_hybridized_net_lowers_loss():
    rs = np.random.RandomState(0)
    x = nd.array(rs.randn(64, 7).astype(np.float32))
    yt = nd.array(rs.randn(64, 3).astype(np.float32))
    net = _mlp()
    net.initialize(mx.init.Xavier())
    net.hybridize(static_alloc=True)
    loss_fn = gluon.loss.L2Loss()
    loss_fn.hybridize()
    tr = gluon.Trainer(net.collect_params(), "adam", {"learning_rate": 0.01})
    losses = []
    for _ in range(40):
        with autograd.record():
            loss = loss_fn(net(x), yt)
        loss.backward()
        tr.step(64)
        losses.append(float(loss.asnumpy().mean()))
    assert losses[-1] < 0.5 * losses[0]


def test_losses_trace_symbolically():
    pred, label = nd.array(_rand(4, 5)), nd.array(np.arange(4) % 5)
    for loss in (gluon.loss.SoftmaxCrossEntropyLoss(), gluon.loss.L1Loss(),
                 gluon.loss.HuberLoss(), gluon.loss.SigmoidBCELoss()):
        lab = label if isinstance(loss, gluon.loss.SoftmaxCrossEntropyLoss) else \
            nd.array(_rand(4, 5, seed=3) > 0)
        ref = loss(pred, lab).asnumpy()
        loss.hybridize()
        np.testing.assert_allclose(loss(pred, lab).asnumpy(), ref, rtol=1e-5, atol=1e-6)
    cos = gluon.loss.CosineEmbeddingLoss()
    a, b, lab = nd.array(_rand(3, 4)), nd.array(_rand(3, 4, seed=1)), nd.array([1, -1, 1])
    ref = cos(a, b, lab).asnumpy()
    cos.hybridize()
    np.testing.assert_allclose(cos(a, b, lab).asnumpy(), ref, rtol=1e-5, atol=1e-6)


def test_symbol_input_returns_symbol():
    net = _mlp()
    net.initialize()
    out = net(mx.sym.var("data"))
    assert isinstance(out, mx.sym.Symbol)
    assert out.list_arguments() == ["data"] + list(net.collect_params().keys())
    assert out.name == "mlp_dense2_fwd"
    with pytest.raises(TypeError, match="NDArray"):
        net([1, 2])


def test_unknown_variable_in_hybrid_forward_is_named():
    class Bad(gluon.HybridBlock):
        def hybrid_forward(self, F, x):
            if F is nd:
                return x * 2
            return x * F.var("stray")

    b = Bad()
    b.hybridize()
    with pytest.raises(ValueError, match="stray"):
        b(nd.ones((2, 2)))


def test_uninitialized_parameters_error():
    net = _mlp()
    net.hybridize()
    with pytest.raises(RuntimeError, match="not been initialized"):
        net(nd.ones((2, 7)))


def test_unused_parameter_warns():
    class Unused(gluon.HybridBlock):
        def __init__(self):
            super().__init__()
            self.w = self.params.get("w", shape=(2,))

        def hybrid_forward(self, F, x, w):
            return x + 1

    u = Unused()
    u.initialize()
    u.hybridize()
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        np.testing.assert_array_equal(u(nd.zeros((2,))).asnumpy(), [1, 1])
    assert any("not used by any computation" in str(w.message) for w in rec)


# ----------------------------------------------------------------------------- Parameter.var
def test_parameter_var_attributes_and_cache():
    p = gluon.Parameter("fc_weight", shape=(4, 3), lr_mult=2.0, wd_mult=0.5, init="zeros")
    v = p.var()
    assert isinstance(v, mx.sym.Symbol) and v.name == "fc_weight"
    attrs = v.list_attr()
    assert attrs["__shape__"] == "(4, 3)"
    assert attrs["__dtype__"] == "0"
    assert float(attrs["__lr_mult__"]) == 2.0 and float(attrs["__wd_mult__"]) == 0.5
    assert attrs["__init__"] == "zeros"
    assert p.var() is v
    p.cast("float64")
    v64 = p.var()
    assert v64 is not v and v64.list_attr()["__dtype__"] == "1"
    d = gluon.Parameter("deferred", shape=(5, 0), allow_deferred_init=True)
    assert "__shape__" not in d.var().list_attr()  # unknown dims are not written as sizes
    d.shape = (5, 2)
    assert d.var().list_attr()["__shape__"] == "(5, 2)"
    init = mx.init.Xavier()
    x = gluon.Parameter("x", shape=(2,), init=init)
    assert x.var().list_attr()["__init__"] == init.dumps()


# ----------------------------------------------------------------------------- shape inference
def test_custom_block_deferred_shape_by_symbolic_inference():
    class Custom(gluon.HybridBlock):
        def __init__(self):
            super().__init__()
            self.w = self.params.get("w", shape=(3, 0), allow_deferred_init=True)

        def hybrid_forward(self, F, x, w):
            return F.FullyConnected(x, w, num_hidden=3, no_bias=True)

    x = _rand(2, 4)
    for hybrid in (False, True):
        c = Custom()
        c.initialize()
        if hybrid:
            c.hybridize()
        y = c(nd.array(x)).asnumpy()
        assert c.w.shape == (3, 4)
        np.testing.assert_allclose(y, x @ c.w.data().asnumpy().T, rtol=1e-5, atol=1e-6)


def test_infer_shape_of_children():
    net = _cnn()
    net.initialize()
    net.infer_shape(nd.ones((2, 3, 9, 9)))
    shapes = {k[len(net.prefix):]: p.shape for k, p in net.collect_params().items()}
    assert shapes["conv0_weight"] == (4, 3, 3, 3)
    assert shapes["conv1_weight"] == (6, 4, 3, 3)
    assert shapes["dense0_weight"] == (5, 6)


# ----------------------------------------------------------------------------- every layer
def _in(*shape):
    return lambda: nd.array(_rand(*shape, seed=7))


_LAYERS = {
    "Dense_noflat": (lambda: nn.Dense(3, flatten=False, use_bias=False), _in(2, 3, 4)),
    "InstanceNorm": (lambda: nn.InstanceNorm(scale=True), _in(2, 3, 5)),
    "InstanceNorm_axis2": (lambda: nn.InstanceNorm(axis=2), _in(2, 5, 3)),
    "LayerNorm": (lambda: nn.LayerNorm(), _in(3, 6)),
    "GroupNorm": (lambda: nn.GroupNorm(num_groups=2), _in(2, 4, 3)),
    "BatchNorm_noscale": (lambda: nn.BatchNorm(scale=False, center=False), _in(4, 3, 2)),
    "Flatten": (lambda: nn.Flatten(), _in(2, 3, 4)),
    "HybridLambda": (lambda: nn.HybridLambda(lambda F, x: F.tanh(x) * 2), _in(3, 4)),
    "HybridLambda_name": (lambda: nn.HybridLambda("sigmoid"), _in(3, 4)),
    "Identity": (lambda: nn.Identity(), _in(3, 4)),
    "Conv1D": (lambda: nn.Conv1D(3, 3, strides=2, padding=1, groups=1), _in(2, 2, 9)),
    "Conv3D": (lambda: nn.Conv3D(2, 2, use_bias=False), _in(1, 2, 4, 4, 4)),
    "Conv2DTranspose": (lambda: nn.Conv2DTranspose(3, 3, strides=2, output_padding=1),
                        _in(2, 2, 4, 4)),
    "Conv2D_groups": (lambda: nn.Conv2D(4, 3, groups=2, activation="sigmoid"),
                      _in(1, 4, 5, 5)),
    "MaxPool1D": (lambda: nn.MaxPool1D(3, ceil_mode=True), _in(2, 3, 8)),
    "AvgPool3D": (lambda: nn.AvgPool3D(2), _in(1, 2, 4, 4, 4)),
    "GlobalAvgPool2D": (lambda: nn.GlobalAvgPool2D(), _in(2, 3, 4, 5)),
    "GlobalMaxPool1D": (lambda: nn.GlobalMaxPool1D(), _in(2, 3, 6)),
    "ReflectionPad2D": (lambda: nn.ReflectionPad2D(1), _in(1, 2, 4, 4)),
    "LeakyReLU": (lambda: nn.LeakyReLU(0.1), _in(3, 4)),
    "PReLU": (lambda: nn.PReLU(in_channels=4), _in(3, 4)),
    "ELU": (lambda: nn.ELU(), _in(3, 4)),
    "SELU": (lambda: nn.SELU(), _in(3, 4)),
    "GELU": (lambda: nn.GELU(), _in(3, 4)),
    "GELU_tanh": (lambda: nn.GELU(approximation="tanh"), _in(3, 4)),
    "Swish": (lambda: nn.Swish(), _in(3, 4)),
    "SiLU": (lambda: nn.SiLU(), _in(3, 4)),
    "GRU_bidir": (lambda: rnn.GRU(4, num_layers=2, bidirectional=True, layout="NTC"),
                  _in(2, 5, 3)),
    "RNN_tanh": (lambda: rnn.RNN(3, activation="tanh"), _in(4, 2, 3)),
}


@pytest.mark.parametrize("name", sorted(_LAYERS))
def test_every_layer_hybridizes(name):
    make, data = _LAYERS[name]
    x = data()

    def wrapped():
        net = nn.HybridSequential(prefix="w_")
        with net.name_scope():
            net.add(make())
        return net
    ref, hyb = _twins(wrapped, x, init=mx.init.Uniform(0.5))
    hyb.hybridize()
    for train in (True, False):
        _assert_same_step(ref, hyb, [x], train, tol=dict(rtol=1e-4, atol=1e-5),
                          input_grads=True)


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru", "stack", "residual"])
def test_cells_step_hybridized(cell):
    def make():
        if cell == "stack":
            c = rnn.HybridSequentialRNNCell(prefix="st_")
            with c.name_scope():
                c.add(rnn.LSTMCell(4))
                c.add(rnn.GRUCell(3))
            return c
        if cell == "residual":
            return rnn.ResidualCell(rnn.GRUCell(5, prefix="g_"))
        return {"rnn": rnn.RNNCell, "lstm": rnn.LSTMCell, "gru": rnn.GRUCell}[cell](
            5, prefix="c_")
    x = nd.array(_rand(2, 5))
    ref, hyb = make(), make()
    states = [nd.array(_rand(*i["shape"], seed=k + 1)) for k, i in
              enumerate(ref.state_info(2))]
    for c in (ref, hyb):
        c.initialize(mx.init.Uniform(0.5))
        c(x, states)
    _copy_params(ref, hyb)
    hyb.hybridize()
    for train in (True, False):
        _assert_same_step(ref, hyb, [x, states], train, input_grads=True)
    out, new_states = hyb(x, states)
    assert len(new_states) == len(states)
