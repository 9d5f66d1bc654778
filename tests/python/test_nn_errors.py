"""Bad input to the NN ops gives an MXNetError subclass whose message names the problem, never a
crash or a silent result, and the library keeps working after it (a valid call succeeds)."""
import numpy as np
import pytest

import mx
from mx import base

nd = mx.nd


def _data():
    return nd.ones((2, 3, 8, 8))


def _valid_call_works():
    x = nd.array(np.arange(6, dtype=np.float32).reshape(2, 3))
    w = nd.array(np.ones((4, 3), dtype=np.float32))
    out = nd.FullyConnected(x, w, nd.zeros((4,)), num_hidden=4).asnumpy()
    np.testing.assert_allclose(out, np.tile(np.arange(6).reshape(2, 3).sum(1, keepdims=True), (1, 4)))


def _raises(cls, call, *words):
    """call() raises cls whose message contains every word (case-insensitive); then mx works."""
    with pytest.raises(cls) as info:
        out = call()
        out.asnumpy()  # an error deferred to the kernel would surface here
    msg = str(info.value).lower()
    for w in words:
        assert w.lower() in msg, "%r not in %r" % (w, str(info.value))
    assert isinstance(info.value, base.MXNetError)
    _valid_call_works()
    return info.value


# ---------------------------------------------------------------- Convolution


def test_convolution_wrong_input_channels_for_weight():
    _raises(base.ShapeError,
            lambda: nd.Convolution(_data(), nd.ones((4, 5, 3, 3)), nd.ones((4,)), kernel=(3, 3), num_filter=4),
            "Convolution", "weight", "(4, 5, 3, 3)", "(4, 3, 3, 3)")


def test_convolution_kernel_larger_than_padded_input():
    _raises(base.ShapeError,
            lambda: nd.Convolution(_data(), nd.ones((4, 3, 11, 11)), nd.ones((4,)), kernel=(11, 11), num_filter=4),
            "Convolution", "kernel", "exceeds", "padded input")
    # the same kernel fits once padded: no error
    out = nd.Convolution(_data(), nd.ones((4, 3, 11, 11)), nd.ones((4,)), kernel=(11, 11), pad=(2, 2), num_filter=4)
    assert out.shape == (2, 4, 2, 2)


def test_convolution_bias_and_weight_shapes():
    _raises(base.ShapeError,
            lambda: nd.Convolution(_data(), nd.ones((4, 3, 3, 3)), nd.ones((5,)), kernel=(3, 3), num_filter=4),
            "Convolution", "bias", "(5,)", "(4,)")
    _raises(base.ShapeError,
            lambda: nd.Convolution(_data(), nd.ones((5, 3, 3, 3)), nd.ones((4,)), kernel=(3, 3), num_filter=4),
            "Convolution", "weight", "(5, 3, 3, 3)")
    _raises(base.ShapeError,
            lambda: nd.Convolution(_data(), nd.ones((4, 3, 5, 5)), nd.ones((4,)), kernel=(3, 3), num_filter=4),
            "Convolution", "weight", "(4, 3, 5, 5)", "kernel=(3, 3)")


def test_convolution_num_group_must_divide_channels():
    _raises(base.ShapeError,
            lambda: nd.Convolution(_data(), nd.ones((4, 1, 3, 3)), nd.ones((4,)), kernel=(3, 3), num_filter=4,
                                   num_group=2),
            "Convolution", "channels 3", "num_group=2", "divisible")
    _raises(base.ShapeError,
            lambda: nd.Convolution(nd.ones((2, 4, 8, 8)), nd.ones((3, 2, 3, 3)), nd.ones((3,)), kernel=(3, 3),
                                   num_filter=3, num_group=2),
            "num_filter=3", "num_group=2", "divisible")


