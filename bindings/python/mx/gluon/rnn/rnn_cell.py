"""Recurrent cells of ``mx.gluon.rnn`` (MXNet 1.x API).

A cell computes one time step ``output, new_states = cell(x_t, states)``; ``unroll`` steps it
over a sequence. Every array computation is an ``mx.nd`` operator (FullyConnected, sigmoid,
tanh, SliceChannel, elementwise ops, Dropout, ...); Python only orders the calls and keeps the
bookkeeping (names, step counters, state lists).

Gate orders follow MXNet (and the fused ``RNN`` operator): LSTM ``i, f, c(g), o``; GRU
``r, z, n`` with ``n = act(W_in x + b_in + r * (W_hn h + b_hn))`` and
``h' = (1 - z) * n + z * h``.
"""
import numbers

import numpy as np

from ... import ndarray as nd
from ...ndarray.ndarray import NDArray
from ..block import Block, HybridBlock
from ..utils import _indent

__all__ = ["RecurrentCell", "HybridRecurrentCell", "RNNCell", "LSTMCell", "GRUCell",
           "SequentialRNNCell", "HybridSequentialRNNCell", "DropoutCell", "ModifierCell",
           "ZoneoutCell", "ResidualCell", "BidirectionalCell"]

tensor_types = (NDArray,)


def _as_list(obj):
    if isinstance(obj, (list, tuple)):
        return list(obj)
    return [obj]


def _cells_state_info(cells, batch_size):
    return sum([c.state_info(batch_size) for c in cells], [])


def _cells_begin_state(cells, **kwargs):
    return sum([c.begin_state(**kwargs) for c in cells], [])


def _make_state(func, name, info):
    """Calls a state-creating function ``func(name=..., shape=..., **kwargs)`` as MXNet does
    (``mx.nd.zeros``/``ones`` accept and ignore ``name`` and the ``__layout__`` attribute)."""
    return func(name=name, **info)


def _get_begin_state(cell, F, begin_state, inputs, batch_size):
    if begin_state is None:
        first = inputs if isinstance(inputs, tensor_types) else inputs[0]
        begin_state = cell.begin_state(func=F.zeros, batch_size=batch_size,
                                       ctx=first.context, dtype=first.dtype)
    return begin_state


def _format_sequence(length, inputs, layout, merge, in_layout=None):
    """Normalizes a sequence to a list of per-step arrays (merge=False), to one array with
    the time axis of ``layout`` (merge=True), or leaves it as it is (merge=None).
    Returns (inputs, time_axis, F, batch_size)."""
    if inputs is None:
        raise ValueError("unroll(inputs=None) is not supported: pass the input sequence")
    if layout not in ("NTC", "TNC"):
        raise ValueError("Invalid layout %r; must be one of ['NTC', 'TNC']" % (layout,))
    axis = layout.find("T")
    batch_axis = layout.find("N")
    in_axis = in_layout.find("T") if in_layout is not None else axis
    F = nd
    if isinstance(inputs, tensor_types):
        batch_size = inputs.shape[batch_axis]
        if merge is False:
            if length is not None and length != inputs.shape[in_axis]:
                raise ValueError("unroll length %d does not match the input's time axis %d "
                                 "(shape %s, layout %s)" % (length, inputs.shape[in_axis],
                                                             str(inputs.shape), layout))
            steps = inputs.shape[in_axis]
            if steps == 1:
                inputs = [nd.squeeze(inputs, axis=in_axis)]
            else:
                inputs = _as_list(nd.split(inputs, axis=in_axis, num_outputs=steps,
                                           squeeze_axis=True))
    else:
        inputs = list(inputs)
        if length is not None and len(inputs) != length:
            raise ValueError("unroll length %d does not match the %d input steps given"
                             % (length, len(inputs)))
        if not inputs:
            raise ValueError("unroll needs at least one input step")
        batch_size = inputs[0].shape[0]
        if merge is True:
            inputs = nd.stack(*inputs, axis=axis)
            in_axis = axis
    if isinstance(inputs, tensor_types) and axis != in_axis:
        inputs = nd.swapaxes(inputs, dim1=axis, dim2=in_axis)
    return inputs, axis, F, batch_size


