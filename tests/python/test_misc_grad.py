"""Behaviour of the gradients in libmx/op/grad/misc_grad*.cc beyond finite differences: SoftmaxOutput's
MXNet rule (which is not the derivative of its output), head gradients ignored without out_grad,
duplicate indices, topk outputs without gradient, and the Pad/rrelu backward ops checked against
finite differences of their forward ops."""
import numpy as np
import pytest

import mx


def _softmax(x, axis):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def _grad(op, arrays, params, head=None, wrt=0):
    nds = [mx.nd.array(a, dtype="float64") for a in arrays]
    nds[wrt].attach_grad()
    with mx.autograd.record():
        y = mx.nd.invoke(op, nds, params)
        y = y[0] if isinstance(y, list) else y
    y.backward(None if head is None else mx.nd.array(head, dtype="float64"))
    return y.asnumpy(), nds[wrt].grad.asnumpy()


def _so_grad(x, lab, params, head=None):
    """SoftmaxOutput's forward and the gradient autograd gives for data (MXNet's rule), checked
    equal to a direct call of _backward_SoftmaxOutput."""
    nd = lambda a: mx.nd.array(a, dtype="float64")  # noqa: E731
    xn = nd(x)
    xn.attach_grad()
    with mx.autograd.record():
        y = mx.nd.invoke("SoftmaxOutput", [xn, nd(lab)], params)
    y.backward(None if head is None else nd(head))
    og = np.ones_like(x) if head is None else head
    direct = mx.nd.invoke("_backward_SoftmaxOutput", [nd(og), y, nd(lab)], params)
    np.testing.assert_allclose(xn.grad.asnumpy(), direct.asnumpy(), rtol=1e-12, atol=1e-15)
    return y.asnumpy(), xn.grad.asnumpy()


def test_softmax_output_default_ignores_head_gradient():
    rng = np.random.default_rng(0)
    x = rng.uniform(-2, 2, size=(4, 5))
    lab = np.array([0, 4, 2, 2], dtype=np.float64)
    y, g = _so_grad(x, lab, {}, head=rng.uniform(-3, 3, size=(4, 5)))
    p = _softmax(x, 1)
    np.testing.assert_allclose(y, p, rtol=1e-12)
    np.testing.assert_allclose(g, p - np.eye(5)[lab.astype(int)], rtol=1e-10, atol=1e-12)


def test_softmax_output_out_grad_multiplies_head_and_scales():
    rng = np.random.default_rng(1)
    x = rng.uniform(-2, 2, size=(3, 4))
    lab = np.array([1, 0, 3], dtype=np.float64)
    w = rng.uniform(-1, 1, size=(3, 4))
    _, g = _so_grad(x, lab, {"out_grad": True, "grad_scale": 2.5, "normalization": "batch"}, head=w)
    p = _softmax(x, 1)
    np.testing.assert_allclose(g, (p - np.eye(4)[lab.astype(int)]) * 2.5 / 3 * w, rtol=1e-10, atol=1e-12)


def test_softmax_output_ignore_label_valid_normalization_and_smoothing():
    rng = np.random.default_rng(2)
    x = rng.uniform(-2, 2, size=(5, 4))
    lab = np.array([1, 3, 3, 0, 2], dtype=np.float64)
    params = {"use_ignore": True, "ignore_label": 3, "normalization": "valid", "smooth_alpha": 0.2}
    _, g = _so_grad(x, lab, params)
    p = _softmax(x, 1)
    target = np.full((5, 4), 0.2 / 3)
    target[np.arange(5), lab.astype(int)] = 0.8
    want = (p - target) / 3.0  # three rows are not ignored
    want[lab == 3] = 0.0
    np.testing.assert_allclose(g, want, rtol=1e-10, atol=1e-12)


def test_softmax_output_multi_output_and_preserve_shape():
    rng = np.random.default_rng(3)
    x = rng.uniform(-2, 2, size=(2, 3, 4))
    lab = rng.integers(0, 3, size=(2, 4)).astype(np.float64)
    _, g = _so_grad(x, lab, {"multi_output": True})
    p = _softmax(x, 1)
    onehot = np.moveaxis(np.eye(3)[lab.astype(int)], -1, 1)
    np.testing.assert_allclose(g, (p - onehot) / 4.0, rtol=1e-10, atol=1e-12)  # MXNet divides by the spatial size
    _, g = _so_grad(x, lab, {"multi_output": True, "normalization": "batch"})
    np.testing.assert_allclose(g, (p - onehot) / 4.0 / 2.0, rtol=1e-10, atol=1e-12)
    lab2 = rng.integers(0, 4, size=(2, 3)).astype(np.float64)
    _, g = _so_grad(x, lab2, {"preserve_shape": True})
    np.testing.assert_allclose(g, _softmax(x, -1) - np.eye(4)[lab2.astype(int)], rtol=1e-10, atol=1e-12)


