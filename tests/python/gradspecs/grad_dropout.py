"""Dropout draws a new mask on every forward call, so finite differences only apply with p = 0
(identity) or in predict mode; the exact mask replay is tested in test_grad.py. The backward op
itself is deterministic for a fixed stream."""
from grad_specs import U

GRAD_SPECS = {
    "Dropout": [([U(3, 4)], {"p": 0.0})],
    "_backward_Dropout": [([U(4, 5)], {"p": 0.3, "rng_seed": "7", "rng_stream": "11"}),
                          ([U(2, 3, 4)], {"p": 0.5, "axes": (1,), "rng_seed": "1", "rng_stream": "2"}),
                          ([U(3, 4)], {"p": 0.3, "active": False})],
}