# ---------------------------------------------------------------- variable-length helpers
# (MXNet uses SequenceMask/SequenceLast/SequenceReverse; these compose the same results from
# arange/comparison/one_hot/batch_dot operators.)
def _float_lengths(valid_length):
    return nd.cast(valid_length, dtype="float32").reshape((-1,))


def _step_mask(length, valid_length, dtype, ctx):
    """(T, N) mask: 1 where t < valid_length[n]."""
    steps = nd.arange(0, length, ctx=ctx, dtype="float32").reshape((length, 1))
    vl = _float_lengths(valid_length).reshape((1, -1))
    return nd.cast(nd.broadcast_lesser(steps, vl), dtype=dtype)


def _mask_sequence_variable_length(F, data, length, valid_length, time_axis, merge):
    if not isinstance(data, tensor_types):
        data = nd.stack(*data, axis=time_axis)
    mask = _step_mask(length, valid_length, data.dtype, data.context)  # (T, N)
    if time_axis == 1:
        mask = nd.transpose(mask)
    mask = mask.reshape(mask.shape + (1,) * (data.ndim - 2))
    outputs = nd.broadcast_mul(data, mask)
    if not merge:
        outputs = _as_list(nd.split(outputs, num_outputs=length, axis=time_axis,
                                    squeeze_axis=True)) if length > 1 else \
            [nd.squeeze(outputs, axis=time_axis)]
    return outputs


def _sequence_last(stacked, valid_length):
    """stacked (T, N, ...): the entry at t = valid_length[n] - 1 for each n."""
    length = stacked.shape[0]
    sel = nd.one_hot(_float_lengths(valid_length) - 1, depth=length, dtype=stacked.dtype)
    sel = nd.transpose(sel)  # (T, N)
    sel = sel.reshape(sel.shape + (1,) * (stacked.ndim - 2))
    return nd.sum(nd.broadcast_mul(stacked, sel), axis=0)


def _reverse_steps(steps, valid_length):
    """Reverses a list of per-step (N, ...) arrays; with valid_length, only the first
    valid_length[n] steps of each sequence are reversed (padding stays in place)."""
    if valid_length is None:
        return list(reversed(steps))
    length = len(steps)
    first = steps[0]
    stacked = nd.stack(*steps, axis=1)  # (N, T, ...)
    shp = stacked.shape
    flat = stacked.reshape((shp[0], length, -1))
    t = nd.arange(0, length, ctx=first.context, dtype="float32").reshape((1, length))
    vl = _float_lengths(valid_length).reshape((-1, 1))
    inside = nd.broadcast_lesser(t, vl)  # (N, T)
    rev = nd.broadcast_sub(nd.broadcast_sub(vl, t), nd.ones_like(inside))  # vl - 1 - t
    src = nd.where(inside, rev, nd.broadcast_add(t, nd.zeros_like(inside)))
    perm = nd.one_hot(src, depth=length, dtype=first.dtype)  # (N, T_out, T_in)
    out = nd.batch_dot(perm, flat).reshape(shp)
    if length == 1:
        return [nd.squeeze(out, axis=1)]
    return _as_list(nd.split(out, num_outputs=length, axis=1, squeeze_axis=True))


def _check_rate(rate, what):
    if not isinstance(rate, numbers.Number) or not 0 <= rate < 1:
        raise ValueError("%s must be a number in [0, 1), got %r" % (what, rate))


