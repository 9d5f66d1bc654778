"""Gluon core: Block/HybridBlock, name scoping, Parameter/ParameterDict/Constant, parameter
sharing, save/load, hooks, summary, cast, gluon.utils."""
import warnings

import numpy as np
import pytest

import mx
from mx import autograd, gluon, nd
from mx.gluon import nn


def _rand(*shape, seed=0):
    return np.random.RandomState(seed).randn(*shape).astype(np.float32)


class Net(gluon.HybridBlock):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        with self.name_scope():
            self.features = nn.HybridSequential()
            with self.features.name_scope():
                self.features.add(nn.Dense(4, activation="relu"), nn.Dense(3))
            self.out = nn.Dense(2, in_units=3)
            self.scale = self.params.get("scale", shape=(2,), init=mx.init.One())

    def hybrid_forward(self, F, x, scale):
        return F.broadcast_mul(self.out(self.features(x)), scale)


# ----------------------------------------------------------------------------- naming
def test_name_scope_prefixes():
    net = Net(prefix="model_")
    assert net.prefix == "model_" and net.name == "model"
    assert net.features.prefix == "model_hybridsequential0_"
    assert net.features[0].prefix == "model_hybridsequential0_dense0_"
    assert net.features[1].prefix == "model_hybridsequential0_dense1_"
    assert net.out.prefix == "model_dense0_"
    names = sorted(net.collect_params().keys())
    assert names == sorted([
        "model_scale", "model_dense0_weight", "model_dense0_bias",
        "model_hybridsequential0_dense0_weight", "model_hybridsequential0_dense0_bias",
        "model_hybridsequential0_dense1_weight", "model_hybridsequential0_dense1_bias"])
    # the act child of a Dense gets the activation's name
    assert net.features[0].act.prefix == "model_hybridsequential0_dense0_relu_"


def test_top_level_counters_increase():
    a = nn.Dense(2)
    b = nn.Dense(2)
    ia = int(a.prefix[len("dense"):-1])
    ib = int(b.prefix[len("dense"):-1])
    assert a.prefix.startswith("dense") and ib == ia + 1
    c = nn.Conv2D(2, 3)
    assert c.prefix.startswith("conv")
    p = nn.MaxPool2D()
    assert p.prefix.startswith("pool")


def test_params_vs_collect_params_and_select():
    net = Net(prefix="m_")
    assert list(net.params.keys()) == ["m_scale"]
    sel = net.collect_params(".*weight")
    assert sorted(sel.keys()) == sorted(["m_dense0_weight", "m_hybridsequential0_dense0_weight",
                                         "m_hybridsequential0_dense1_weight"])
    sel = net.collect_params("m_dense0_.*|.*scale")
    assert sorted(sel.keys()) == ["m_dense0_bias", "m_dense0_weight", "m_scale"]
    assert len(net.collect_params("nothing")) == 0


def test_child_registration_by_attribute():
    class B(gluon.Block):
        def __init__(self):
            super().__init__()
            with self.name_scope():
                self.a = nn.Dense(2)
                self.b = nn.Dense(3)
                self.w = gluon.Parameter("w", shape=(1,))

        def forward(self, x):
            return self.b(self.a(x))

    blk = B()
    assert list(blk._children.keys()) == ["a", "b"]
    assert "w" in blk._reg_params
    with pytest.raises(TypeError, match="Changing attribute type"):
        blk.a = 3
    with pytest.raises(ValueError, match="Children of HybridBlock must also be HybridBlock"):
        nn.HybridSequential().add(blk)
    s = repr(blk)
    assert "(a): Dense(None -> 2, linear)" in s


