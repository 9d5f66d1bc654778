"""Evaluation metrics (MXNet 1.x ``mxnet.metric`` API).

Per-batch statistics are computed by ``mx.nd`` ops (argmax, equal, sum, abs, ...) and read back
as Python scalars; Python keeps the running sums. Labels and predictions may be NDArrays or
anything ``mx.nd.array`` accepts (numpy arrays, lists).
"""
import math

import numpy

from . import ndarray as nd
from .ndarray import NDArray

__all__ = ["EvalMetric", "CompositeEvalMetric", "Accuracy", "TopKAccuracy", "F1", "MCC",
           "Perplexity", "MAE", "MSE", "RMSE", "CrossEntropy", "NegativeLogLikelihood",
           "PearsonCorrelation", "Loss", "CustomMetric", "np", "create", "register", "alias",
           "check_label_shapes"]

_REGISTRY = {}


def register(klass):
    """Registers an EvalMetric subclass under its lower-cased class name (a decorator)."""
    if not (isinstance(klass, type) and issubclass(klass, EvalMetric)):
        raise TypeError("register expects an EvalMetric subclass, got %r" % (klass,))
    _REGISTRY[klass.__name__.lower()] = klass
    return klass


def alias(*aliases):
    """Registers extra names for a metric class (a decorator)."""
    def deco(klass):
        for name in aliases:
            _REGISTRY[name.lower()] = klass
        return klass
    return deco


def create(metric, *args, **kwargs):
    """Creates a metric from a name (``'acc'``), an EvalMetric (returned as is), a callable
    ``feval(label, pred)`` (a CustomMetric), or a list of these (a CompositeEvalMetric)."""
    if isinstance(metric, EvalMetric):
        return metric
    if isinstance(metric, list):
        composite = CompositeEvalMetric()
        for child in metric:
            composite.add(create(child, *args, **kwargs))
        return composite
    if isinstance(metric, str):
        key = metric.lower()
        if key not in _REGISTRY:
            raise ValueError("Metric must be either callable or in %s, got %r"
                             % (sorted(_REGISTRY), metric))
        return _REGISTRY[key](*args, **kwargs)
    if callable(metric):
        return CustomMetric(metric, *args, **kwargs)
    raise TypeError("metric must be a name, an EvalMetric, a callable or a list, got %s"
                    % type(metric).__name__)


def _as_nd(x):
    if isinstance(x, NDArray):
        return x
    return nd.array(numpy.asarray(x))


def _as_list(x):
    if isinstance(x, (list, tuple)):
        return list(x)
    return [x]


def _shape_of(x):
    return tuple(x.shape) if hasattr(x, "shape") else (len(x),)


def check_label_shapes(labels, preds, wrap=False, shape=False):
    """Checks that labels and preds have the same length (``shape=True``: the same shape);
    with ``wrap``, single arrays are wrapped into lists."""
    if not shape:
        label_shape, pred_shape = len(labels), len(preds)
    else:
        label_shape, pred_shape = _shape_of(labels), _shape_of(preds)
    if label_shape != pred_shape:
        raise ValueError("Shape of labels {} does not match shape of predictions {}"
                         .format(label_shape, pred_shape))
    if wrap:
        if not isinstance(labels, (list, tuple)):
            labels = [labels]
        if not isinstance(preds, (list, tuple)):
            preds = [preds]
    return labels, preds


def _wrap_pairs(labels, preds):
    labels = _as_list(labels)
    preds = _as_list(preds)
    check_label_shapes(labels, preds)
    return [_as_nd(l) for l in labels], [_as_nd(p) for p in preds]


def _scalar(arr):
    value = arr.asscalar()
    return value.item() if hasattr(value, "item") else value


