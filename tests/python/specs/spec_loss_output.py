"""Forward specs of libmx/op/nn/loss_output.cc (BlockGrad, make_loss, MakeLoss, the regression
outputs, SVMOutput, _rnn_param_concat) and of the backward ops of libmx/op/grad/loss_output_grad.cc
(_backward_MakeLoss, _backward_{linear,mae,logistic}_reg_out, _backward_SVMOutput).

References are numpy formulas in float64, cast to the input dtype. The backward ops follow MXNet's
loss-layer rules: m = label.size / label.shape[0] label values per sample, MakeLoss's 'batch' divides
by the rows of data viewed as 2-d (all dims but the last), 'valid' by the count of data > valid_thresh
(at least 1)."""
import numpy as np

from opspec import Case, rand

FLOATS = ("float32", "float64", "float16", "bfloat16")
ALL = ("float32", "float64", "float16", "bfloat16", "uint8", "int8", "int32", "int64", "bool")


def _np(dt):
    return "float32" if dt == "bfloat16" else dt


def _d(a):
    return np.asarray(a, dtype=np.float64)


def _identity(x, *_, **__):
    return x.copy()


def _sigmoid(x, *_, **__):
    return (1.0 / (1.0 + np.exp(-_d(x)))).astype(x.dtype)


def _one(shape, low=-2.0, high=2.0):
    return lambda dt, rng: [rand(shape, _np(dt), rng, low, high)]


def _with_label(dshape, lshape):
    def make(dt, rng):
        return [rand(dshape, _np(dt), rng), rand(lshape, _np(dt), rng)]
    return make


def _with_classes(dshape, ncls):
    def make(dt, rng):
        lshape = dshape[:-1]
        return [rand(dshape, _np(dt), rng), rng.integers(0, ncls, size=lshape).astype(_np(dt))]
    return make


# ------------------------------------------------------------------ identities
def _identity_cases():
    return [Case(inputs=_one((3, 4)), ref=_identity, dtypes=ALL, name="2d"),
            Case(inputs=_one((2, 3, 2)), ref=_identity, dtypes=("float32", "int32"), name="3d"),
            Case(inputs=_one(()), ref=_identity, dtypes=("float64",), name="scalar"),
            Case(inputs=_one((0, 3)), ref=_identity, dtypes=("float32",), name="empty")]


def _regression_cases(ref):
    return [
        Case(inputs=_with_label((4, 3), (4, 3)), ref=ref, dtypes=FLOATS, name="same_shape"),
        Case(inputs=_with_label((5, 1), (5,)), ref=ref, params={"grad_scale": 2.0}, dtypes=("float32", "float64"),
             name="column_label"),
        Case(inputs=_with_label((2, 3, 4), (2, 12)), ref=ref, dtypes=("float64",), name="reshaped_label"),
        Case(inputs=_with_label((6,), (6,)), ref=ref, dtypes=("float32",), name="1d"),
    ]


# ------------------------------------------------------------------ _rnn_param_concat
def _concat_inputs(shapes):
    def make(dt, rng):
        return [rand(s, _np(dt), rng) for s in shapes]
    return make


def _concat(*xs, num_args=None, dim=1):
    return np.concatenate(xs, axis=dim)


def _concat_cases():
    return [
        Case(inputs=_concat_inputs([(6,), (4,), (2,)]), ref=_concat, params={"num_args": 3, "dim": 0}, dtypes=ALL,
             name="flat"),
        Case(inputs=_concat_inputs([(2, 3), (2, 1)]), ref=_concat, params={"num_args": 2},
             dtypes=("float32", "int64"), name="default_dim"),
        Case(inputs=_concat_inputs([(2, 1, 3), (2, 1, 2)]), ref=_concat, params={"num_args": 2, "dim": -1},
             dtypes=("float64",), name="negative_dim"),
        Case(inputs=_concat_inputs([(3, 2)]), ref=_concat, params={"num_args": 1, "dim": 0},
             dtypes=("float16",), name="single"),
    ]


# ------------------------------------------------------------------ backward ops
def _make_loss_back(x, grad_scale=1.0, valid_thresh=0.0, normalization="null"):
    scale = grad_scale
    if normalization == "batch":
        scale /= int(np.prod(x.shape[:-1])) if x.ndim > 1 else 1
    elif normalization == "valid":
        scale /= max(1, int(np.sum(_d(x) > valid_thresh)))
    return np.full(x.shape, scale, dtype=np.float64).astype(x.dtype)


def _per_sample(label):
    return label.size / label.shape[0]


def _linear_back(label, out, grad_scale=1.0):
    g = (_d(out) - _d(label).reshape(out.shape)) * grad_scale / _per_sample(label)
    return g.astype(out.dtype)


def _mae_back(label, out, grad_scale=1.0):
    d = _d(out) - _d(label).reshape(out.shape)
    return (np.where(d > 0, 1.0, -1.0) * grad_scale / _per_sample(label)).astype(out.dtype)


def _svm_back(label, out, margin=1.0, regularization_coefficient=1.0, use_linear=False):
    y = _d(out).reshape(-1, out.shape[-1])
    k = _d(label).reshape(-1).astype(np.int64)
    onehot = np.zeros(y.shape, dtype=bool)
    rows = np.nonzero((k >= 0) & (k < y.shape[1]))[0]
    onehot[rows, k[rows]] = True
    if use_linear:
        g = np.where(onehot, -(margin > y).astype(np.float64), (margin > -y).astype(np.float64))
    else:
        g = np.where(onehot, np.where(margin > y, -2.0 * (margin - y), 0.0),
                     np.where(margin > -y, 2.0 * (margin + y), 0.0))
    return (g * regularization_coefficient).reshape(out.shape).astype(out.dtype)


