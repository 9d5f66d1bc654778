"""Gradient specs of prod/max/min/nansum/norm, batch_dot, the join/split/slice/pad/flip ops, take,
pick, where, tile, repeat, the broadcast_* ops, Cast, and their dedicated backward ops."""
import numpy as np

from grad_specs import AWAY, U


def IDX(values):
    """A fixed (integer-valued) index array; listed in SHAPE_ONLY so it is not differentiated."""
    return lambda rng: np.array(values, dtype=np.float64)


def MASK(*shape):
    return lambda rng: (rng.uniform(size=shape) > 0.5).astype(np.float64)


B = (2, 3, 4)
GRAD_SPECS = {
    "prod": [([AWAY(*B)], {}), ([AWAY(*B)], {"axis": (1,)}), ([AWAY(*B)], {"axis": (0, 2), "keepdims": True}),
             ([AWAY(*B)], {"axis": (1,), "exclude": True})],
    "max": [([U(*B)], {}), ([U(*B)], {"axis": (2,)}), ([U(*B)], {"axis": (0,), "keepdims": True}),
            ([U(*B)], {"axis": (1,), "exclude": True})],
    "min": [([U(*B)], {}), ([U(*B)], {"axis": (-1,)}), ([U(*B)], {"axis": (0, 1), "keepdims": True})],
    "nansum": [([U(*B)], {}), ([U(*B)], {"axis": (1,), "keepdims": True})],
    "norm": [([U(*B)], {}), ([U(*B)], {"axis": (1,)}), ([U(*B)], {"axis": (0, 2), "keepdims": True}),
             ([AWAY(*B)], {"ord": 1}), ([AWAY(*B)], {"ord": 1, "axis": (-1,), "keepdims": True}),
             ([U(*B)], {"axis": (1,), "out_dtype": "float64"})],
    "batch_dot": [([U(2, 3, 4), U(2, 4, 5)], {}), ([U(2, 4, 3), U(2, 4, 5)], {"transpose_a": True}),
                  ([U(2, 3, 4), U(2, 5, 4)], {"transpose_b": True}),
                  ([U(2, 4, 3), U(2, 5, 4)], {"transpose_a": True, "transpose_b": True})],
    "Concat": [([U(2, 1), U(2, 3), U(2, 2)], {"num_args": 3}), ([U(1, 3), U(2, 3)], {"num_args": 2, "dim": 0}),
               ([U(2, 2, 3), U(2, 2, 1)], {"num_args": 2, "dim": -1})],
    "stack": [([U(2, 3), U(2, 3), U(2, 3)], {"num_args": 3}), ([U(2, 3), U(2, 3)], {"num_args": 2, "axis": -1})],
    "SliceChannel": [([U(2, 6)], {"num_outputs": 3}), ([U(3, 4)], {"num_outputs": 3, "axis": 0, "squeeze_axis": True}),
                     ([U(2, 3, 4)], {"num_outputs": 2, "axis": -1})],
    "slice": [([U(4, 5, 3)], {"begin": (1, None), "end": (None, 4)}),
              ([U(4, 5, 3)], {"begin": (None, 4, 0), "end": (None, 0, None), "step": (2, -2, 2)}),
              ([U(6, 3)], {"begin": (-1,), "end": (None,), "step": (-2,)})],
    "Pad": [([U(1, 2, 3, 4)], {"mode": "constant", "pad_width": (0, 0, 0, 0, 1, 2, 2, 0), "constant_value": 0.5}),
            ([U(1, 1, 2, 2, 3)], {"mode": "constant", "pad_width": (0, 0, 0, 0, 1, 1, 0, 2, 3, 1)})],
    "reverse": [([U(*B)], {"axis": (0, 2)}), ([U(3, 4)], {"axis": (-1,)})],
    "take": [([U(5, 3), IDX([[0, 2], [2, 4]])], {}), ([U(2, 4, 3), IDX([-1, 5, 1, 1])], {"axis": 1, "mode": "wrap"}),
             ([U(3, 4), IDX([7, -2, 1])], {"axis": -1, "mode": "clip"})],
    "pick": [([U(3, 4), IDX([0, 3, 1])], {"axis": 1}), ([U(3, 4), IDX([[2, 0, 1, 2]])], {"axis": 0, "keepdims": True}),
             ([U(2, 3, 2), IDX([[4, -1], [0, 2]])], {"axis": 1, "mode": "wrap"})],
    "where": [([MASK(3, 4), U(3, 4), U(3, 4)], {}), ([MASK(3), U(3, 2), U(3, 2)], {})],
    "tile": [([U(2, 3)], {"reps": (2, 1, 2)}), ([U(2, 3)], {"reps": (3,)}), ([U(2, 1, 3)], {"reps": (2, 2)})],
    "repeat": [([U(2, 3)], {"repeats": 2, "axis": 1}), ([U(2, 3)], {"repeats": 3}),
               ([U(2, 3, 2)], {"repeats": 2, "axis": -3})],
    "broadcast_to": [([U(3, 1)], {"shape": (3, 4)}), ([U(1, 2, 1)], {"shape": (3, 0, 2)})],
    "broadcast_like": [([U(1, 4), None], {}), ([U(3, 1), None], {"lhs_axes": (1,), "rhs_axes": (0,)})],
    "broadcast_axis": [([U(3, 1, 1)], {"axis": (1, 2), "size": (2, 4)})],
    "Cast": [([U(3, 4)], {"dtype": "float64"})],
    "_backward_Cast": [([U(3, 4), None], {})],
    "_backward_Concat": [([U(2, 5), None, None], {"num_args": 2, "dim": 1})],
    "_backward_take": [([U(2, 2, 3), IDX([[0, 2], [2, 4]]), None], {})],
    "_backward_pick": [([U(3), IDX([0, 3, 1]), None], {"axis": 1})],
    "_backward_tile": [([U(2, 2, 6), None], {"reps": (2, 1, 2)})],
    "_backward_repeat": [([U(2, 6), None], {"repeats": 2, "axis": 1})],
}

SHAPE_ONLY = {
    "take": {1: ()}, "pick": {1: ()}, "where": {0: ()},
    "broadcast_like": {1: (3, 4)},
    "_backward_Cast": {1: (3, 4)}, "_backward_Concat": {1: (2, 2), 2: (2, 3)},
    "_backward_take": {1: (), 2: (5, 3)}, "_backward_pick": {1: (), 2: (3, 4)},
    "_backward_tile": {1: (2, 3)}, "_backward_repeat": {1: (2, 3)},
}