class EvalMetric:
    """Base class of evaluation metrics: ``update(labels, preds)`` accumulates, ``get()`` returns
    ``(name, value)``, ``reset()`` clears. ``sum_metric / num_inst`` is the default value."""

    def __init__(self, name, output_names=None, label_names=None, **kwargs):
        self.name = str(name)
        self.output_names = output_names
        self.label_names = label_names
        self._has_global_stats = kwargs.pop("has_global_stats", False)
        self._kwargs = kwargs
        self.reset()

    def __str__(self):
        return "EvalMetric: {}".format(dict(self.get_name_value()))

    def get_config(self):
        """The configuration dict (``create(**config)`` rebuilds the metric)."""
        config = self._kwargs.copy()
        config.update({"metric": self.__class__.__name__, "name": self.name,
                       "output_names": self.output_names, "label_names": self.label_names})
        return config

    def update_dict(self, label, pred):
        """Updates from dicts of name -> array, selecting output_names/label_names if set."""
        if self.output_names is not None:
            pred = [pred[name] for name in self.output_names]
        else:
            pred = list(pred.values())
        if self.label_names is not None:
            label = [label[name] for name in self.label_names]
        else:
            label = list(label.values())
        self.update(label, pred)

    def update(self, labels, preds):
        """Accumulates the statistics of one batch."""
        raise NotImplementedError("%s must implement update" % type(self).__name__)

    def reset(self):
        """Clears the local and global statistics."""
        self.num_inst = 0
        self.sum_metric = 0.0
        self.global_num_inst = 0
        self.global_sum_metric = 0.0

    def reset_local(self):
        """Clears the local statistics only."""
        self.num_inst = 0
        self.sum_metric = 0.0

    def _add(self, value, count):
        self.sum_metric += value
        self.global_sum_metric += value
        self.num_inst += count
        self.global_num_inst += count

    def get(self):
        """``(name, value)``; the value is NaN before any update."""
        if self.num_inst == 0:
            return (self.name, float("nan"))
        return (self.name, self.sum_metric / self.num_inst)

    def get_global(self):
        """``(name, value)`` over everything since the last reset()."""
        if self._has_global_stats:
            if self.global_num_inst == 0:
                return (self.name, float("nan"))
            return (self.name, self.global_sum_metric / self.global_num_inst)
        return self.get()

    def get_name_value(self):
        """``[(name, value), ...]``."""
        name, value = self.get()
        if not isinstance(name, list):
            name = [name]
        if not isinstance(value, list):
            value = [value]
        return list(zip(name, value))

    def get_global_name_value(self):
        """get_name_value() of the global statistics."""
        name, value = self.get_global()
        if not isinstance(name, list):
            name = [name]
        if not isinstance(value, list):
            value = [value]
        return list(zip(name, value))


@register
@alias("composite")
class CompositeEvalMetric(EvalMetric):
    """Several metrics updated together; get() returns lists of names and values."""

    def __init__(self, metrics=None, name="composite", output_names=None, label_names=None):
        super().__init__(name, output_names=output_names, label_names=label_names,
                         has_global_stats=True)
        self.metrics = [create(m) for m in (metrics or [])]

    def add(self, metric):
        """Adds a child metric (anything create() accepts)."""
        self.metrics.append(create(metric))

    def get_metric(self, index):
        """The child metric at ``index``."""
        try:
            return self.metrics[index]
        except IndexError:
            raise ValueError("Metric index {} is out of range 0 and {}"
                             .format(index, len(self.metrics)))

    def update_dict(self, labels, preds):
        if self.label_names is not None:
            labels = {name: labels[name] for name in self.label_names}
        if self.output_names is not None:
            preds = {name: preds[name] for name in self.output_names}
        for metric in self.metrics:
            metric.update_dict(labels, preds)

    def update(self, labels, preds):
        for metric in self.metrics:
            metric.update(labels, preds)

    def reset(self):
        for metric in getattr(self, "metrics", []):
            metric.reset()

    def reset_local(self):
        for metric in self.metrics:
            metric.reset_local()

    def _collect(self, getter):
        names, values = [], []
        for metric in self.metrics:
            name, value = getter(metric)
            if isinstance(name, str):
                name = [name]
            if isinstance(value, (float, int, numpy.generic)):
                value = [value]
            names.extend(name)
            values.extend(value)
        return (names, values)

    def get(self):
        return self._collect(lambda m: m.get())

    def get_global(self):
        return self._collect(lambda m: m.get_global())

    def get_config(self):
        config = super().get_config()
        config.update({"metrics": [m.get_config() for m in self.metrics]})
        return config


