"""mx.sym: construction and MXNet's naming, listing, attributes, composition, shape and dtype
inference against hand-computed shapes, arithmetic evaluated against numpy, JSON round trips and
MXNet 1.9.1's files, and clear errors."""
import copy
import json
import pickle
import warnings

import numpy as np
import pytest

import mx
from mx import base


@pytest.fixture(autouse=True)
def _fresh_names():
    """Automatic names count per NameManager: each test starts from fresh counters."""
    with mx.name.NameManager():
        yield


def _mlp():
    data = mx.sym.Variable("data")
    fc1 = mx.sym.FullyConnected(data=data, name="fc1", num_hidden=128)
    act1 = mx.sym.Activation(data=fc1, name="relu1", act_type="relu")
    fc2 = mx.sym.FullyConnected(data=act1, name="fc2", num_hidden=64)
    act2 = mx.sym.Activation(data=fc2, name="relu2", act_type="relu")
    fc3 = mx.sym.FullyConnected(data=act2, name="fc3", num_hidden=10)
    return mx.sym.SoftmaxOutput(data=fc3, name="softmax")


# ------------------------------------------------------------------ construction, naming
def test_mlp_lists_match_mxnet_names():
    mlp = _mlp()
    assert mlp.list_arguments() == ["data", "fc1_weight", "fc1_bias", "fc2_weight", "fc2_bias",
                                    "fc3_weight", "fc3_bias", "softmax_label"]
    assert mlp.list_outputs() == ["softmax_output"]
    assert mlp.list_auxiliary_states() == []
    assert mlp.list_inputs() == mlp.list_arguments()
    assert mlp.name == "softmax"
    assert repr(mlp) == "<Symbol softmax>"
    assert len(mlp) == 1


def test_automatic_names_count_per_op():
    data = mx.sym.var("data")
    a = mx.sym.FullyConnected(data, num_hidden=4)
    b = mx.sym.FullyConnected(a, num_hidden=4)
    c = mx.sym.Activation(b, act_type="relu")
    assert (a.name, b.name, c.name) == ("fullyconnected0", "fullyconnected1", "activation0")
    assert b.list_arguments() == ["data", "fullyconnected0_weight", "fullyconnected0_bias",
                                  "fullyconnected1_weight", "fullyconnected1_bias"]
    x, y = mx.sym.var("x"), mx.sym.var("y")
    assert (x + y).name == "_plus0"
    assert (x + y).list_outputs() == ["_plus1_output"]
    assert (x * 2).name == "_mulscalar0"
    assert (-x).name == "_mulscalar1"       # MXNet's -x is x * -1.0
    assert (x - y).name == "_minus0"
    assert (2 - x).name == "_rminusscalar0"
    with mx.name.NameManager():             # a new manager restarts the counters
        assert mx.sym.FullyConnected(data, num_hidden=2).name == "fullyconnected0"


def test_prefix_applies_to_given_and_automatic_names():
    data = mx.sym.Variable("data")
    with mx.name.Prefix("mynet_"):
        net = mx.sym.FullyConnected(data, num_hidden=10, name="fc1")
        auto = mx.sym.Activation(net, act_type="tanh")
    assert net.list_arguments() == ["data", "mynet_fc1_weight", "mynet_fc1_bias"]
    assert auto.name == "mynet_activation0"
    assert mx.name.NameManager.current.get(None, "x") == "x0"  # the previous manager is back


def test_name_manager_and_attr_scope_are_per_thread():
    import threading
    seen = {}

    def worker():
        seen["nm"] = mx.name.NameManager.current
        seen["name"] = mx.sym.Activation(mx.sym.var("d"), act_type="relu").name
        seen["attr"] = mx.AttrScope.current.get(None)

    with mx.name.Prefix("main_"), mx.AttrScope(__k__="v"):
        t = threading.Thread(target=worker)
        t.start()
        t.join()
        assert mx.sym.Activation(mx.sym.var("d"), act_type="relu").name == "main_activation0"
    assert seen["nm"] is not mx.name.NameManager.current
    assert seen["name"] == "activation0" and seen["attr"] == {}