# ----------------------------------------------------------------------------- sequential
def test_sequential_indexing_slicing_len():
    net = nn.Sequential()
    with net.name_scope():
        net.add(nn.Dense(3), nn.Dense(4), nn.Dense(5))
    assert len(net) == 3
    assert net[1] is list(net._children.values())[1]
    assert net[-1].prefix.endswith("dense2_")
    sub = net[1:]
    assert isinstance(sub, nn.Sequential) and len(sub) == 2
    assert sub[0] is net[1] and sub[1] is net[2]
    hs = nn.HybridSequential()
    hs.add(nn.Dense(2), nn.Dense(2))
    assert isinstance(hs[:1], nn.HybridSequential) and len(hs[:1]) == 1
    net.initialize()
    x = nd.array(_rand(2, 6))
    y = net(x)
    ref = net[2](net[1](net[0](x)))
    np.testing.assert_allclose(y.asnumpy(), ref.asnumpy(), rtol=1e-6)


def test_block_forward_and_hybridize_same_result(tmp_path):
    net = Net()
    net.initialize(mx.init.Xavier())
    x = nd.array(_rand(3, 5))
    y1 = net(x).asnumpy()
    net.hybridize()
    assert net._active
    y2 = net(x).asnumpy()
    np.testing.assert_allclose(y1, y2, rtol=1e-6, atol=1e-7)
    sym_file, params_file = net.export(str(tmp_path / "model"))
    assert sym_file.endswith("model-symbol.json") and params_file.endswith("model-0000.params")
    back = gluon.SymbolBlock.imports(sym_file, ["data"], params_file)
    np.testing.assert_allclose(back(x).asnumpy(), y1, rtol=1e-6, atol=1e-7)
    with pytest.raises(TypeError, match="NDArray"):
        net([1, 2])


def test_custom_block_numpy_reference():
    net = Net()
    net.initialize(mx.init.Normal(0.5))
    net.scale.set_data(nd.array([2.0, -1.0]))
    x = _rand(3, 5)
    net(nd.array(x))  # completes the deferred initialization
    p = {k[len(net.prefix):]: v.data().asnumpy() for k, v in net.collect_params().items()}
    h = np.maximum(x @ p["hybridsequential0_dense0_weight"].T
                   + p["hybridsequential0_dense0_bias"], 0)
    h = h @ p["hybridsequential0_dense1_weight"].T + p["hybridsequential0_dense1_bias"]
    ref = (h @ p["dense0_weight"].T + p["dense0_bias"]) * np.array([2.0, -1.0])
    np.testing.assert_allclose(net(nd.array(x)).asnumpy(), ref, rtol=1e-5, atol=1e-5)


def test_custom_block_deferred_without_rule_is_clear_error():
    class Custom(gluon.HybridBlock):
        def __init__(self):
            super().__init__()
            self.w = self.params.get("w", shape=(0, 3), allow_deferred_init=True)

        def hybrid_forward(self, F, x, w):
            return F.dot(x, w)

    c = Custom()
    c.initialize()
    # dot's shape rule does not deduce an unknown operand: symbolic inference leaves w unknown
    with pytest.raises(gluon.DeferredInitializationError,
                       match="cannot infer the shape of Parameter.*w"):
        c(nd.ones((2, 4)))


