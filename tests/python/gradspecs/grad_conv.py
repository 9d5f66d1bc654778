"""Gradient specs of the spatial nn ops: Convolution, Deconvolution (data, weight, bias), Pooling
(max / avg / sum / lp, global, conventions, count_include_pad; 1-D/2-D/3-D) and nearest UpSampling
(single input, concat and sum of several). Small shapes: finite differences run the op twice per
input element."""
import numpy as np

from grad_specs import U


def _distinct(*shape, low=-2.0, high=2.0):
    # Max pooling: well separated values (a permutation of a spaced grid), so no window has a
    # near-tie that a finite-difference step could flip.
    def make(rng):
        n = int(np.prod(shape))
        vals = np.linspace(low, high, n)
        return rng.permutation(vals).reshape(shape)
    return make


def _away(*shape, lo=0.3, hi=2.0):
    # |x| in [lo, hi] with random signs: lp pooling (|x| and its powers) away from its kink at 0.
    return lambda rng: rng.uniform(lo, hi, size=shape) * rng.choice([-1.0, 1.0], size=shape)


GRAD_SPECS = {
    "Convolution": [
        ([U(2, 2, 5), U(3, 2, 3), U(3)], {"kernel": (3,), "num_filter": 3}),
        ([U(1, 2, 5, 4), U(3, 2, 3, 2), U(3)], {"kernel": (3, 2), "stride": (2, 1), "pad": (1, 1), "num_filter": 3}),
        ([U(1, 4, 5, 4), U(4, 2, 2, 2)], {"kernel": (2, 2), "dilate": (2, 1), "num_group": 2, "num_filter": 4,
                                           "no_bias": True}),
        ([U(1, 2, 3, 3, 3), U(2, 2, 2, 2, 2), U(2)], {"kernel": (2, 2, 2), "stride": (1, 2, 1), "pad": (0, 1, 1),
                                                      "num_filter": 2}),
    ],
    "Deconvolution": [
        ([U(2, 2, 3), U(2, 3, 3)], {"kernel": (3,), "stride": (2,), "num_filter": 3}),
        ([U(1, 4, 2, 5), U(4, 1, 3, 2), U(2)], {"kernel": (3, 2), "stride": (2, 2), "pad": (1, 0), "adj": (1, 1),
                                                "num_group": 2, "num_filter": 2, "no_bias": False}),
        ([U(1, 2, 3, 2), U(2, 2, 2, 3)], {"kernel": (2, 3), "stride": (2, 1), "dilate": (1, 2),
                                          "target_shape": (5, 5), "num_filter": 2}),
    ],
    "Pooling": [
        ([_distinct(2, 2, 4, 5)], {"kernel": (2, 2), "stride": (2, 2)}),
        ([_distinct(1, 2, 5, 4)], {"kernel": (3, 3), "stride": (2, 2), "pad": (1, 1), "pooling_convention": "full"}),
        ([U(2, 2, 5, 4)], {"kernel": (3, 3), "stride": (2, 2), "pad": (1, 1), "pool_type": "avg"}),
        ([U(1, 2, 5, 6)], {"kernel": (3, 4), "stride": (2, 3), "pad": (1, 2), "pool_type": "avg",
                           "count_include_pad": False}),
        ([U(2, 2, 7)], {"kernel": (3,), "stride": (2,), "pad": (1,), "pool_type": "sum"}),
        ([_distinct(2, 2, 7)], {"kernel": (3,), "stride": (2,), "pooling_convention": "same"}),
        ([_away(1, 2, 4, 4)], {"kernel": (2, 3), "stride": (1, 2), "pool_type": "lp", "p_value": 2}),
        ([_away(1, 2, 4, 3)], {"kernel": (3, 2), "pad": (1, 1), "pool_type": "lp", "p_value": 1}),
        ([_away(1, 2, 4, 3)], {"kernel": (2, 2), "pool_type": "lp", "p_value": 3}),
        ([_distinct(1, 2, 3, 4, 3)], {"global_pool": True, "pool_type": "max"}),
        ([U(1, 2, 4, 3, 4)], {"kernel": (2, 3, 2), "stride": (2, 2, 1), "pad": (1, 1, 0), "pool_type": "avg",
                              "pooling_convention": "full"}),
        ([U(2, 2, 3, 4)], {"global_pool": True, "pool_type": "avg"}),
    ],
    "UpSampling": [
        ([U(2, 2, 2, 3)], {"scale": 2, "sample_type": "nearest", "num_args": 1}),
        ([U(1, 2, 2, 2), U(1, 1, 4, 4), U(1, 2, 1, 2)], {"scale": 2, "sample_type": "nearest", "num_args": 3}),
        ([U(2, 2, 2, 1), U(2, 2, 1, 1)], {"scale": 3, "sample_type": "nearest", "num_args": 2,
                                          "multi_input_mode": "sum"}),
    ],
}

# The dedicated backward ops of Convolution / Deconvolution are bilinear in (ograd, data) or
# (ograd, weight); their remaining input only gives a shape (one case per op: SHAPE_ONLY is per op).
# Convolution: data (1, 2, 4, 5) -> out (1, 4, 2, 5); weight (4, 1, 3, 2).
_C2 = {"kernel": (3, 2), "stride": (2, 1), "pad": (1, 1), "dilate": (1, 2), "num_filter": 4, "num_group": 2}
# Deconvolution: data (1, 2, 2, 2) -> out (1, 2, 3, 5) (target_shape: pad (1, 1), adj (1, 1)); weight (2, 1, 2, 3).
_D2 = {"kernel": (2, 3), "stride": (2, 1), "dilate": (1, 2), "target_shape": (3, 5), "num_filter": 2,
       "num_group": 2, "no_bias": False}
GRAD_SPECS.update({
    "_backward_Convolution_data": [([U(1, 4, 2, 5), None, U(4, 1, 3, 2)], _C2)],
    "_backward_Convolution_weight": [([U(1, 4, 2, 5), U(1, 2, 4, 5), None], _C2)],
    "_backward_Deconvolution_data": [([U(1, 2, 3, 5), None, U(2, 1, 2, 3)], _D2)],
    "_backward_Deconvolution_weight": [([U(1, 2, 3, 5), U(1, 2, 2, 2), None], _D2)],
})
SHAPE_ONLY = {
    "_backward_Convolution_data": {1: (1, 2, 4, 5)},
    "_backward_Convolution_weight": {2: (4, 1, 3, 2)},
    "_backward_Deconvolution_data": {1: (1, 2, 2, 2)},
    "_backward_Deconvolution_weight": {2: (2, 1, 2, 3)},
}