def test_inputs_by_name_and_missing_inputs_become_variables():
    data = mx.sym.var("data")
    w = mx.sym.var("shared_w")
    fc = mx.sym.FullyConnected(data=data, weight=w, num_hidden=3, name="fc")
    assert fc.list_arguments() == ["data", "shared_w", "fc_bias"]
    nb = mx.sym.FullyConnected(data, num_hidden=3, no_bias=True, name="nb")
    assert nb.list_arguments() == ["data", "nb_weight"]
    bn = mx.sym.BatchNorm(name="bn")
    assert bn.list_arguments() == ["bn_data", "bn_gamma", "bn_beta"]
    assert bn.list_auxiliary_states() == ["bn_moving_mean", "bn_moving_var"]
    assert bn.list_inputs() == ["bn_data", "bn_gamma", "bn_beta", "bn_moving_mean", "bn_moving_var"]


def test_variadic_ops_take_positional_inputs():
    a, b, c = (mx.sym.var(n) for n in "abc")
    cat = mx.sym.Concat(a, b, c, dim=1, name="cat")
    assert cat.list_arguments() == ["a", "b", "c"]
    assert cat.attr("num_args") == "3"
    cat2 = mx.sym.concat(*[a, b], dim=0)
    assert cat2.attr("num_args") == "2"
    with pytest.raises(TypeError, match="positionally"):
        mx.sym.Concat(a, data=b)


def test_multi_output_symbols():
    data = mx.sym.var("data")
    sp = mx.sym.split(data, num_outputs=3, name="sp")
    assert len(sp) == 3
    assert sp.list_outputs() == ["sp_output0", "sp_output1", "sp_output2"]
    assert sp.name == "sp"
    assert [s.list_outputs() for s in sp] == [["sp_output0"], ["sp_output1"], ["sp_output2"]]
    assert sp[-1].list_outputs() == ["sp_output2"]
    assert sp["sp_output1"].list_outputs() == ["sp_output1"]
    assert sp[1:].list_outputs() == ["sp_output1", "sp_output2"]
    with pytest.raises(IndexError):
        sp[3]
    bn = mx.sym.BatchNorm(data, output_mean_var=True, name="bn")
    assert bn.list_outputs() == ["bn_output", "bn_mean", "bn_var"]
    g = mx.sym.Group([sp[0], data, bn[0]])
    assert g.list_outputs() == ["sp_output0", "data", "bn_output"]
    assert g.name is None
    assert repr(g) == "<Symbol group [sp_output0, data, bn_output]>"
    with pytest.raises(TypeError):
        mx.sym.Group([])
    with pytest.raises(TypeError):
        mx.sym.Group([data, 1])


def test_internals_and_children():
    x, y, z = mx.sym.var("x"), mx.sym.var("y"), mx.sym.var("z")
    a = y + z
    b = x + a
    assert b.get_children().list_outputs() == ["x", a.name + "_output"]
    assert b.get_children().get_children().list_outputs() == ["y", "z"]  # x has no inputs
    assert a.get_children().list_outputs() == ["y", "z"]
    assert x.get_children() is None
    mlp = _mlp()
    internals = mlp.get_internals()
    outs = internals.list_outputs()
    assert outs[:4] == ["data", "fc1_weight", "fc1_bias", "fc1_output"]
    assert outs[-2:] == ["softmax_label", "softmax_output"]
    fc1 = internals["fc1_output"]
    assert fc1.list_arguments() == ["data", "fc1_weight", "fc1_bias"]
    assert internals["fc1_weight"].name == "fc1_weight"


def test_compose_replaces_free_variables():
    data = mx.sym.var("data")
    net1 = mx.sym.FullyConnected(data=data, name="fc1", num_hidden=10)
    net2 = mx.sym.FullyConnected(name="fc3", num_hidden=10)
    assert net2.list_arguments() == ["fc3_data", "fc3_weight", "fc3_bias"]
    composed = net2(fc3_data=net1, name="composed")
    assert composed.name == "composed"
    assert composed.list_arguments() == ["data", "fc1_weight", "fc1_bias", "fc3_weight", "fc3_bias"]
    assert net2.list_arguments() == ["fc3_data", "fc3_weight", "fc3_bias"]  # a copy was composed
    pos = net2(net1)
    assert pos.list_arguments()[:3] == ["data", "fc1_weight", "fc1_bias"]
    with pytest.raises(TypeError, match="not both"):
        net2(net1, fc3_weight=data)
    with pytest.raises(TypeError, match="Symbol"):
        net2(fc3_data=np.ones(3))
    with pytest.raises(base.MXNetError, match="nosuch"):
        net2(nosuch=data)


