"""Gluon losses against numpy formulas written out here (with sample weights, weight,
batch_axis), plus gradients and error cases."""
import itertools

import numpy as np
import pytest

import mx
from mx import autograd, gluon, nd
from mx.gluon import loss as gloss

RTOL, ATOL = 1e-5, 1e-6


def _rng(seed=0):
    return np.random.RandomState(seed)


def _np_softplus(x):
    return np.log1p(np.exp(-np.abs(x))) + np.maximum(x, 0)


def _np_log_softmax(x, axis=-1):
    m = x.max(axis=axis, keepdims=True)
    return x - m - np.log(np.exp(x - m).sum(axis=axis, keepdims=True))


def _mean_except(x, axis=0):
    axes = tuple(i for i in range(x.ndim) if i != axis % x.ndim)
    return x.mean(axis=axes) if axes else x


def _check(out, ref, rtol=RTOL, atol=ATOL):
    assert isinstance(out, nd.NDArray)
    np.testing.assert_allclose(out.asnumpy(), ref, rtol=rtol, atol=atol)


def test_losses_are_hybrid_blocks():
    for cls in (gloss.L1Loss, gloss.L2Loss, gloss.HuberLoss, gloss.HingeLoss):
        assert isinstance(cls(), gluon.HybridBlock)
    assert gloss.SoftmaxCELoss is gloss.SoftmaxCrossEntropyLoss
    assert gloss.SigmoidBCELoss is gloss.SigmoidBinaryCrossEntropyLoss
    assert repr(gloss.L2Loss()) == "L2Loss(batch_axis=0, w=1.0)"
    assert gluon.loss.L1Loss is gloss.L1Loss


def test_l2_l1_with_weights():
    r = _rng()
    pred = r.randn(4, 3, 2).astype(np.float32)
    label = r.randn(4, 6).astype(np.float32)           # reshaped like pred
    sw = r.rand(4, 1, 1).astype(np.float32)
    lab = label.reshape(pred.shape)
    _check(gloss.L2Loss()(nd.array(pred), nd.array(label)),
           _mean_except(0.5 * (lab - pred) ** 2))
    _check(gloss.L2Loss(weight=3.0)(nd.array(pred), nd.array(label), nd.array(sw)),
           _mean_except(1.5 * (lab - pred) ** 2 * sw))
    _check(gloss.L1Loss()(nd.array(pred), nd.array(label), nd.array(sw)),
           _mean_except(np.abs(lab - pred) * sw))
    _check(gloss.L1Loss(weight=0.5, batch_axis=1)(nd.array(pred), nd.array(label)),
           _mean_except(0.5 * np.abs(lab - pred), axis=1))


def test_softmax_ce_sparse_dense_logits():
    r = _rng(1)
    pred = r.randn(5, 7).astype(np.float32)
    label = r.randint(0, 7, size=5).astype(np.float32)
    sw = r.rand(5, 1).astype(np.float32)
    logp = _np_log_softmax(pred)
    ref = -logp[np.arange(5), label.astype(int)]
    _check(gloss.SoftmaxCrossEntropyLoss()(nd.array(pred), nd.array(label)), ref)
    _check(gloss.SoftmaxCELoss(weight=2.)(nd.array(pred), nd.array(label), nd.array(sw)),
           2 * ref * sw[:, 0])
    dense = r.rand(5, 7).astype(np.float32)
    dense /= dense.sum(1, keepdims=True)
    _check(gloss.SoftmaxCrossEntropyLoss(sparse_label=False)(nd.array(pred), nd.array(dense)),
           -(logp * dense).sum(1))
    # from_logits: pred is used as log-probabilities directly
    _check(gloss.SoftmaxCrossEntropyLoss(from_logits=True)(nd.array(logp), nd.array(label)), ref)
    # axis=1 of a (N, C, T) input
    p3 = r.randn(2, 4, 3).astype(np.float32)
    l3 = r.randint(0, 4, size=(2, 3)).astype(np.float32)
    lp3 = _np_log_softmax(p3, axis=1)
    ref3 = -np.take_along_axis(lp3, l3.astype(int)[:, None, :], axis=1)
    _check(gloss.SoftmaxCrossEntropyLoss(axis=1)(nd.array(p3), nd.array(l3)),
           _mean_except(ref3))


