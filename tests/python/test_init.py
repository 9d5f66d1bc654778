"""mx.init: initializers against their defining formulas, name-based dispatch, create/dumps,
Mixed, Load, reproducibility under mx.random.seed."""
import json
import math

import numpy as np
import pytest

import mx
from mx import gluon, nd
from mx.gluon import nn


def _fill(init, shape, name="x_weight", dtype="float32"):
    arr = nd.zeros(shape, dtype=dtype)
    init(mx.init.InitDesc(name), arr)
    return arr.asnumpy()


def test_uniform_and_normal_statistics():
    a = _fill(mx.init.Uniform(0.3), (200, 100))
    assert a.min() >= -0.3 and a.max() <= 0.3
    assert abs(a.mean()) < 0.01
    # variance of U(-s, s) is s^2/3
    assert abs(a.var() - 0.09 / 3) < 0.002
    b = _fill(mx.init.Normal(0.5), (200, 100))
    assert abs(b.mean()) < 0.02 and abs(b.std() - 0.5) < 0.02
    assert mx.init.Uniform().scale == 0.07 and mx.init.Normal().sigma == 0.01


def test_constant_zero_one():
    np.testing.assert_array_equal(_fill(mx.init.Zero(), (2, 3)), 0)
    np.testing.assert_array_equal(_fill(mx.init.One(), (2, 3)), 1)
    np.testing.assert_array_equal(_fill(mx.init.Constant(2.5), (2, 3)), 2.5)
    v = np.arange(6, dtype=np.float32).reshape(2, 3)
    np.testing.assert_array_equal(_fill(mx.init.Constant(nd.array(v)), (2, 3)), v)
    np.testing.assert_array_equal(_fill(mx.init.Constant(v.tolist()), (2, 3)), v)
    with pytest.raises(ValueError, match="does not fit"):
        _fill(mx.init.Constant([1.0, 2.0]), (2, 3))
    np.testing.assert_array_equal(_fill(mx.init.Zero(), (4,), dtype="float16"), 0)


@pytest.mark.parametrize("factor_type", ["avg", "in", "out"])
def test_xavier_uniform_bound(factor_type):
    shape = (64, 32, 3, 3)
    a = _fill(mx.init.Xavier(factor_type=factor_type, magnitude=3), shape)
    fan_in, fan_out = 32 * 9, 64 * 9
    factor = {"avg": (fan_in + fan_out) / 2, "in": fan_in, "out": fan_out}[factor_type]
    bound = math.sqrt(3 / factor)
    assert np.abs(a).max() <= bound + 1e-7
    assert np.abs(a).max() > 0.95 * bound
    assert abs(a.var() - bound ** 2 / 3) < 0.05 * bound ** 2 / 3


def test_xavier_gaussian_and_msra():
    shape = (200, 300)
    a = _fill(mx.init.Xavier(rnd_type="gaussian", factor_type="in", magnitude=2), shape)
    assert abs(a.std() - math.sqrt(2 / 300)) < 0.03 * math.sqrt(2 / 300)
    b = _fill(mx.init.MSRAPrelu(slope=0.0), shape)
    std = math.sqrt(2.0 / 250)
    assert abs(b.std() - std) < 0.03 * std
    with pytest.raises(ValueError, match="at least 2D"):
        _fill(mx.init.Xavier(), (5,))
    with pytest.raises(ValueError, match="rnd_type"):
        mx.init.Xavier(rnd_type="cauchy")


@pytest.mark.parametrize("shape", [(3, 7), (7, 3), (4, 2, 3)])
@pytest.mark.parametrize("rand_type", ["uniform", "normal"])
def test_orthogonal(shape, rand_type):
    a = _fill(mx.init.Orthogonal(scale=1.5, rand_type=rand_type), shape)
    m = a.reshape(shape[0], -1).astype(np.float64)
    gram = m @ m.T if m.shape[0] <= m.shape[1] else m.T @ m
    np.testing.assert_allclose(gram, 2.25 * np.eye(gram.shape[0]), atol=1e-5)


def test_name_based_dispatch():
    init = mx.init.Uniform(1.0)
    np.testing.assert_array_equal(_fill(init, (3,), "fc_bias"), 0)
    np.testing.assert_array_equal(_fill(init, (3,), "bn_gamma"), 1)
    np.testing.assert_array_equal(_fill(init, (3,), "bn_beta"), 0)
    np.testing.assert_array_equal(_fill(init, (3,), "bn_moving_mean"), 0)
    np.testing.assert_array_equal(_fill(init, (3,), "bn_moving_var"), 1)
    w = _fill(init, (50,), "fc_weight")
    assert np.abs(w).max() <= 1 and np.abs(w).sum() > 0
    with pytest.raises(ValueError, match="Unknown initialization pattern"):
        _fill(init, (3,), "strange_name")
    # an explicit __init__ attribute wins over the name
    arr = nd.zeros((3,))
    init(mx.init.InitDesc("fc_bias", {"__init__": mx.init.One()}), arr)
    np.testing.assert_array_equal(arr.asnumpy(), 1)
    arr = nd.zeros((3,))
    init(mx.init.InitDesc("fc_bias", {"__init__": "ones"}), arr)
    np.testing.assert_array_equal(arr.asnumpy(), 1)


