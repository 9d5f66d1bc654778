"""Gradient specs of the dense nn ops (FullyConnected, Activation, LeakyReLU, the softmax family,
softmax_cross_entropy, smooth_l1) and of their dedicated backward ops."""
from grad_specs import U, AWAY


def _labels(n, k):
    # Integer classes stored as c + 0.5: the op truncates them, and a finite-difference step keeps the
    # class, so the label's (absent) gradient is checked to be zero.
    return lambda rng: rng.integers(0, k, size=n) + 0.5


def _smooth_l1_x(*shape, sigma=1.0):
    # Away from the kinks at |x| = 1 / sigma^2 (and from 0, harmlessly).
    edge = 1.0 / sigma ** 2

    def make(rng):
        mag = rng.choice([rng.uniform(0.1, 0.8) * edge, rng.uniform(1.2, 2.5) * edge], size=shape)
        return mag * rng.choice([-1.0, 1.0], size=shape)
    return make


_ACTS = ["relu", "sigmoid", "tanh", "softrelu", "softsign", "log_sigmoid", "mish"]

GRAD_SPECS = {
    "FullyConnected": [
        ([U(3, 4), U(5, 4), U(5)], {"num_hidden": 5}),
        ([U(2, 3, 2), U(4, 6)], {"num_hidden": 4, "no_bias": True}),
        ([U(2, 3, 4), U(5, 4), U(5)], {"num_hidden": 5, "flatten": False}),
        ([U(2, 1, 3), U(2, 3)], {"num_hidden": 2, "flatten": False, "no_bias": True}),
        ([U(4), U(3, 4), U(3)], {"num_hidden": 3, "flatten": False}),
    ],
    "Activation": [([AWAY(3, 4)], {"act_type": t}) for t in _ACTS],
    "LeakyReLU": [
        ([AWAY(3, 4)], {}),
        ([AWAY(3, 4)], {"act_type": "leaky", "slope": 0.1}),
        ([AWAY(3, 4)], {"act_type": "elu", "slope": 0.7}),
        ([AWAY(3, 4)], {"act_type": "selu"}),
        ([U(3, 4)], {"act_type": "gelu"}),
        ([AWAY(2, 3, 4), U(3)], {"act_type": "prelu"}),
        ([AWAY(3, 4), U(1)], {"act_type": "prelu"}),
        ([AWAY(5), U(5)], {"act_type": "prelu"}),
    ],
    "softmax": [
        ([U(3, 4)], {}),
        ([U(2, 3, 4)], {"axis": 1, "temperature": 0.7}),
        ([U(2, 3, 4)], {"axis": 0}),
    ],
    "log_softmax": [
        ([U(3, 4)], {}),
        ([U(2, 3, 4)], {"axis": 1, "temperature": 1.9}),
    ],
    "softmin": [
        ([U(3, 4)], {}),
        ([U(2, 3, 4)], {"axis": -2, "temperature": 0.6}),
    ],
    "softmax_cross_entropy": [([U(4, 5), _labels(4, 5)], {})],
    "smooth_l1": [
        ([_smooth_l1_x(3, 4)], {}),
        ([_smooth_l1_x(3, 4, sigma=2.0)], {"scalar": 2.0}),
        ([_smooth_l1_x(3, 4, sigma=0.8)], {"scalar": 0.8}),
    ],
    "_prelu_gamma_grad": [([U(2, 3, 4), AWAY(2, 3, 4), None], {})],
    "_softmax_cross_entropy_grad": [([U(1), U(3, 4), _labels(3, 4)], {})],
}

SHAPE_ONLY = {"_prelu_gamma_grad": {2: (3,)}}