@register
@alias("acc")
class Accuracy(EvalMetric):
    """Fraction of correct predictions. A prediction whose shape differs from its label's is
    reduced by argmax over ``axis`` first; both are then compared as int32."""

    def __init__(self, axis=1, name="accuracy", output_names=None, label_names=None):
        super().__init__(name, axis=axis, output_names=output_names, label_names=label_names,
                         has_global_stats=True)
        self.axis = axis

    def update(self, labels, preds):
        labels, preds = _wrap_pairs(labels, preds)
        for label, pred in zip(labels, preds):
            if pred.shape != label.shape:
                pred = nd.argmax(pred, axis=self.axis)
            pred = nd.cast(pred, dtype="int32").reshape((-1,))
            label = nd.cast(label, dtype="int32").reshape((-1,))
            check_label_shapes(label, pred, shape=True)
            correct = _scalar(nd.sum(nd.cast(nd.equal(pred, label), dtype="float64")))
            self._add(correct, pred.size)


@register
@alias("top_k_accuracy", "top_k_acc")
class TopKAccuracy(EvalMetric):
    """Fraction of samples whose label is among the ``top_k`` highest-scored classes
    (predictions ``(N, C)``; a 1-D prediction is compared with the label as a class index)."""

    def __init__(self, top_k=1, name="top_k_accuracy", output_names=None, label_names=None):
        super().__init__(name, top_k=top_k, output_names=output_names, label_names=label_names,
                         has_global_stats=True)
        self.top_k = top_k
        if self.top_k <= 1:
            raise ValueError("Please use Accuracy if top_k is no more than 1")
        self.name += "_%d" % self.top_k

    def update(self, labels, preds):
        labels, preds = _wrap_pairs(labels, preds)
        for label, pred in zip(labels, preds):
            if pred.ndim > 2:
                raise ValueError("Predictions should be no more than 2 dims, got shape %s"
                                 % (pred.shape,))
            label = nd.cast(label, dtype="float32").reshape((-1,))
            num_samples = pred.shape[0]
            if label.shape[0] != num_samples:
                raise ValueError("Shape of labels {} does not match shape of predictions {}"
                                 .format(label.shape, pred.shape))
            if pred.ndim == 1:
                hit = nd.equal(nd.cast(pred, dtype="int32"), nd.cast(label, dtype="int32"))
            else:
                k = min(pred.shape[1], self.top_k)
                idx = nd.topk(nd.cast(pred, dtype="float32"), axis=1, k=k, ret_typ="indices",
                              dtype="float32")
                hit = nd.broadcast_equal(idx, label.reshape((-1, 1)))
            correct = _scalar(nd.sum(nd.cast(hit, dtype="float64")))
            self._add(correct, num_samples)


class _BinaryClassificationMetrics:
    """Running confusion counts of a binary classifier (predictions (N, 2): argmax; labels 0/1)."""

    def __init__(self):
        self.reset_stats()

    def update_binary_stats(self, label, pred):
        if pred.ndim != 2:
            raise ValueError("binary classification predictions must be (N, 2) scores, got "
                             "shape %s" % (pred.shape,))
        check_label_shapes(label, pred)
        label = nd.cast(label, dtype="float64").reshape((-1,))
        if label.shape[0] > 1:
            srt = nd.sort(label)
            changes = nd.not_equal(nd.slice_axis(srt, axis=0, begin=1, end=None),
                                   nd.slice_axis(srt, axis=0, begin=0, end=-1))
            if _scalar(nd.sum(changes)) + 1 > 2:
                raise ValueError("F1/MCC currently only supports binary classification "
                                 "(labels take more than 2 values).")
        pred_label = nd.cast(nd.argmax(pred, axis=1), dtype="float64")
        pred_true = nd.equal(pred_label, nd.ones_like(pred_label))
        pred_false = 1 - pred_true
        label_true = nd.equal(label, nd.ones_like(label))
        label_false = 1 - label_true
        tp = _scalar(nd.sum(pred_true * label_true))
        fp = _scalar(nd.sum(pred_true * label_false))
        fn = _scalar(nd.sum(pred_false * label_true))
        tn = _scalar(nd.sum(pred_false * label_false))
        self.true_positives += tp
        self.false_positives += fp
        self.false_negatives += fn
        self.true_negatives += tn

    @property
    def precision(self):
        d = self.true_positives + self.false_positives
        return float(self.true_positives) / d if d > 0 else 0.

    @property
    def recall(self):
        d = self.true_positives + self.false_negatives
        return float(self.true_positives) / d if d > 0 else 0.

    @property
    def fscore(self):
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r > 0 else 0.

    def matthewscc(self):
        if not self.total_examples:
            return 0.
        tp, fp = float(self.true_positives), float(self.false_positives)
        fn, tn = float(self.false_negatives), float(self.true_negatives)
        denom = 1.
        for t in ((tp + fp), (tp + fn), (tn + fp), (tn + fn)):
            if t != 0.:
                denom *= t
        return ((tp * tn) - (fp * fn)) / math.sqrt(denom)

    @property
    def total_examples(self):
        return (self.false_negatives + self.false_positives + self.true_negatives
                + self.true_positives)

    def reset_stats(self):
        self.false_positives = 0
        self.false_negatives = 0
        self.true_positives = 0
        self.true_negatives = 0


