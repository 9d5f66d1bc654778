"""``mx.gluon.rnn``: recurrent cells (stepped / unrolled op by op) and the fused recurrent
layers ``RNN``, ``LSTM``, ``GRU`` (the libmx ``RNN`` operator), as in MXNet 1.x."""
from .rnn_cell import *  # noqa: F401,F403
from .rnn_layer import *  # noqa: F401,F403
from . import rnn_cell, rnn_layer  # noqa: F401