class RecurrentCell(Block):
    """Abstract base class of RNN cells.

    Parameters
    ----------
    prefix : str, prefix of the names of blocks and weights
    params : ParameterDict or None, Parameters to share
    """

    def __init__(self, prefix=None, params=None):
        super().__init__(prefix=prefix, params=params)
        self._modified = False
        self.reset()

    def reset(self):
        """Resets the step counters before reusing the cell for another sequence."""
        self._init_counter = -1
        self._counter = -1
        for cell in self._children.values():
            cell.reset()

    def state_info(self, batch_size=0):
        """Shape and layout information of the states."""
        raise NotImplementedError()

    def begin_state(self, batch_size=0, func=nd.zeros, **kwargs):
        """Initial states: ``func(name=..., shape=..., **kwargs)`` for each state of
        ``state_info(batch_size)`` (``func`` e.g. ``mx.nd.zeros``, ``mx.nd.ones``,
        ``mx.nd.random.uniform``; kwargs e.g. ``ctx``, ``dtype``)."""
        if self._modified:
            raise AssertionError("After applying modifier cells (e.g. ZoneoutCell) the base "
                                 "cell cannot be called directly. Call the modifier cell "
                                 "instead.")
        states = []
        for info in self.state_info(batch_size):
            self._init_counter += 1
            if info is not None:
                info.update(kwargs)
            else:
                info = dict(kwargs)
            states.append(_make_state(func, "%sbegin_state_%d" % (self._prefix,
                                                                  self._init_counter), info))
        return states

    def unroll(self, length, inputs, begin_state=None, layout="NTC", merge_outputs=None,
               valid_length=None):
        """Unrolls the cell over ``length`` steps.

        inputs: one array (N, T, ...) for layout 'NTC' or (T, N, ...) for 'TNC', or a list of
        ``length`` arrays (N, ...). begin_state: list of states (default ``begin_state()``
        zeros). merge_outputs: True gives one array in ``layout``, False a list of per-step
        arrays, None whatever the input was. valid_length: (N,) lengths; outputs past a
        sequence's length are 0 and the returned states are those of its last valid step.
        Returns (outputs, states)."""
        self.reset()
        inputs, axis, F, batch_size = _format_sequence(length, inputs, layout, False)
        begin_state = _get_begin_state(self, F, begin_state, inputs, batch_size)
        states = begin_state
        outputs = []
        all_states = []
        for i in range(length):
            output, states = self(inputs[i], states)
            outputs.append(output)
            if valid_length is not None:
                all_states.append(states)
        if valid_length is not None:
            states = [_sequence_last(nd.stack(*ele, axis=0), valid_length)
                      for ele in zip(*all_states)]
            outputs = _mask_sequence_variable_length(F, outputs, length, valid_length, axis,
                                                     True)
        outputs, _, _, _ = _format_sequence(length, outputs, layout, merge_outputs)
        return outputs, states

    def _get_activation(self, F, inputs, activation, **kwargs):
        """Applies ``activation`` (a name, a LeakyReLU block or any callable)."""
        kwargs.pop("name", None)
        func = {"tanh": F.tanh, "relu": F.relu, "sigmoid": F.sigmoid,
                "softsign": F.softsign}.get(activation) if isinstance(activation, str) \
            else None
        if func is not None:
            return func(inputs)
        if isinstance(activation, str):
            return F.Activation(inputs, act_type=activation)
        from ..nn import LeakyReLU
        if isinstance(activation, LeakyReLU):
            return F.LeakyReLU(inputs, act_type="leaky", slope=activation._alpha)
        return activation(inputs)

    def forward(self, inputs, states):
        """One time step: returns (output, new_states)."""
        self._counter += 1
        return super().forward(inputs, states)


class HybridRecurrentCell(RecurrentCell, HybridBlock):
    """A RecurrentCell written as ``hybrid_forward(F, inputs, states, **params)``."""

    def __init__(self, prefix=None, params=None):
        super().__init__(prefix=prefix, params=params)

    def hybrid_forward(self, F, x, *args, **kwargs):
        raise NotImplementedError