def test_softmax_output_3d_without_multi_output_or_preserve_shape_is_unsupported():
    rng = np.random.default_rng(4)
    x = rng.uniform(-2, 2, size=(3, 2, 2))
    lab = np.array([[0, 3], [1, 2], [2, 0]], dtype=np.float64)
    # The softmax runs over the 4 trailing entries of each of 3 rows, but label has 6 entries.
    with pytest.raises(mx.MXNetError, match="preserve_shape or multi_output"):
        _so_grad(x, lab, {})


def test_gather_nd_duplicates_accumulate_and_scatter_reads_every_position():
    x = np.arange(12.0).reshape(3, 4)
    idx = np.array([[0, 2, 2], [1, 3, 3]], dtype=np.float64)
    nx = mx.nd.array(x, dtype="float64")
    nx.attach_grad()
    with mx.autograd.record():
        y = mx.nd.invoke("gather_nd", [nx, mx.nd.array(idx, dtype="float64")], {})
    y.backward(mx.nd.array([1.0, 2.0, 3.0], dtype="float64"))
    want = np.zeros((3, 4))
    want[0, 1] = 1.0
    want[2, 3] = 5.0
    np.testing.assert_array_equal(nx.grad.asnumpy(), want)


@pytest.mark.parametrize("ret_typ", ["indices", "mask"])
def test_topk_indices_and_mask_have_no_gradient(ret_typ):
    x = np.array([[0.3, -1.0, 2.0, 0.7]])
    _, g = _grad("topk", [x], {"k": 2, "ret_typ": ret_typ})
    np.testing.assert_array_equal(g, np.zeros_like(x))


def test_sort_and_topk_route_gradient_to_source_positions():
    x = np.array([[0.3, -1.0, 2.0, 0.7], [5.0, 4.0, -3.0, 1.0]])
    w = np.array([[1.0, 2.0, 3.0, 4.0], [10.0, 20.0, 30.0, 40.0]])
    _, g = _grad("sort", [x], {"is_ascend": False}, head=w)
    np.testing.assert_array_equal(g, [[3.0, 4.0, 1.0, 2.0], [10.0, 20.0, 40.0, 30.0]])
    _, g = _grad("topk", [x], {"k": 2, "ret_typ": "value"}, head=w[:, :2])
    np.testing.assert_array_equal(g, [[0.0, 0.0, 1.0, 2.0], [10.0, 20.0, 0.0, 0.0]])


def _numeric_vjp(op, x, params, w, eps=1e-6):
    num = np.zeros_like(x)
    for i in range(x.size):
        p, m = x.copy(), x.copy()
        p.flat[i] += eps
        m.flat[i] -= eps
        fp = mx.nd.invoke(op, [mx.nd.array(p, dtype="float64")], params).asnumpy()
        fm = mx.nd.invoke(op, [mx.nd.array(m, dtype="float64")], params).asnumpy()
        num.flat[i] = np.sum(w * (fp - fm)) / (2 * eps)
    return num


@pytest.mark.parametrize("mode,pw", [("edge", (0, 0, 0, 0, 2, 1, 0, 3)), ("reflect", (0, 0, 0, 0, 1, 2, 3, 1)),
                                     ("constant", (0, 0, 0, 0, 1, 1, 2, 0))])
def test_backward_pad_matches_finite_differences_of_pad(mode, pw):
    rng = np.random.default_rng(5)
    x = rng.uniform(-1, 1, size=(1, 2, 3, 4))
    params = {"mode": mode, "pad_width": pw}
    y = mx.nd.invoke("Pad", [mx.nd.array(x, dtype="float64")], params).asnumpy()
    w = rng.uniform(-1, 1, size=y.shape)
    got = mx.nd.invoke("_backward_Pad", [mx.nd.array(w, dtype="float64"), mx.nd.array(x, dtype="float64")],
                       params).asnumpy()
    np.testing.assert_allclose(got, _numeric_vjp("Pad", x, params, w), rtol=1e-6, atol=1e-8)


def test_backward_rrelu_predict_mode_matches_finite_differences():
    rng = np.random.default_rng(6)
    x = rng.uniform(0.2, 2.0, size=(3, 4)) * rng.choice([-1.0, 1.0], size=(3, 4))
    params = {"act_type": "rrelu", "lower_bound": 0.2, "upper_bound": 0.6}
    w = rng.uniform(-1, 1, size=x.shape)
    got = mx.nd.invoke("_backward_LeakyReLU_rrelu",
                       [mx.nd.array(w, dtype="float64"), mx.nd.array(x, dtype="float64")],
                       {"lower_bound": 0.2, "upper_bound": 0.6, "active": False}).asnumpy()
    np.testing.assert_allclose(got, _numeric_vjp("LeakyReLU", x, params, w), rtol=1e-6, atol=1e-8)


