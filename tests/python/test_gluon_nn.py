"""Gluon layers (mx.gluon.nn): forward against numpy formulas, deferred shape inference,
gradients through layers, BatchNorm running statistics."""
import itertools
import math

import numpy as np
import pytest

import mx
from mx import autograd, gluon, nd
from mx.gluon import nn

RTOL, ATOL = 1e-4, 1e-5


def _rand(*shape, seed=0):
    return np.random.RandomState(seed).randn(*shape).astype(np.float32)


def _params(block):
    return {k[len(block.prefix):]: v.data().asnumpy() for k, v in
            block.collect_params().items()}


# ----------------------------------------------------------------------------- references
def ref_conv(x, w, b, stride, pad, dilate, groups):
    """N-d cross-correlation, channel-first, written out per output position."""
    nsp = x.ndim - 2
    N, C = x.shape[:2]
    F = w.shape[0]
    k = w.shape[2:]
    xp = np.pad(x, [(0, 0), (0, 0)] + [(p, p) for p in pad])
    out_sp = [(xp.shape[2 + i] - dilate[i] * (k[i] - 1) - 1) // stride[i] + 1
              for i in range(nsp)]
    out = np.zeros((N, F) + tuple(out_sp), np.float64)
    cin_g, f_g = C // groups, F // groups
    for pos in itertools.product(*[range(o) for o in out_sp]):
        sl = tuple(slice(pos[i] * stride[i], pos[i] * stride[i] + dilate[i] * (k[i] - 1) + 1,
                         dilate[i]) for i in range(nsp))
        for g in range(groups):
            patch = xp[(slice(None), slice(g * cin_g, (g + 1) * cin_g)) + sl]
            wg = w[g * f_g:(g + 1) * f_g]
            out[(slice(None), slice(g * f_g, (g + 1) * f_g)) + pos] = np.tensordot(
                patch, wg, axes=(list(range(1, nsp + 2)), list(range(1, nsp + 2))))
    if b is not None:
        out += b.reshape((1, F) + (1,) * nsp)
    return out


def ref_deconv(x, w, b, stride, pad, dilate, adj, groups):
    """Transposed convolution: scatter each input element through the kernel."""
    nsp = x.ndim - 2
    N, C = x.shape[:2]
    cout_g = w.shape[1]
    k = w.shape[2:]
    F = cout_g * groups
    full = [(x.shape[2 + i] - 1) * stride[i] + dilate[i] * (k[i] - 1) + 1 + adj[i]
            for i in range(nsp)]
    out = np.zeros((N, F) + tuple(full), np.float64)
    cin_g = C // groups
    for pos in itertools.product(*[range(s) for s in x.shape[2:]]):
        sl = tuple(slice(pos[i] * stride[i], pos[i] * stride[i] + dilate[i] * (k[i] - 1) + 1,
                         dilate[i]) for i in range(nsp))
        for g in range(groups):
            xv = x[(slice(None), slice(g * cin_g, (g + 1) * cin_g)) + pos]  # (N, cin_g)
            wg = w[g * cin_g:(g + 1) * cin_g]  # (cin_g, cout_g, *k)
            out[(slice(None), slice(g * cout_g, (g + 1) * cout_g)) + sl] += np.tensordot(
                xv, wg, axes=([1], [0]))
    crop = tuple(slice(pad[i], full[i] - pad[i]) for i in range(nsp))
    out = out[(slice(None), slice(None)) + crop]
    if b is not None:
        out += b.reshape((1, F) + (1,) * nsp)
    return out