# ------------------------------------------------------------------ attributes
def test_variable_attributes_use_mxnet_keys():
    init = mx.init.Xavier(magnitude=2.0) if hasattr(mx, "init") else None
    v = mx.sym.var("w", shape=(2, 3), lr_mult=2.0, wd_mult=0.5, dtype="float16", init=init,
                   __extra__=1)
    assert v.attr("__shape__") == "(2, 3)"
    assert v.attr("__lr_mult__") == "2.0"
    assert v.attr("lr_mult") == "2.0"          # MXNet's hidden keys read under both names
    assert v.attr("__wd_mult__") == "0.5"
    assert v.attr("__dtype__") == "2"          # MXNet's type flag of float16
    assert v.attr("__extra__") == "1"
    if init is not None:
        assert v.attr("__init__") == init.dumps()
        assert json.loads(v.attr("__init__"))[0].lower() == "xavier"
    assert mx.sym.var("z", init="zeros").attr("__init__") == "zeros"
    assert mx.sym.var("s", shape=5).attr("__shape__") == "(5,)"
    la = v.list_attr()
    assert la["__lr_mult__"] == la["lr_mult"] == "2.0"
    assert la["__shape__"] == "(2, 3)"
    assert v.attr("nothing") is None
    with pytest.raises(ValueError, match="double underscores"):
        mx.sym.var("bad", extra=1)
    with pytest.raises(TypeError):
        mx.sym.var(3)
    with pytest.raises(NotImplementedError, match="row_sparse"):
        mx.sym.var("sp", stype="row_sparse")


def test_attr_scope_and_set_attr():
    # op nodes take "__x__" attributes (other keys would be op parameters, as in MXNet)
    with mx.AttrScope(group="4", __data__="great"):
        data = mx.sym.var("data", attr={"dtype": "data", "group": "1"}, lr_mult=1)
        gdata = mx.sym.var("data2")
    with mx.AttrScope(__data__="great"):
        with mx.attribute.AttrScope(__inner__="x"):
            fc = mx.sym.FullyConnected(data, num_hidden=3, name="fc", attr={"__mood__": "calm"})
    assert gdata.attr("group") == "4"
    assert data.attr("group") == "1"
    assert data.attr("lr_mult") == "1"
    assert fc.attr("__data__") == "great" and fc.attr("__inner__") == "x"
    assert fc.attr("__mood__") == "calm"
    assert fc.attr("num_hidden") == "3"         # op parameters read as attributes
    assert mx.sym.var("outside").attr("group") is None
    with pytest.raises(ValueError):
        mx.attribute.AttrScope(x=1)
    fc._set_attr(ctx_group="dev1", __note__="n")
    assert fc.attr("__ctx_group__") == "dev1" and fc.attr("ctx_group") == "dev1"
    with pytest.raises(ValueError, match="string"):
        fc._set_attr(__note__=3)
    with pytest.raises(ValueError, match="deprecated"):
        fc._set_attr(fc_lr_mult="2")
    d = fc.attr_dict()
    assert d["data"]["group"] == "1" and d["data"]["__lr_mult__"] == "1" and d["data"]["lr_mult"] == "1"
    assert d["fc"]["__mood__"] == "calm" and d["fc"]["__note__"] == "n"
    assert mx.sym.load_json(fc.tojson()).attr_dict() == d
    with pytest.raises(DeprecationWarning):
        fc.list_attr(recursive=True)


def test_op_hidden_keyword_becomes_attribute():
    data = mx.sym.var("data")
    fc = mx.sym.FullyConnected(data, num_hidden=2, name="fc", lr_mult=3, __layout__="NC")
    assert fc.attr("__lr_mult__") == "3"
    assert fc.attr("__layout__") == "NC"
    assert json.loads(fc.tojson())["nodes"][-1]["attrs"]["num_hidden"] == "2"


# ------------------------------------------------------------------ shape / dtype inference
def test_infer_shape_mlp():
    mlp = _mlp()
    args, outs, aux = mlp.infer_shape(data=(32, 100))
    assert dict(zip(mlp.list_arguments(), args)) == {
        "data": (32, 100), "fc1_weight": (128, 100), "fc1_bias": (128,),
        "fc2_weight": (64, 128), "fc2_bias": (64,), "fc3_weight": (10, 64), "fc3_bias": (10,),
        "softmax_label": (32,)}
    assert outs == [(32, 10)] and aux == []
    # positional: list_arguments order
    assert mlp.infer_shape((32, 100))[1] == [(32, 10)]