def test_convolution_invalid_layout_and_geometry():
    _raises(base.InvalidArgumentError,
            lambda: nd.Convolution(_data(), nd.ones((4, 3, 3, 3)), nd.ones((4,)), kernel=(3, 3), num_filter=4,
                                   layout="XYZW"),
            "Convolution", "layout", "XYZW")
    _raises(base.InvalidArgumentError,
            lambda: nd.Convolution(_data(), nd.ones((4, 3, 3, 3)), nd.ones((4,)), kernel=(3, 3), num_filter=4,
                                   stride=(0, 0)),
            "stride", "below 1")
    _raises(base.InvalidArgumentError,
            lambda: nd.Convolution(_data(), nd.ones((4, 3, 3, 3)), nd.ones((4,)), kernel=(3, 3), num_filter=4,
                                   pad=(1, 1, 1)),
            "pad", "kernel")
    _raises(base.ShapeError,
            lambda: nd.Convolution(nd.ones((3, 8, 8)), nd.ones((4, 3, 3, 3)), nd.ones((4,)), kernel=(3, 3),
                                   num_filter=4),
            "4-d data", "3-d")
    _raises(base.InvalidArgumentError,
            lambda: nd.Convolution(_data(), nd.ones((4, 3, 3, 3)), nd.ones((4,)), num_filter=4),
            "kernel", "missing")


def test_convolution_dtype_mismatch():
    _raises(base.DTypeError,
            lambda: nd.Convolution(_data(), nd.ones((4, 3, 3, 3), dtype="float64"), nd.ones((4,)), kernel=(3, 3),
                                   num_filter=4),
            "Convolution", "float64", "float32")


def test_deconvolution_wrong_weight():
    _raises(base.ShapeError,
            lambda: nd.Deconvolution(_data(), nd.ones((4, 2, 3, 3)), kernel=(3, 3), num_filter=2, no_bias=True),
            "Deconvolution", "weight", "(4, 2, 3, 3)", "(3, 2, 3, 3)")


# ---------------------------------------------------------------- FullyConnected


def test_fully_connected_weight_and_bias_shapes():
    _raises(base.ShapeError,
            lambda: nd.FullyConnected(nd.ones((2, 5)), nd.ones((3, 4)), nd.ones((3,)), num_hidden=3),
            "FullyConnected", "weight", "(3, 4)", "(3, 5)")
    _raises(base.ShapeError,
            lambda: nd.FullyConnected(nd.ones((2, 5)), nd.ones((3, 5)), nd.ones((4,)), num_hidden=3),
            "FullyConnected", "bias", "(4,)", "(3,)")
    _raises(base.ShapeError,
            lambda: nd.FullyConnected(nd.ones((2, 5)), nd.ones((3, 5)), nd.ones((3,)), num_hidden=4),
            "FullyConnected", "num_hidden=4")
    _raises(base.DTypeError,
            lambda: nd.FullyConnected(nd.ones((2, 5)), nd.ones((3, 5), dtype="float64"), nd.ones((3,)),
                                      num_hidden=3),
            "FullyConnected", "float64")


# ---------------------------------------------------------------- BatchNorm


def _bn(gamma=3, beta=3, mean=3, var=3, **kw):
    return nd.BatchNorm(_data(), nd.ones((gamma,)), nd.ones((beta,)), nd.zeros((mean,)), nd.ones((var,)), **kw)


def test_batch_norm_wrong_parameter_sizes():
    _raises(base.ShapeError, lambda: _bn(gamma=4), "BatchNorm", "gamma", "(3,)", "(4,)")
    _raises(base.ShapeError, lambda: _bn(beta=2), "BatchNorm", "beta", "(2,)")
    _raises(base.ShapeError, lambda: _bn(mean=5), "BatchNorm", "moving_mean", "(5,)")
    _raises(base.ShapeError, lambda: _bn(var=1), "BatchNorm", "moving_var", "(1,)")


def test_batch_norm_axis_and_arity():
    _raises(base.InvalidArgumentError, lambda: _bn(axis=7), "BatchNorm", "axis 7", "out of range")
    _raises(base.InvalidArgumentError, lambda: nd.invoke("BatchNorm", [_data(), nd.ones((3,))], {}),
            "BatchNorm", "5 input")


