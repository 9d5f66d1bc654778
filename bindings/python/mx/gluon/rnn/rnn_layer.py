"""Fused recurrent layers ``RNN``, ``LSTM``, ``GRU`` of ``mx.gluon.rnn`` (MXNet 1.x API).

The layer keeps one Parameter per layer, direction and kind (``l0_i2h_weight``,
``r0_h2h_bias``, ...; ``l`` = forward, ``r`` = backward) and at each forward concatenates them
(reshaped to 1-D, with ``mx.nd.Concat``) into the flat parameter vector of the libmx ``RNN``
operator, in its packing order: all weights (for each layer, for each direction: i2h then h2h)
followed by all biases in the same order. The whole sequence then runs in that one operator.
"""
import re

from ... import ndarray as nd
from ...base import UnsupportedError
from ...ndarray.ndarray import NDArray
from ..block import HybridBlock

__all__ = ["RNN", "LSTM", "GRU"]

_PARAM_KEY = re.compile(r"(l|r)(\d+)_(i2h|h2h|h2r)_(weight|bias)\Z")


class _RNNLayer(HybridBlock):
    """Implementation of the fused recurrent layers."""

    def __init__(self, hidden_size, num_layers, layout, dropout, bidirectional, input_size,
                 i2h_weight_initializer, h2h_weight_initializer, i2h_bias_initializer,
                 h2h_bias_initializer, mode, projection_size, h2r_weight_initializer,
                 lstm_state_clip_min, lstm_state_clip_max, lstm_state_clip_nan, dtype,
                 use_sequence_length=False, **kwargs):
        super().__init__(**kwargs)
        if layout not in ("TNC", "NTC"):
            raise AssertionError("Invalid layout %s; must be one of ['TNC' or 'NTC']" % layout)
        if projection_size:
            raise UnsupportedError("%s: projection_size=%r is not supported (the RNN operator "
                                   "has no projection)" % (type(self).__name__,
                                                           projection_size))
        if use_sequence_length:
            raise UnsupportedError("%s: use_sequence_length=True is not supported (the RNN "
                                   "operator has no sequence_length input); use the cells' "
                                   "unroll(valid_length=...) instead" % type(self).__name__)
        if int(num_layers) < 1:
            raise ValueError("num_layers must be >= 1, got %r" % (num_layers,))
        if not 0 <= float(dropout) < 1:
            raise ValueError("dropout must be in [0, 1), got %r" % (dropout,))
        if (lstm_state_clip_min is None) != (lstm_state_clip_max is None):
            raise ValueError("state_clip_min and state_clip_max must be given together")
        self._hidden_size = hidden_size
        self._projection_size = None
        self._num_layers = num_layers
        self._mode = mode
        self._layout = layout
        self._dropout = dropout
        self._dir = 2 if bidirectional else 1
        self._input_size = input_size
        self._i2h_weight_initializer = i2h_weight_initializer
        self._h2h_weight_initializer = h2h_weight_initializer
        self._i2h_bias_initializer = i2h_bias_initializer
        self._h2h_bias_initializer = h2h_bias_initializer
        self._h2r_weight_initializer = h2r_weight_initializer
        self._lstm_state_clip_min = lstm_state_clip_min
        self._lstm_state_clip_max = lstm_state_clip_max
        self._lstm_state_clip_nan = lstm_state_clip_nan
        self._dtype = dtype
        self._use_sequence_length = use_sequence_length
        self.skip_states = None
        self._gates = {"rnn_relu": 1, "rnn_tanh": 1, "lstm": 4, "gru": 3}[mode]

        ng, ni, nh = self._gates, input_size, hidden_size
        for i in range(num_layers):
            for j in ["l", "r"][:self._dir]:
                self._register_param("%s%d_i2h_weight" % (j, i), (ng * nh, ni),
                                     i2h_weight_initializer, dtype)
                self._register_param("%s%d_h2h_weight" % (j, i), (ng * nh, nh),
                                     h2h_weight_initializer, dtype)
                self._register_param("%s%d_i2h_bias" % (j, i), (ng * nh,),
                                     i2h_bias_initializer, dtype)
                self._register_param("%s%d_h2h_bias" % (j, i), (ng * nh,),
                                     h2h_bias_initializer, dtype)
            ni = nh * self._dir

    def _register_param(self, name, shape, init, dtype):
        p = self.params.get(name, shape=shape, init=init, allow_deferred_init=True,
                            dtype=dtype)
        setattr(self, name, p)
        return p

    def __repr__(self):
        s = "{name}({mapping}, {_layout}"
        if self._num_layers != 1:
            s += ", num_layers={_num_layers}"
        if self._dropout != 0:
            s += ", dropout={_dropout}"
        if self._dir == 2:
            s += ", bidirectional"
        s += ")"
        shape = self.l0_i2h_weight.shape
        mapping = "{0} -> {1}".format(shape[1] if shape[1] else None, shape[0] // self._gates)
        return s.format(name=self.__class__.__name__, mapping=mapping, **self.__dict__)

    def _collect_params_with_prefix(self, prefix=""):
        # structural names of MXNet's files: '_unfused.<layer>.<i2h|h2h>_<weight|bias>', or
        # '_unfused.<layer>.<l|r>_cell.<...>' when bidirectional
        if prefix:
            prefix += "."
        bidirectional = any(_PARAM_KEY.match(k).group(1) == "r" for k in self._reg_params)

        def convert_key(key):
            d, l, g, t = _PARAM_KEY.match(key).groups()
            if bidirectional:
                return "_unfused.%s.%s_cell.%s_%s" % (l, d, g, t)
            return "_unfused.%s.%s_%s" % (l, g, t)

        ret = {prefix + convert_key(key): val for key, val in self._reg_params.items()}
        for name, child in self._children.items():
            ret.update(child._collect_params_with_prefix(prefix + name))
        return ret

    def state_info(self, batch_size=0):
        shape = (self._num_layers * self._dir, batch_size, self._hidden_size)
        info = [{"shape": shape, "__layout__": "LNC", "dtype": self._dtype}]
        if self._mode == "lstm":
            info.append({"shape": shape, "__layout__": "LNC", "dtype": self._dtype})
        return info

    def cast(self, dtype):
        super().cast(dtype)
        self._dtype = dtype

    def begin_state(self, batch_size=0, func=nd.zeros, **kwargs):
        """Initial states: ``func(name=..., shape=..., dtype=..., **kwargs)`` for each state
        ((num_layers * directions, batch_size, hidden_size); LSTM has h and c)."""
        from .rnn_cell import _make_state
        states = []
        for i, info in enumerate(self.state_info(batch_size)):
            if info is not None:
                info.update(kwargs)
            else:
                info = dict(kwargs)
            states.append(_make_state(func, "%sh0_%d" % (self.prefix, i), info))
        return states

    def __call__(self, inputs, states=None, sequence_length=None, **kwargs):
        if sequence_length is not None:
            raise UnsupportedError("%s: sequence_length is not supported (use_sequence_length "
                                   "is unsupported)" % type(self).__name__)
        skip_states = self.skip_states = states is None
        if not isinstance(inputs, NDArray):
            # a Symbol (a parent block traces): zero states are made inside the graph
            if states is not None and not isinstance(states, (list, tuple)):
                states = [states]
            return super().__call__(inputs, list(states) if states is not None else None,
                                    **kwargs)
        if inputs.ndim != 3:
            raise ValueError("%s: input must be a rank-3 tensor of layout %s, got shape %s"
                             % (type(self).__name__, self._layout, str(inputs.shape)))
        batch_size = inputs.shape[self._layout.find("N")]
        if skip_states:
            states = self.begin_state(batch_size, ctx=inputs.context, dtype=inputs.dtype)
        if isinstance(states, NDArray):
            states = [states]
        infos = self.state_info(batch_size)
        if len(states) != len(infos):
            raise ValueError("%s expects %d state array(s), got %d"
                             % (type(self).__name__, len(infos), len(states)))
        for state, info in zip(states, infos):
            if tuple(state.shape) != info["shape"]:
                raise ValueError("Invalid recurrent state shape. Expecting %s, got %s."
                                 % (str(info["shape"]), str(state.shape)))
        # the graph returns (output, states) whenever states are its inputs (a hybridized layer
        # keeps one graph for both uses); the final states are dropped here when not asked for
        out = super().__call__(inputs, list(states), **kwargs)
        return out[0] if skip_states else out

    def _infer_param_shapes(self, inputs, *args):
        ni = inputs.shape[2]
        for i in range(self._num_layers):
            for j in ["l", "r"][:self._dir]:
                getattr(self, "%s%d_i2h_weight" % (j, i)).shape = (
                    self._gates * self._hidden_size, ni)
            ni = self._hidden_size * self._dir

    def hybrid_forward(self, F, inputs, states=None, sequence_length=None, **kwargs):
        # (state counts and shapes of NDArray calls are checked in __call__). Without states
        # (traced by a parent) the begin states are zeros made in the graph and only the
        # output is returned.
        if states is None:
            out = self._forward_kernel(F, inputs, self._zero_states(F, inputs), **kwargs)
            return out[0]
        return self._forward_kernel(F, inputs, states, **kwargs)

    def _zero_states(self, F, inputs):
        """Zero begin states (num_layers * directions, N, hidden_size) computed from the
        input inside the graph (a traced graph does not know the batch size)."""
        n_axis = self._layout.find("N")
        t_axis = 1 - n_axis
        z = F.sum(F.zeros_like(F.slice_axis(inputs, axis=t_axis, begin=0, end=1)), axis=2,
                  keepdims=True)  # (1, N, 1) or (N, 1, 1)
        if n_axis == 0:
            z = F.swapaxes(z, dim1=0, dim2=1)
        z = F.tile(z, reps=(self._num_layers * self._dir, 1, self._hidden_size))
        return [z] * (2 if self._mode == "lstm" else 1)

    def _flat_params(self, F, kwargs):
        flat = [F.reshape(kwargs["%s%d_%s_%s" % (d, l, g, t)], shape=(-1,))
                for t in ("weight", "bias")
                for l in range(self._num_layers)
                for d in ["l", "r"][:self._dir]
                for g in ("i2h", "h2h")]
        return F.Concat(*flat, dim=0)

    def _forward_kernel(self, F, inputs, states, **kwargs):
        if self._layout == "NTC":
            inputs = F.swapaxes(inputs, dim1=0, dim2=1)
        params = self._flat_params(F, kwargs)
        extra = {}
        if self._lstm_state_clip_min is not None:
            extra = {"lstm_state_clip_min": self._lstm_state_clip_min,
                     "lstm_state_clip_max": self._lstm_state_clip_max,
                     "lstm_state_clip_nan": self._lstm_state_clip_nan}
        rnn = F.RNN(inputs, params, *states, state_size=self._hidden_size,
                    num_layers=self._num_layers, bidirectional=self._dir == 2,
                    p=self._dropout, state_outputs=True, mode=self._mode, **extra)
        if self._mode == "lstm":
            outputs, states = rnn[0], [rnn[1], rnn[2]]
        else:
            outputs, states = rnn[0], [rnn[1]]
        if self._layout == "NTC":
            outputs = F.swapaxes(outputs, dim1=0, dim2=1)
        return outputs, states


class RNN(_RNNLayer):
    r"""Multi-layer Elman RNN with tanh or ReLU: ``h_t = act(W_ih x_t + b_ih + W_hh h_{t-1} +
    b_hh)``.

    Parameters
    ----------
    hidden_size : int
    num_layers : int, default 1
    activation : {'relu', 'tanh'}, default 'relu'
    layout : {'TNC', 'NTC'}, default 'TNC'
    dropout : float, default 0 (between layers, training mode only)
    bidirectional : bool, default False
    i2h_weight_initializer, h2h_weight_initializer, i2h_bias_initializer ('zeros'),
    h2h_bias_initializer ('zeros')
    input_size : int, default 0 (inferred from the first input)
    dtype : str, default 'float32'
    use_sequence_length : only False is supported

    Inputs: data (T, N, C) for 'TNC' / (N, T, C) for 'NTC'; optional states
    [(num_layers * directions, N, hidden_size)]. Output: out (T, N, directions * hidden_size)
    in the layout, plus the final states when states were given.
    """

    def __init__(self, hidden_size, num_layers=1, activation="relu", layout="TNC", dropout=0,
                 bidirectional=False, i2h_weight_initializer=None,
                 h2h_weight_initializer=None, i2h_bias_initializer="zeros",
                 h2h_bias_initializer="zeros", input_size=0, dtype="float32",
                 use_sequence_length=False, **kwargs):
        if activation not in ("relu", "tanh"):
            raise ValueError("RNN activation must be 'relu' or 'tanh', got %r" % (activation,))
        super().__init__(hidden_size, num_layers, layout, dropout, bidirectional, input_size,
                         i2h_weight_initializer, h2h_weight_initializer,
                         i2h_bias_initializer, h2h_bias_initializer, "rnn_" + activation,
                         None, None, None, None, False, dtype,
                         use_sequence_length=use_sequence_length, **kwargs)


class LSTM(_RNNLayer):
    r"""Multi-layer LSTM (gates i, f, g, o as LSTMCell).

    Parameters: hidden_size, num_layers=1, layout='TNC', dropout=0, bidirectional=False,
    input_size=0, i2h_weight_initializer=None, h2h_weight_initializer=None,
    i2h_bias_initializer='zeros', h2h_bias_initializer='zeros', projection_size=None (not
    supported), h2r_weight_initializer=None, state_clip_min=None, state_clip_max=None,
    state_clip_nan=False, dtype='float32', use_sequence_length=False (only False).

    States: [h, c], each (num_layers * directions, N, hidden_size).
    """

    def __init__(self, hidden_size, num_layers=1, layout="TNC", dropout=0,
                 bidirectional=False, input_size=0, i2h_weight_initializer=None,
                 h2h_weight_initializer=None, i2h_bias_initializer="zeros",
                 h2h_bias_initializer="zeros", projection_size=None,
                 h2r_weight_initializer=None, state_clip_min=None, state_clip_max=None,
                 state_clip_nan=False, dtype="float32", use_sequence_length=False, **kwargs):
        super().__init__(hidden_size, num_layers, layout, dropout, bidirectional, input_size,
                         i2h_weight_initializer, h2h_weight_initializer,
                         i2h_bias_initializer, h2h_bias_initializer, "lstm", projection_size,
                         h2r_weight_initializer, state_clip_min, state_clip_max,
                         state_clip_nan, dtype, use_sequence_length=use_sequence_length,
                         **kwargs)


class GRU(_RNNLayer):
    r"""Multi-layer GRU (gates r, z, n as GRUCell:
    ``n = tanh(W_in x + b_in + r * (W_hn h + b_hn))``, ``h' = (1 - z) * n + z * h``).

    Parameters: hidden_size, num_layers=1, layout='TNC', dropout=0, bidirectional=False,
    input_size=0, i2h_weight_initializer=None, h2h_weight_initializer=None,
    i2h_bias_initializer='zeros', h2h_bias_initializer='zeros', dtype='float32',
    use_sequence_length=False (only False).
    """

    def __init__(self, hidden_size, num_layers=1, layout="TNC", dropout=0,
                 bidirectional=False, input_size=0, i2h_weight_initializer=None,
                 h2h_weight_initializer=None, i2h_bias_initializer="zeros",
                 h2h_bias_initializer="zeros", dtype="float32", use_sequence_length=False,
                 **kwargs):
        super().__init__(hidden_size, num_layers, layout, dropout, bidirectional, input_size,
                         i2h_weight_initializer, h2h_weight_initializer,
                         i2h_bias_initializer, h2h_bias_initializer, "gru", None, None, None,
                         None, False, dtype, use_sequence_length=use_sequence_length,
                         **kwargs)