def _conv_out(n, k, s=1, p=0, d=1):
    return (n + 2 * p - d * (k - 1) - 1) // s + 1


def test_infer_shape_conv_net_hand_computed():
    data = mx.sym.var("data")
    c1 = mx.sym.Convolution(data, kernel=(5, 5), num_filter=8, name="c1")
    p1 = mx.sym.Pooling(c1, kernel=(2, 2), stride=(2, 2), pool_type="max", name="p1")
    c2 = mx.sym.Convolution(p1, kernel=(3, 3), stride=(2, 2), pad=(1, 1), num_filter=16, name="c2")
    bn = mx.sym.BatchNorm(c2, name="bn")
    fl = mx.sym.Flatten(mx.sym.Activation(bn, act_type="relu"))
    out = mx.sym.FullyConnected(fl, num_hidden=10, name="fc")
    args, outs, aux = out.infer_shape(data=(2, 3, 32, 29))
    h1, w1 = _conv_out(32, 5), _conv_out(29, 5)            # 28, 25
    h2, w2 = h1 // 2, w1 // 2                              # 14, 12
    h3, w3 = _conv_out(h2, 3, 2, 1), _conv_out(w2, 3, 2, 1)  # 7, 6
    shapes = dict(zip(out.list_arguments(), args))
    assert shapes == {"data": (2, 3, 32, 29), "c1_weight": (8, 3, 5, 5), "c1_bias": (8,),
                      "c2_weight": (16, 8, 3, 3), "c2_bias": (16,), "bn_gamma": (16,),
                      "bn_beta": (16,), "fc_weight": (10, 16 * h3 * w3), "fc_bias": (10,)}
    assert outs == [(2, 10)]
    assert dict(zip(out.list_auxiliary_states(), aux)) == {"bn_moving_mean": (16,),
                                                           "bn_moving_var": (16,)}
    internals = out.get_internals()
    _, io, _ = internals.infer_shape(data=(2, 3, 32, 29))
    got = dict(zip(internals.list_outputs(), io))
    assert got["c1_output"] == (2, 8, h1, w1)
    assert got["p1_output"] == (2, 8, h2, w2)
    assert got["c2_output"] == (2, 16, h3, w3)


def test_infer_shape_partial_and_unknown():
    data, prev = mx.sym.var("data"), mx.sym.var("prev")
    fc1 = mx.sym.FullyConnected(data=data, name="fc1", num_hidden=128)
    fc2 = mx.sym.FullyConnected(data=prev, name="fc2", num_hidden=128)
    out = mx.sym.Activation(data=mx.sym.elemwise_add(fc1, fc2), act_type="relu")
    assert out.list_arguments() == ["data", "fc1_weight", "fc1_bias", "prev", "fc2_weight",
                                    "fc2_bias"]
    with pytest.warns(UserWarning, match="prev"):
        assert out.infer_shape(data=(10, 64)) == (None, None, None)
    args, outs, aux = out.infer_shape_partial(data=(10, 64))
    assert args == [(10, 64), (128, 64), (128,), None, None, (128,)]  # prev's side unknown
    assert outs == [(10, 128)]
    args, outs, _ = out.infer_shape(data=(10, 64), prev=(10, 128))
    assert args == [(10, 64), (128, 64), (128,), (10, 128), (128, 128), (128,)]
    # the variable's own __shape__ attribute is used
    v = mx.sym.var("v", shape=(4, 5))
    assert (v * 2).infer_shape()[1] == [(4, 5)]


def test_infer_shape_inconsistent_names_node_and_shapes():
    a, b = mx.sym.var("a"), mx.sym.var("b")
    c = mx.sym.elemwise_add(a, b, name="addnode")
    with pytest.raises(base.ShapeError) as e:
        c.infer_shape(a=(2, 3), b=(3, 3))
    msg = str(e.value)
    assert "addnode" in msg and "(2, 3)" in msg and "(3, 3)" in msg
    with pytest.raises(base.MXNetError, match="nosuch"):
        c.infer_shape(nosuch=(2, 3))
    with pytest.raises(TypeError, match="tuple"):
        c.infer_shape(a=3)
    with pytest.raises(ValueError):
        c.infer_shape((2, 3), b=(2, 3))


