"""mx.metric against references written out in numpy."""
import math

import numpy as np
import pytest

import mx
from mx import metric, nd

RNG = np.random.RandomState(42)


def _probs(n, c):
    p = RNG.uniform(0.05, 1, (n, c))
    return p / p.sum(axis=1, keepdims=True)


def test_accuracy():
    m = metric.Accuracy()
    total = correct = 0
    for _ in range(3):
        p = _probs(10, 4)
        y = RNG.randint(0, 4, 10)
        m.update([nd.array(y)], [nd.array(p)])
        correct += (p.argmax(axis=1) == y).sum()
        total += 10
    assert m.get() == ("accuracy", pytest.approx(correct / total))
    assert m.num_inst == total
    # predictions already as class labels (same shape as labels)
    m2 = metric.create("acc")
    m2.update(nd.array([1, 2, 3, 4]), nd.array([1, 2, 0, 4]))
    assert m2.get()[1] == pytest.approx(0.75)
    # axis
    p = _probs(6, 3).T.copy()  # classes along axis 0
    y = RNG.randint(0, 3, 6)
    m3 = metric.Accuracy(axis=0)
    m3.update([nd.array(y)], [nd.array(p)])
    assert m3.get()[1] == pytest.approx((p.argmax(axis=0) == y).mean())
    m.reset()
    assert m.num_inst == 0 and math.isnan(m.get()[1])


def test_accuracy_shape_errors():
    with pytest.raises(ValueError, match="does not match"):
        metric.Accuracy().update([nd.array([1, 2])], [nd.array([1, 2]), nd.array([1, 2])])
    with pytest.raises(ValueError, match="does not match"):
        metric.Accuracy().update([nd.array([1, 2, 3])], [nd.array(_probs(2, 3))])


def test_topk_accuracy():
    m = metric.TopKAccuracy(top_k=3)
    assert m.name == "top_k_accuracy_3"
    p = RNG.uniform(size=(20, 6))
    y = RNG.randint(0, 6, 20)
    m.update([nd.array(y)], [nd.array(p)])
    top3 = np.argsort(-p, axis=1)[:, :3]
    expected = np.mean([y[i] in top3[i] for i in range(20)])
    assert m.get()[1] == pytest.approx(expected)
    # top_k larger than the number of classes: every sample is a hit
    m = metric.create("top_k_acc", top_k=10)
    m.update([nd.array(y)], [nd.array(p)])
    assert m.get()[1] == 1.0
    with pytest.raises(ValueError, match="Accuracy"):
        metric.TopKAccuracy(top_k=1)


def _confusion(y, p):
    pred = p.argmax(axis=1)
    tp = np.sum((pred == 1) & (y == 1))
    fp = np.sum((pred == 1) & (y == 0))
    fn = np.sum((pred == 0) & (y == 1))
    tn = np.sum((pred == 0) & (y == 0))
    return tp, fp, fn, tn


def _f1(tp, fp, fn, tn):
    prec = tp / (tp + fp) if tp + fp else 0.
    rec = tp / (tp + fn) if tp + fn else 0.
    return 2 * prec * rec / (prec + rec) if prec + rec else 0.


def _mcc(tp, fp, fn, tn):
    den = 1.
    for t in (tp + fp, tp + fn, tn + fp, tn + fn):
        if t:
            den *= t
    return (tp * tn - fp * fn) / math.sqrt(den)


@pytest.mark.parametrize("cls,fn_ref", [(metric.F1, _f1), (metric.MCC, _mcc)])
def test_f1_mcc_macro_micro(cls, fn_ref):
    batches = [(RNG.randint(0, 2, 16), _probs(16, 2)) for _ in range(3)]
    macro, micro = cls(), cls(average="micro")
    counts = np.zeros(4)
    per_batch = []
    for y, p in batches:
        macro.update([nd.array(y)], [nd.array(p)])
        micro.update([nd.array(y)], [nd.array(p)])
        c = _confusion(y, p)
        counts += c
        per_batch.append(fn_ref(*c))
    assert macro.get()[1] == pytest.approx(np.mean(per_batch))
    assert micro.get()[1] == pytest.approx(fn_ref(*counts))
    with pytest.raises(ValueError, match="binary"):
        cls().update([nd.array([0, 1, 2])], [nd.array(_probs(3, 2))])
    with pytest.raises(ValueError, match="average"):
        cls(average="weighted")