def test_backward_rrelu_replay_is_deterministic():
    rng = np.random.default_rng(7)
    g = rng.uniform(0.5, 1.0, size=(6, 7))
    x = -rng.uniform(0.5, 1.0, size=(6, 7))
    args = [mx.nd.array(g, dtype="float64"), mx.nd.array(x, dtype="float64")]
    p = {"rng_seed": "11", "rng_stream": "4"}
    a = mx.nd.invoke("_backward_LeakyReLU_rrelu", args, p).asnumpy()
    b = mx.nd.invoke("_backward_LeakyReLU_rrelu", args, p).asnumpy()
    c = mx.nd.invoke("_backward_LeakyReLU_rrelu", args, {"rng_seed": "11", "rng_stream": "5"}).asnumpy()
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)
    s = a / g
    assert np.all((s >= 0.125) & (s <= 0.334))


def test_rrelu_training_gradient_replays_the_forward_slopes():
    """In training mode LeakyReLU(rrelu)'s gradient replays the forward's random slopes."""
    rng = np.random.default_rng(8)
    xv = rng.uniform(0.2, 2.0, size=(5, 7)) * rng.choice([-1.0, 1.0], size=(5, 7))
    x = mx.nd.array(xv, dtype="float64")
    x.attach_grad()
    with mx.autograd.record():
        y = mx.nd.invoke("LeakyReLU", [x], {"act_type": "rrelu"})
    w = rng.uniform(-1, 1, size=xv.shape)
    y.backward(mx.nd.array(w, dtype="float64"))
    slope = np.where(xv > 0, 1.0, y.asnumpy() / xv)
    assert np.unique(np.round(slope[xv < 0], 8)).size > 1
    np.testing.assert_allclose(x.grad.asnumpy(), w * slope, rtol=1e-6)


def _autograd_vs_fd(op, xs, params, wrt=0):
    """x.grad of sum(w * op(xs)) against central differences."""
    rng = np.random.default_rng(9)
    nds = [mx.nd.array(x, dtype=x.dtype) for x in xs]
    nds[wrt].attach_grad()
    with mx.autograd.record():
        y = mx.nd.invoke(op, nds, params)
    w = rng.uniform(-1, 1, size=y.shape)
    y.backward(mx.nd.array(w, dtype="float64"))
    num = np.zeros_like(xs[wrt])
    for j in range(num.size):
        p, m = [x.copy() for x in xs], [x.copy() for x in xs]
        p[wrt].flat[j] += 1e-6
        m[wrt].flat[j] -= 1e-6
        with mx.autograd.train_mode():
            fp = mx.nd.invoke(op, [mx.nd.array(x, dtype=x.dtype) for x in p], params).asnumpy()
            fm = mx.nd.invoke(op, [mx.nd.array(x, dtype=x.dtype) for x in m], params).asnumpy()
        num.flat[j] = np.sum(w * (fp - fm)) / 2e-6
    np.testing.assert_allclose(nds[wrt].grad.asnumpy(), num, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("op", ["softmax", "softmin", "log_softmax"])
@pytest.mark.parametrize("shape,length,params", [
    ((3, 4), [2, 4, 0], {"temperature": 0.7}),
    ((3, 4, 2), [[1, 3], [0, 2], [3, 3]], {"axis": 1}),
])
def test_softmax_use_length_gradient(op, shape, length, params):
    """Masked positions get zero gradient; the length input gets none."""
    rng = np.random.default_rng(10)
    xs = [rng.uniform(-2, 2, size=shape), np.array(length, dtype=np.int32)]
    _autograd_vs_fd(op, xs, dict(params, use_length=True))


@pytest.mark.parametrize("mode", ["edge", "reflect"])
@pytest.mark.parametrize("shape,pw", [((1, 2, 3, 4), (0, 0, 0, 0, 2, 1, 1, 2)),
                                      ((1, 1, 3, 3, 4), (0, 0, 0, 0, 1, 1, 2, 0, 1, 1))])
def test_pad_edge_reflect_gradient(mode, shape, pw):
    rng = np.random.default_rng(11)
    _autograd_vs_fd("Pad", [rng.uniform(-1, 1, size=shape)], {"mode": mode, "pad_width": pw})


def test_backward_slice_like_of_0d_arrays():
    g = mx.nd.array(np.array(2.5), dtype="float32").reshape(())
    d = mx.nd.array(np.array(0.0), dtype="float32").reshape(())
    out = mx.nd.invoke("_backward_slice_like", [g, d], {})
    assert out.shape == () and float(out.asnumpy()) == 2.5
