"""Gradient specs of the sequence ops. The lengths input (index 1, or 2 for the scatter) has no
gradient: it is listed in SHAPE_ONLY (so it is not differentiated) and still given a maker, whose
integer-valued lengths are what the test passes."""
import numpy as np

from grad_specs import U


def L(*vals):
    return lambda rng: np.asarray(vals, dtype=np.float64)


def M(rows):
    return lambda rng: np.asarray(rows, dtype=np.float64)


GRAD_SPECS = {
    "SequenceMask": [([U(4, 3, 2)], {}),
                     ([U(4, 3, 2), L(1, 4, 2)], {"use_sequence_length": True}),
                     ([U(3, 5), L(5, 0, 2)], {"use_sequence_length": True, "axis": 1, "value": 2.0})],
    "SequenceLast": [([U(4, 3, 2)], {}),
                     ([U(4, 3, 2), L(1, 4, 2)], {"use_sequence_length": True}),
                     ([U(3, 5, 2), L(5, 1, 3)], {"use_sequence_length": True, "axis": 1})],
    "_backward_SequenceLast": [([U(3, 2), None, L(2, 4, 1)], {"use_sequence_length": True}),
                               ([U(4, 2), None], {"axis": 1})],
    "SequenceReverse": [([U(4, 3, 2)], {}),
                        ([U(5, 3, 2), L(1, 5, 3)], {"use_sequence_length": True})],
}

SHAPE_ONLY = {"SequenceMask": {1: (3,)}, "SequenceLast": {1: (3,)}, "SequenceReverse": {1: (3,)},
              "_backward_SequenceLast": {1: (4, 3, 2), 2: (3,)}}

# CTCLoss (op/nn/ctc_loss.cc): gradient with respect to data; label and lengths are fixed makers.
GRAD_SPECS["CTCLoss"] = [
    ([U(4, 3, 3), M([[1, 2], [2, 0], [1, 1]])], {}),
    ([U(5, 2, 4), M([[0, 2, 1], [-1, -1, -1]]), L(5, 3)], {"blank_label": "last", "use_data_lengths": True}),
]
SHAPE_ONLY["CTCLoss"] = {1: (3, 2), 2: (2,), 3: (2,)}