def test_regression_metrics():
    batches = [(RNG.normal(size=(7,)), RNG.normal(size=(7, 1))) for _ in range(3)]
    mae, mse, rmse = metric.MAE(), metric.MSE(), metric.RMSE()
    for y, p in batches:
        for m in (mae, mse, rmse):
            m.update([nd.array(y)], [nd.array(p)])
    d = [y.reshape(-1, 1) - p for y, p in batches]
    assert mae.get() == ("mae", pytest.approx(np.mean([np.abs(x).mean() for x in d])))
    assert mse.get() == ("mse", pytest.approx(np.mean([(x ** 2).mean() for x in d])))
    assert rmse.get() == ("rmse", pytest.approx(np.mean([np.sqrt((x ** 2).mean()) for x in d])))


def test_cross_entropy_and_nll():
    p = _probs(12, 5)
    y = RNG.randint(0, 5, 12)
    ce = metric.create("ce")
    ce.update([nd.array(y)], [nd.array(p)])
    assert ce.name == "cross-entropy"
    assert ce.get()[1] == pytest.approx(np.mean(-np.log(p[np.arange(12), y] + 1e-12)), rel=1e-5)
    ce2 = metric.CrossEntropy(eps=0.5)
    ce2.update([nd.array(y)], [nd.array(p)])
    assert ce2.get()[1] == pytest.approx(np.mean(-np.log(p[np.arange(12), y] + 0.5)), rel=1e-5)
    nll = metric.create("nll_loss")
    nll.update([nd.array(y)], [nd.array(p)])
    assert nll.get()[1] == pytest.approx(ce.get()[1], rel=1e-6)


def test_perplexity():
    p = _probs(10, 4)
    y = RNG.randint(0, 4, 10).astype(np.float64)
    m = metric.Perplexity(ignore_label=None)
    m.update([nd.array(y)], [nd.array(p)])
    picked = p[np.arange(10), y.astype(int)]
    assert m.get() == ("perplexity", pytest.approx(math.exp(-np.log(picked).mean()), rel=1e-5))
    y[[1, 4, 7]] = 2
    m = metric.Perplexity(ignore_label=2)
    m.update([nd.array(y)], [nd.array(p)])
    keep = y != 2
    picked = p[np.arange(10), y.astype(int)][keep]
    assert m.get()[1] == pytest.approx(math.exp(-np.log(picked).sum() / keep.sum()), rel=1e-5)
    # (batch, time, classes) predictions with (batch, time) labels
    p3 = _probs(12, 3).reshape(3, 4, 3)
    y3 = RNG.randint(0, 3, (3, 4))
    m = metric.Perplexity(ignore_label=None)
    m.update([nd.array(y3)], [nd.array(p3)])
    picked = np.take_along_axis(p3, y3[..., None], axis=-1)
    assert m.get()[1] == pytest.approx(math.exp(-np.log(picked).mean()), rel=1e-5)


def test_pearson_correlation():
    batches = [(RNG.normal(size=20), None) for _ in range(3)]
    batches = [(y, y * 0.5 + RNG.normal(size=20) * 0.7) for y, _ in batches]
    macro, micro = metric.create("pearsonr"), metric.PearsonCorrelation(average="micro")
    for y, p in batches:
        macro.update([nd.array(y)], [nd.array(p)])
        micro.update([nd.array(y)], [nd.array(p)])

    def corr(a, b):
        a, b = a - a.mean(), b - b.mean()
        return (a * b).sum() / math.sqrt((a * a).sum() * (b * b).sum())

    assert macro.get()[1] == pytest.approx(np.mean([corr(p, y) for y, p in batches]), rel=1e-6)
    ally = np.concatenate([y for y, _ in batches])
    allp = np.concatenate([p for _, p in batches])
    assert micro.get()[1] == pytest.approx(corr(allp, ally), rel=1e-6)
    with pytest.raises(ValueError, match="does not match"):
        macro.update([nd.array(np.zeros(3))], [nd.array(np.zeros(4))])