class _GatedCell(HybridRecurrentCell):
    """Common parts of RNNCell/LSTMCell/GRUCell: the four weights and shape inference."""
    _num_gates = 1

    def __init__(self, hidden_size, i2h_weight_initializer, h2h_weight_initializer,
                 i2h_bias_initializer, h2h_bias_initializer, input_size, prefix, params):
        super().__init__(prefix=prefix, params=params)
        ng = self._num_gates
        self._hidden_size = hidden_size
        self._input_size = input_size
        self.i2h_weight = self.params.get("i2h_weight", shape=(ng * hidden_size, input_size),
                                          init=i2h_weight_initializer,
                                          allow_deferred_init=True)
        self.h2h_weight = self.params.get("h2h_weight", shape=(ng * hidden_size, hidden_size),
                                          init=h2h_weight_initializer,
                                          allow_deferred_init=True)
        self.i2h_bias = self.params.get("i2h_bias", shape=(ng * hidden_size,),
                                        init=i2h_bias_initializer, allow_deferred_init=True)
        self.h2h_bias = self.params.get("h2h_bias", shape=(ng * hidden_size,),
                                        init=h2h_bias_initializer, allow_deferred_init=True)

    def _infer_param_shapes(self, x, *args):
        in_units = int(np.prod(x.shape[1:])) if x.ndim > 1 else 1
        self.i2h_weight.shape = (self._num_gates * self._hidden_size, in_units)

    def __repr__(self):
        s = "{name}({mapping}"
        if hasattr(self, "_activation"):
            s += ", {_activation}"
        s += ")"
        shape = self.i2h_weight.shape
        mapping = "{0} -> {1}".format(shape[1] if shape[1] else None, shape[0])
        return s.format(name=self.__class__.__name__, mapping=mapping, **self.__dict__)

    def _i2h_h2h(self, F, inputs, h, i2h_weight, h2h_weight, i2h_bias, h2h_bias):
        n = self._num_gates * self._hidden_size
        i2h = F.FullyConnected(data=inputs, weight=i2h_weight, bias=i2h_bias, num_hidden=n)
        h2h = F.FullyConnected(data=h, weight=h2h_weight, bias=h2h_bias, num_hidden=n)
        return i2h, h2h


class RNNCell(_GatedCell):
    r"""Elman RNN cell: ``h_t = act(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh)``.

    Parameters
    ----------
    hidden_size : int
    activation : str or callable, default 'tanh'
    i2h_weight_initializer, h2h_weight_initializer : Initializer or str
    i2h_bias_initializer, h2h_bias_initializer : default 'zeros'
    input_size : int, default 0 (inferred from the first input)
    prefix : str, default 'rnn<n>_'
    params : ParameterDict or None
    """
    _num_gates = 1

    def __init__(self, hidden_size, activation="tanh", i2h_weight_initializer=None,
                 h2h_weight_initializer=None, i2h_bias_initializer="zeros",
                 h2h_bias_initializer="zeros", input_size=0, prefix=None, params=None):
        super().__init__(hidden_size, i2h_weight_initializer, h2h_weight_initializer,
                         i2h_bias_initializer, h2h_bias_initializer, input_size, prefix,
                         params)
        self._activation = activation

    def state_info(self, batch_size=0):
        return [{"shape": (batch_size, self._hidden_size), "__layout__": "NC"}]

    def _alias(self):
        return "rnn"

    def hybrid_forward(self, F, inputs, states, i2h_weight, h2h_weight, i2h_bias, h2h_bias):
        i2h, h2h = self._i2h_h2h(F, inputs, states[0], i2h_weight, h2h_weight, i2h_bias,
                                 h2h_bias)
        output = self._get_activation(F, F.elemwise_add(i2h, h2h), self._activation)
        return output, [output]


