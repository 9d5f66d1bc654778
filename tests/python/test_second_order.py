"""Second-order gradients: grad(grad(f)) through create_graph, checked in float64 against central
finite differences of the first-order gradient (itself computed by autograd).

For f with variables xs, weighted by a random head gradient, the gradient of
sum_i <grad_i f(xs), v_i> w.r.t. xs is the Hessian-vector product H v, and
H v = d/dt grad f(xs + t v) at t = 0, which central differences of the first-order gradient give.
"""
import numpy as np
import pytest

import mx
from mx import autograd

EPS = 1e-6


def _arrays(values):
    xs = [mx.nd.array(v, dtype="float64") for v in values]
    for x in xs:
        x.attach_grad()
    return xs


def _first_grad(f, values):
    """Gradients of f at values, as numpy arrays (no graph kept)."""
    xs = _arrays(values)
    with autograd.record():
        y = f(*xs)
    return [g.asnumpy() for g in autograd.grad(y, xs)]


def _hvp_autograd(f, values, vs):
    """H v by differentiating the recorded first-order gradient (grad of grad)."""
    xs = _arrays(values)
    with autograd.record():
        y = f(*xs)
        gs = autograd.grad(y, xs, create_graph=True)
        dot = None
        for g, v in zip(gs, vs):
            term = (g * mx.nd.array(v, dtype="float64")).sum()
            dot = term if dot is None else dot + term
    hv = autograd.grad(dot, xs)
    return [h.asnumpy() for h in hv], [g.asnumpy() for g in gs]


def _hvp_numeric(f, values, vs):
    plus = _first_grad(f, [x + EPS * v for x, v in zip(values, vs)])
    minus = _first_grad(f, [x - EPS * v for x, v in zip(values, vs)])
    return [(p - m) / (2 * EPS) for p, m in zip(plus, minus)]


def _check(f, values, seed=0):
    rng = np.random.RandomState(seed)
    vs = [rng.uniform(-1, 1, size=np.shape(x)) for x in values]
    got, first = _hvp_autograd(f, values, vs)
    # The first-order gradient recorded for the second pass is the plain one.
    for g, want in zip(first, _first_grad(f, values)):
        np.testing.assert_allclose(g, want, rtol=1e-12, atol=1e-12)
    want = _hvp_numeric(f, values, vs)
    for i, (g, w) in enumerate(zip(got, want)):
        assert g.shape == np.shape(values[i])
        np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-7, err_msg="variable %d" % i)
    return got


def _weights(shape, seed):
    return mx.nd.array(np.random.RandomState(seed).uniform(0.5, 1.5, size=shape), dtype="float64")


@pytest.mark.parametrize("name", ["tanh", "sigmoid", "exp"])
def test_unary(name):
    rng = np.random.RandomState(1)
    x = rng.uniform(-1.5, 1.5, size=(3, 4))
    w = _weights(x.shape, 2)
    op = getattr(mx.nd, name)
    got = _check(lambda a: (op(a) * w).sum(), [x])
    # and the closed form of the diagonal Hessian
    v = np.random.RandomState(0).uniform(-1, 1, size=x.shape)
    wn = w.asnumpy()
    if name == "tanh":
        t = np.tanh(x)
        d2 = -2 * t * (1 - t * t)
    elif name == "sigmoid":
        s = 1 / (1 + np.exp(-x))
        d2 = s * (1 - s) * (1 - 2 * s)
    else:
        d2 = np.exp(x)
    np.testing.assert_allclose(got[0], wn * d2 * v, rtol=1e-10, atol=1e-12)