def test_infer_type():
    a, b = mx.sym.var("a"), mx.sym.var("b")
    c = a + b
    args, outs, aux = c.infer_type(a="float32")
    assert args == [np.float32, np.float32] and outs == [np.float32] and aux == []
    assert c.infer_type(a=np.float64)[1] == [np.float64]
    assert c.infer_type(np.float16, None)[0] == [np.float16, np.float16]
    prev = mx.sym.var("prev")
    out = mx.sym.Activation(mx.sym.elemwise_add(mx.sym.var("data"), mx.sym.cast(prev, dtype="float32")),
                            act_type="relu")
    with pytest.warns(UserWarning, match="prev"):
        assert out.infer_type(data="float32") == (None, None, None)
    assert out.infer_type_partial(data="float32") == ([np.float32, None], [np.float32], [])
    assert out.infer_type(data="float32", prev="float16") == ([np.float32, np.float16],
                                                              [np.float32], [])
    assert mx.sym.var("h", dtype="float16").infer_type()[0] == [np.float16]
    cast = mx.sym.cast(a, dtype="int32")
    assert cast.infer_type(a="float32")[1] == [np.int32]
    with pytest.raises(base.DTypeError):
        c.infer_type(a="complex64")


# ------------------------------------------------------------------ evaluation vs numpy
def _ev(sym, **arrays):
    outs = sym.eval(ctx=mx.cpu(), **{k: mx.nd.array(v, dtype=v.dtype) for k, v in arrays.items()})
    assert isinstance(outs, list)
    return [o.asnumpy() for o in outs]


def test_arithmetic_matches_numpy():
    rng = np.random.default_rng(0)
    xa = rng.uniform(0.5, 2.0, (3, 4)).astype(np.float32)
    ya = rng.uniform(0.5, 2.0, (3, 4)).astype(np.float32)
    x, y = mx.sym.var("x"), mx.sym.var("y")
    cases = [
        (x + y, xa + ya), (x - y, xa - ya), (x * y, xa * ya), (x / y, xa / ya),
        (x % y, np.fmod(xa, ya)), (x ** y, xa ** ya),
        (x + 2, xa + 2), (2 + x, 2 + xa), (x - 2, xa - 2), (2 - x, 2 - xa),
        (x * 3, xa * 3), (3 * x, 3 * xa), (x / 4, xa / 4), (4 / x, 4 / xa),
        (x % 0.7, np.fmod(xa, np.float32(0.7))), (3 % x, np.fmod(np.float32(3), xa)),
        (x ** 2, xa ** 2), (2 ** x, 2 ** xa), (-x, -xa), (abs(x - 1), np.abs(xa - 1)),
        (x > y, (xa > ya)), (x >= 1, xa >= 1), (x < y, xa < ya), (x <= 1, xa <= 1),
        (x == y, xa == ya), (x != 1, xa != 1), (np.float32(2) * x, 2 * xa),
        (mx.sym.pow(x, 2), xa ** 2), (mx.sym.power(2, y), 2 ** ya), (mx.sym.pow(x, y), xa ** ya),
        (mx.sym.maximum(x, y), np.maximum(xa, ya)), (mx.sym.maximum(1, x), np.maximum(1, xa)),
        (mx.sym.minimum(x, 1.2), np.minimum(xa, 1.2)), (mx.sym.hypot(x, y), np.hypot(xa, ya)),
        (mx.sym.hypot(3, y), np.hypot(3, ya)),
    ]
    for sym, want in cases:
        args = {n: v for n, v in (("x", xa), ("y", ya)) if n in sym.list_arguments()}
        got = _ev(sym, **args)[0]
        np.testing.assert_allclose(got, want.astype(np.float32), rtol=1e-5, atol=1e-6,
                                   err_msg=sym.name)
    assert mx.sym.pow(2, 3) == 8 and mx.sym.maximum(2, 3.5) == 3.5 and mx.sym.minimum(2, 3.5) == 2
    for bad in (lambda: x + "a", lambda: x * [1], lambda: mx.sym.maximum("a", x)):
        with pytest.raises(TypeError):
            bad()
    with pytest.raises(NotImplementedError):
        x += 1
    with pytest.raises(NotImplementedError):
        bool(x)