class _BinaryMetric(EvalMetric):
    def __init__(self, name, output_names, label_names, average):
        if average not in ("macro", "micro"):
            raise ValueError("average must be 'macro' or 'micro', got %r" % (average,))
        self.average = average
        self.metrics = _BinaryClassificationMetrics()
        super().__init__(name=name, output_names=output_names, label_names=label_names)

    def _value(self):
        raise NotImplementedError

    def update(self, labels, preds):
        labels, preds = _wrap_pairs(labels, preds)
        for label, pred in zip(labels, preds):
            self.metrics.update_binary_stats(label, pred)
        if self.average == "macro":
            value = self._value()
            self._add(value, 1)
            self.metrics.reset_stats()
        else:
            self.sum_metric = self._value() * self.metrics.total_examples
            self.num_inst = self.metrics.total_examples
            self.global_sum_metric = self.sum_metric
            self.global_num_inst = self.num_inst

    def reset(self):
        super().reset()
        if hasattr(self, "metrics"):
            self.metrics.reset_stats()

    def reset_local(self):
        super().reset_local()
        self.metrics.reset_stats()


@register
class F1(_BinaryMetric):
    """F1 score of a binary classifier (class 1 positive). ``average='macro'``: the mean of the
    per-update F1 scores; ``'micro'``: F1 of the counts accumulated over all updates."""

    def __init__(self, name="f1", output_names=None, label_names=None, average="macro"):
        super().__init__(name, output_names, label_names, average)

    def _value(self):
        return self.metrics.fscore


@register
class MCC(_BinaryMetric):
    """Matthews correlation coefficient of a binary classifier (``average`` as in F1)."""

    def __init__(self, name="mcc", output_names=None, label_names=None, average="macro"):
        super().__init__(name, output_names, label_names, average)

    def _value(self):
        return self.metrics.matthewscc()


@register
class Perplexity(EvalMetric):
    """``exp(-sum(log p[label]) / N)`` over all updates; labels equal to ``ignore_label`` are
    left out. ``axis`` is the class axis of the predictions."""

    def __init__(self, ignore_label, axis=-1, name="perplexity", output_names=None,
                 label_names=None):
        super().__init__(name, ignore_label=ignore_label, output_names=output_names,
                         label_names=label_names, has_global_stats=True)
        self.ignore_label = ignore_label
        self.axis = axis

    def update(self, labels, preds):
        labels, preds = _wrap_pairs(labels, preds)
        loss = 0.
        num = 0
        for label, pred in zip(labels, preds):
            if label.size * pred.shape[self.axis] != pred.size:
                raise ValueError("Perplexity: shape mismatch: %s vs. %s"
                                 % (label.shape, pred.shape))
            axis = self.axis % pred.ndim
            if axis != pred.ndim - 1:
                pred = nd.moveaxis(pred, axis, -1) if hasattr(nd, "moveaxis") else \
                    nd.swapaxes(pred, dim1=axis, dim2=pred.ndim - 1)
            pred = pred.reshape((-1, pred.shape[-1]))
            label = label.as_in_context(pred.context).reshape((label.size,))
            prob = nd.pick(pred, nd.cast(label, dtype="int32"), axis=1)
            if self.ignore_label is not None:
                ignore = nd.cast(nd.equal(label, nd.full(label.shape, self.ignore_label,
                                                         ctx=label.context, dtype=label.dtype)),
                                 dtype=prob.dtype)
                num -= _scalar(nd.sum(ignore))
                prob = prob * (1 - ignore) + ignore
            loss -= _scalar(nd.sum(nd.log(nd.maximum(prob, nd.full(prob.shape, 1e-10,
                                                                    ctx=prob.context,
                                                                    dtype=prob.dtype)))))
            num += prob.size
        self._add(loss, num)

    def get(self):
        if self.num_inst == 0:
            return (self.name, float("nan"))
        return (self.name, math.exp(self.sum_metric / self.num_inst))

    def get_global(self):
        if self.global_num_inst == 0:
            return (self.name, float("nan"))
        return (self.name, math.exp(self.global_sum_metric / self.global_num_inst))


