"""User-defined differentiable functions (mx.autograd.Function), recorded in libmx as one node
whose backward calls back into Python. References are numpy."""
import gc
import threading
import weakref

import numpy as np
import pytest

import mx
from mx import autograd


class Sigmoid(autograd.Function):
    def forward(self, x):
        y = 1 / (1 + mx.nd.exp(-x))
        self.save_for_backward(y)
        return y

    def backward(self, dy):
        y, = self.saved_tensors
        return dy * y * (1 - y)


class MulAdd(autograd.Function):
    """(x * y, x + y): two inputs, two outputs."""

    def forward(self, x, y):
        self.save_for_backward(x, y)
        return x * y, x + y

    def backward(self, dprod, dsum):
        x, y = self.saved_tensors
        return dprod * y + dsum, dprod * x + dsum


class Cube(autograd.Function):
    """x**3 with a backward made of differentiable ops (3 x^2 dy), so it has a second order."""

    def forward(self, x):
        self.save_for_backward(x)
        return x * x * x

    def backward(self, dy):
        x, = self.saved_tensors
        return 3 * x * x * dy


def _sig(x):
    return 1 / (1 + np.exp(-x))


def test_single_input_output():
    xv = np.linspace(-3, 3, 12).reshape(3, 4)
    x = mx.nd.array(xv, dtype="float64")
    x.attach_grad()
    with autograd.record():
        y = Sigmoid()(x)
        loss = (y * y).sum()
    np.testing.assert_allclose(y.asnumpy(), _sig(xv), rtol=1e-12)
    loss.backward()
    s = _sig(xv)
    np.testing.assert_allclose(x.grad.asnumpy(), 2 * s * s * (1 - s), rtol=1e-12)


def test_two_inputs_two_outputs_and_chain():
    rng = np.random.RandomState(0)
    xv, yv = rng.randn(2, 3), rng.randn(2, 3)
    x, y = mx.nd.array(xv, dtype="float64"), mx.nd.array(yv, dtype="float64")
    x.attach_grad()
    y.attach_grad()
    with autograd.record():
        p, s = MulAdd()(x, y)
        loss = (p * 2 + s * s).sum()
    loss.backward()
    # d/dx = 2y + 2(x+y), d/dy = 2x + 2(x+y)
    np.testing.assert_allclose(x.grad.asnumpy(), 2 * yv + 2 * (xv + yv), rtol=1e-12)
    np.testing.assert_allclose(y.grad.asnumpy(), 2 * xv + 2 * (xv + yv), rtol=1e-12)


def test_only_one_output_used_gets_zero_for_the_other():
    x = mx.nd.array([1.0, 2.0], dtype="float64")
    y = mx.nd.array([3.0, 4.0], dtype="float64")
    x.attach_grad()
    y.attach_grad()
    with autograd.record():
        p, _ = MulAdd()(x, y)
    p.backward()
    np.testing.assert_allclose(x.grad.asnumpy(), [3.0, 4.0])
    np.testing.assert_allclose(y.grad.asnumpy(), [1.0, 2.0])


def test_none_gradient_for_an_input():
    class FirstOnly(autograd.Function):
        def forward(self, x, y):
            return x * 2 + y

        def backward(self, dy):
            return dy * 2, None

    x, y = mx.nd.ones((3,)), mx.nd.ones((3,))
    x.attach_grad()
    y.attach_grad()
    with autograd.record():
        z = FirstOnly()(x, y)
    z.backward()
    np.testing.assert_allclose(x.grad.asnumpy(), [2, 2, 2])
    np.testing.assert_allclose(y.grad.asnumpy(), [0, 0, 0])  # write req, nothing flowed: stays zero


def test_backward_may_return_its_output_gradient():
    class Identity(autograd.Function):
        def forward(self, x):
            return x.copy()

        def backward(self, dy):
            return dy

    x = mx.nd.array([1.0, 2.0, 3.0])
    x.attach_grad()
    with autograd.record():
        z = Identity()(x) * 5
    z.backward()
    np.testing.assert_allclose(x.grad.asnumpy(), [5, 5, 5])


def test_not_recording_just_runs_forward():
    x = mx.nd.array([0.0])
    y = Sigmoid()(x)
    np.testing.assert_allclose(y.asnumpy(), [0.5])
    x.attach_grad()
    y = Sigmoid()(x)  # not recording: nothing to differentiate
    with pytest.raises(mx.MXNetError, match="not computed from variables"):
        y.backward()


def test_forward_runs_with_recording_paused():
    seen = []

    class Probe(autograd.Function):
        def forward(self, x):
            seen.append(autograd.is_recording())
            return x * 1

        def backward(self, dy):
            return dy

    x = mx.nd.ones((2,))
    x.attach_grad()
    with autograd.record():
        Probe()(x)
        assert autograd.is_recording()
    assert seen == [False]


def test_instance_is_single_use_and_inputs_checked():
    f = Sigmoid()
    x = mx.nd.ones((2,))
    f(x)
    with pytest.raises(RuntimeError, match="only be called once"):
        f(x)
    with pytest.raises(TypeError, match="NDArray"):
        Sigmoid()(np.ones(2))


def test_forward_returning_its_input_is_refused():
    class Same(autograd.Function):
        def forward(self, x):
            return x

        def backward(self, dy):
            return dy

    x = mx.nd.ones((2,))
    x.attach_grad()
    with autograd.record():
        with pytest.raises(mx.MXNetError, match="Same.*input 0 itself"):
            Same()(x)
    # x is still a usable variable
    with autograd.record():
        y = x * 3
    y.backward()
    np.testing.assert_allclose(x.grad.asnumpy(), [3, 3])