class LSTMCell(_GatedCell):
    r"""Long short-term memory cell (gates i, f, c, o in the weight rows)::

        i = rec_act(W_ii x + b_ii + W_hi h + b_hi)
        f = rec_act(W_if x + b_if + W_hf h + b_hf)
        g = act(W_ig x + b_ig + W_hg h + b_hg)
        o = rec_act(W_io x + b_io + W_ho h + b_ho)
        c' = f * c + i * g;   h' = o * act(c')

    Parameters: hidden_size, i2h/h2h weight and bias initializers, input_size=0, prefix
    ('lstm<n>_'), params, activation='tanh', recurrent_activation='sigmoid'.
    States: [h, c], each (batch_size, hidden_size).
    """
    _num_gates = 4

    def __init__(self, hidden_size, i2h_weight_initializer=None, h2h_weight_initializer=None,
                 i2h_bias_initializer="zeros", h2h_bias_initializer="zeros", input_size=0,
                 prefix=None, params=None, activation="tanh",
                 recurrent_activation="sigmoid"):
        super().__init__(hidden_size, i2h_weight_initializer, h2h_weight_initializer,
                         i2h_bias_initializer, h2h_bias_initializer, input_size, prefix,
                         params)
        self._act = activation
        self._recurrent_activation = recurrent_activation

    def state_info(self, batch_size=0):
        return [{"shape": (batch_size, self._hidden_size), "__layout__": "NC"},
                {"shape": (batch_size, self._hidden_size), "__layout__": "NC"}]

    def _alias(self):
        return "lstm"

    def hybrid_forward(self, F, inputs, states, i2h_weight, h2h_weight, i2h_bias, h2h_bias):
        i2h, h2h = self._i2h_h2h(F, inputs, states[0], i2h_weight, h2h_weight, i2h_bias,
                                 h2h_bias)
        gates = F.SliceChannel(F.elemwise_add(i2h, h2h), num_outputs=4)
        in_gate = self._get_activation(F, gates[0], self._recurrent_activation)
        forget_gate = self._get_activation(F, gates[1], self._recurrent_activation)
        in_transform = self._get_activation(F, gates[2], self._act)
        out_gate = self._get_activation(F, gates[3], self._recurrent_activation)
        next_c = F.elemwise_add(F.elemwise_mul(forget_gate, states[1]),
                                F.elemwise_mul(in_gate, in_transform))
        next_h = F.elemwise_mul(out_gate, self._get_activation(F, next_c, self._act))
        return next_h, [next_h, next_c]


class GRUCell(_GatedCell):
    r"""Gated recurrent unit cell (gates r, z, n in the weight rows)::

        r = rec_act(W_ir x + b_ir + W_hr h + b_hr)
        z = rec_act(W_iz x + b_iz + W_hz h + b_hz)
        n = act(W_in x + b_in + r * (W_hn h + b_hn))
        h' = (1 - z) * n + z * h

    Parameters: hidden_size, i2h/h2h weight and bias initializers, input_size=0, prefix
    ('gru<n>_'), params, activation='tanh', recurrent_activation='sigmoid'.
    """
    _num_gates = 3

    def __init__(self, hidden_size, i2h_weight_initializer=None, h2h_weight_initializer=None,
                 i2h_bias_initializer="zeros", h2h_bias_initializer="zeros", input_size=0,
                 prefix=None, params=None, activation="tanh",
                 recurrent_activation="sigmoid"):
        super().__init__(hidden_size, i2h_weight_initializer, h2h_weight_initializer,
                         i2h_bias_initializer, h2h_bias_initializer, input_size, prefix,
                         params)
        self._act = activation
        self._recurrent_activation = recurrent_activation

    def state_info(self, batch_size=0):
        return [{"shape": (batch_size, self._hidden_size), "__layout__": "NC"}]

    def _alias(self):
        return "gru"

    def hybrid_forward(self, F, inputs, states, i2h_weight, h2h_weight, i2h_bias, h2h_bias):
        prev_h = states[0]
        i2h, h2h = self._i2h_h2h(F, inputs, prev_h, i2h_weight, h2h_weight, i2h_bias,
                                 h2h_bias)
        i2h_r, i2h_z, i2h_n = F.SliceChannel(i2h, num_outputs=3)
        h2h_r, h2h_z, h2h_n = F.SliceChannel(h2h, num_outputs=3)
        reset_gate = self._get_activation(F, F.elemwise_add(i2h_r, h2h_r),
                                          self._recurrent_activation)
        update_gate = self._get_activation(F, F.elemwise_add(i2h_z, h2h_z),
                                           self._recurrent_activation)
        next_h_tmp = self._get_activation(
            F, F.elemwise_add(i2h_n, F.elemwise_mul(reset_gate, h2h_n)), self._act)
        ones = F.ones_like(update_gate)
        next_h = F.elemwise_add(F.elemwise_mul(F.elemwise_sub(ones, update_gate), next_h_tmp),
                                F.elemwise_mul(update_gate, prev_h))
        return next_h, [next_h]


