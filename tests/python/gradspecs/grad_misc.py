"""Gradient specs of libmx/op/grad/misc_grad.cc and misc_grad2.cc: binary maximum/minimum/power/
hypot/mod in their same-shape, scalar and broadcast forms, the comparison and logical ops (zero
gradients, as MXNet), SwapAxis, depth_to_space/space_to_depth, diag, gather_nd/scatter_nd/
_scatter_set_nd, slice_like, the slice assignments, nanprod, sort/topk values and their backward ops."""
import numpy as np

from grad_specs import AWAY, POS, U


def IDX(values):
    """A fixed (integer-valued) index array; listed in SHAPE_ONLY so it is not differentiated."""
    return lambda rng: np.array(values, dtype=np.float64)


def WITH_NAN(*shape):
    def make(rng):
        x = rng.uniform(0.5, 1.5, size=shape)
        x.flat[1] = np.nan
        return x
    return make


S = (3, 4)
_ZERO_BIN = ["_equal", "_not_equal", "_greater", "_greater_equal", "_lesser", "_lesser_equal",
             "_logical_and", "_logical_or", "_logical_xor"]
_ZERO_SCALAR = ["_logical_and_scalar", "_logical_or_scalar", "_logical_xor_scalar"]
_ZERO_BCAST = ["broadcast_logical_and", "broadcast_logical_or", "broadcast_logical_xor"]

GRAD_SPECS = {
    "_maximum": [([U(*S), U(*S)], {})],
    "_minimum": [([U(*S), U(*S)], {})],
    "_power": [([POS(*S), U(*S)], {})],
    "_hypot": [([AWAY(*S), AWAY(*S)], {})],
    "_mod": [([U(*S, low=-3.0, high=3.0), POS(*S)], {}), ([U(*S), U(*S, low=-2.0, high=-0.4)], {})],
    "_maximum_scalar": [([AWAY(*S)], {"scalar": 0.0})],
    "_minimum_scalar": [([AWAY(*S)], {"scalar": 0.0})],
    "_hypot_scalar": [([U(*S)], {"scalar": 1.5})],
    "_mod_scalar": [([U(*S, low=-3.0, high=3.0)], {"scalar": 0.7})],
    "_rmod_scalar": [([POS(*S)], {"scalar": 1.7}), ([U(*S, low=-2.0, high=-0.3)], {"scalar": 2.5})],
    "broadcast_hypot": [([AWAY(3, 4), AWAY(1, 4)], {})],
    "broadcast_mod": [([U(2, 3, 4, low=-3.0, high=3.0), POS(3, 1)], {})],
    "logical_not": [([AWAY(*S)], {})],
    "SwapAxis": [([U(2, 3, 4)], {"dim1": 0, "dim2": 2}), ([U(2, 3)], {})],
    "depth_to_space": [([U(1, 8, 2, 3)], {"block_size": 2})],
    "space_to_depth": [([U(2, 2, 4, 6)], {"block_size": 2})],
    "diag": [([U(4)], {"k": 1}), ([U(4)], {"k": -2}), ([U(3, 4)], {}), ([U(3, 4)], {"k": -1}),
             ([U(2, 3, 4)], {"k": 1, "axis1": 2, "axis2": 0})],
    "_backward_diag": [([U(4, 4), None], {"k": 1})],
    "gather_nd": [([U(3, 4), IDX([[0, 2, 2], [1, 3, 3]])], {}), ([U(3, 4, 2), IDX([[2, -1], [0, 1]])], {})],
    "_backward_gather_nd": [([U(3), IDX([[0, 2, 2], [1, 3, 3]]), None], {})],
    "scatter_nd": [([U(3), IDX([[0, 2, 1], [1, 3, 0]])], {"shape": (3, 4)}),
                   ([U(2, 4), IDX([[0, 2]])], {"shape": (3, 4)})],
    "_scatter_set_nd": [([U(3, 4), U(2), IDX([[0, 2], [1, 3]])], {"shape": (3, 4)})],
    "slice_like": [([U(3, 4), None], {}), ([U(4, 5), None], {"axes": (0,)})],
    "_backward_slice_like": [([U(2, 3), None], {})],
    "_slice_assign": [([U(3, 4), U(2, 2)], {"begin": (0, 1), "end": (2, 3)}),
                      ([U(3, 4), U(3, 2)], {"begin": (None, 0), "end": (None, None), "step": (1, 2)})],
    "_slice_assign_scalar": [([U(3, 4)], {"begin": (1,), "end": (3,), "scalar": 2.0})],
    "nanprod": [([POS(2, 3)], {}), ([POS(2, 3, 2)], {"axis": (1,)}), ([WITH_NAN(3, 4)], {"axis": (0,), "keepdims": True})],
    "sort": [([U(3, 5)], {}), ([U(3, 5)], {"axis": 0, "is_ascend": False}), ([U(2, 3)], {"axis": None})],
    "topk": [([U(3, 5)], {"k": 2, "ret_typ": "value"}), ([U(4, 3)], {"axis": 0, "k": 3, "ret_typ": "both"}),
             ([U(2, 3)], {"axis": None, "k": 4, "ret_typ": "value", "is_ascend": True}),
             ([U(3, 5)], {"k": 2})],
    "_backward_Pad": [([U(1, 1, 4, 6), None], {"mode": "reflect", "pad_width": (0, 0, 0, 0, 1, 1, 2, 1)}),
                      ([U(1, 1, 5, 6), None], {"mode": "edge", "pad_width": (0, 0, 0, 0, 1, 2, 2, 1)})],
    "_backward_LeakyReLU_rrelu": [([U(3, 4), AWAY(3, 4)], {"rng_seed": "7", "rng_stream": "3"}),
                                  ([U(3, 4), AWAY(3, 4)], {"active": False})],
}
for _op in _ZERO_BIN:
    GRAD_SPECS[_op] = [([U(*S), U(*S)], {})]
for _op in _ZERO_SCALAR:
    GRAD_SPECS[_op] = [([AWAY(*S)], {"scalar": 1.0})]
for _op in _ZERO_BCAST:
    GRAD_SPECS[_op] = [([AWAY(3, 4), AWAY(4)], {})]

SHAPE_ONLY = {
    "_backward_diag": {1: (3,)},
    "gather_nd": {1: ()}, "_backward_gather_nd": {1: (), 2: (3, 4)},
    "scatter_nd": {1: ()}, "_scatter_set_nd": {2: ()},
    "slice_like": {1: (2, 3)}, "_backward_slice_like": {1: (3, 4)},
    "_backward_Pad": {1: (1, 1, 2, 3)},
}