def _regression_pair(label, pred):
    if label.ndim == 1:
        label = label.reshape((label.shape[0], 1))
    if pred.ndim == 1:
        pred = pred.reshape((pred.shape[0], 1))
    return nd.broadcast_sub(nd.cast(label, dtype="float64"), nd.cast(pred, dtype="float64"))


@register
class MAE(EvalMetric):
    """Mean absolute error, averaged per update (batch) and then over updates."""

    def __init__(self, name="mae", output_names=None, label_names=None):
        super().__init__(name, output_names=output_names, label_names=label_names,
                         has_global_stats=True)

    def update(self, labels, preds):
        labels, preds = _wrap_pairs(labels, preds)
        for label, pred in zip(labels, preds):
            self._add(_scalar(nd.mean(nd.abs(_regression_pair(label, pred)))), 1)


@register
class MSE(EvalMetric):
    """Mean squared error, averaged per update (batch) and then over updates."""

    def __init__(self, name="mse", output_names=None, label_names=None):
        super().__init__(name, output_names=output_names, label_names=label_names,
                         has_global_stats=True)

    def update(self, labels, preds):
        labels, preds = _wrap_pairs(labels, preds)
        for label, pred in zip(labels, preds):
            self._add(_scalar(nd.mean(nd.square(_regression_pair(label, pred)))), 1)


@register
class RMSE(EvalMetric):
    """Root mean squared error of each update (batch), averaged over updates."""

    def __init__(self, name="rmse", output_names=None, label_names=None):
        super().__init__(name, output_names=output_names, label_names=label_names,
                         has_global_stats=True)

    def update(self, labels, preds):
        labels, preds = _wrap_pairs(labels, preds)
        for label, pred in zip(labels, preds):
            self._add(_scalar(nd.sqrt(nd.mean(nd.square(_regression_pair(label, pred))))), 1)


def _picked_log_loss(metric, labels, preds):
    labels, preds = _wrap_pairs(labels, preds)
    for label, pred in zip(labels, preds):
        label = label.reshape((-1,))
        if label.shape[0] != pred.shape[0]:
            raise ValueError("%s: %d labels for %d predictions"
                             % (type(metric).__name__, label.shape[0], pred.shape[0]))
        pred = pred.reshape((pred.shape[0], -1))
        prob = nd.cast(nd.pick(pred, nd.cast(label, dtype="int32"), axis=1), dtype="float64")
        loss = _scalar(nd.sum(-nd.log(prob + metric.eps)))
        metric._add(loss, label.shape[0])


@register
@alias("ce")
class CrossEntropy(EvalMetric):
    """Mean of ``-log(p[label] + eps)`` over samples (predictions are probabilities (N, C))."""

    def __init__(self, eps=1e-12, name="cross-entropy", output_names=None, label_names=None):
        super().__init__(name, eps=eps, output_names=output_names, label_names=label_names,
                         has_global_stats=True)
        self.eps = eps

    def update(self, labels, preds):
        _picked_log_loss(self, labels, preds)


@register
@alias("nll_loss")
class NegativeLogLikelihood(EvalMetric):
    """Mean of ``-log(p[label] + eps)`` over samples."""

    def __init__(self, eps=1e-12, name="nll-loss", output_names=None, label_names=None):
        super().__init__(name, eps=eps, output_names=output_names, label_names=label_names,
                         has_global_stats=True)
        self.eps = eps

    def update(self, labels, preds):
        _picked_log_loss(self, labels, preds)