def test_python_exception_becomes_backward_error():
    class Broken(autograd.Function):
        def forward(self, x):
            return x * 2

        def backward(self, dy):
            raise ZeroDivisionError("custom failure text")

    x = mx.nd.ones((2,))
    x.attach_grad()
    with autograd.record():
        y = Broken()(x)
    with pytest.raises(mx.MXNetError, match="Broken.*custom failure text") as info:
        y.backward(retain_graph=True)
    assert isinstance(info.value.__cause__, ZeroDivisionError)
    # mx keeps working after the failure
    with autograd.record():
        z = Sigmoid()(x)
    z.backward()
    np.testing.assert_allclose(x.grad.asnumpy(), _sig(1.0) * (1 - _sig(1.0)) * np.ones(2), rtol=1e-6)


def test_wrong_gradients_are_reported():
    class WrongCount(autograd.Function):
        def forward(self, x):
            return x * 2

        def backward(self, dy):
            return dy, dy

    class WrongShape(autograd.Function):
        def forward(self, x):
            return x * 2

        def backward(self, dy):
            return mx.nd.ones((5,))

    class WrongType(autograd.Function):
        def forward(self, x):
            return x * 2

        def backward(self, dy):
            return 1.0

    x = mx.nd.ones((2,))
    x.attach_grad()
    for cls, pattern in ((WrongCount, "2 gradients for 1 inputs"), (WrongShape, r"WrongShape.*\(5,\).*\(2,\)"),
                         (WrongType, "must return NDArrays")):
        with autograd.record():
            y = cls()(x)
        with pytest.raises(mx.MXNetError, match=pattern):
            y.backward()


def test_function_object_collected_early_and_released():
    x = mx.nd.array([0.5, -0.5], dtype="float64")
    x.attach_grad()
    with autograd.record():
        f = Sigmoid()
        ref = weakref.ref(f)
        y = f(x)
        del f
        gc.collect()
        assert ref() is not None  # libmx's node keeps it
        loss = y.sum()
    gc.collect()
    loss.backward()
    s = _sig(np.array([0.5, -0.5]))
    np.testing.assert_allclose(x.grad.asnumpy(), s * (1 - s), rtol=1e-12)
    gc.collect()
    assert ref() is None  # the freed node released it

    # A graph that is dropped without backward releases it too.
    with autograd.record():
        f = Sigmoid()
        ref = weakref.ref(f)
        y = f(x)
    del f, y
    gc.collect()
    assert ref() is None


def test_retain_graph_calls_backward_each_time():
    calls = []

    class Count(autograd.Function):
        def forward(self, x):
            return x * 2

        def backward(self, dy):
            calls.append(1)
            return dy * 2

    x = mx.nd.ones((3,))
    x.attach_grad(grad_req="add")
    with autograd.record():
        y = Count()(x)
    y.backward(retain_graph=True)
    y.backward()
    assert len(calls) == 2
    np.testing.assert_allclose(x.grad.asnumpy(), [4, 4, 4])
    with pytest.raises(mx.MXNetError, match="already freed"):
        y.backward()


def test_second_order_through_function():
    xv = np.array([0.5, -1.5, 2.0])
    x = mx.nd.array(xv, dtype="float64")
    x.attach_grad()
    with autograd.record():
        y = Cube()(x)
        dx = autograd.grad(y, x, create_graph=True)  # 3x^2
        z = dx.sum()
    np.testing.assert_allclose(dx.asnumpy(), 3 * xv ** 2, rtol=1e-12)
    z.backward()
    np.testing.assert_allclose(x.grad.asnumpy(), 6 * xv, rtol=1e-12)


def test_backward_runs_on_the_calling_thread():
    threads = []

    class Where(autograd.Function):
        def forward(self, x):
            return x * 2

        def backward(self, dy):
            threads.append(threading.get_ident())
            return dy * 2

    x = mx.nd.ones((4,))
    x.attach_grad()

    def work():
        with autograd.record():
            y = Where()(x)
        y.backward()

    t = threading.Thread(target=work)
    t.start()
    t.join()
    work()
    assert threads == [t.ident, threading.get_ident()]
    np.testing.assert_allclose(x.grad.asnumpy(), [2, 2, 2, 2])


def test_inside_a_larger_graph_with_grad():
    rng = np.random.RandomState(1)
    xv = rng.randn(4)
    x = mx.nd.array(xv, dtype="float64")
    x.attach_grad()
    with autograd.record():
        h = mx.nd.tanh(x)
        y = Sigmoid()(h)
        z = (y * x).sum()
    g, = autograd.grad(z, [x])
    t = np.tanh(xv)
    s = _sig(t)
    np.testing.assert_allclose(g.asnumpy(), s + xv * s * (1 - s) * (1 - t * t), rtol=1e-12)


def test_second_order_through_a_saved_output():
    # Sigmoid's backward uses its saved output y: with create_graph the gradient y(1-y) is
    # differentiated again through the function node, giving y(1-y)(1-2y).
    xv = np.array([-1.0, 0.3, 2.0])
    x = mx.nd.array(xv, dtype="float64")
    x.attach_grad()
    with autograd.record():
        y = Sigmoid()(x)
        dx = autograd.grad(y, x, create_graph=True)
        z = dx.sum()
    s = _sig(xv)
    np.testing.assert_allclose(dx.asnumpy(), s * (1 - s), rtol=1e-12)
    z.backward()
    np.testing.assert_allclose(x.grad.asnumpy(), s * (1 - s) * (1 - 2 * s), rtol=1e-10)
