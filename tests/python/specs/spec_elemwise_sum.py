"""add_n / ElementWiseSum against numpy."""
import functools

import numpy as np

from opspec import Case, rand


def many(*shapes):
    return lambda dt, rng: [rand(s, dt, rng) for s in shapes]


def _sum(*xs, **p):
    return functools.reduce(np.add, xs)


SPECS = {
    "add_n": [
        Case(many((2, 3), (2, 3), (2, 3)), _sum, {"num_args": 3}),
        Case(many((5,)), _sum, {"num_args": 1}),
        Case(many((2, 3, 4), (2, 3, 4)), _sum, {"num_args": 2}),
        Case(many(*[(7, 3)] * 6), _sum, {"num_args": 6}),
    ],
}