@register
@alias("pearsonr")
class PearsonCorrelation(EvalMetric):
    """Pearson correlation of labels and predictions. ``average='macro'``: the mean of the
    per-update coefficients; ``'micro'``: the coefficient of all samples seen so far."""

    def __init__(self, name="pearsonr", output_names=None, label_names=None, average="macro"):
        if average not in ("macro", "micro"):
            raise ValueError("average must be 'macro' or 'micro', got %r" % (average,))
        self.average = average
        super().__init__(name, output_names=output_names, label_names=label_names,
                         has_global_stats=True)

    def reset(self):
        super().reset()
        self._sums = [0, 0., 0., 0., 0., 0.]  # n, sx, sy, sxx, syy, sxy

    @staticmethod
    def _corr(n, sx, sy, sxx, syy, sxy):
        cov = n * sxy - sx * sy
        vx = n * sxx - sx * sx
        vy = n * syy - sy * sy
        if vx <= 0 or vy <= 0:
            return float("nan")
        return cov / math.sqrt(vx * vy)

    def update(self, labels, preds):
        labels, preds = _wrap_pairs(labels, preds)
        for label, pred in zip(labels, preds):
            check_label_shapes(label, pred, False, True)
            x = nd.cast(pred, dtype="float64").reshape((-1,))
            y = nd.cast(label, dtype="float64").reshape((-1,))
            # centre by the batch means (libmx ops) so the sums stay well conditioned
            mx_, my_ = nd.mean(x), nd.mean(y)
            xc, yc = nd.broadcast_sub(x, mx_), nd.broadcast_sub(y, my_)
            n = x.size
            mxv, myv = _scalar(mx_), _scalar(my_)
            cxx = _scalar(nd.sum(xc * xc))
            cyy = _scalar(nd.sum(yc * yc))
            cxy = _scalar(nd.sum(xc * yc))
            if self.average == "macro":
                r = cxy / math.sqrt(cxx * cyy) if cxx > 0 and cyy > 0 else float("nan")
                self._add(r, 1)
            else:
                s = self._sums
                s[0] += n
                s[1] += n * mxv
                s[2] += n * myv
                s[3] += cxx + n * mxv * mxv
                s[4] += cyy + n * myv * myv
                s[5] += cxy + n * mxv * myv
                r = self._corr(*s)
                self.sum_metric = r * s[0]
                self.num_inst = s[0]
                self.global_sum_metric = self.sum_metric
                self.global_num_inst = self.num_inst


@register
class Loss(EvalMetric):
    """Mean of the loss values passed as predictions (labels are ignored)."""

    def __init__(self, name="loss", output_names=None, label_names=None):
        super().__init__(name, output_names=output_names, label_names=label_names,
                         has_global_stats=True)

    def update(self, _, preds):
        for pred in _as_list(preds):
            pred = _as_nd(pred)
            self._add(_scalar(nd.sum(nd.cast(pred, dtype="float64"))), pred.size)


@register
class CustomMetric(EvalMetric):
    """A metric from ``feval(label, pred)`` on numpy arrays, returning a value (counted once) or
    ``(sum_metric, num_inst)``."""

    def __init__(self, feval, name=None, allow_extra_outputs=False, output_names=None,
                 label_names=None):
        if name is None:
            name = feval.__name__
            if name.find("<") != -1:
                name = "custom(%s)" % name
        super().__init__(name, feval=feval, allow_extra_outputs=allow_extra_outputs,
                         output_names=output_names, label_names=label_names,
                         has_global_stats=True)
        self._feval = feval
        self._allow_extra_outputs = allow_extra_outputs

    def update(self, labels, preds):
        labels, preds = _as_list(labels), _as_list(preds)
        if not self._allow_extra_outputs:
            check_label_shapes(labels, preds)
        for pred, label in zip(preds, labels):
            label = label.asnumpy() if isinstance(label, NDArray) else numpy.asarray(label)
            pred = pred.asnumpy() if isinstance(pred, NDArray) else numpy.asarray(pred)
            reval = self._feval(label, pred)
            if isinstance(reval, tuple):
                sum_metric, num_inst = reval
                self._add(sum_metric, num_inst)
            else:
                self._add(reval, 1)

    def get_config(self):
        raise NotImplementedError("CustomMetric cannot be serialized")


def np(numpy_feval, name=None, allow_extra_outputs=False):
    """Creates a CustomMetric from a function ``feval(label, pred)`` on numpy arrays."""
    def feval(label, pred):
        return numpy_feval(label, pred)
    feval.__name__ = numpy_feval.__name__
    return CustomMetric(feval, name, allow_extra_outputs)