def _label_out(lshape, oshape, low=0.0, high=1.0):
    def make(dt, rng):
        return [rand(lshape, _np(dt), rng, low, high), rand(oshape, _np(dt), rng, low, high)]
    return make


def _class_label_out(oshape, labels):
    def make(dt, rng):
        return [np.array(labels, dtype=_np(dt)), rand(oshape, _np(dt), rng)]
    return make


def _mae_tie(dt, rng):
    lab = np.array([[0.5, 1.0, -1.0], [2.0, 0.0, 0.25]], dtype=_np(dt))
    out = np.array([[0.5, 2.0, -1.0], [1.0, 0.0, 0.75]], dtype=_np(dt))
    return [lab, out]


SPECS = {
    "BlockGrad": _identity_cases(),
    "make_loss": _identity_cases(),
    "MakeLoss": [
        Case(inputs=_one((3, 4)), ref=_identity, dtypes=FLOATS, name="2d"),
        Case(inputs=_one((2, 3, 2)), ref=_identity, params={"grad_scale": 3.0, "normalization": "valid"},
             dtypes=("float64",), name="params"),
    ],
    "LinearRegressionOutput": _regression_cases(_identity),
    "MAERegressionOutput": _regression_cases(_identity),
    "LogisticRegressionOutput": _regression_cases(_sigmoid),
    "SVMOutput": [
        Case(inputs=_with_classes((4, 5), 5), ref=_identity, dtypes=FLOATS, name="2d"),
        Case(inputs=_with_classes((2, 3, 4), 4), ref=_identity, params={"margin": 0.5, "use_linear": True},
             dtypes=("float64",), name="3d"),
        Case(inputs=_with_classes((6,), 6), ref=_identity, dtypes=("float32",), name="1d"),
    ],
    "_rnn_param_concat": _concat_cases(),
    "_backward_MakeLoss": [
        Case(inputs=_one((3, 4)), ref=_make_loss_back, dtypes=FLOATS, name="null"),
        Case(inputs=_one((3, 4)), ref=_make_loss_back, params={"grad_scale": 3.0}, dtypes=FLOATS, name="scaled"),
        Case(inputs=_one((2, 3, 4)), ref=_make_loss_back, params={"normalization": "batch", "grad_scale": 2.0},
             dtypes=("float32", "float64"), name="batch_3d"),
        Case(inputs=_one((5,)), ref=_make_loss_back, params={"normalization": "batch"}, dtypes=("float64",),
             name="batch_1d"),
        Case(inputs=_one((4, 5)), ref=_make_loss_back, params={"normalization": "valid", "valid_thresh": 0.3},
             dtypes=FLOATS, name="valid"),
        Case(inputs=_one((4, 5), -2.0, -1.0), ref=_make_loss_back, params={"normalization": "valid"},
             dtypes=("float64",), name="valid_none"),
    ],
    "_backward_linear_reg_out": [
        Case(inputs=_label_out((4, 3), (4, 3)), ref=_linear_back, dtypes=FLOATS, name="same_shape"),
        Case(inputs=_label_out((5,), (5, 1)), ref=_linear_back, params={"grad_scale": 2.5},
             dtypes=("float64",), name="column"),
        Case(inputs=_label_out((2, 12), (2, 3, 4)), ref=_linear_back, dtypes=("float32", "float64"),
             name="reshaped"),
    ],
    "_backward_mae_reg_out": [
        Case(inputs=_label_out((4, 3), (4, 3)), ref=_mae_back, dtypes=FLOATS, name="same_shape"),
        Case(inputs=_mae_tie, ref=_mae_back, params={"grad_scale": 0.5}, dtypes=("float32", "float64"), name="ties"),
        Case(inputs=_label_out((2, 12), (2, 3, 4)), ref=_mae_back, dtypes=("float64",), name="reshaped"),
    ],
    "_backward_logistic_reg_out": [
        Case(inputs=_label_out((4, 3), (4, 3)), ref=_linear_back, dtypes=FLOATS, name="same_shape"),
        Case(inputs=_label_out((6,), (6, 1)), ref=_linear_back, params={"grad_scale": 3.0}, dtypes=("float64",),
             name="column"),
    ],
    "_backward_SVMOutput": [
        Case(inputs=_class_label_out((4, 5), [0, 4, 2, 2]), ref=_svm_back, dtypes=FLOATS, name="l2"),
        Case(inputs=_class_label_out((4, 5), [1, 3, 0, 4]), ref=_svm_back,
             params={"use_linear": True, "margin": 0.5, "regularization_coefficient": 3.0}, dtypes=FLOATS, name="l1"),
        Case(inputs=_class_label_out((3, 4), [1.7, 7, -3]), ref=_svm_back,
             params={"margin": 0.8, "regularization_coefficient": 0.5}, dtypes=("float64",),
             name="truncated_and_out_of_range"),
        Case(inputs=_class_label_out((5,), 2), ref=_svm_back, dtypes=("float32",), name="1d"),
    ],
}
