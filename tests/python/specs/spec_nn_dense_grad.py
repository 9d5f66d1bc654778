"""Forward specs of the dedicated backward ops of the dense nn ops."""
import numpy as np

from opspec import Case, rand

F = ["float32", "float64", "float16", "bfloat16"]


def _prelu_gamma_grad(g, x, gamma):
    g64, x64 = g.astype(np.float64), x.astype(np.float64)
    t = np.where(x64 > 0, 0.0, g64 * x64)
    if gamma.size == 1:
        r = np.array([t.sum()])
    else:
        axis = 1 if x.ndim >= 2 and x.shape[1] == gamma.shape[0] else 0
        r = t.sum(axis=tuple(i for i in range(x.ndim) if i != axis))
    return r.astype(g.dtype)


def _sce_grad(g, x, label):
    x64 = x.astype(np.float64)
    e = np.exp(x64 - x64.max(axis=1, keepdims=True))
    p = e / e.sum(axis=1, keepdims=True)
    p[np.arange(x.shape[0]), label.astype(np.int64)] -= 1.0
    return (g.astype(np.float64)[0] * p).astype(x.dtype)


def _labels(n, k):
    return lambda rng: rng.integers(0, k, size=n).astype(np.int32)


SPECS = {
    "_prelu_gamma_grad": [
        Case(inputs=lambda dt, rng: [rand((2, 3, 4), dt, rng), rand((2, 3, 4), dt, rng), rand((3,), dt, rng)],
             ref=_prelu_gamma_grad, dtypes=F, rtol=5e-2, atol=5e-2),
        Case(inputs=lambda dt, rng: [rand((3, 4), dt, rng), rand((3, 4), dt, rng), rand((1,), dt, rng)],
             ref=_prelu_gamma_grad, dtypes=["float64", "float32"], name="scalar_gamma"),
        Case(inputs=lambda dt, rng: [rand((5,), dt, rng), rand((5,), dt, rng), rand((5,), dt, rng)],
             ref=_prelu_gamma_grad, dtypes=["float64"], name="1d"),
    ],
    "_softmax_cross_entropy_grad": [
        Case(inputs=lambda dt, rng: [rand((1,), dt, rng), rand((4, 5), dt, rng), _labels(4, 5)(rng)],
             ref=_sce_grad, dtypes=F),
        Case(inputs=lambda dt, rng: [rand((1,), dt, rng), rand((3, 2), dt, rng),
                                     _labels(3, 2)(rng).astype(dt if dt != "bfloat16" else "float32")],
             ref=_sce_grad, dtypes=["float64", "float32"], name="float_label"),
    ],
}
