"""Gradient specs: add_n."""
from grad_specs import U

GRAD_SPECS = {
    "add_n": [([U(2, 3), U(2, 3), U(2, 3)], {"num_args": 3}), ([U(4)], {"num_args": 1})],
}