def test_grad_of_grad_elementwise_directly():
    # d2/dx2 sum(tanh(x)) taken literally as grad(grad(.)), no head weighting.
    xv = np.array([-1.0, -0.2, 0.4, 1.3])
    x = _arrays([xv])[0]
    with autograd.record():
        y = mx.nd.tanh(x).sum()
        g = autograd.grad(y, x, create_graph=True)
    np.testing.assert_allclose(g.asnumpy(), 1 - np.tanh(xv) ** 2, rtol=1e-12)
    g.backward()
    t = np.tanh(xv)
    np.testing.assert_allclose(x.grad.asnumpy(), -2 * t * (1 - t * t), rtol=1e-12)
    numeric = (_first_grad(lambda a: mx.nd.tanh(a).sum(), [xv + EPS])[0]
               - _first_grad(lambda a: mx.nd.tanh(a).sum(), [xv - EPS])[0]) / (2 * EPS)
    np.testing.assert_allclose(x.grad.asnumpy(), numeric, rtol=1e-5)


def test_mul_of_two_variables():
    rng = np.random.RandomState(3)
    x, y = rng.uniform(-1, 1, size=(2, 3)), rng.uniform(-1, 1, size=(2, 3))
    w = _weights((2, 3), 4)
    got = _check(lambda a, b: (a * b * w).sum(), [x, y])
    # closed form: H (vx, vy) = (w vy, w vx), with v drawn as _check draws it
    rs = np.random.RandomState(0)
    vx = rs.uniform(-1, 1, size=(2, 3))
    vy = rs.uniform(-1, 1, size=(2, 3))
    np.testing.assert_allclose(got[0], w.asnumpy() * vy, rtol=1e-12)
    np.testing.assert_allclose(got[1], w.asnumpy() * vx, rtol=1e-12)


def test_mul_cross_derivative_with_backward():
    # d/dy (d/dx sum(x*y)) = ones: grad of the recorded first gradient into y's buffer.
    x, y = _arrays([np.array([1.0, 2.0, 3.0]), np.array([-1.0, 0.5, 4.0])])
    with autograd.record():
        gx = autograd.grad((x * y).sum(), x, create_graph=True)  # = y
        z = (gx * gx).sum()  # = sum(y^2)
    np.testing.assert_allclose(gx.asnumpy(), [-1.0, 0.5, 4.0])
    z.backward()
    np.testing.assert_allclose(y.grad.asnumpy(), [-2.0, 1.0, 8.0])
    np.testing.assert_allclose(x.grad.asnumpy(), [0.0, 0.0, 0.0])


def test_small_mlp():
    rng = np.random.RandomState(5)
    n, d, h, o = 4, 3, 5, 2
    x = rng.uniform(-1, 1, size=(n, d))
    w1 = rng.uniform(-0.8, 0.8, size=(h, d))
    b1 = rng.uniform(-0.3, 0.3, size=(h,))
    w2 = rng.uniform(-0.8, 0.8, size=(o, h))
    b2 = rng.uniform(-0.3, 0.3, size=(o,))
    head = _weights((n, o), 6)

    def mlp(xa, w1a, b1a, w2a, b2a):
        hid = mx.nd.tanh(mx.nd.FullyConnected(xa, w1a, b1a, num_hidden=h))
        out = mx.nd.tanh(mx.nd.FullyConnected(hid, w2a, b2a, num_hidden=o))
        return (out * head).sum()

    # forward matches numpy
    xs = _arrays([x, w1, b1, w2, b2])
    ref = (np.tanh(np.tanh(x @ w1.T + b1) @ w2.T + b2) * head.asnumpy()).sum()
    np.testing.assert_allclose(mlp(*xs).asscalar(), ref, rtol=1e-12)
    _check(mlp, [x, w1, b1, w2, b2], seed=7)


def test_single_layer_fc_tanh_sum():
    rng = np.random.RandomState(8)
    x = rng.uniform(-1, 1, size=(3, 4))
    w = rng.uniform(-1, 1, size=(2, 4))
    b = rng.uniform(-0.5, 0.5, size=(2,))
    _check(lambda xa, wa, ba: mx.nd.tanh(mx.nd.FullyConnected(xa, wa, ba, num_hidden=2)).sum(), [x, w, b], seed=9)
    # without bias
    _check(lambda xa, wa: mx.nd.tanh(mx.nd.FullyConnected(xa, wa, no_bias=True, num_hidden=2)).sum(), [x, w],
           seed=10)