def test_softmax_ce_gradient():
    r = _rng(2)
    pred = r.randn(3, 4).astype(np.float32)
    label = np.array([0, 3, 1], np.float32)
    x = nd.array(pred)
    x.attach_grad()
    with autograd.record():
        loss = gloss.SoftmaxCrossEntropyLoss()(x, nd.array(label))
    loss.backward()
    sm = np.exp(_np_log_softmax(pred))
    onehot = np.eye(4, dtype=np.float32)[label.astype(int)]
    np.testing.assert_allclose(x.grad.asnumpy(), sm - onehot, rtol=1e-5, atol=1e-6)


def test_sigmoid_bce():
    r = _rng(3)
    pred = r.randn(4, 5).astype(np.float32) * 3
    label = (r.rand(4, 5) > 0.5).astype(np.float32)
    sw = r.rand(4, 1).astype(np.float32)
    posw = (r.rand(5) * 3).astype(np.float32)
    sig = 1 / (1 + np.exp(-pred))
    ref = -(label * np.log(sig) + (1 - label) * np.log(1 - sig))
    _check(gloss.SigmoidBinaryCrossEntropyLoss()(nd.array(pred), nd.array(label), nd.array(sw)),
           _mean_except(ref * sw), rtol=1e-5, atol=1e-5)
    refw = -(posw * label * np.log(sig) + (1 - label) * np.log(1 - sig))
    _check(gloss.SigmoidBCELoss()(nd.array(pred), nd.array(label), None, nd.array(posw)),
           _mean_except(refw), rtol=1e-5, atol=1e-5)
    # from_sigmoid: probabilities in, eps 1e-12 inside the logs
    eps = 1e-12
    ref_s = -(label * np.log(sig + eps) + (1 - label) * np.log(1 - sig + eps))
    _check(gloss.SigmoidBCELoss(from_sigmoid=True)(nd.array(sig), nd.array(label)),
           _mean_except(ref_s), rtol=1e-4, atol=1e-5)
    ref_sw = -(posw * label * np.log(sig + eps) + (1 - label) * np.log(1 - sig + eps))
    _check(gloss.SigmoidBCELoss(from_sigmoid=True)(nd.array(sig), nd.array(label), None,
                                                   nd.array(posw)),
           _mean_except(ref_sw), rtol=1e-4, atol=1e-5)


def test_kldiv():
    r = _rng(4)
    logits = r.randn(3, 6).astype(np.float32)
    label = r.rand(3, 6).astype(np.float32)
    label /= label.sum(1, keepdims=True)
    logp = _np_log_softmax(logits)
    ref = _mean_except(label * (np.log(label + 1e-12) - logp))
    _check(gloss.KLDivLoss()(nd.array(logp), nd.array(label)), ref, rtol=1e-5, atol=1e-6)
    _check(gloss.KLDivLoss(from_logits=False)(nd.array(logits), nd.array(label)), ref,
           rtol=1e-5, atol=1e-6)
    sw = r.rand(3, 1).astype(np.float32)
    _check(gloss.KLDivLoss(weight=2)(nd.array(logp), nd.array(label), nd.array(sw)),
           2 * _mean_except(label * (np.log(label + 1e-12) - logp) * sw), rtol=1e-5, atol=1e-6)


def test_huber_hinge_squared_hinge():
    r = _rng(5)
    pred = r.randn(6, 4).astype(np.float32) * 2
    label = r.randn(6, 4).astype(np.float32) * 2
    sw = r.rand(6, 1).astype(np.float32)
    for rho in (1, 0.5):
        d = np.abs(label - pred)
        ref = np.where(d > rho, d - 0.5 * rho, 0.5 / rho * d ** 2)
        _check(gloss.HuberLoss(rho=rho)(nd.array(pred), nd.array(label), nd.array(sw)),
               _mean_except(ref * sw))
    sign = np.sign(r.randn(6, 4)).astype(np.float32)
    _check(gloss.HingeLoss()(nd.array(pred), nd.array(sign)),
           _mean_except(np.maximum(0, 1 - pred * sign)))
    _check(gloss.HingeLoss(margin=2, weight=0.5)(nd.array(pred), nd.array(sign), nd.array(sw)),
           _mean_except(0.5 * np.maximum(0, 2 - pred * sign) * sw))
    _check(gloss.SquaredHingeLoss()(nd.array(pred), nd.array(sign)),
           _mean_except(np.maximum(0, 1 - pred * sign) ** 2))


