"""CTCLoss against a brute-force sum over every alignment (numpy, tiny cases), its gradient
against finite differences, and its argument checks."""
import itertools

import numpy as np
import pytest

import mx


def _collapse(path, blank):
    out, prev = [], None
    for c in path:
        if c != prev and c != blank:
            out.append(c)
        prev = c
    return out


def brute_ctc(x, labels, blank):
    """-log p(labels | x) for one sample x (T, C): sum over all C^T paths that collapse to labels."""
    T, C = x.shape
    logp = x - x.max(axis=1, keepdims=True)
    logp = logp - np.log(np.exp(logp).sum(axis=1, keepdims=True))
    total = 0.0
    for path in itertools.product(range(C), repeat=T):
        if _collapse(path, blank) == list(labels):
            total += np.exp(sum(logp[t, c] for t, c in enumerate(path)))
    return -np.log(total) if total > 0 else np.inf


def _ctc(data, label, data_lengths=None, label_lengths=None, **params):
    ins = [mx.nd.array(data, dtype=data.dtype), mx.nd.array(label, dtype=label.dtype)]
    if data_lengths is not None:
        ins.append(mx.nd.array(data_lengths, dtype=data_lengths.dtype))
        params["use_data_lengths"] = True
    if label_lengths is not None:
        ins.append(mx.nd.array(label_lengths, dtype=label_lengths.dtype))
        params["use_label_lengths"] = True
    return mx.nd.invoke("CTCLoss", ins, params)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_blank_first_padding_matches_brute_force(dtype):
    rng = np.random.default_rng(0)
    T, N, C = 5, 4, 4
    data = rng.normal(size=(T, N, C)).astype(dtype)
    label = np.array([[1, 2, 0], [3, 3, 0], [2, 1, 3], [0, 0, 0]], dtype="float32")
    got = _ctc(data, label).asnumpy()
    exp = [brute_ctc(data[:, n].astype(np.float64), [int(v) for v in label[n] if v != 0], 0) for n in range(N)]
    tol = 1e-10 if dtype == "float64" else 1e-5
    np.testing.assert_allclose(got, exp, rtol=tol)
    assert got.dtype == np.dtype(dtype)


def test_blank_last_with_lengths_matches_brute_force():
    rng = np.random.default_rng(1)
    T, N, C = 6, 3, 3
    data = rng.normal(size=(T, N, C))
    label = np.array([[0, 1, 1], [1, 0, 0], [1, -1, -1]], dtype="int32")
    dlen = np.array([6, 4, 2], dtype="int32")
    llen = np.array([3, 1, 1], dtype="float64")
    got = _ctc(data, label, dlen, llen, blank_label="last").asnumpy()
    exp = [brute_ctc(data[:dlen[n], n], list(label[n, :int(llen[n])]), C - 1) for n in range(N)]
    np.testing.assert_allclose(got, exp, rtol=1e-10)
    # The same through the padding (-1) instead of label_lengths, for the samples padded with -1.
    got2 = _ctc(data, np.array([[0, 1, 1], [1, -1, -1], [1, -1, -1]], dtype="int64"), dlen,
                blank_label="last").asnumpy()
    np.testing.assert_allclose(got2, exp, rtol=1e-10)


def test_aliases_and_infeasible_label():
    rng = np.random.default_rng(2)
    data = rng.normal(size=(2, 2, 3))
    label = np.array([[1, 1], [1, 2]], dtype="float32")  # "1 1" needs 3 steps (1, blank, 1)
    for name in ("CTCLoss", "ctc_loss", "_contrib_CTCLoss", "_contrib_ctc_loss"):
        out = mx.nd.invoke(name, [mx.nd.array(data, dtype="float64"), mx.nd.array(label)], {}).asnumpy()
        assert np.isinf(out[0]) and out[0] > 0
        np.testing.assert_allclose(out[1], brute_ctc(data[:, 1], [1, 2], 0), rtol=1e-10)
    assert mx.nd.invoke("CTCLoss", [mx.nd.array(data), mx.nd.array(label)], {}).shape == (2,)