# ----------------------------------------------------------------------------- parameters
def test_parameter_basics():
    p = gluon.Parameter("weight", shape=(2, 3), init=mx.init.Constant(0.5), lr_mult=2.0)
    assert p.shape == (2, 3) and p.dtype == np.float32 and p.lr_mult == 2.0
    assert repr(p) == "Parameter weight (shape=(2, 3), dtype=float32)"
    with pytest.raises(RuntimeError, match="has not been initialized"):
        p.data()
    p.initialize()
    np.testing.assert_array_equal(p.data().asnumpy(), np.full((2, 3), 0.5))
    assert len(p.list_data()) == 1 and p.list_ctx() == [mx.cpu()]
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        p.initialize()
    assert any("already initialized" in str(i.message) for i in w)
    p.initialize(init=mx.init.One(), force_reinit=True)
    np.testing.assert_array_equal(p.data().asnumpy(), 1)
    p.set_data(nd.array(_rand(2, 3)))
    np.testing.assert_array_equal(p.data().asnumpy(), _rand(2, 3))
    # gradient
    with autograd.record():
        y = nd.sum(p.data() * p.data())
    y.backward()
    np.testing.assert_allclose(p.grad().asnumpy(), 2 * _rand(2, 3), rtol=1e-6)
    p.zero_grad()
    np.testing.assert_array_equal(p.grad().asnumpy(), 0)
    with pytest.raises(ValueError, match="grad_req"):
        p.grad_req = "sometimes"
    p.grad_req = "null"
    with pytest.raises(RuntimeError, match="grad_req='null'"):
        p.grad()
    p.grad_req = "write"
    assert p.grad().shape == (2, 3)
    with pytest.raises(ValueError, match="invalid shape"):
        gluon.Parameter("q", shape=(0, 2)).initialize()
    with pytest.raises(NotImplementedError, match="stype"):
        gluon.Parameter("q", stype="row_sparse")


def test_parameter_grad_req_add():
    p = gluon.Parameter("w", shape=(3,), grad_req="add")
    p.initialize(init=mx.init.One())
    for _ in range(2):
        with autograd.record():
            y = nd.sum(p.data() * 3)
        y.backward()
    np.testing.assert_array_equal(p.grad().asnumpy(), 6)


def test_parameter_cast_and_reset_ctx():
    p = gluon.Parameter("w", shape=(2,))
    p.initialize(init=mx.init.One())
    p.cast("float64")
    assert p.data().dtype == np.float64 and p.grad().dtype == np.float64
    assert p.dtype == np.float64
    p.reset_ctx(mx.cpu())
    np.testing.assert_array_equal(p.data().asnumpy(), 1)
    with pytest.raises(ValueError, match="has not been initialized"):
        gluon.Parameter("z", shape=(1,)).reset_ctx(mx.cpu())


def test_block_cast_and_zero_grad():
    net = nn.HybridSequential()
    net.add(nn.Dense(3, in_units=2), nn.BatchNorm(in_channels=3))
    net.initialize()
    x = nd.array(_rand(4, 2))
    with autograd.record():
        y = net(x)
    y.backward(nd.array(_rand(4, 3, seed=5)))
    assert np.abs(net[0].weight.grad().asnumpy()).sum() > 0
    net.zero_grad()
    for p in net.collect_params().values():
        if p.grad_req != "null":
            np.testing.assert_array_equal(p.grad().asnumpy(), 0)
    net.cast("float16")
    assert net[0].weight.data().dtype == np.float16
    assert net[1].gamma.data().dtype == np.float32  # BatchNorm stays float32 (as MXNet)


def test_constant():
    c = gluon.Constant("const", [[1.0, 2.0], [3.0, 4.0]])
    assert c.grad_req == "null" and c.shape == (2, 2)
    c.initialize()
    np.testing.assert_array_equal(c.data().asnumpy(), [[1, 2], [3, 4]])
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        c.grad_req = "write"
    assert c.grad_req == "null" and w

    class B(gluon.HybridBlock):
        def __init__(self):
            super().__init__(prefix="b_")
            self.c = self.params.get_constant("c", nd.array([1.0, 2.0]))

        def hybrid_forward(self, F, x, c):
            return x + c

    b = B()
    b.initialize()
    np.testing.assert_array_equal(b(nd.zeros((2,))).asnumpy(), [1, 2])
    assert "b_c" in b.collect_params()