def test_logistic():
    r = _rng(6)
    pred = r.randn(5, 3).astype(np.float32) * 3
    signed = np.sign(r.randn(5, 3)).astype(np.float32)
    ref = np.log1p(np.exp(-pred * signed))
    _check(gloss.LogisticLoss()(nd.array(pred), nd.array(signed)), _mean_except(ref),
           rtol=1e-5, atol=1e-5)
    binary = (signed + 1) / 2
    _check(gloss.LogisticLoss(label_format="binary")(nd.array(pred), nd.array(binary)),
           _mean_except(ref), rtol=1e-5, atol=1e-5)
    with pytest.raises(ValueError, match="label_format"):
        gloss.LogisticLoss(label_format="bogus")


def test_triplet():
    r = _rng(7)
    a, p, n = (r.randn(4, 5).astype(np.float32) for _ in range(3))
    sw = r.rand(4).astype(np.float32)
    ref = np.maximum(((p - a) ** 2).sum(1) - ((n - a) ** 2).sum(1) + 1, 0)
    _check(gloss.TripletLoss()(nd.array(a), nd.array(p), nd.array(n)), ref, rtol=1e-5, atol=1e-5)
    ref2 = np.maximum(((p - a) ** 2).sum(1) - ((n - a) ** 2).sum(1) + 3, 0) * sw
    _check(gloss.TripletLoss(margin=3)(nd.array(a), nd.array(p), nd.array(n), nd.array(sw)),
           ref2, rtol=1e-5, atol=1e-5)


def test_poisson_nll():
    r = _rng(8)
    pred = r.randn(4, 3).astype(np.float32)
    target = r.randint(0, 6, size=(4, 3)).astype(np.float32)
    out = gloss.PoissonNLLLoss()(nd.array(pred), nd.array(target))
    _check(out, np.mean(np.exp(pred) - target * pred), rtol=1e-5, atol=1e-5)
    rate = np.exp(pred)
    _check(gloss.PoissonNLLLoss(from_logits=False)(nd.array(rate), nd.array(target)),
           np.mean(rate - target * np.log(rate + 1e-8)), rtol=1e-5, atol=1e-5)
    base = np.exp(pred) - target * pred
    stirling = np.where(target > 1, target * np.log(np.maximum(target, 1)) - target
                        + 0.5 * np.log(2 * np.pi * np.maximum(target, 1)), 0)
    sw = r.rand(4, 1).astype(np.float32)
    _check(gloss.PoissonNLLLoss(compute_full=True)(nd.array(pred), nd.array(target),
                                                   nd.array(sw)),
           np.mean((base + stirling) * sw), rtol=1e-5, atol=1e-5)


def test_cosine_embedding():
    r = _rng(9)
    x1 = r.randn(6, 4).astype(np.float32)
    x2 = r.randn(6, 4).astype(np.float32)
    label = np.array([1, -1, 1, -1, -1, 1], np.float32)
    cos = (x1 * x2).sum(1) / np.maximum(np.linalg.norm(x1, axis=1) *
                                        np.linalg.norm(x2, axis=1), 1e-12)
    for margin in (0, 0.2):
        ref = np.where(label == 1, 1 - cos, np.maximum(0, cos - margin))[:, None]
        _check(gloss.CosineEmbeddingLoss(margin=margin)(nd.array(x1), nd.array(x2),
                                                        nd.array(label)),
               ref, rtol=1e-5, atol=1e-5)
    sw = r.rand(6, 1).astype(np.float32)
    ref = np.where(label == 1, 1 - cos, np.maximum(0, cos))[:, None] * sw
    _check(gloss.CosineEmbeddingLoss()(nd.array(x1), nd.array(x2), nd.array(label),
                                       nd.array(sw)), ref, rtol=1e-5, atol=1e-5)


def _ctc_brute(logits, label):
    """-log P(label | logits) by summing over every path (blank = last class)."""
    T, C = logits.shape
    p = np.exp(_np_log_softmax(logits.astype(np.float64)))
    total = 0.0
    for path in itertools.product(range(C), repeat=T):
        out, prev = [], None
        for k in path:
            if k != prev and k != C - 1:
                out.append(k)
            prev = k
        if out == list(label):
            total += np.prod([p[t, path[t]] for t in range(T)])
    return -np.log(total)