def test_creation_functions_and_fluent_methods():
    z = mx.sym.zeros((2, 3))
    o = mx.sym.ones((2, 3), dtype="int32")
    f = mx.sym.full((2, 2), 7)
    ar = mx.sym.arange(1, 7, 2)
    ls = mx.sym.linspace(0, 1, 5)
    ey = mx.sym.eye(3, k=1)
    got = _ev(mx.sym.Group([z, o, f, ar, ls, ey]))
    np.testing.assert_array_equal(got[0], np.zeros((2, 3), np.float32))
    assert got[1].dtype == np.int32 and (got[1] == 1).all()
    np.testing.assert_array_equal(got[2], np.full((2, 2), 7, np.float32))
    np.testing.assert_array_equal(got[3], np.arange(1, 7, 2, dtype=np.float32))
    np.testing.assert_allclose(got[4], np.linspace(0, 1, 5, dtype=np.float32))
    np.testing.assert_array_equal(got[5], np.eye(3, k=1, dtype=np.float32))
    xa = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
    x = mx.sym.var("x")
    checks = [(x.reshape((6, 4)), xa.reshape(6, 4)), (x.reshape(4, 6), xa.reshape(4, 6)),
              (x.sum(axis=1), xa.sum(axis=1)), (x.transpose(axes=(2, 0, 1)), xa.transpose(2, 0, 1)),
              (x.astype("int32"), xa.astype(np.int32)), (x.expand_dims(1), xa[:, None]),
              (x.flatten(), xa.reshape(2, 12)), (x.exp().log(), xa),
              (x.slice_axis(axis=2, begin=1, end=3), xa[:, :, 1:3]), (x.max(), xa.max())]
    for sym, want in checks:
        np.testing.assert_allclose(_ev(sym, x=xa)[0], want, rtol=1e-5, atol=1e-4)
    with pytest.raises(NotImplementedError):
        x.asnumpy()


def test_submodules_mirror_nd():
    for sub in ("op", "_internal", "random", "linalg", "contrib", "image"):
        assert hasattr(mx.sym, sub) and hasattr(mx.nd, sub)
        nd_names = set(getattr(mx.nd, sub).__all__) - {"randn"}
        assert nd_names <= set(getattr(mx.sym, sub).__all__), sub
    assert mx.symbol is mx.sym
    assert mx.sym.Symbol is mx.symbol.Symbol
    r = mx.sym.random.uniform(low=0, high=1, shape=(1000,), name="u")
    assert r.name == "u" and r.list_arguments() == []
    v = _ev(r)[0]
    assert v.shape == (1000,) and v.min() >= 0 and v.max() < 1 and abs(v.mean() - 0.5) < 0.05
    n = mx.sym.random.normal(loc=1.0, scale=0.1, shape=(2000,))
    assert abs(_ev(n)[0].mean() - 1.0) < 0.02
    assert mx.sym.random.uniform(shape=(2,)).name.startswith("uniform")


def test_generated_signatures_and_docs():
    import inspect
    sig = inspect.signature(mx.sym.FullyConnected)
    ps = list(sig.parameters)
    assert ps[:3] == ["data", "weight", "bias"]
    assert "num_hidden" in ps and "name" in ps and "attr" in ps
    assert repr(sig.parameters["no_bias"].default) == "False"
    assert "FullyConnected" in (mx.sym.FullyConnected.__doc__ or "") or \
        mx.sym.FullyConnected.__doc__
    assert mx.sym.FullyConnected.__name__ == "FullyConnected"
    # parameters left at their defaults are not stored (as MXNet's JSON)
    fc = mx.sym.FullyConnected(mx.sym.var("d"), num_hidden=3, name="fc")
    node = json.loads(fc.tojson())["nodes"][-1]
    assert node["attrs"] == {"num_hidden": "3"}
    fc2 = mx.sym.FullyConnected(mx.sym.var("d"), num_hidden=3, no_bias=False, name="fc2")
    assert json.loads(fc2.tojson())["nodes"][-1]["attrs"] == {"num_hidden": "3", "no_bias": "False"}
    # parameter values are formatted as in mx.nd
    conv = mx.sym.Convolution(mx.sym.var("d"), kernel=(3, 3), num_filter=4, stride=[2, 2],
                              name="cv")
    attrs = json.loads(conv.tojson())["nodes"][-1]["attrs"]
    assert attrs["kernel"] == "(3, 3)" and attrs["stride"] == "(2, 2)"