def ref_pool(x, kernel, stride, pad, kind, ceil_mode=False, count_include_pad=True):
    nsp = x.ndim - 2
    out_sp = []
    for i in range(nsp):
        span = x.shape[2 + i] + 2 * pad[i] - kernel[i]
        o = (-(-span // stride[i]) if ceil_mode else span // stride[i]) + 1
        out_sp.append(o)
    out = np.zeros(x.shape[:2] + tuple(out_sp), np.float64)
    for pos in itertools.product(*[range(o) for o in out_sp]):
        lo = [pos[i] * stride[i] - pad[i] for i in range(nsp)]
        hi = [lo[i] + kernel[i] for i in range(nsp)]
        clo = [max(l, 0) for l in lo]
        chi = [min(h, x.shape[2 + i]) for i, h in enumerate(hi)]
        win = x[(slice(None), slice(None)) + tuple(slice(a, b) for a, b in zip(clo, chi))]
        if kind == "max":
            v = win.max(axis=tuple(range(2, 2 + nsp)))
        else:
            if count_include_pad:
                n = 1
                for i in range(nsp):
                    n *= min(hi[i], x.shape[2 + i] + pad[i]) - lo[i]
            else:
                n = win[0, 0].size
            v = win.sum(axis=tuple(range(2, 2 + nsp))) / max(n, 1)
        out[(slice(None), slice(None)) + pos] = v
    return out


# ----------------------------------------------------------------------------- Dense
@pytest.mark.parametrize("flatten", [True, False])
@pytest.mark.parametrize("use_bias", [True, False])
def test_dense_forward(flatten, use_bias):
    x = _rand(2, 3, 4)
    layer = nn.Dense(5, use_bias=use_bias, flatten=flatten)
    layer.initialize(mx.init.Normal(0.5))
    y = layer(nd.array(x)).asnumpy()
    w = layer.weight.data().asnumpy()
    if flatten:
        assert w.shape == (5, 12)
        ref = x.reshape(2, 12) @ w.T
    else:
        assert w.shape == (5, 4)
        ref = x @ w.T
    if use_bias:
        b = layer.bias.data().asnumpy()
        np.testing.assert_array_equal(b, 0)  # bias_initializer='zeros'
        ref = ref + b
    else:
        assert layer.bias is None
    np.testing.assert_allclose(y, ref, rtol=RTOL, atol=ATOL)


def test_dense_activation_and_in_units():
    layer = nn.Dense(3, activation="relu", in_units=4)
    assert layer.weight.shape == (3, 4)
    layer.initialize(mx.init.Uniform(1.0))
    x = _rand(5, 4)
    w = layer.weight.data().asnumpy()
    np.testing.assert_allclose(layer(nd.array(x)).asnumpy(), np.maximum(x @ w.T, 0),
                               rtol=RTOL, atol=ATOL)
    assert repr(layer) == "Dense(4 -> 3, Activation(relu))"


def test_dense_dtype_float64():
    layer = nn.Dense(2, dtype="float64", in_units=3)
    layer.initialize()
    assert layer.weight.data().dtype == np.float64
    y = layer(nd.array(_rand(2, 3), dtype="float64"))
    assert y.dtype == np.float64


def test_dense_wrong_input_size_error():
    layer = nn.Dense(2, in_units=3)
    layer.initialize()
    with pytest.raises(mx.MXNetError):
        layer(nd.ones((2, 4))).wait_to_read()


def test_dense_gradients():
    x = _rand(4, 3)
    layer = nn.Dense(2, in_units=3)
    layer.initialize(mx.init.Normal(1.0))
    head = _rand(4, 2, seed=3)
    xa = nd.array(x)
    xa.attach_grad()
    with autograd.record():
        y = layer(xa)
    y.backward(nd.array(head))
    w = layer.weight.data().asnumpy()
    np.testing.assert_allclose(layer.weight.grad().asnumpy(), head.T @ x, rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(layer.bias.grad().asnumpy(), head.sum(0), rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(xa.grad.asnumpy(), head @ w, rtol=RTOL, atol=ATOL)


def test_grads_flow_through_sequential():
    net = nn.HybridSequential()
    with net.name_scope():
        net.add(nn.Conv2D(2, 3, padding=1), nn.BatchNorm(), nn.Activation("relu"),
                nn.MaxPool2D(), nn.Flatten(), nn.Dense(3))
    net.initialize(mx.init.Xavier())
    x = nd.array(_rand(2, 1, 6, 6))
    with autograd.record():
        loss = nd.sum(net(x) * net(x))
    loss.backward()
    for name, p in net.collect_params().items():
        if p.grad_req == "null":
            assert "running" in name
            continue
        g = p.grad().asnumpy()
        assert np.isfinite(g).all()
        assert np.abs(g).sum() > 0, name


# ----------------------------------------------------------------------------- conv
@pytest.mark.parametrize("ndim", [1, 2, 3])
def test_conv_forward(ndim):
    cls = {1: nn.Conv1D, 2: nn.Conv2D, 3: nn.Conv3D}[ndim]
    sp = {1: (9,), 2: (7, 6), 3: (5, 4, 5)}[ndim]
    x = _rand(2, 4, *sp)
    layer = cls(6, 3, strides=2, padding=1, dilation=1, groups=2)
    layer.initialize(mx.init.Normal(0.3))
    y = layer(nd.array(x)).asnumpy()
    w = layer.weight.data().asnumpy()
    assert w.shape == (6, 2) + (3,) * ndim
    b = layer.bias.data().asnumpy()
    ref = ref_conv(x, w, b, (2,) * ndim, (1,) * ndim, (1,) * ndim, 2)
    np.testing.assert_allclose(y, ref, rtol=RTOL, atol=1e-4)


def test_conv2d_dilation_no_bias_activation():
    x = _rand(1, 2, 8, 8)
    layer = nn.Conv2D(3, (3, 2), dilation=(2, 1), use_bias=False, activation="tanh",
                      in_channels=2)
    assert layer.weight.shape == (3, 2, 3, 2)
    layer.initialize(mx.init.Normal(0.3))
    w = layer.weight.data().asnumpy()
    ref = np.tanh(ref_conv(x, w, None, (1, 1), (0, 0), (2, 1), 1))
    np.testing.assert_allclose(layer(nd.array(x)).asnumpy(), ref, rtol=RTOL, atol=1e-4)
    assert len(layer.collect_params()) == 1


@pytest.mark.parametrize("ndim", [1, 2, 3])
def test_conv_transpose_forward(ndim):
    cls = {1: nn.Conv1DTranspose, 2: nn.Conv2DTranspose, 3: nn.Conv3DTranspose}[ndim]
    sp = {1: (5,), 2: (4, 3), 3: (3, 3, 2)}[ndim]
    x = _rand(2, 4, *sp)
    layer = cls(6, 3, strides=2, padding=1, output_padding=1, groups=2)
    layer.initialize(mx.init.Normal(0.3))
    y = layer(nd.array(x)).asnumpy()
    w = layer.weight.data().asnumpy()
    assert w.shape == (4, 3) + (3,) * ndim
    b = layer.bias.data().asnumpy()
    ref = ref_deconv(x, w, b, (2,) * ndim, (1,) * ndim, (1,) * ndim, (1,) * ndim, 2)
    assert y.shape == ref.shape
    np.testing.assert_allclose(y, ref, rtol=RTOL, atol=1e-4)


def test_conv_errors():
    with pytest.raises(ValueError, match="layout"):
        nn.Conv2D(2, 3, layout="NCW")
    with pytest.raises(ValueError, match="kernel_size"):
        nn.Conv2D(2, (3, 3, 3))
    with pytest.raises(ValueError, match="groups"):
        nn.Conv2D(3, 3, groups=2)


# ----------------------------------------------------------------------------- pooling
@pytest.mark.parametrize("ndim", [1, 2, 3])
@pytest.mark.parametrize("kind", ["max", "avg"])
def test_pool_forward(ndim, kind):
    cls = {("max", 1): nn.MaxPool1D, ("max", 2): nn.MaxPool2D, ("max", 3): nn.MaxPool3D,
           ("avg", 1): nn.AvgPool1D, ("avg", 2): nn.AvgPool2D, ("avg", 3): nn.AvgPool3D}
    sp = {1: (9,), 2: (7, 6), 3: (5, 6, 5)}[ndim]
    x = _rand(2, 3, *sp)
    layer = cls[(kind, ndim)](pool_size=3, strides=2, padding=1)
    ref = ref_pool(x, (3,) * ndim, (2,) * ndim, (1,) * ndim, kind)
    np.testing.assert_allclose(layer(nd.array(x)).asnumpy(), ref, rtol=RTOL, atol=ATOL)


def test_pool_ceil_mode_and_count_include_pad():
    x = _rand(1, 2, 6, 6)
    for cip in (True, False):
        layer = nn.AvgPool2D(pool_size=2, strides=2, padding=1, ceil_mode=True,
                             count_include_pad=cip)
        ref = ref_pool(x, (2, 2), (2, 2), (1, 1), "avg", ceil_mode=True, count_include_pad=cip)
        y = layer(nd.array(x)).asnumpy()
        assert y.shape == ref.shape == (1, 2, 4, 4)
        np.testing.assert_allclose(y, ref, rtol=RTOL, atol=ATOL)
    x = _rand(1, 2, 7, 7)
    y = nn.MaxPool2D(pool_size=2, strides=2, ceil_mode=False)(nd.array(x)).asnumpy()
    assert y.shape == (1, 2, 3, 3)
    y = nn.MaxPool2D(pool_size=2, strides=2, ceil_mode=True)(nd.array(x)).asnumpy()
    np.testing.assert_allclose(y, ref_pool(x, (2, 2), (2, 2), (0, 0), "max", ceil_mode=True))


def test_default_strides_equal_pool_size():
    x = _rand(1, 1, 4, 4)
    y = nn.MaxPool2D()(nd.array(x)).asnumpy()
    np.testing.assert_allclose(y, x.reshape(1, 1, 2, 2, 2, 2).max(axis=(3, 5)))


@pytest.mark.parametrize("ndim", [1, 2, 3])
def test_global_pool(ndim):
    sp = {1: (5,), 2: (4, 3), 3: (3, 2, 4)}[ndim]
    x = _rand(2, 3, *sp)
    axes = tuple(range(2, 2 + ndim))
    gmax = getattr(nn, "GlobalMaxPool%dD" % ndim)()
    gavg = getattr(nn, "GlobalAvgPool%dD" % ndim)()
    np.testing.assert_allclose(gmax(nd.array(x)).asnumpy(), x.max(axis=axes, keepdims=True),
                               rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(gavg(nd.array(x)).asnumpy(), x.mean(axis=axes, keepdims=True),
                               rtol=RTOL, atol=ATOL)


# ----------------------------------------------------------------------------- norms
def test_batchnorm_train_and_running_stats():
    x = _rand(4, 3, 5, 5) * 2 + 1
    layer = nn.BatchNorm(momentum=0.8, epsilon=1e-5)
    layer.initialize()
    assert layer.running_mean.grad_req == "null" and layer.running_var.grad_req == "null"
    # predict mode: moving stats (0, 1), nothing updated
    y = layer(nd.array(x)).asnumpy()
    np.testing.assert_allclose(y, x / np.sqrt(1 + 1e-5), rtol=RTOL, atol=ATOL)
    np.testing.assert_array_equal(layer.running_mean.data().asnumpy(), 0)
    np.testing.assert_array_equal(layer.running_var.data().asnumpy(), 1)
    # train mode: batch stats, running stats updated
    with autograd.record():
        y = layer(nd.array(x))
    mean = x.mean(axis=(0, 2, 3))
    var = x.var(axis=(0, 2, 3))
    ref = (x - mean.reshape(1, 3, 1, 1)) / np.sqrt(var.reshape(1, 3, 1, 1) + 1e-5)
    np.testing.assert_allclose(y.asnumpy(), ref, rtol=1e-3, atol=1e-4)
    np.testing.assert_allclose(layer.running_mean.data().asnumpy(), 0.2 * mean,
                               rtol=1e-4, atol=1e-5)
    n = x.size / 3
    rv = layer.running_var.data().asnumpy()
    # MXNet uses the biased batch variance for the moving average
    assert np.allclose(rv, 0.8 + 0.2 * var, rtol=1e-3) or \
        np.allclose(rv, 0.8 + 0.2 * var * n / (n - 1), rtol=1e-3)
    before = layer.running_mean.data().asnumpy()
    with autograd.predict_mode():
        layer(nd.array(x)).wait_to_read()
    np.testing.assert_array_equal(layer.running_mean.data().asnumpy(), before)


def test_batchnorm_deferred_axis_and_scale():
    x = _rand(2, 4, 3)
    layer = nn.BatchNorm(axis=-1, scale=False, center=False)
    layer.initialize()
    assert layer.gamma.shape == (0,)
    y = layer(nd.array(x)).asnumpy()
    assert layer.gamma.shape == (3,) and layer.running_var.shape == (3,)
    assert layer.gamma.grad_req == "null" and layer.beta.grad_req == "null"
    np.testing.assert_allclose(y, x / np.sqrt(1 + 1e-5), rtol=RTOL, atol=ATOL)
    assert "in_channels=3" in repr(layer)


def test_layernorm():
    x = _rand(2, 3, 4)
    layer = nn.LayerNorm(epsilon=1e-5)
    layer.initialize()
    layer.gamma.set_data(nd.array([1.0, 2.0, 0.5, -1.0]))
    layer.beta.set_data(nd.array([0.0, 1.0, 2.0, 3.0]))
    mu = x.mean(-1, keepdims=True)
    sd = np.sqrt(x.var(-1, keepdims=True) + 1e-5)
    ref = (x - mu) / sd * np.array([1, 2, 0.5, -1]) + np.array([0, 1, 2, 3])
    np.testing.assert_allclose(layer(nd.array(x)).asnumpy(), ref, rtol=RTOL, atol=1e-4)
    layer1 = nn.LayerNorm(axis=1, in_channels=3)
    layer1.initialize()
    mu = x.mean(1, keepdims=True)
    sd = np.sqrt(x.var(1, keepdims=True) + 1e-5)
    np.testing.assert_allclose(layer1(nd.array(x)).asnumpy(), (x - mu) / sd, rtol=RTOL,
                               atol=1e-4)


def test_instancenorm():
    x = _rand(2, 3, 5)
    layer = nn.InstanceNorm(epsilon=1e-5)
    layer.initialize()
    assert layer.gamma.grad_req == "null"  # scale=False by default
    mu = x.mean(2, keepdims=True)
    sd = np.sqrt(x.var(2, keepdims=True) + 1e-5)
    np.testing.assert_allclose(layer(nd.array(x)).asnumpy(), (x - mu) / sd, rtol=RTOL,
                               atol=1e-4)
    # channels on the last axis
    xt = np.ascontiguousarray(x.transpose(0, 2, 1))
    layer2 = nn.InstanceNorm(axis=2, epsilon=1e-5)
    layer2.initialize()
    y = layer2(nd.array(xt)).asnumpy()
    np.testing.assert_allclose(y, ((x - mu) / sd).transpose(0, 2, 1), rtol=RTOL, atol=1e-4)


def test_groupnorm():
    x = _rand(2, 4, 3, 2)
    layer = nn.GroupNorm(num_groups=2, epsilon=1e-5)
    layer.initialize()
    assert layer.gamma.shape == (2,)  # one scale per group (MXNet 1.x)
    layer.gamma.set_data(nd.array([2.0, -1.0]))
    layer.beta.set_data(nd.array([0.5, 1.0]))
    xg = x.reshape(2, 2, -1)
    mu = xg.mean(-1, keepdims=True)
    sd = np.sqrt(xg.var(-1, keepdims=True) + 1e-5)
    g = np.array([2.0, -1.0]).reshape(1, 2, 1)
    b = np.array([0.5, 1.0]).reshape(1, 2, 1)
    ref = ((xg - mu) / sd * g + b).reshape(x.shape)
    np.testing.assert_allclose(layer(nd.array(x)).asnumpy(), ref, rtol=RTOL, atol=1e-4)


# ----------------------------------------------------------------------------- others
def test_dropout_train_only():
    x = np.ones((50, 40), np.float32)
    layer = nn.Dropout(0.25)
    np.testing.assert_array_equal(layer(nd.array(x)).asnumpy(), x)
    with autograd.record():
        y = layer(nd.array(x)).asnumpy()
    kept = y[y != 0]
    np.testing.assert_allclose(kept, 1 / 0.75, rtol=1e-6)
    frac = (y == 0).mean()
    assert 0.15 < frac < 0.35
    with autograd.record():
        y = nn.Dropout(0.5, axes=(1,))(nd.array(x)).asnumpy()
    # the mask is shared along axis 1: each row is all 0 or all 2
    assert all(len(set(r.tolist())) == 1 for r in y)
    assert set(np.unique(y).tolist()) <= {0.0, 2.0}
    with autograd.record():
        np.testing.assert_array_equal(nn.Dropout(0.0)(nd.array(x)).asnumpy(), x)


def test_flatten_embedding():
    x = _rand(2, 3, 4)
    np.testing.assert_array_equal(nn.Flatten()(nd.array(x)).asnumpy(), x.reshape(2, 12))
    emb = nn.Embedding(6, 3)
    emb.initialize(mx.init.Normal(1.0))
    idx = np.array([[0, 5], [2, 2]], np.float32)
    w = emb.weight.data().asnumpy()
    np.testing.assert_allclose(emb(nd.array(idx)).asnumpy(), w[idx.astype(int)])
    with pytest.raises(NotImplementedError, match="sparse_grad"):
        nn.Embedding(6, 3, sparse_grad=True)


def test_activations():
    x = _rand(3, 4) * 2
    xa = nd.array(x)
    sig = 1 / (1 + np.exp(-x))
    cases = [
        (nn.Activation("relu"), np.maximum(x, 0)),
        (nn.Activation("sigmoid"), sig),
        (nn.Activation("tanh"), np.tanh(x)),
        (nn.Activation("softrelu"), np.log1p(np.exp(x))),
        (nn.LeakyReLU(0.1), np.where(x > 0, x, 0.1 * x)),
        (nn.ELU(0.7), np.where(x > 0, x, 0.7 * (np.exp(x) - 1))),
        (nn.SELU(), 1.0507009873554805 * np.where(x > 0, x, 1.6732632423543772 *
                                                  (np.exp(x) - 1))),
        (nn.GELU(), 0.5 * x * (1 + np.vectorize(math.erf)(x / math.sqrt(2)))),
        (nn.GELU(approximation="tanh"),
         0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)))),
        (nn.Swish(beta=1.5), x / (1 + np.exp(-1.5 * x))),
    ]
    for layer, ref in cases:
        np.testing.assert_allclose(layer(xa).asnumpy(), ref, rtol=1e-4, atol=1e-5,
                                   err_msg=repr(layer))
    with pytest.raises(ValueError, match="no less than 0"):
        nn.LeakyReLU(-1)
    with pytest.raises(ValueError, match="approximation"):
        nn.GELU("fast")
    assert nn.Activation("relu").name.startswith("relu")


def test_prelu():
    x = _rand(2, 3, 4)
    p = nn.PReLU()
    p.initialize()
    np.testing.assert_allclose(p.alpha.data().asnumpy(), [0.25])
    np.testing.assert_allclose(p(nd.array(x)).asnumpy(), np.where(x > 0, x, 0.25 * x),
                               rtol=RTOL)
    p3 = nn.PReLU(alpha_initializer=mx.init.Constant(0.5), in_channels=3)
    p3.initialize()
    p3.alpha.set_data(nd.array([0.1, 0.2, 0.3]))
    a = np.array([0.1, 0.2, 0.3], np.float32).reshape(1, 3, 1)
    xa = nd.array(x)
    with autograd.record():
        y = p3(xa)
    y.backward()
    np.testing.assert_allclose(y.asnumpy(), np.where(x > 0, x, a * x), rtol=RTOL)
    np.testing.assert_allclose(p3.alpha.grad().asnumpy(),
                               np.where(x > 0, 0, x).sum(axis=(0, 2)), rtol=1e-4, atol=1e-5)


def test_reflection_pad():
    x = _rand(1, 2, 4, 5)
    y = nn.ReflectionPad2D(2)(nd.array(x)).asnumpy()
    np.testing.assert_array_equal(y, np.pad(x, [(0, 0), (0, 0), (2, 2), (2, 2)],
                                            mode="reflect"))
    y = nn.ReflectionPad2D((0, 0, 0, 0, 1, 0, 2, 1))(nd.array(x)).asnumpy()
    np.testing.assert_array_equal(y, np.pad(x, [(0, 0), (0, 0), (1, 0), (2, 1)],
                                            mode="reflect"))
    with pytest.raises(ValueError, match="8"):
        nn.ReflectionPad2D((1, 2))


def test_lambda_layers():
    x = _rand(2, 3)
    lam = nn.Lambda(lambda a: a * 2)
    np.testing.assert_allclose(lam(nd.array(x)).asnumpy(), x * 2)
    lam2 = nn.Lambda("tanh")
    np.testing.assert_allclose(lam2(nd.array(x)).asnumpy(), np.tanh(x), rtol=1e-5)
    hl = nn.HybridLambda(lambda F, a: F.relu(a))
    np.testing.assert_allclose(hl(nd.array(x)).asnumpy(), np.maximum(x, 0))
    hl2 = nn.HybridLambda("exp")
    np.testing.assert_allclose(hl2(nd.array(x)).asnumpy(), np.exp(x), rtol=1e-5)
    with pytest.raises(ValueError, match="not found"):
        nn.Lambda("no_such_function")
    with pytest.raises(ValueError, match="Unrecognized"):
        nn.HybridLambda(3)


# ----------------------------------------------------------------------------- deferred init
def test_deferred_init_shapes():
    net = nn.HybridSequential()
    with net.name_scope():
        net.add(nn.Conv2D(4, 3), nn.BatchNorm(), nn.Conv2DTranspose(2, 2, strides=2),
                nn.InstanceNorm(), nn.LayerNorm(), nn.GroupNorm(2), nn.Dense(5))
    net.initialize()
    params = net.collect_params()
    w = params[net.prefix + "conv0_weight"]
    assert w.shape == (4, 0, 3, 3)
    with pytest.raises(gluon.DeferredInitializationError, match="deferred"):
        w.data()
    y = net(nd.array(_rand(2, 3, 6, 6)))
    assert y.shape == (2, 5)
    assert w.shape == (4, 3, 3, 3)
    assert params[net.prefix + "batchnorm0_gamma"].shape == (4,)
    assert params[net.prefix + "conv1_weight"].shape == (4, 2, 2, 2)
    assert params[net.prefix + "instancenorm0_gamma"].shape == (2,)
    assert params[net.prefix + "layernorm0_gamma"].shape == (8,)
    assert params[net.prefix + "dense0_weight"].shape == (5, 2 * 8 * 8)
    # initializers ran: bias zeros, gamma ones, weights non-zero
    np.testing.assert_array_equal(params[net.prefix + "conv0_bias"].data().asnumpy(), 0)
    np.testing.assert_array_equal(params[net.prefix + "batchnorm0_gamma"].data().asnumpy(), 1)
    assert np.abs(w.data().asnumpy()).sum() > 0


def test_uninitialized_error():
    layer = nn.Dense(2)
    with pytest.raises(RuntimeError, match="has not been initialized"):
        layer(nd.ones((1, 3)))
