"""Convolution / Deconvolution / Pooling / UpSampling beyond the forward specs: shape inference
errors, unsupported settings, and a larger parallel convolution checked against the spec reference."""
import os
import sys

import numpy as np
import pytest

import mx
from mx.base import InvalidArgumentError, ShapeError, UnsupportedError

sys.path.insert(0, os.path.dirname(__file__))
from specs.spec_nn_conv import ref_convolution, ref_deconvolution, ref_pooling  # noqa: E402


def _nd(*shapes, seed=0):
    rng = np.random.default_rng(seed)
    return [mx.nd.array(rng.uniform(-1, 1, size=s).astype(np.float32)) for s in shapes]


def _f64(a):
    return mx.nd.array(a, dtype="float64")


def _run(op, arrays, params):
    return mx.nd.invoke(op, arrays, params).asnumpy()


def test_conv_weight_shape_checked():
    x, w, b = _nd((2, 3, 5, 5), (4, 2, 3, 3), (4,))
    with pytest.raises(ShapeError, match="weight"):
        _run("Convolution", [x, w, b], {"kernel": (3, 3), "num_filter": 4})


def test_conv_bias_shape_checked():
    x, w, b = _nd((2, 3, 5, 5), (4, 3, 3, 3), (5,))
    with pytest.raises(ShapeError, match="bias"):
        _run("Convolution", [x, w, b], {"kernel": (3, 3), "num_filter": 4})


def test_conv_kernel_rank_must_match_data():
    x, w = _nd((2, 3, 5), (4, 3, 3, 3))
    with pytest.raises(ShapeError):
        _run("Convolution", [x, w], {"kernel": (3, 3), "num_filter": 4, "no_bias": True})


def test_conv_kernel_larger_than_input():
    x, w = _nd((1, 1, 2, 2), (1, 1, 3, 3))
    with pytest.raises(ShapeError, match="exceeds"):
        _run("Convolution", [x, w], {"kernel": (3, 3), "num_filter": 1, "no_bias": True})


def test_conv_groups_must_divide_channels():
    x, w = _nd((1, 3, 5, 5), (4, 1, 3, 3))
    with pytest.raises(ShapeError, match="num_group"):
        _run("Convolution", [x, w], {"kernel": (3, 3), "num_filter": 4, "num_group": 2, "no_bias": True})


def test_conv_stride_length_checked():
    x, w = _nd((1, 2, 5, 5), (2, 2, 3, 3))
    with pytest.raises(InvalidArgumentError, match="stride"):
        _run("Convolution", [x, w], {"kernel": (3, 3), "stride": (1, 1, 1), "num_filter": 2, "no_bias": True})


def test_conv_channel_last_layout_unsupported():
    x, w = _nd((1, 5, 5, 2), (2, 2, 3, 3))
    with pytest.raises(UnsupportedError, match="NHWC"):
        _run("Convolution", [x, w], {"kernel": (3, 3), "num_filter": 2, "no_bias": True, "layout": "NHWC"})


def test_conv_layout_rank_checked():
    x, w = _nd((1, 2, 5, 5), (2, 2, 3, 3))
    with pytest.raises(ShapeError, match="layout"):
        _run("Convolution", [x, w], {"kernel": (3, 3), "num_filter": 2, "no_bias": True, "layout": "NCW"})


def test_conv_large_batch_matches_reference():
    # Enough samples and channels that the column transforms and GEMMs run in parallel chunks.
    rng = np.random.default_rng(3)
    x = rng.uniform(-1, 1, size=(64, 16, 20, 20))
    w = rng.uniform(-1, 1, size=(32, 8, 3, 3))
    b = rng.uniform(-1, 1, size=(32,))
    params = {"kernel": (3, 3), "stride": (2, 1), "pad": (1, 1), "num_filter": 32, "num_group": 2}
    got = _run("Convolution", [_f64(x), _f64(w), _f64(b)], params)
    np.testing.assert_allclose(got, ref_convolution(x, w, b, **params), rtol=1e-10, atol=1e-10)


def test_deconv_large_batch_matches_reference():
    rng = np.random.default_rng(4)
    x = rng.uniform(-1, 1, size=(32, 8, 12, 12))
    w = rng.uniform(-1, 1, size=(8, 6, 4, 4))
    params = {"kernel": (4, 4), "stride": (2, 2), "pad": (1, 1), "num_filter": 12, "num_group": 2}
    got = _run("Deconvolution", [_f64(x), _f64(w)], params)
    np.testing.assert_allclose(got, ref_deconvolution(x, w, **params), rtol=1e-10, atol=1e-10)