# ------------------------------------------------------------------ JSON, files, copies
def test_json_round_trip_and_files(tmp_path):
    mlp = _mlp()
    js = mlp.tojson()
    g = json.loads(js)
    assert {"nodes", "arg_nodes", "heads", "node_row_ptr", "attrs"} <= set(g)
    assert g["nodes"][g["heads"][0][0]]["op"] == "SoftmaxOutput"
    back = mx.sym.load_json(js)
    assert back.tojson() == js
    assert back.list_arguments() == mlp.list_arguments()
    assert back.infer_shape(data=(5, 7))[1] == [(5, 10)]
    f = tmp_path / "net-symbol.json"
    mlp.save(str(f))
    assert json.loads(f.read_text()) == g
    assert mx.sym.load(str(f)).tojson() == js
    assert mx.sym.load(f).list_outputs() == ["softmax_output"]  # a path object works too
    with pytest.raises(base.MXNetError):
        mx.sym.load_json("{not json")
    with pytest.raises(base.MXNetError):
        mx.sym.load(str(tmp_path / "missing.json"))
    with pytest.raises(TypeError):
        mx.sym.load_json(b"{}")


def test_copy_and_pickle():
    v = mx.sym.var("v", lr_mult=2)
    fc = mx.sym.FullyConnected(v, num_hidden=3, name="fc", attr={"__k__": "1"})
    for c in (copy.copy(fc), copy.deepcopy(fc), pickle.loads(pickle.dumps(fc))):
        assert c is not fc and c.tojson() == fc.tojson()
        assert c.attr_dict() == fc.attr_dict()
    g = mx.sym.Group([fc, v * 2])
    g2 = pickle.loads(pickle.dumps(g))
    assert g2.list_outputs() == g.list_outputs() and g2.tojson() == g.tojson()
    c = copy.deepcopy(fc)
    c._set_attr(__k__="2")
    assert fc.attr("__k__") == "1" and c.attr("__k__") == "2"  # a deep copy shares no nodes


def test_mxnet_fixture_graphs_load(mxnet_fixtures):
    manifest = json.loads((mxnet_fixtures / "manifest.json").read_text())
    for model, in_shape in (("cnn", (32, 1, 28, 28)), ("mlp_bn", None)):
        sym = mx.sym.load(str(mxnet_fixtures / ("%s-symbol.json" % model)))
        params = manifest["files"]["%s-0000.params" % model]["entries"]
        arg_names = [e["name"][4:] for e in params if e["name"].startswith("arg:")]
        aux_names = [e["name"][4:] for e in params if e["name"].startswith("aux:")]
        assert sym.list_arguments() == ["data"] + arg_names
        assert sym.list_auxiliary_states() == aux_names
        shapes = {e["name"][4:]: tuple(e["shape"]) for e in params}
        if in_shape is None:
            in_shape = (4, shapes[arg_names[0]][1])
        args, outs, aux = sym.infer_shape(data=in_shape)
        assert dict(zip(arg_names, args[1:])) == {n: shapes[n] for n in arg_names}
        assert dict(zip(aux_names, aux)) == {n: shapes[n] for n in aux_names}
        assert outs == [(in_shape[0], 10)]
        again = mx.sym.load_json(sym.tojson())
        assert again.tojson() == sym.tojson()


# ------------------------------------------------------------------ errors
def test_errors_name_the_op_and_parameter():
    data = mx.sym.var("data")
    with pytest.raises(base.MXNetError, match="foo"):
        mx.sym.FullyConnected(data, num_hidden=10, foo=1)
    with pytest.raises(base.MXNetError, match="num_hidden"):
        mx.sym.FullyConnected(data, num_hidden="abc")
    with pytest.raises(base.MXNetError, match="num_filter"):
        mx.sym.Convolution(data, kernel=(3, 3))
    with pytest.raises(TypeError, match="weight"):
        mx.sym.FullyConnected(data, weight=mx.nd.ones((2, 2)), num_hidden=2)
    with pytest.raises(TypeError, match="Symbol"):
        mx.sym.FullyConnected(data, mx.sym.var("w"), mx.sym.var("b"), mx.sym.var("x"))
    with pytest.raises(TypeError, match="out="):
        mx.sym.relu(data, out=data)
    with pytest.raises(base.MXNetError, match="output"):
        mx.sym.elemwise_add(data, mx.sym.split(data, num_outputs=2))
    with pytest.raises(ValueError, match="nope"):
        data["nope"]
    with pytest.raises(TypeError):
        data[1.5]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert mx.sym.var("a").infer_shape(a=(1,)) == ([(1,)], [(1,)], [])