def test_parameter_dict():
    pd = gluon.ParameterDict("pre_")
    w = pd.get("w", shape=(2, 0), allow_deferred_init=True)
    assert w.name == "pre_w" and "pre_w" in pd and len(pd) == 1
    assert pd.get("w") is w
    # shape with unknown dims is merged
    assert pd.get("w", shape=(2, 5)) is w and w.shape == (2, 5)
    with pytest.raises(AssertionError, match="desired attribute does not match"):
        pd.get("w", shape=(3, 5))
    with pytest.raises(AssertionError, match="lr_mult"):
        pd.get("w", lr_mult=3.0)
    pd.setattr("lr_mult", 0.5)
    assert w.lr_mult == 0.5
    other = gluon.ParameterDict("pre_")
    other.get("w", shape=(2, 5))
    with pytest.raises(ValueError, match="different Parameters with the same name"):
        pd.update(other)
    with pytest.raises(KeyError, match="specify value"):
        pd.get_constant("k")
    assert "pre_w" in repr(pd)


def test_parameter_sharing():
    d1 = nn.Dense(3, in_units=4, prefix="d1_")
    d2 = nn.Dense(3, in_units=4, params=d1.params)
    assert d2.weight is d1.weight and d2.bias is d1.bias
    d1.initialize()
    x = nd.array(_rand(2, 4))
    np.testing.assert_array_equal(d1(x).asnumpy(), d2(x).asnumpy())
    with autograd.record():
        y = d1(x) + d2(x)
    y.backward()
    np.testing.assert_allclose(d1.weight.grad().asnumpy(), 2 * np.ones((2, 3)).T @ _rand(2, 4),
                               rtol=1e-5)

    class Shared(gluon.HybridBlock):
        def __init__(self, **kw):
            super().__init__(**kw)
            with self.name_scope():
                self.a = nn.Dense(2, in_units=2)
                self.b = nn.Dense(2, in_units=2, params=self.a.params)

        def hybrid_forward(self, F, x):
            return self.b(self.a(x))

    s = Shared()
    assert len(s.collect_params()) == 2


# ----------------------------------------------------------------------------- save / load
def test_save_load_roundtrip(tmp_path):
    net = Net(prefix="a_")
    net.initialize(mx.init.Normal(1.0))
    x = nd.array(_rand(2, 5))
    y = net(x).asnumpy()
    f = str(tmp_path / "net.params")
    net.save_parameters(f)
    loaded = nd.load(f)
    assert sorted(loaded) == sorted(["scale", "features.0.weight", "features.0.bias",
                                     "features.1.weight", "features.1.bias", "out.weight",
                                     "out.bias"])
    net2 = Net(prefix="b_")  # other prefix: structural names still match
    net2.load_parameters(f)
    np.testing.assert_array_equal(net2(x).asnumpy(), y)
    # into deferred parameters: shapes come from the file
    net3 = Net()
    net3.initialize()
    net3.load_parameters(f)
    assert net3.features[0].weight.shape == (4, 5)
    np.testing.assert_array_equal(net3(x).asnumpy(), y)


def test_load_errors(tmp_path):
    net = Net()
    net.initialize()
    net(nd.ones((1, 5)))
    f = str(tmp_path / "n.params")
    net.save_parameters(f)
    # missing parameter
    bigger = nn.HybridSequential()
    bigger.add(nn.Dense(2, in_units=3), nn.Dense(2, in_units=2))
    small = nn.HybridSequential()
    small.add(nn.Dense(2, in_units=3))
    small.initialize()
    fs = str(tmp_path / "s.params")
    small.save_parameters(fs)
    with pytest.raises(KeyError, match=r"Parameter '1.weight' is missing in file"):
        bigger.load_parameters(fs)
    bigger.load_parameters(fs, allow_missing=True)
    np.testing.assert_array_equal(bigger[0].weight.data().asnumpy(),
                                  small[0].weight.data().asnumpy())
    # extra parameter
    small2 = nn.HybridSequential()
    small2.add(nn.Dense(2, in_units=3))
    fb = str(tmp_path / "b.params")
    bigger.initialize(force_reinit=True)
    bigger.save_parameters(fb)
    with pytest.raises(KeyError, match=r"Parameter '1.weight' loaded from file .* is not "
                                       r"present"):
        small2.load_parameters(fb)
    small2.load_parameters(fb, ignore_extra=True)
    # shape mismatch names the parameter and both shapes
    wrong = nn.HybridSequential()
    wrong.add(nn.Dense(3, in_units=3))
    with pytest.raises(ValueError, match=r"'.*dense.*_weight'.*\(3, 3\).*\(2, 3\)"):
        wrong.load_parameters(fs, allow_missing=True)
    # dtype mismatch and cast_dtype
    d64 = nn.HybridSequential()
    d64.add(nn.Dense(2, in_units=3, dtype="float64"))
    with pytest.raises(TypeError, match="cast_dtype"):
        d64.load_parameters(fs)
    d64.load_parameters(fs, cast_dtype=True)
    assert d64[0].weight.data().dtype == np.float64
    np.testing.assert_allclose(d64[0].weight.data().asnumpy(),
                               small[0].weight.data().asnumpy())
    d64b = nn.HybridSequential()
    d64b.add(nn.Dense(2, in_units=3, dtype="float64"))
    d64b.load_parameters(fs, cast_dtype=True, dtype_source="saved")
    assert d64b[0].weight.data().dtype == np.float32