def test_create_and_dumps():
    assert isinstance(mx.init.create("zeros"), mx.init.Zero)
    assert isinstance(mx.init.create("ones"), mx.init.One)
    x = mx.init.Xavier(rnd_type="gaussian", magnitude=2)
    d = x.dumps()
    assert json.loads(d) == ["xavier", {"rnd_type": "gaussian", "factor_type": "avg",
                                        "magnitude": 2}]
    y = mx.init.create(d)
    assert isinstance(y, mx.init.Xavier) and y.magnitude == 2 and y.rnd_type == "gaussian"
    assert mx.init.create(x) is x
    with pytest.raises(ValueError, match="Cannot find initializer"):
        mx.init.create("no_such_init")

    @mx.init.register
    class Twos(mx.init.Initializer):
        def _init_weight(self, _, arr):
            arr[:] = 2

    np.testing.assert_array_equal(_fill(mx.init.create("twos"), (2,)), 2)


def test_mixed():
    init = mx.init.Mixed(["fc.*", ".*"], [mx.init.Constant(3.0), mx.init.One()])
    np.testing.assert_array_equal(_fill(init, (2,), "fc_weight"), 3)
    np.testing.assert_array_equal(_fill(init, (2,), "conv_weight"), 1)
    # each initializer still dispatches on the name: a bias is zero-filled
    np.testing.assert_array_equal(_fill(init, (2,), "fc_bias"), 0)
    strict = mx.init.Mixed(["w.*"], [mx.init.One()])
    with pytest.raises(ValueError, match="did not match any pattern"):
        _fill(strict, (2,), "bias")


def test_load(tmp_path):
    src = {"arg:fc_weight": nd.array([[1.0, 2.0]]), "fc_bias": nd.array([5.0])}
    init = mx.init.Load(src, default_init=mx.init.Constant(7.0))
    np.testing.assert_array_equal(_fill(init, (1, 2), "fc_weight"), [[1, 2]])
    np.testing.assert_array_equal(_fill(init, (1,), "fc_bias"), [5])
    np.testing.assert_array_equal(_fill(init, (2,), "other_weight"), [7, 7])
    with pytest.raises(ValueError, match="shape mismatch"):
        _fill(init, (2, 2), "fc_weight")
    f = str(tmp_path / "init.params")
    nd.save(f, {"w_weight": nd.array([3.0, 4.0])})
    np.testing.assert_array_equal(_fill(mx.init.Load(f), (2,), "w_weight"), [3, 4])
    with pytest.raises(ValueError, match="not found"):
        _fill(mx.init.Load(f), (2,), "z_weight")


def test_seed_reproducibility():
    def make():
        net = nn.HybridSequential()
        net.add(nn.Dense(4, in_units=3), nn.Dense(2, in_units=4))
        return net

    mx.random.seed(42)
    a = make()
    a.initialize(mx.init.Xavier())
    mx.random.seed(42)
    b = make()
    b.initialize(mx.init.Xavier())
    for pa, pb in zip(a.collect_params().values(), b.collect_params().values()):
        np.testing.assert_array_equal(pa.data().asnumpy(), pb.data().asnumpy())
    c = make()
    c.initialize(mx.init.Xavier())
    assert not np.array_equal(a[0].weight.data().asnumpy(), c[0].weight.data().asnumpy())


def test_layer_initializer_arguments():
    layer = nn.Dense(3, in_units=2, weight_initializer="ones", bias_initializer=mx.init.Constant(
        0.5))
    layer.initialize(mx.init.Uniform())
    np.testing.assert_array_equal(layer.weight.data().asnumpy(), 1)
    np.testing.assert_array_equal(layer.bias.data().asnumpy(), 0.5)
    bn = nn.BatchNorm(in_channels=2, gamma_initializer="zeros",
                      running_variance_initializer=mx.init.Constant(4.0))
    bn.initialize()
    np.testing.assert_array_equal(bn.gamma.data().asnumpy(), 0)
    np.testing.assert_array_equal(bn.running_var.data().asnumpy(), 4)
    # the global init applies to weights without their own initializer
    d = nn.Dense(3, in_units=2)
    d.initialize(mx.init.Constant(0.25))
    np.testing.assert_array_equal(d.weight.data().asnumpy(), 0.25)
    np.testing.assert_array_equal(d.bias.data().asnumpy(), 0)  # bias_initializer='zeros'
    p = gluon.Parameter("p_weight", shape=(2,), init="ones")
    p.initialize(init=mx.init.Zero())  # an explicit init argument wins
    np.testing.assert_array_equal(p.data().asnumpy(), 0)
