"""Gradient specs of BilinearResize2D and its adjoint (both linear in the differentiated input)."""
from grad_specs import U

GRAD_SPECS = {
    "_contrib_BilinearResize2D": [([U(1, 2, 4, 5)], {"height": 6, "width": 3}),
                                  ([U(2, 1, 5, 3)], {"height": 3, "width": 7, "align_corners": False}),
                                  ([U(1, 1, 3, 4), None], {"mode": "like"})],
    "_backward_contrib_BilinearResize2D": [([U(1, 2, 6, 3), None], {}),
                                           ([U(1, 2, 6, 3), None], {"align_corners": False})],
}

SHAPE_ONLY = {"_contrib_BilinearResize2D": {1: (1, 1, 5, 2)},
              "_backward_contrib_BilinearResize2D": {1: (1, 2, 4, 5)}}
