"""Training-mode behaviour of BatchNorm and Dropout (the op-spec harness runs in predict mode), and
the input checks of the normalisation/embedding ops."""
import numpy as np
import pytest

import mx
from mx import base


def _nd(x, dtype=None):
    return mx.nd.array(x, dtype=dtype or x.dtype)


def _bn_np_train(x, gamma, beta, eps, fix_gamma, axis):
    ax = axis % x.ndim
    red = tuple(i for i in range(x.ndim) if i != ax)
    bs = [1] * x.ndim
    bs[ax] = -1
    xd = x.astype(np.float64)
    mean = xd.mean(axis=red)
    var = xd.var(axis=red)  # biased, as MXNet
    g = np.ones_like(gamma, dtype=np.float64) if fix_gamma else gamma.astype(np.float64)
    out = (xd - mean.reshape(bs)) / np.sqrt(var.reshape(bs) + eps) * g.reshape(bs) + beta.reshape(bs)
    return out, mean, var


# ------------------------------------------------------------------ BatchNorm
@pytest.mark.parametrize("dtype", ["float32", "float64", "float16"])
@pytest.mark.parametrize("shape,axis", [((4, 3, 5, 2), 1), ((8, 5), 1), ((3, 4, 6), -1), ((6, 2, 3), 0)])
@pytest.mark.parametrize("fix_gamma", [True, False])
def test_batchnorm_train_batch_stats_and_moving_update(dtype, shape, axis, fix_gamma):
    rng = np.random.default_rng(7)
    c = shape[axis]
    pdt = "float32" if dtype == "float16" else dtype
    x = rng.normal(1.5, 2.0, size=shape).astype(dtype)
    gamma = rng.uniform(0.5, 1.5, c).astype(pdt)
    beta = rng.uniform(-1, 1, c).astype(pdt)
    mm = rng.uniform(-1, 1, c).astype(pdt)
    mv = rng.uniform(0.5, 2, c).astype(pdt)
    eps, momentum = 1e-3, 0.8
    arrs = [_nd(a) for a in (x, gamma, beta, mm, mv)]
    params = {"eps": eps, "momentum": momentum, "fix_gamma": fix_gamma, "axis": axis, "output_mean_var": True}
    with mx.autograd.train_mode():
        out, mean, invstd = mx.nd.invoke("BatchNorm", arrs, params)
    ref, bmean, bvar = _bn_np_train(x, gamma, beta, eps, fix_gamma, axis)
    tol = dict(rtol=2e-3, atol=2e-3) if dtype == "float16" else dict(rtol=1e-5, atol=1e-5)
    assert out.dtype == np.dtype(dtype) and mean.dtype == np.dtype(pdt) and invstd.dtype == np.dtype(pdt)
    np.testing.assert_allclose(out.asnumpy().astype(np.float64), ref, **tol)
    np.testing.assert_allclose(mean.asnumpy(), bmean, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(invstd.asnumpy(), 1 / np.sqrt(bvar + eps), rtol=1e-5)
    # moving = moving * momentum + batch * (1 - momentum), written into the aux inputs
    np.testing.assert_allclose(arrs[3].asnumpy(), mm * momentum + bmean * (1 - momentum), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(arrs[4].asnumpy(), mv * momentum + bvar * (1 - momentum), rtol=1e-5, atol=1e-6)
    # data, gamma and beta are not written
    np.testing.assert_array_equal(arrs[0].asnumpy(), x)
    np.testing.assert_array_equal(arrs[1].asnumpy(), gamma)
    np.testing.assert_array_equal(arrs[2].asnumpy(), beta)


def test_batchnorm_moving_stats_converge_over_steps():
    rng = np.random.default_rng(3)
    c, momentum = 3, 0.9
    mm, mv = mx.nd.zeros((c,)), mx.nd.ones((c,))
    gamma, beta = mx.nd.ones((c,)), mx.nd.zeros((c,))
    exp_m, exp_v = np.zeros(c), np.ones(c)
    with mx.autograd.train_mode():
        for _ in range(5):
            x = rng.normal(2.0, 3.0, size=(16, c, 4)).astype(np.float32)
            mx.nd.invoke("BatchNorm", [_nd(x), gamma, beta, mm, mv], {"momentum": momentum})
            exp_m = exp_m * momentum + x.mean(axis=(0, 2)) * (1 - momentum)
            exp_v = exp_v * momentum + x.var(axis=(0, 2)) * (1 - momentum)
    np.testing.assert_allclose(mm.asnumpy(), exp_m, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(mv.asnumpy(), exp_v, rtol=1e-5, atol=1e-6)


def test_batchnorm_predict_and_global_stats_do_not_update():
    rng = np.random.default_rng(5)
    x = rng.normal(size=(4, 3, 2)).astype(np.float32)
    mm0 = rng.uniform(-1, 1, 3).astype(np.float32)
    mv0 = rng.uniform(0.5, 2, 3).astype(np.float32)
    g, b = mx.nd.ones((3,)), mx.nd.zeros((3,))
    ref = (x - mm0[None, :, None]) / np.sqrt(mv0[None, :, None] + 1e-3)
    # predict mode (the default)
    mm, mv = _nd(mm0), _nd(mv0)
    out = mx.nd.invoke("BatchNorm", [_nd(x), g, b, mm, mv], {})
    np.testing.assert_allclose(out.asnumpy(), ref, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(mm.asnumpy(), mm0)
    np.testing.assert_array_equal(mv.asnumpy(), mv0)
    # training mode with use_global_stats: moving stats normalise, nothing is updated
    with mx.autograd.train_mode():
        out = mx.nd.invoke("BatchNorm", [_nd(x), g, b, mm, mv], {"use_global_stats": True})
    np.testing.assert_allclose(out.asnumpy(), ref, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(mm.asnumpy(), mm0)
    np.testing.assert_array_equal(mv.asnumpy(), mv0)


def test_batchnorm_output_count_and_checks():
    x = mx.nd.ones((2, 3, 4))
    p = [mx.nd.ones((3,)) for _ in range(4)]
    assert not isinstance(mx.nd.invoke("BatchNorm", [x] + p, {}), (list, tuple))
    assert len(mx.nd.invoke("BatchNorm", [x] + p, {"output_mean_var": True})) == 3
    with pytest.raises(base.ShapeError, match=r"gamma.*\(3,\).*got \(4,\)"):
        mx.nd.invoke("BatchNorm", [x, mx.nd.ones((4,))] + p[1:], {})
    with pytest.raises(base.ShapeError, match="moving_var"):
        mx.nd.invoke("BatchNorm", [x] + p[:3] + [mx.nd.ones((2,))], {})
    with pytest.raises(base.InvalidArgumentError, match="axis"):
        mx.nd.invoke("BatchNorm", [x] + p, {"axis": 3})
    with pytest.raises(base.DTypeError, match="gamma"):
        mx.nd.invoke("BatchNorm", [x, mx.nd.ones((3,), dtype="float64")] + p[1:], {})


# ------------------------------------------------------------------ Dropout
def _dropout(x, params):
    return mx.nd.invoke("Dropout", [x], params).asnumpy()


def test_dropout_predict_mode_is_identity():
    x = np.random.default_rng(0).uniform(0.5, 2, (10, 10)).astype(np.float32)
    np.testing.assert_array_equal(_dropout(_nd(x), {"p": 0.7}), x)
    with mx.autograd.predict_mode():
        np.testing.assert_array_equal(_dropout(_nd(x), {"p": 0.7, "axes": (0,)}), x)


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16"])
@pytest.mark.parametrize("p", [0.1, 0.5, 0.8])
def test_dropout_train_statistics_and_scaling(dtype, p):
    rng = np.random.default_rng(1)
    x = rng.uniform(0.5, 2.0, (200, 300)).astype(dtype)
    mx.random.seed(42)
    with mx.autograd.train_mode():
        y = _dropout(_nd(x), {"p": p})
    assert y.dtype == np.dtype(dtype)
    kept = y != 0
    n = kept.size
    assert abs(kept.mean() - (1 - p)) < 5 * np.sqrt(p * (1 - p) / n)
    rtol = 2e-3 if dtype == "float16" else 1e-6
    np.testing.assert_allclose(y[kept].astype(np.float64), x[kept].astype(np.float64) / (1 - p), rtol=rtol)
    # the expectation is preserved
    assert abs(y.astype(np.float64).mean() - x.astype(np.float64).mean()) < 5 * np.sqrt(p / (1 - p) / n) * 2.0


def test_dropout_reproducible_under_seed():
    x = _nd(np.ones((64, 64), dtype=np.float32))
    with mx.autograd.train_mode():
        mx.random.seed(123)
        a = _dropout(x, {"p": 0.5})
        b = _dropout(x, {"p": 0.5})
        mx.random.seed(123)
        c = _dropout(x, {"p": 0.5})
        mx.random.seed(321)
        d = _dropout(x, {"p": 0.5})
    np.testing.assert_array_equal(a, c)
    assert not np.array_equal(a, b)
    assert not np.array_equal(a, d)


@pytest.mark.parametrize("axes", [(0,), (1,), (2,), (0, 2), (-1,)])
def test_dropout_axes_share_the_mask(axes):
    shape = (30, 40, 20)
    x = np.random.default_rng(2).uniform(0.5, 2.0, shape).astype(np.float32)
    mx.random.seed(9)
    with mx.autograd.train_mode():
        y = _dropout(_nd(x), {"p": 0.4, "axes": axes})
    kept = y != 0
    ax = tuple(a % 3 for a in axes)
    first = kept[tuple(slice(0, 1) if i in ax else slice(None) for i in range(3))]
    assert np.array_equal(np.broadcast_to(first, shape), kept)
    assert abs(first.mean() - 0.6) < 5 * np.sqrt(0.24 / first.size)
    np.testing.assert_allclose(y[kept], x[kept] / 0.6, rtol=1e-6)


def test_dropout_edge_probabilities_and_mode_always():
    x = np.random.default_rng(4).uniform(0.5, 2.0, (50, 50)).astype(np.float32)
    with mx.autograd.train_mode():
        np.testing.assert_array_equal(_dropout(_nd(x), {"p": 0.0}), x)
        np.testing.assert_array_equal(_dropout(_nd(x), {"p": 1.0}), np.zeros_like(x))
    y = _dropout(_nd(x), {"p": 0.5, "mode": "always"})  # active in predict mode too
    assert 0.4 < (y == 0).mean() < 0.6
    with pytest.raises(base.InvalidArgumentError, match="p must be in"):
        _dropout(_nd(x), {"p": 1.5})
    with pytest.raises(base.InvalidArgumentError, match="axis 2"):
        _dropout(_nd(x), {"axes": (2,)})


# ------------------------------------------------------------------ input checks of the other ops
def test_norm_shape_checks():
    x = mx.nd.ones((2, 6, 3))
    with pytest.raises(base.ShapeError, match="gamma"):
        mx.nd.invoke("LayerNorm", [x, mx.nd.ones((6,)), mx.nd.ones((3,))], {})
    with pytest.raises(base.ShapeError, match="beta"):
        mx.nd.invoke("LayerNorm", [x, mx.nd.ones((3,)), mx.nd.ones((6,))], {})
    with pytest.raises(base.ShapeError, match="not divisible"):
        mx.nd.invoke("GroupNorm", [x, mx.nd.ones((4,)), mx.nd.ones((4,))], {"num_groups": 4})
    with pytest.raises(base.ShapeError, match="gamma"):
        mx.nd.invoke("GroupNorm", [x, mx.nd.ones((6,)), mx.nd.ones((3,))], {"num_groups": 3})
    with pytest.raises(base.ShapeError, match="at least 3 dims"):
        mx.nd.invoke("InstanceNorm", [mx.nd.ones((2, 3)), mx.nd.ones((3,)), mx.nd.ones((3,))], {})
    with pytest.raises(base.ShapeError, match="4-d"):
        mx.nd.invoke("LRN", [x], {"nsize": 3})
    with pytest.raises(base.ShapeError, match="at least 3 dims"):
        mx.nd.invoke("L2Normalization", [mx.nd.ones((2, 3))], {"mode": "spatial"})
    with pytest.raises(base.InvalidArgumentError):
        mx.nd.invoke("LRN", [mx.nd.ones((1, 2, 2, 2))], {})  # nsize is required


def test_embedding_checks():
    idx = mx.nd.array([0, 1, 2])
    with pytest.raises(base.ShapeError, match=r"\(4, 3\).*got \(3, 4\)"):
        mx.nd.invoke("Embedding", [idx, mx.nd.ones((3, 4))], {"input_dim": 4, "output_dim": 3})
    with pytest.raises(base.DTypeError, match="dtype"):
        mx.nd.invoke("Embedding", [idx, mx.nd.ones((4, 3), dtype="float64")], {"input_dim": 4, "output_dim": 3})
    out = mx.nd.invoke("Embedding", [mx.nd.array([[1.9, -0.5], [3.7, 99]]),
                                     mx.nd.array(np.arange(12, dtype=np.float32).reshape(4, 3))],
                       {"input_dim": 4, "output_dim": 3})
    w = np.arange(12, dtype=np.float32).reshape(4, 3)
    np.testing.assert_array_equal(out.asnumpy(), w[[[1, 0], [3, 3]]])