def test_collect_params_save_load_full_names(tmp_path):
    net = nn.Dense(2, in_units=3, prefix="full_")
    net.initialize()
    f = str(tmp_path / "p.params")
    net.collect_params().save(f, strip_prefix="full_")
    assert sorted(nd.load(f)) == ["bias", "weight"]
    net2 = nn.Dense(2, in_units=3, prefix="other_")
    net2.load_parameters(f)  # legacy names: restored with the block's prefix
    np.testing.assert_array_equal(net2.weight.data().asnumpy(), net.weight.data().asnumpy())
    with pytest.raises(KeyError, match="missing"):
        nn.Dense(2, in_units=3, prefix="x_").collect_params().load(f)


def test_save_deduplicate(tmp_path):
    class S(gluon.HybridBlock):
        def __init__(self):
            super().__init__()
            with self.name_scope():
                self.a = nn.Dense(2, in_units=2)
                self.b = nn.Dense(2, in_units=2, params=self.a.params)

        def hybrid_forward(self, F, x):
            return self.b(self.a(x))

    s = S()
    s.initialize()
    f = str(tmp_path / "d.params")
    s.save_parameters(f, deduplicate=True)
    assert len(nd.load(f)) == 2
    s2 = S()
    s2.load_parameters(f)
    np.testing.assert_array_equal(s2.b.weight.data().asnumpy(), s.a.weight.data().asnumpy())


# ----------------------------------------------------------------------------- hooks, summary
def test_hooks_and_apply():
    net = nn.HybridSequential()
    net.add(nn.Dense(2, in_units=2), nn.Activation("relu"))
    net.initialize()
    seen = []
    h1 = net[0].register_forward_pre_hook(lambda b, inp: seen.append(("pre", b.name)))
    h2 = net[0].register_forward_hook(lambda b, inp, out: seen.append(("post", out.shape)))
    net(nd.ones((3, 2)))
    assert seen == [("pre", net[0].name), ("post", (3, 2))]
    h1.detach()
    h2.detach()
    net(nd.ones((3, 2)))
    assert len(seen) == 2
    names = []
    net.apply(lambda b: names.append(type(b).__name__))
    assert names == ["Dense", "Activation", "HybridSequential"]


def test_summary(capsys):
    net = nn.HybridSequential()
    net.add(nn.Dense(5, in_units=3), nn.BatchNorm(in_channels=5), nn.Dense(2))
    net.initialize()
    net.summary(nd.ones((4, 3)))
    out = capsys.readouterr().out
    assert "Output Shape" in out and "(4, 5)" in out and "(4, 2)" in out
    # 3*5+5 + 4*5 + 5*2+2
    assert "Total params: 52" in out
    assert "Non-trainable params: 10" in out  # running mean/var


