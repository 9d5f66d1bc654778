"""Gradient specs: for every op with a registered gradient, float64 inputs (away from kinks and
singularities) and parameters for a finite-difference check. test_grad.py fails for a
differentiable op without an entry here."""
import numpy as np


def U(*shape, low=-2.0, high=2.0):
    return lambda rng: rng.uniform(low, high, size=shape)


def POS(*shape):
    return U(*shape, low=0.3, high=2.0)


def AWAY(*shape):  # |x| in [0.2, 2]: away from 0 where abs/relu/sign have kinks
    return lambda rng: rng.uniform(0.2, 2.0, size=shape) * rng.choice([-1.0, 1.0], size=shape)


S = (3, 4)
GRAD_SPECS = {
    "negative": [([U(*S)], {})], "_copy": [([U(*S)], {})], "exp": [([U(*S)], {})],
    "expm1": [([U(*S)], {})], "log": [([POS(*S)], {})], "log1p": [([POS(*S)], {})],
    "sqrt": [([POS(*S)], {})], "rsqrt": [([POS(*S)], {})], "cbrt": [([POS(*S)], {})],
    "square": [([U(*S)], {})], "reciprocal": [([POS(*S)], {})], "sin": [([U(*S)], {})],
    "cos": [([U(*S)], {})], "tan": [([U(*S, low=-1.2, high=1.2)], {})],
    "arcsin": [([U(*S, low=-0.9, high=0.9)], {})], "arccos": [([U(*S, low=-0.9, high=0.9)], {})],
    "arctan": [([U(*S)], {})], "sinh": [([U(*S)], {})], "cosh": [([U(*S)], {})],
    "tanh": [([U(*S)], {})], "sigmoid": [([U(*S)], {})], "relu": [([AWAY(*S)], {})],
    "abs": [([AWAY(*S)], {})], "softsign": [([AWAY(*S)], {})], "erf": [([U(*S)], {})],
    "floor": [([AWAY(*S)], {})], "ceil": [([AWAY(*S)], {})], "round": [([AWAY(*S)], {})],
    "rint": [([AWAY(*S)], {})], "trunc": [([AWAY(*S)], {})], "sign": [([AWAY(*S)], {})],
    "clip": [([U(*S)], {"a_min": -1.0, "a_max": 1.3})],
    "elemwise_add": [([U(*S), U(*S)], {})], "elemwise_sub": [([U(*S), U(*S)], {})],
    "elemwise_mul": [([U(*S), U(*S)], {})], "elemwise_div": [([U(*S), POS(*S)], {})],
    "broadcast_add": [([U(3, 1, 4), U(2, 1)], {})], "broadcast_sub": [([U(3, 4), U(4)], {})],
    "broadcast_mul": [([U(2, 3, 4), U(3, 1)], {})], "broadcast_div": [([U(3, 4), POS(3, 1)], {})],
    "broadcast_maximum": [([U(3, 4), U(1, 4)], {})], "broadcast_minimum": [([U(3, 4), U(3, 1)], {})],
    "broadcast_power": [([POS(3, 4), U(1, 4)], {})],
    "_plus_scalar": [([U(*S)], {"scalar": 1.5})], "_minus_scalar": [([U(*S)], {"scalar": 1.5})],
    "_rminus_scalar": [([U(*S)], {"scalar": 1.5})], "_mul_scalar": [([U(*S)], {"scalar": -2.5})],
    "_div_scalar": [([U(*S)], {"scalar": 0.7})], "_rdiv_scalar": [([POS(*S)], {"scalar": 1.7})],
    "_power_scalar": [([POS(*S)], {"scalar": 2.5})], "_rpower_scalar": [([U(*S)], {"scalar": 1.7})],
    "sum": [([U(2, 3, 4)], {}), ([U(2, 3, 4)], {"axis": (1,)}), ([U(2, 3, 4)], {"axis": (0, 2), "keepdims": True}),
            ([U(2, 3, 4)], {"axis": (1,), "exclude": True})],
    "mean": [([U(2, 3, 4)], {}), ([U(2, 3, 4)], {"axis": (-1,)})],
    "dot": [([U(3, 4), U(4, 5)], {}), ([U(4, 3), U(4, 5)], {"transpose_a": True}),
            ([U(3, 4), U(5, 4)], {"transpose_b": True}),
            ([U(4, 3), U(5, 4)], {"transpose_a": True, "transpose_b": True}),
            ([U(3, 4), U(4)], {}), ([U(4), U(4, 5)], {}), ([U(4), U(4)], {}),
            ([U(4, 3), U(4)], {"transpose_a": True}), ([U(4), U(5, 4)], {"transpose_b": True}),
            ([U(2, 3, 4), U(4, 2, 3)], {}), ([U(4, 2, 3), U(3, 2, 4)], {"transpose_a": True, "transpose_b": True}),
            ([U(2, 3, 4), U(4)], {}), ([U(4), U(4, 2, 3)], {})],
    "Reshape": [([U(2, 3, 4)], {"shape": (4, -1)})], "Flatten": [([U(2, 3, 4)], {})],
    "expand_dims": [([U(3, 4)], {"axis": 1})], "squeeze": [([U(3, 1, 4)], {})],
    "reshape_like": [([U(3, 4), None], {})],
    "transpose": [([U(2, 3, 4)], {}), ([U(2, 3, 4)], {"axes": (1, 2, 0)})],
    "slice_axis": [([U(3, 5)], {"axis": 1, "begin": 1, "end": 4}), ([U(4, 2)], {"axis": 0, "begin": -3, "end": None})],
    "_slice_axis_grad": [([U(2, 2), None], {"axis": 1, "begin": 1, "end": 3})],
    "zeros_like": [([U(*S)], {})], "ones_like": [([U(*S)], {})],
    "_greater_scalar": [([AWAY(*S)], {"scalar": 0.0})], "_greater_equal_scalar": [([AWAY(*S)], {"scalar": 0.0})],
    "_lesser_scalar": [([AWAY(*S)], {"scalar": 0.0})], "_lesser_equal_scalar": [([AWAY(*S)], {"scalar": 0.0})],
    "_equal_scalar": [([AWAY(*S)], {"scalar": 0.0})], "_not_equal_scalar": [([AWAY(*S)], {"scalar": 0.0})],
    "broadcast_greater": [([U(3, 4), U(4)], {})], "broadcast_greater_equal": [([U(3, 4), U(4)], {})],
    "broadcast_lesser": [([U(3, 4), U(4)], {})], "broadcast_lesser_equal": [([U(3, 4), U(4)], {})],
    "broadcast_equal": [([U(3, 4), U(4)], {})], "broadcast_not_equal": [([U(3, 4), U(4)], {})],
    "_reduce_sum_to": [([U(2, 3, 4), None], {})],
    "_reduce_grad_spread": [([U(2, 1, 4), None], {"axis": (1,), "keepdims": True})],
}

# Inputs that are shapes only (no gradient): an array of that shape is passed, its gradient not checked.
SHAPE_ONLY = {"_reduce_sum_to": {1: (3, 1)}, "_reduce_grad_spread": {1: (2, 3, 4)}, "reshape_like": {1: (2, 6)},
              "_slice_axis_grad": {1: (2, 4)}}