def _fd_grad(data, label, w, eps=1e-6, **kw):
    num = np.zeros_like(data)
    it = np.nditer(data, flags=["multi_index"])
    for _ in it:
        idx = it.multi_index
        p, m = data.copy(), data.copy()
        p[idx] += eps
        m[idx] -= eps
        num[idx] = np.sum(w * (_ctc(p, label, **kw).asnumpy() - _ctc(m, label, **kw).asnumpy())) / (2 * eps)
    return num


@pytest.mark.parametrize("blank", ["first", "last"])
def test_gradient_matches_finite_differences(blank):
    rng = np.random.default_rng(3)
    T, N, C = 5, 3, 4
    data = rng.normal(size=(T, N, C))
    if blank == "first":
        label = np.array([[1, 2, 2], [3, 0, 0], [2, 1, 0]], dtype="float64")
    else:
        label = np.array([[0, 1, 1], [2, -1, -1], [1, 0, -1]], dtype="float64")
    dlen = np.array([5, 3, 4], dtype="float64")
    w = rng.uniform(-1, 1, size=N)
    x = mx.nd.array(data, dtype="float64")
    x.attach_grad()
    with mx.autograd.record():
        y = mx.nd.invoke("CTCLoss", [x, mx.nd.array(label, dtype="float64"), mx.nd.array(dlen, dtype="float64")],
                         {"use_data_lengths": True, "blank_label": blank})
    y.backward(mx.nd.array(w, dtype="float64"))
    num = _fd_grad(data, label, w, data_lengths=dlen, blank_label=blank)
    np.testing.assert_allclose(x.grad.asnumpy(), num, rtol=1e-5, atol=1e-7)
    # Steps past a sample's data length get no gradient.
    assert np.all(x.grad.asnumpy()[3:, 1] == 0) and np.all(x.grad.asnumpy()[4:, 2] == 0)


def test_bad_arguments_raise():
    data = mx.nd.array(np.zeros((3, 2, 4)))
    with pytest.raises(mx.MXNetError, match="label"):
        mx.nd.invoke("CTCLoss", [data, mx.nd.array(np.array([[1, 4], [1, 0]]))], {}).asnumpy()  # 4 >= alphabet_size
    with pytest.raises(mx.MXNetError, match="label"):
        mx.nd.invoke("CTCLoss", [data, mx.nd.array(np.ones((3, 2)))], {})  # batch mismatch
    with pytest.raises(mx.MXNetError, match="data_lengths"):
        mx.nd.invoke("CTCLoss", [data, mx.nd.array(np.ones((2, 2))), mx.nd.array([4, 1])],
                     {"use_data_lengths": True}).asnumpy()
    with pytest.raises(mx.MXNetError, match="3-d"):
        mx.nd.invoke("CTCLoss", [mx.nd.array(np.zeros((3, 4))), mx.nd.array(np.ones((3, 2)))], {})
    with pytest.raises(mx.MXNetError, match="blank"):
        mx.nd.invoke("CTCLoss", [data, mx.nd.array(np.array([[1, 3], [1, 2]]))], {"blank_label": "last"}).asnumpy()


def test_second_order_is_reported_not_silently_wrong():
    x = mx.nd.array(np.random.default_rng(4).normal(size=(3, 1, 3)), dtype="float64")
    x.attach_grad()
    with mx.autograd.record():
        y = mx.nd.invoke("CTCLoss", [x, mx.nd.array([[1, 2]], dtype="float64")], {})
        g = mx.autograd.grad(y, x, head_grads=mx.nd.ones_like(y), create_graph=True)
        s = (g * g).sum()
    with pytest.raises(mx.MXNetError, match="not differentiable"):
        s.backward()
