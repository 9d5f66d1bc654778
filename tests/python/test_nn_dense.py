"""Dense NN ops beyond the spec harness: training-mode rrelu, the generated Python functions,
parameter-dependent inputs, and clear errors for bad shapes, dtypes and labels."""
import numpy as np
import pytest

import mx
from mx import base


def nd(x, dtype=None):
    x = np.asarray(x)
    return mx.nd.array(x, dtype=dtype or x.dtype)


# ------------------------------------------------------------------ rrelu
def _rrelu_train(x, seed, lo=0.125, hi=0.334):
    mx.random.seed(seed)
    with mx.autograd.train_mode():
        return mx.nd.invoke("LeakyReLU", [nd(x)], {"act_type": "rrelu", "lower_bound": lo, "upper_bound": hi}).asnumpy()


def test_rrelu_training_draws_slopes_in_bounds():
    rng = np.random.default_rng(0)
    x = rng.uniform(-3, 3, size=(64, 257)).astype(np.float32)
    x[x == 0] = 1.0
    y = _rrelu_train(x, 7, 0.2, 0.6)
    pos = x > 0
    np.testing.assert_array_equal(y[pos], x[pos])
    slopes = (y[~pos] / x[~pos]).astype(np.float64)
    assert slopes.min() >= 0.2 - 1e-6 and slopes.max() <= 0.6 + 1e-6
    assert abs(slopes.mean() - 0.4) < 0.01          # uniform on [0.2, 0.6]
    assert abs(slopes.std() - 0.4 / np.sqrt(12)) < 0.01
    assert len(np.unique(np.round(slopes, 5))) > 100  # one slope per element, not one per call


def test_rrelu_training_is_reproducible_and_prediction_uses_mean():
    x = np.linspace(-2, 2, 1001).astype(np.float64)
    a, b, c = _rrelu_train(x, 3), _rrelu_train(x, 3), _rrelu_train(x, 4)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    y = mx.nd.invoke("LeakyReLU", [nd(x)], {"act_type": "rrelu"}).asnumpy()
    np.testing.assert_allclose(y, np.where(x > 0, x, (0.125 + 0.334) / 2 * x), rtol=1e-12)


# ------------------------------------------------------------------ generated functions, input counts
def test_generated_functions_and_no_bias():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((3, 2, 4)).astype(np.float32)
    w = rng.standard_normal((5, 8)).astype(np.float32)
    b = rng.standard_normal(5).astype(np.float32)
    y = mx.nd.FullyConnected(nd(x), nd(w), nd(b), num_hidden=5).asnumpy()
    np.testing.assert_allclose(y, x.reshape(3, -1) @ w.T + b, rtol=1e-5, atol=1e-5)
    y = mx.nd.FullyConnected(data=nd(x), weight=nd(w), num_hidden=5, no_bias=True).asnumpy()
    np.testing.assert_allclose(y, x.reshape(3, -1) @ w.T, rtol=1e-5, atol=1e-5)
    with pytest.raises(base.InvalidArgumentError):
        mx.nd.invoke("FullyConnected", [nd(x), nd(w), nd(b)], {"num_hidden": 5, "no_bias": True})
    with pytest.raises(base.InvalidArgumentError):
        mx.nd.invoke("FullyConnected", [nd(x), nd(w), nd(b)], {})  # num_hidden is required


def test_fully_connected_large_matches_float64():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((257, 300))
    w = rng.standard_normal((129, 300))
    b = rng.standard_normal(129)
    y = mx.nd.invoke("FullyConnected", [nd(x), nd(w), nd(b)], {"num_hidden": 129}).asnumpy()
    np.testing.assert_allclose(y, x @ w.T + b, rtol=1e-10, atol=1e-10)


def test_prelu_takes_gamma_other_types_do_not():
    x = np.array([[-1.0, 2.0], [-3.0, -4.0]], dtype=np.float32)
    g = np.array([0.5, 0.1], dtype=np.float32)
    y = mx.nd.LeakyReLU(nd(x), nd(g), act_type="prelu").asnumpy()
    np.testing.assert_allclose(y, [[-0.5, 2.0], [-1.5, -0.4]], rtol=1e-6)
    with pytest.raises(base.InvalidArgumentError):
        mx.nd.invoke("LeakyReLU", [nd(x), nd(g)], {"act_type": "leaky"})
    with pytest.raises(base.ShapeError, match=r"\(3,\).*\(2, 2\)"):
        mx.nd.invoke("LeakyReLU", [nd(x), nd(np.ones(3, np.float32))], {"act_type": "prelu"})