def test_loss_metric():
    m = metric.Loss()
    a, b = RNG.uniform(size=(4,)), RNG.uniform(size=(2, 3))
    m.update(None, [nd.array(a), nd.array(b)])
    assert m.get() == ("loss", pytest.approx((a.sum() + b.sum()) / 10))


def test_composite_and_create():
    comp = metric.create(["acc", "mse", metric.MAE(name="my_mae")])
    assert isinstance(comp, metric.CompositeEvalMetric)
    y = np.array([0., 1., 1.])
    p = np.array([0., 1., 0.])
    comp.update([nd.array(y)], [nd.array(p)])
    names, values = comp.get()
    assert names == ["accuracy", "mse", "my_mae"]
    assert values == [pytest.approx(2 / 3), pytest.approx(1 / 3), pytest.approx(1 / 3)]
    assert comp.get_name_value() == list(zip(names, values))
    assert isinstance(comp.get_metric(1), metric.MSE)
    with pytest.raises(ValueError, match="out of range"):
        comp.get_metric(5)
    comp.reset()
    assert all(math.isnan(v) for v in comp.get()[1])
    acc = metric.Accuracy()
    assert metric.create(acc) is acc
    with pytest.raises(ValueError, match="callable or in"):
        metric.create("no_such_metric")
    for name, cls in (("accuracy", metric.Accuracy), ("f1", metric.F1), ("mcc", metric.MCC),
                      ("rmse", metric.RMSE), ("crossentropy", metric.CrossEntropy),
                      ("top_k_accuracy", metric.TopKAccuracy), ("loss", metric.Loss),
                      ("perplexity", metric.Perplexity)):
        kwargs = {"top_k": 2} if cls is metric.TopKAccuracy else {}
        if cls is metric.Perplexity:
            kwargs = {"ignore_label": None}
        assert isinstance(metric.create(name, **kwargs), cls)


def test_update_dict_and_output_names():
    m = metric.Accuracy(output_names=["out"], label_names=["lab"])
    m.update_dict({"lab": nd.array([1., 0.]), "other": nd.array([5., 5.])},
                  {"out": nd.array([[0.2, 0.8], [0.9, 0.1]]), "x": nd.array([[1., 0.], [1., 0.]])})
    assert m.get()[1] == 1.0
    cfg = m.get_config()
    assert cfg["metric"] == "Accuracy" and cfg["axis"] == 1 and cfg["output_names"] == ["out"]


def test_custom_metric_and_np():
    def my_err(label, pred):
        return np.abs(label - pred).sum(), label.size

    m = metric.create(my_err)
    assert isinstance(m, metric.CustomMetric) and m.name == "my_err"
    y, p = RNG.normal(size=5), RNG.normal(size=5)
    m.update([nd.array(y)], [nd.array(p)])
    assert m.get()[1] == pytest.approx(np.abs(y - p).mean(), rel=1e-6)

    def frac_pos(label, pred):
        return float((pred > 0).mean())

    m2 = metric.np(frac_pos)
    m2.update([nd.array(y), nd.array(y)], [nd.array(p), nd.array(-p)])
    assert m2.get() == ("frac_pos", pytest.approx(((p > 0).mean() + (-p > 0).mean()) / 2))
    m3 = metric.CustomMetric(lambda l, p: 1.0)
    assert m3.name.startswith("custom(")
    with pytest.raises(ValueError, match="does not match"):
        m2.update([nd.array(y)], [nd.array(p), nd.array(p)])
    m4 = metric.np(frac_pos, allow_extra_outputs=True)
    m4.update([nd.array(y)], [nd.array(p), nd.array(p)])
    assert m4.num_inst == 1


def test_numpy_inputs_accepted():
    m = metric.MSE()
    m.update([np.array([1., 2.])], [np.array([1., 4.])])
    assert m.get()[1] == pytest.approx(2.0)
    assert "mse" in str(m)