class _SequentialMixin:
    """Stacking behaviour shared by SequentialRNNCell and HybridSequentialRNNCell."""

    def __repr__(self):
        s = "{name}(\n{modstr}\n)"
        return s.format(name=self.__class__.__name__,
                        modstr="\n".join(["({i}): {m}".format(i=i, m=_indent(repr(m), 2))
                                          for i, m in self._children.items()]))

    def add(self, cell):
        """Appends a cell to the stack."""
        self.register_child(cell)

    def state_info(self, batch_size=0):
        return _cells_state_info(self._children.values(), batch_size)

    def begin_state(self, **kwargs):
        if self._modified:
            raise AssertionError("After applying modifier cells (e.g. ZoneoutCell) the base "
                                 "cell cannot be called directly. Call the modifier cell "
                                 "instead.")
        return _cells_begin_state(self._children.values(), **kwargs)

    def __call__(self, inputs, states):
        self._counter += 1
        next_states = []
        p = 0
        for cell in self._children.values():
            if isinstance(cell, BidirectionalCell):
                raise NotImplementedError("A stack containing a BidirectionalCell cannot be "
                                          "stepped; use unroll")
            n = len(cell.state_info())
            state = states[p:p + n]
            p += n
            inputs, state = cell(inputs, state)
            next_states.append(state)
        return inputs, sum(next_states, [])

    def unroll(self, length, inputs, begin_state=None, layout="NTC", merge_outputs=None,
               valid_length=None):
        self.reset()
        inputs, _, F, batch_size = _format_sequence(length, inputs, layout, None)
        num_cells = len(self._children)
        begin_state = _get_begin_state(self, F, begin_state, inputs, batch_size)
        p = 0
        next_states = []
        for i, cell in enumerate(self._children.values()):
            n = len(cell.state_info())
            states = begin_state[p:p + n]
            p += n
            inputs, states = cell.unroll(length, inputs=inputs, begin_state=states,
                                         layout=layout,
                                         merge_outputs=None if i < num_cells - 1
                                         else merge_outputs,
                                         valid_length=valid_length)
            next_states.extend(states)
        return inputs, next_states

    def __getitem__(self, i):
        return self._children[str(i)]

    def __len__(self):
        return len(self._children)


class SequentialRNNCell(_SequentialMixin, RecurrentCell):
    """Stacks cells: the output of one is the input of the next; states are concatenated
    lists in cell order."""

    def __init__(self, prefix=None, params=None):
        super().__init__(prefix=prefix, params=params)

    def hybrid_forward(self, *args, **kwargs):
        raise NotImplementedError


class HybridSequentialRNNCell(_SequentialMixin, HybridRecurrentCell):
    """SequentialRNNCell whose children are all HybridRecurrentCells."""

    def __init__(self, prefix=None, params=None):
        super().__init__(prefix=prefix, params=params)

    def hybrid_forward(self, F, inputs, states):
        return self.__call__(inputs, states)


class DropoutCell(HybridRecurrentCell):
    """Applies dropout (rate, shared along ``axes``) to its input; it has no states.
    Active in training mode only (``autograd.record()`` / ``train_mode()``)."""

    def __init__(self, rate, axes=(), prefix=None, params=None):
        super().__init__(prefix, params)
        if not isinstance(rate, numbers.Number):
            raise AssertionError("rate must be a number")
        self._rate = rate
        self._axes = axes

    def __repr__(self):
        return "{name}(rate={_rate}, axes={_axes})".format(name=self.__class__.__name__,
                                                          **self.__dict__)

    def state_info(self, batch_size=0):
        return []

    def _alias(self):
        return "dropout"

    def hybrid_forward(self, F, inputs, states):
        if self._rate > 0:
            inputs = F.Dropout(data=inputs, p=self._rate, axes=tuple(self._axes))
        return inputs, states

    def unroll(self, length, inputs, begin_state=None, layout="NTC", merge_outputs=None,
               valid_length=None):
        self.reset()
        inputs, _, F, _ = _format_sequence(length, inputs, layout, merge_outputs)
        if isinstance(inputs, tensor_types):
            return self.hybrid_forward(F, inputs, begin_state if begin_state else [])
        return super().unroll(length, inputs, begin_state=begin_state, layout=layout,
                              merge_outputs=merge_outputs, valid_length=None)


