"""Gradient specs of the normalisation layers (with LRN) and Embedding (libmx/op/grad/norm_grad.cc).

test_grad.py records in training mode, so BatchNorm here is differentiated through its batch
statistics; predict mode and use_global_stats (moving statistics as constants) are checked in
tests/python/test_norm_grad.py. The moving statistics and Embedding's indices get no gradient."""
from grad_specs import U, POS


def _indices(*shape, high):
    # Integers stored as k + 0.5 (some below 0 and above input_dim - 1, so clipping is exercised):
    # the op truncates them and a finite-difference step keeps the index, so the indices' (absent)
    # gradient is checked to be zero.
    return lambda rng: rng.integers(-1, high + 1, size=shape) + 0.5


GRAD_SPECS = {
    "BatchNorm": [
        ([U(4, 3, 2), POS(3), U(3), None, None], {"fix_gamma": False}),
        ([U(4, 3, 2), POS(3), U(3), None, None], {}),
        ([U(2, 4, 3), POS(3), U(3), None, None], {"fix_gamma": False, "axis": -1, "eps": 1e-5}),
        ([U(5, 3), POS(3), U(3), None, None], {"fix_gamma": False, "output_mean_var": True}),
    ],
    "LayerNorm": [
        ([U(3, 5), U(5), U(5)], {}),
        ([U(2, 4, 3), U(4), U(4)], {"axis": 1, "eps": 1e-3}),
        ([U(2, 3, 4), U(3), U(3)], {"axis": 1, "output_mean_var": True}),
    ],
    "InstanceNorm": [
        ([U(2, 3, 4), U(3), U(3)], {}),
        ([U(2, 2, 2, 3), U(2), U(2)], {"eps": 1e-5}),
    ],
    "GroupNorm": [
        ([U(2, 4, 3), U(2), U(2)], {"num_groups": 2}),
        ([U(2, 3, 2, 2), U(1), U(1)], {}),
    ],
    "L2Normalization": [
        ([U(2, 3, 4)], {}),
        ([U(2, 3, 4)], {"mode": "channel"}),
        ([U(2, 3, 4)], {"mode": "spatial"}),
    ],
    "LRN": [
        ([U(2, 5, 2, 3)], {"nsize": 3, "alpha": 0.5, "knorm": 1.5}),
        ([U(1, 4, 2, 2)], {"nsize": 2, "alpha": 0.3, "beta": 0.6}),
        ([U(1, 3, 1, 2)], {"nsize": 5}),
    ],
    "Embedding": [
        ([_indices(2, 5, high=4), U(4, 3)], {"input_dim": 4, "output_dim": 3, "dtype": "float64"}),
        ([_indices(6, high=2), U(2, 5)], {"input_dim": 2, "output_dim": 5, "dtype": "float64"}),
    ],
}


# The moving statistics are not differentiated (and in training mode do not affect the output).
SHAPE_ONLY = {"BatchNorm": {3: (3,), 4: (3,)}}