# ----------------------------------------------------------------------------- utils
def test_split_data_and_load():
    x = nd.array(np.arange(24, dtype=np.float32).reshape(6, 4))
    parts = gluon.utils.split_data(x, 3)
    assert [p.shape for p in parts] == [(2, 4)] * 3
    np.testing.assert_array_equal(parts[2].asnumpy(), np.arange(16, 24).reshape(2, 4))
    parts = gluon.utils.split_data(x, 2, batch_axis=1)
    np.testing.assert_array_equal(parts[1].asnumpy(), np.arange(24).reshape(6, 4)[:, 2:])
    parts = gluon.utils.split_data(x, 4, even_split=False)
    assert [p.shape[0] for p in parts] == [1, 1, 1, 3]
    with pytest.raises(ValueError, match="cannot be evenly split"):
        gluon.utils.split_data(x, 4)
    loaded = gluon.utils.split_and_load(np.ones((4, 2)), [mx.cpu(), mx.cpu()])
    assert len(loaded) == 2 and loaded[0].shape == (2, 2)
    assert loaded[0].context == mx.cpu()


def test_clip_global_norm():
    a = _rand(3, 4)
    b = _rand(5, seed=1)
    arrs = [nd.array(a), nd.array(b)]
    norm = np.sqrt((a ** 2).sum() + (b ** 2).sum())
    ret = gluon.utils.clip_global_norm(arrs, 1.0)
    assert abs(ret - norm) < 1e-4 * norm
    np.testing.assert_allclose(arrs[0].asnumpy(), a / (norm + 1e-8), rtol=1e-5)
    np.testing.assert_allclose(arrs[1].asnumpy(), b / (norm + 1e-8), rtol=1e-5)
    # below the max: untouched
    arrs = [nd.array(a)]
    gluon.utils.clip_global_norm(arrs, 1e6)
    np.testing.assert_allclose(arrs[0].asnumpy(), a, rtol=1e-6)
    r = gluon.utils.clip_global_norm([nd.array(a)], 1.0, check_isfinite=False)
    assert isinstance(r, nd.NDArray)
    with pytest.warns(UserWarning, match="nan or inf"):
        gluon.utils.clip_global_norm([nd.array([np.inf, 1.0])], 1.0)


def test_trainer_style_param_access():
    """What a Trainer reads from Parameters."""
    net = nn.Dense(2, in_units=3)
    net.initialize()
    for p in net.collect_params().values():
        assert p.list_ctx() == [mx.cpu()]
        assert len(p.list_grad()) == 1
        assert p.grad_req == "write"
        assert p.lr_mult == 1.0 and p.wd_mult == 1.0


def test_multiple_contexts():
    ctxs = [mx.cpu(0), mx.cpu(1)]
    net = nn.Dense(2, in_units=3)
    net.initialize(mx.init.Normal(1.0), ctx=ctxs)
    w = net.weight
    assert w.list_ctx() == ctxs and w.data(mx.cpu(1)).context == mx.cpu(1)
    np.testing.assert_array_equal(w.data(mx.cpu(0)).asnumpy(), w.data(mx.cpu(1)).asnumpy())
    parts = gluon.utils.split_and_load(_rand(4, 3), ctxs)
    with autograd.record():
        outs = [net(p) for p in parts]
    autograd.backward(outs)
    for p, g in zip(parts, w.list_grad()):
        np.testing.assert_allclose(g.asnumpy(), np.ones((2, 2)) @ p.asnumpy(), rtol=1e-5)
    with pytest.raises(RuntimeError, match="was not initialized on context"):
        w.data(mx.cpu(2))
    # _reduce (what save_parameters writes) averages the copies
    w0 = w.data(mx.cpu(0)).asnumpy()
    w.data(mx.cpu(1))[:] = 3
    np.testing.assert_allclose(w._reduce().asnumpy(), (w0 + 3) / 2, rtol=1e-6)