def test_ctc_against_brute_force():
    r = _rng(10)
    N, T, C = 3, 5, 4
    pred = r.randn(N, T, C).astype(np.float32)
    label = np.array([[0, 1], [2, -1], [1, 1]], np.float32)
    refs = [_ctc_brute(pred[0], [0, 1]), _ctc_brute(pred[1], [2]), _ctc_brute(pred[2], [1, 1])]
    _check(gloss.CTCLoss()(nd.array(pred), nd.array(label)), refs, rtol=1e-4, atol=1e-4)
    # TNC / TN layouts
    _check(gloss.CTCLoss(layout="TNC", label_layout="TN")(nd.array(pred.transpose(1, 0, 2)),
                                                          nd.array(label.T)),
           refs, rtol=1e-4, atol=1e-4)
    # explicit lengths (shorter inputs and labels) and sample weights
    plen = np.array([5, 3, 4], np.float32)
    llen = np.array([1, 1, 2], np.float32)
    sw = np.array([1.0, 0.5, 2.0], np.float32)
    refs2 = [_ctc_brute(pred[0], [0]), _ctc_brute(pred[1, :3], [2]), _ctc_brute(pred[2, :4], [1, 1])]
    out = gloss.CTCLoss()(nd.array(pred), nd.array(label), nd.array(plen), nd.array(llen),
                          nd.array(sw))
    _check(out, np.array(refs2) * sw, rtol=1e-4, atol=1e-4)
    # half precision input: computed in float32, returned as float16
    half = gloss.CTCLoss()(nd.array(pred, dtype="float16"), nd.array(label))
    assert half.dtype == np.float16
    np.testing.assert_allclose(half.asnumpy().astype(np.float64), refs, rtol=5e-3, atol=5e-3)


def test_ctc_gradient_finite_difference():
    r = _rng(11)
    pred = r.randn(2, 4, 3).astype(np.float64)
    label = np.array([[0, 1], [1, -1]], np.float32)
    x = nd.array(pred, dtype="float64")
    x.attach_grad()
    with autograd.record():
        loss = gloss.CTCLoss()(x, nd.array(label, dtype="float64"))
    loss.backward()
    eps = 1e-6
    num = np.zeros_like(pred)
    for idx in np.ndindex(*pred.shape):
        pp, pm = pred.copy(), pred.copy()
        pp[idx] += eps
        pm[idx] -= eps
        fp = sum(_ctc_brute(pp[b], l) for b, l in enumerate([[0, 1], [1]]))
        fm = sum(_ctc_brute(pm[b], l) for b, l in enumerate([[0, 1], [1]]))
        num[idx] = (fp - fm) / (2 * eps)
    np.testing.assert_allclose(x.grad.asnumpy(), num, rtol=1e-4, atol=1e-6)


def test_l2_gradient_and_hybridize():
    r = _rng(12)
    pred = r.randn(3, 4).astype(np.float32)
    label = r.randn(3, 4).astype(np.float32)
    x = nd.array(pred)
    x.attach_grad()
    l2 = gloss.L2Loss()
    l2.hybridize()
    with autograd.record():
        loss = l2(x, nd.array(label))
    loss.backward()
    # d/dpred of mean_j 0.5 (label - pred)^2 = (pred - label) / 4
    np.testing.assert_allclose(x.grad.asnumpy(), (pred - label) / 4, rtol=1e-5, atol=1e-6)


def test_errors():
    with pytest.raises(ValueError, match="layout"):
        gloss.CTCLoss(layout="NCT")
    with pytest.raises(ValueError, match="label_layout"):
        gloss.CTCLoss(label_layout="XY")
    with pytest.raises(ValueError, match=r"\(2, 3\)"):
        gloss.L2Loss()(nd.ones((2, 3)), nd.ones((4,)))
    with pytest.raises(TypeError, match="number"):
        gloss.L1Loss(weight=nd.ones((1,)))(nd.ones((2, 3)), nd.ones((2, 3)))
    with pytest.raises(mx.MXNetError):
        gloss.L2Loss()(nd.ones((2, 3)), nd.ones((2, 3)), nd.ones((5, 7))).asnumpy()