class ModifierCell(HybridRecurrentCell):
    """Base class of cells that modify another cell (ZoneoutCell, ResidualCell). The base
    cell must then only be used through the modifier."""

    def __init__(self, base_cell):
        if base_cell._modified:
            raise AssertionError("Cell %s is already modified. One cell cannot be modified "
                                 "twice" % base_cell.name)
        base_cell._modified = True
        super().__init__(prefix=base_cell.prefix + self._alias(), params=None)
        self.base_cell = base_cell

    @property
    def params(self):
        return self.base_cell.params

    def state_info(self, batch_size=0):
        return self.base_cell.state_info(batch_size)

    def begin_state(self, func=nd.zeros, **kwargs):
        if self._modified:
            raise AssertionError("After applying modifier cells (e.g. DropoutCell) the base "
                                 "cell cannot be called directly. Call the modifier cell "
                                 "instead.")
        self.base_cell._modified = False
        try:
            begin = self.base_cell.begin_state(func=func, **kwargs)
        finally:
            self.base_cell._modified = True
        return begin

    def hybrid_forward(self, F, inputs, states):
        raise NotImplementedError

    def __repr__(self):
        return "{name}({base_cell})".format(name=self.__class__.__name__, **self.__dict__)


class ZoneoutCell(ModifierCell):
    """Zoneout on a base cell: in training mode each output / state entry keeps its
    previous value with probability ``zoneout_outputs`` / ``zoneout_states``."""

    def __init__(self, base_cell, zoneout_outputs=0., zoneout_states=0.):
        if isinstance(base_cell, BidirectionalCell):
            raise AssertionError("BidirectionalCell doesn't support zoneout since it doesn't "
                                 "support step. Please add ZoneoutCell to the cells "
                                 "underneath instead.")
        _check_rate(zoneout_outputs, "zoneout_outputs")
        _check_rate(zoneout_states, "zoneout_states")
        super().__init__(base_cell)
        self.zoneout_outputs = zoneout_outputs
        self.zoneout_states = zoneout_states
        self._prev_output = None

    def __repr__(self):
        return "{name}(p_out={zoneout_outputs}, p_state={zoneout_states}, {base_cell})".format(
            name=self.__class__.__name__, **self.__dict__)

    def _alias(self):
        return "zoneout"

    def reset(self):
        super().reset()
        self._prev_output = None

    def hybrid_forward(self, F, inputs, states):
        cell, p_outputs, p_states = self.base_cell, self.zoneout_outputs, self.zoneout_states
        next_output, next_states = cell(inputs, states)

        def mask(p, like):
            return F.Dropout(F.ones_like(like), p=p)

        prev_output = self._prev_output
        if prev_output is None:
            prev_output = F.zeros_like(next_output)
        output = (F.where(mask(p_outputs, next_output), next_output, prev_output)
                  if p_outputs != 0. else next_output)
        states = ([F.where(mask(p_states, new_s), new_s, old_s)
                   for new_s, old_s in zip(next_states, states)]
                  if p_states != 0. else next_states)
        self._prev_output = output
        return output, states