def test_softmax_output_alias_and_softmin():
    x = np.array([[1.0, 2.0, 3.0]], dtype=np.float32)
    e = np.exp(x - 3.0)
    np.testing.assert_allclose(mx.nd.Softmax(nd(x), nd(np.zeros(1, np.float32))).asnumpy(), e / e.sum(),
                               rtol=1e-6)
    np.testing.assert_allclose(mx.nd.softmin(nd(x)).asnumpy(), mx.nd.softmax(nd(-x)).asnumpy(), rtol=1e-6)


def test_softmax_extreme_values_stay_finite():
    x = np.array([[1e30, -1e30, 0.0], [-1e30, -1e30, -1e30]], dtype=np.float32)
    for op in ("softmax", "log_softmax", "softmin"):
        y = mx.nd.invoke(op, [nd(x)], {}).asnumpy()
        assert np.all(np.isfinite(y) | (y == -np.inf)), op
    np.testing.assert_allclose(mx.nd.softmax(nd(x)).asnumpy(), [[1, 0, 0], [1 / 3] * 3], rtol=1e-6)


# ------------------------------------------------------------------ errors
def test_fully_connected_shape_errors():
    x = nd(np.ones((2, 3), np.float32))
    with pytest.raises(base.ShapeError, match=r"weight.*\(4, 2\).*\(4, 3\)"):
        mx.nd.invoke("FullyConnected", [x, nd(np.ones((4, 2), np.float32)), nd(np.ones(4, np.float32))],
                     {"num_hidden": 4})
    with pytest.raises(base.ShapeError, match=r"bias.*\(5,\).*\(4,\)"):
        mx.nd.invoke("FullyConnected", [x, nd(np.ones((4, 3), np.float32)), nd(np.ones(5, np.float32))],
                     {"num_hidden": 4})
    with pytest.raises(base.DTypeError):
        mx.nd.invoke("FullyConnected", [x, nd(np.ones((4, 3), np.float64)), nd(np.ones(4, np.float32))],
                     {"num_hidden": 4})


def test_activation_errors():
    with pytest.raises(base.InvalidArgumentError, match="act_type"):
        mx.nd.invoke("Activation", [nd(np.ones(3, np.float32))], {"act_type": "swish"})
    with pytest.raises(base.InvalidArgumentError):
        mx.nd.invoke("Activation", [nd(np.ones(3, np.float32))], {})
    with pytest.raises(base.DTypeError):
        mx.nd.invoke("Activation", [nd(np.ones(3, np.int32))], {"act_type": "relu"})


def test_softmax_length_errors():
    x = nd(np.ones((2, 4), np.float32))
    with pytest.raises(base.ShapeError, match=r"length.*\(3,\).*\(2,\)"):
        mx.nd.invoke("softmax", [x, nd(np.ones(3, np.int32))], {"use_length": True})
    with pytest.raises(base.DTypeError, match="int32 or int64"):
        mx.nd.invoke("softmax", [x, nd(np.ones(2, np.float32))], {"use_length": True})
    with pytest.raises(base.InvalidArgumentError):
        mx.nd.invoke("softmax", [x, nd(np.ones(2, np.int32))], {})  # length only with use_length


def test_loss_label_errors():
    x = nd(np.zeros((2, 3), np.float32))
    with pytest.raises(base.ShapeError, match=r"label.*\(3,\)"):
        mx.nd.invoke("softmax_cross_entropy", [x, nd(np.zeros(3, np.float32))], {})
    with pytest.raises(base.MXIndexError, match="outside"):
        mx.nd.invoke("softmax_cross_entropy", [x, nd(np.array([0, 3], np.float32))], {}).asnumpy()
    with pytest.raises(base.ShapeError, match="label"):
        mx.nd.invoke("SoftmaxOutput", [x, nd(np.zeros((2, 3), np.float32))], {})


@pytest.mark.parametrize("shape,axis", [((512, 1000), -1), ((64, 100, 70), 1), ((300, 2, 130), 0)])
def test_softmax_large_parallel(shape, axis):
    rng = np.random.default_rng(3)
    x = rng.uniform(-5, 5, size=shape)
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    ref = e / e.sum(axis=axis, keepdims=True)
    np.testing.assert_allclose(mx.nd.softmax(nd(x), axis=axis).asnumpy(), ref, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(mx.nd.log_softmax(nd(x), axis=axis).asnumpy(), np.log(ref), rtol=1e-12, atol=1e-12)