def test_deconv_weight_shape_checked():
    x, w = _nd((1, 3, 4, 4), (4, 3, 3, 3))
    with pytest.raises(ShapeError, match="weight"):
        _run("Deconvolution", [x, w], {"kernel": (3, 3), "num_filter": 3})


def test_deconv_adj_must_be_below_stride():
    x, w = _nd((1, 2, 4, 4), (2, 2, 3, 3))
    with pytest.raises(InvalidArgumentError, match="adj"):
        _run("Deconvolution", [x, w], {"kernel": (3, 3), "stride": (2, 2), "adj": (2, 0), "num_filter": 2})


def test_deconv_target_shape_too_big():
    x, w = _nd((1, 2, 4, 4), (2, 2, 3, 3))
    with pytest.raises(ShapeError, match="target_shape"):
        _run("Deconvolution", [x, w], {"kernel": (3, 3), "stride": (2, 2), "target_shape": (20, 20), "num_filter": 2})


def test_deconv_no_bias_default_takes_two_inputs():
    x, w = _nd((1, 2, 3, 3), (2, 1, 2, 2))
    assert _run("Deconvolution", [x, w], {"kernel": (2, 2), "num_filter": 1}).shape == (1, 1, 4, 4)


def test_pooling_lp_needs_p_value():
    (x,) = _nd((1, 2, 4, 4))
    with pytest.raises(InvalidArgumentError, match="p_value"):
        _run("Pooling", [x], {"kernel": (2, 2), "pool_type": "lp"})


def test_pooling_kernel_required_unless_global():
    (x,) = _nd((1, 2, 4, 4))
    with pytest.raises(InvalidArgumentError, match="kernel"):
        _run("Pooling", [x], {"pool_type": "max"})


def test_pooling_same_is_1d_only():
    (x,) = _nd((1, 2, 4, 4))
    with pytest.raises(ShapeError, match="same"):
        _run("Pooling", [x], {"kernel": (2, 2), "pooling_convention": "same"})


def test_pooling_kernel_exceeds_input():
    (x,) = _nd((1, 2, 3, 3))
    with pytest.raises(ShapeError, match="exceeds"):
        _run("Pooling", [x], {"kernel": (5, 5)})


def test_pooling_bad_rank():
    (x,) = _nd((2, 3))
    with pytest.raises(ShapeError):
        _run("Pooling", [x], {"kernel": (2,)})


def test_pooling_channel_last_layout_unsupported():
    (x,) = _nd((1, 4, 4, 2))
    with pytest.raises(UnsupportedError, match="NHWC"):
        _run("Pooling", [x], {"kernel": (2, 2), "layout": "NHWC"})


def test_pooling_large_matches_reference():
    rng = np.random.default_rng(5)
    x = rng.uniform(-1, 1, size=(16, 32, 17, 19))
    params = {"kernel": (3, 3), "stride": (2, 2), "pad": (1, 1), "pool_type": "avg", "pooling_convention": "full"}
    got = _run("Pooling", [_f64(x)], params)
    np.testing.assert_allclose(got, ref_pooling(x, **params), rtol=1e-12, atol=1e-12)


def test_upsampling_bilinear_unsupported():
    x, w = _nd((1, 2, 3, 3), (2, 1, 4, 4))
    with pytest.raises(UnsupportedError, match="bilinear"):
        _run("UpSampling", [x, w], {"scale": 2, "sample_type": "bilinear", "num_args": 2, "num_filter": 2})


def test_upsampling_size_must_divide():
    a, b = _nd((1, 2, 4, 4), (1, 2, 3, 3))
    with pytest.raises(ShapeError, match="multiple"):
        _run("UpSampling", [a, b], {"scale": 2, "sample_type": "nearest", "num_args": 2})


def test_upsampling_sum_needs_equal_channels():
    a, b = _nd((1, 2, 4, 4), (1, 3, 2, 2))
    with pytest.raises(ShapeError, match="channel"):
        _run("UpSampling", [a, b], {"scale": 2, "sample_type": "nearest", "num_args": 2, "multi_input_mode": "sum"})