class ResidualCell(ModifierCell):
    """Adds the input to the base cell's output (Wu et al., 2016)."""

    def __init__(self, base_cell):
        super().__init__(base_cell)

    def hybrid_forward(self, F, inputs, states):
        output, states = self.base_cell(inputs, states)
        output = F.elemwise_add(output, inputs)
        return output, states

    def unroll(self, length, inputs, begin_state=None, layout="NTC", merge_outputs=None,
               valid_length=None):
        self.reset()
        self.base_cell._modified = False
        try:
            outputs, states = self.base_cell.unroll(length, inputs=inputs,
                                                    begin_state=begin_state, layout=layout,
                                                    merge_outputs=merge_outputs,
                                                    valid_length=valid_length)
        finally:
            self.base_cell._modified = True
        merge_outputs = isinstance(outputs, tensor_types) if merge_outputs is None else \
            merge_outputs
        inputs, axis, F, _ = _format_sequence(length, inputs, layout, merge_outputs)
        if valid_length is not None:
            inputs = _mask_sequence_variable_length(F, inputs, length, valid_length, axis,
                                                    merge_outputs)
        if merge_outputs:
            outputs = F.elemwise_add(outputs, inputs)
        else:
            outputs = [F.elemwise_add(i, j) for i, j in zip(outputs, inputs)]
        return outputs, states


class BidirectionalCell(HybridRecurrentCell):
    """Runs ``l_cell`` forward and ``r_cell`` backward in time and concatenates their outputs
    on the feature axis. It cannot be stepped: use ``unroll``. States: l_cell's then
    r_cell's."""

    def __init__(self, l_cell, r_cell, output_prefix="bi_"):
        super().__init__(prefix="", params=None)
        self.register_child(l_cell, "l_cell")
        self.register_child(r_cell, "r_cell")
        self._output_prefix = output_prefix

    def __call__(self, inputs, states):
        raise NotImplementedError("Bidirectional cannot be stepped. Please use unroll")

    def __repr__(self):
        return "{name}(forward={l_cell}, backward={r_cell})".format(
            name=self.__class__.__name__, l_cell=self._children["l_cell"],
            r_cell=self._children["r_cell"])

    def state_info(self, batch_size=0):
        return _cells_state_info(self._children.values(), batch_size)

    def begin_state(self, **kwargs):
        if self._modified:
            raise AssertionError("After applying modifier cells (e.g. DropoutCell) the base "
                                 "cell cannot be called directly. Call the modifier cell "
                                 "instead.")
        return _cells_begin_state(self._children.values(), **kwargs)

    def unroll(self, length, inputs, begin_state=None, layout="NTC", merge_outputs=None,
               valid_length=None):
        self.reset()
        inputs, axis, F, batch_size = _format_sequence(length, inputs, layout, False)
        reversed_inputs = _reverse_steps(inputs, valid_length)
        begin_state = _get_begin_state(self, F, begin_state, inputs, batch_size)
        states = begin_state
        l_cell, r_cell = self._children.values()
        n_l = len(l_cell.state_info(batch_size))
        l_outputs, l_states = l_cell.unroll(length, inputs=inputs, begin_state=states[:n_l],
                                            layout=layout, merge_outputs=merge_outputs,
                                            valid_length=valid_length)
        r_outputs, r_states = r_cell.unroll(length, inputs=reversed_inputs,
                                            begin_state=states[n_l:], layout=layout,
                                            merge_outputs=False, valid_length=valid_length)
        reversed_r_outputs = _reverse_steps(r_outputs, valid_length)
        if merge_outputs is None:
            merge_outputs = isinstance(l_outputs, tensor_types)
        l_outputs, _, _, _ = _format_sequence(None, l_outputs, layout, merge_outputs)
        reversed_r_outputs, _, _, _ = _format_sequence(None, reversed_r_outputs, layout,
                                                       merge_outputs)
        if merge_outputs:
            outputs = F.concat(l_outputs, reversed_r_outputs, dim=2)
        else:
            outputs = [F.concat(l_o, r_o, dim=1)
                       for l_o, r_o in zip(l_outputs, reversed_r_outputs)]
        if valid_length is not None:
            outputs = _mask_sequence_variable_length(F, outputs, length, valid_length, axis,
                                                     merge_outputs)
        return outputs, l_states + r_states