# ---------------------------------------------------------------- enums


@pytest.mark.parametrize("op,kwargs,param,value", [
    ("Activation", {"act_type": "foo"}, "act_type", "foo"),
    ("LeakyReLU", {"act_type": "foo"}, "act_type", "foo"),
    ("Pooling", {"kernel": (2, 2), "pool_type": "foo"}, "pool_type", "foo"),
    ("Pooling", {"kernel": (2, 2), "layout": "ABCD"}, "layout", "ABCD"),
    ("Pooling", {"kernel": (2, 2), "pooling_convention": "foo"}, "pooling_convention", "foo"),
])
def test_invalid_enum_values(op, kwargs, param, value):
    err = _raises(base.InvalidArgumentError, lambda: getattr(nd, op)(_data(), **kwargs), op, param, value)
    assert "expected" in str(err)  # lists the valid choices


def test_activation_dtype_not_supported():
    _raises(base.DTypeError, lambda: nd.Activation(nd.ones((2,), dtype="int32"), act_type="tanh"),
            "Activation", "int32")


# ---------------------------------------------------------------- Pooling


def test_pooling_kernel_too_large():
    _raises(base.ShapeError, lambda: nd.Pooling(_data(), kernel=(9, 9), pool_type="max"),
            "Pooling", "kernel=(9, 9)", "exceeds", "(2, 3, 8, 8)")
    _raises(base.ShapeError, lambda: nd.Pooling(_data(), kernel=(11, 11), pad=(1, 1), pool_type="avg"),
            "Pooling", "kernel=(11, 11)", "exceeds")
    _raises(base.ShapeError, lambda: nd.Pooling(_data(), kernel=(2, 2, 2), pool_type="max"),
            "Pooling", "3 entries", "2 spatial")
    _raises(base.InvalidArgumentError, lambda: nd.Pooling(_data(), kernel=(2, 2), stride=(0, 0)),
            "Pooling", "stride")


# ---------------------------------------------------------------- Embedding


def test_embedding_weight_mismatch():
    idx = nd.array([0, 1, 2])
    _raises(base.ShapeError, lambda: nd.Embedding(idx, nd.ones((10, 4)), input_dim=10, output_dim=5),
            "Embedding", "weight", "(10, 5)", "(10, 4)")
    _raises(base.ShapeError, lambda: nd.Embedding(idx, nd.ones((10, 4)), input_dim=12, output_dim=4),
            "Embedding", "(12, 4)", "(10, 4)")
    _raises(base.ShapeError, lambda: nd.Embedding(idx, nd.ones((10,)), input_dim=10, output_dim=4),
            "Embedding", "weight", "(10,)")
    _raises(base.InvalidArgumentError, lambda: nd.Embedding(idx, nd.ones((10, 4)), output_dim=4),
            "Embedding", "input_dim", "missing")


# ---------------------------------------------------------------- softmax


@pytest.mark.parametrize("op", ["softmax", "log_softmax"])
@pytest.mark.parametrize("axis", [2, 5, -3])
def test_softmax_axis_out_of_range(op, axis):
    _raises(base.InvalidArgumentError, lambda: getattr(nd, op)(nd.ones((2, 3)), axis=axis),
            "axis %d" % axis, "out of range", "ndim 2")


def test_many_errors_in_a_row_leave_earlier_data_intact():
    keep = nd.array(np.arange(12, dtype=np.float32).reshape(3, 4))
    for _ in range(50):
        with pytest.raises(base.MXNetError):
            nd.Convolution(_data(), nd.ones((4, 5, 3, 3)), nd.ones((4,)), kernel=(3, 3), num_filter=4)
        with pytest.raises(base.MXNetError):
            nd.Pooling(_data(), kernel=(9, 9))
    np.testing.assert_array_equal(keep.asnumpy(), np.arange(12).reshape(3, 4))
    _valid_call_works()
