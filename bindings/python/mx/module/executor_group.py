"""The executor(s) a Module runs: one symbol bound on one context.

MXNet's DataParallelExecutorGroup splits each batch over several devices; MX's Module runs one
device, so this group holds one executor per distinct input-shape set (the first one bound, plus
one per new batch shape seen by ``reshape``; all of them share the parameter, gradient and
auxiliary arrays). Arrays are allocated here from shape/dtype inference and bound in place with
``Symbol.bind``, so parameters and gradients have one home whatever the input shapes.
"""
from collections import OrderedDict

import numpy as np

from .. import ndarray as nd
from ..base import ShapeError
from ..io import DataDesc
from ..ndarray import NDArray

__all__ = ["ExecutorGroup"]

_GRAD_REQS = ("null", "write", "add", "inplace")


def _batch_axis(desc):
    return DataDesc.get_batch_axis(getattr(desc, "layout", None))


def _assign(dst, src, kind, name):
    """Copies src (NDArray or array-like) into dst, checking the shape first."""
    shape = tuple(src.shape) if hasattr(src, "shape") else np.shape(src)
    if tuple(shape) != tuple(dst.shape):
        raise ShapeError("%s '%s': the given value has shape %s but the module's array has shape "
                         "%s" % (kind, name, tuple(shape), tuple(dst.shape)))
    if isinstance(src, NDArray):
        if src is not dst:
            src.copyto(dst)
    else:
        dst[:] = np.asarray(src)


class ExecutorGroup:
    """Binds ``symbol`` on ``context`` for the module's data/label shapes and runs it.

    Parameters
    ----------
    symbol : Symbol
    context : Context
    param_names : list of str
        The arguments that are parameters (everything but data, labels and states).
    for_training, inputs_need_grad : bool
    fixed_param_names : list of str
        Parameters bound without a gradient.
    grad_req : str, list or dict
        'write', 'add' or 'null' for every parameter (a list in list_arguments order or a dict
        by name overrides per argument).
    state_names : list of str
    """

    def __init__(self, symbol, context, param_names, for_training, inputs_need_grad,
                 fixed_param_names=None, grad_req="write", state_names=None):
        self.symbol = symbol
        self.context = context
        self.param_names = list(param_names)
        self.for_training = for_training
        self.inputs_need_grad = inputs_need_grad
        self.fixed_param_names = set(fixed_param_names or [])
        self.state_names = list(state_names or [])
        self.arg_names = symbol.list_arguments()
        self.aux_names = symbol.list_auxiliary_states()
        self.output_names = symbol.list_outputs()
        self.monitor = None
        self._grad_req_arg = grad_req
        self.execs = []  # the current executor, a list for MXNet's group interface
        self._exec_cache = {}
        self.data_names = []
        self.label_names = []

    # ------------------------------------------------------------------ grad_req
    def _grad_reqs(self, data_names):
        def default(name, req):
            if not self.for_training:
                return "null"
            if name in self.param_names:
                return "null" if name in self.fixed_param_names else req
            if name in data_names:
                return req if self.inputs_need_grad else "null"
            return "null"

        grad_req = self._grad_req_arg
        if isinstance(grad_req, str):
            reqs = {name: default(name, grad_req) for name in self.arg_names}
        elif isinstance(grad_req, (list, tuple)):
            if len(grad_req) != len(self.arg_names):
                raise ValueError("grad_req as a list needs one entry per argument (%d: %s), got %d"
                                 % (len(self.arg_names), self.arg_names, len(grad_req)))
            reqs = dict(zip(self.arg_names, grad_req)) if self.for_training else \
                {name: "null" for name in self.arg_names}
        elif isinstance(grad_req, dict):
            reqs = {name: default(name, "write") for name in self.arg_names}
            unknown = [k for k in grad_req if k not in reqs]
            if unknown:
                raise ValueError("grad_req names %s are not arguments of the symbol (%s)"
                                 % (unknown, self.arg_names))
            if self.for_training:
                reqs.update(grad_req)
        else:
            raise TypeError("grad_req must be a str, a list or a dict, got %s"
                            % type(grad_req).__name__)
        for name, req in reqs.items():
            if req not in _GRAD_REQS:
                raise ValueError("grad_req of '%s' must be one of %s, got %r"
                                 % (name, _GRAD_REQS, req))
        return reqs

    # ------------------------------------------------------------------ binding
    def _infer(self, input_shapes, input_types):
        """Shapes and dtypes of every argument, output and aux state, or an error naming what
        cannot be inferred from the input shapes."""
        sym = self.symbol
        try:
            arg_shapes, out_shapes, aux_shapes = sym.infer_shape_partial(**input_shapes)
        except Exception as err:  # re-raised with the shapes that were given
            raise type(err)("binding %s with input shapes %s: %s"
                            % (_sym_label(sym), dict(input_shapes), err)) from err

        def unknown(names, shapes):
            return [n for n, s in zip(names, shapes) if s is None or any(d < 0 for d in s)]
        missing = unknown(self.arg_names, arg_shapes) + unknown(self.aux_names, aux_shapes)
        if missing or unknown(self.output_names, out_shapes):
            raise ShapeError("binding %s: the shapes of %s cannot be inferred from the input "
                             "shapes %s; give them as data or label shapes"
                             % (_sym_label(sym), missing or self.output_names,
                                dict(input_shapes)))
        arg_types, _, aux_types = sym.infer_type_partial(**input_types)
        if any(t is None for t in list(arg_types) + list(aux_types)):
            # a graph without dtype information: MXNet's default, float32
            arg_types = [np.float32 if t is None else t for t in arg_types]
            aux_types = [np.float32 if t is None else t for t in aux_types]
        return ([tuple(s) for s in arg_shapes], [tuple(s) for s in out_shapes],
                [tuple(s) for s in aux_shapes], arg_types, aux_types)

    def _new_exec(self, input_shapes, input_types, shared):
        """An executor for input_shapes; parameters, gradients and aux states come from shared
        (an executor record) when given, else are allocated (zeros)."""
        arg_shapes, out_shapes, aux_shapes, arg_types, aux_types = self._infer(input_shapes,
                                                                                input_types)
        ctx = self.context
        args, grads, aux = OrderedDict(), OrderedDict(), OrderedDict()
        for name, shape, dtype in zip(self.arg_names, arg_shapes, arg_types):
            have = None
            if shared is not None and name not in input_shapes:
                have = shared["args"].get(name)
            if have is not None and tuple(have.shape) == shape:
                args[name] = have
                grads[name] = shared["grads"].get(name)
                continue
            if have is not None and name in self.param_names:
                raise ShapeError(
                    "binding %s for input shapes %s: parameter '%s' would need shape %s but is "
                    "bound with shape %s (only the input shapes may change)"
                    % (_sym_label(self.symbol), dict(input_shapes), name, shape,
                       tuple(have.shape)))
            args[name] = nd.zeros(shape, ctx=ctx, dtype=dtype)
            req = self.grad_req[name]
            grads[name] = nd.zeros(shape, ctx=ctx, dtype=dtype) if req != "null" else None
        for name, shape, dtype in zip(self.aux_names, aux_shapes, aux_types):
            have = shared["aux"].get(name) if shared is not None else None
            if have is None:
                aux[name] = nd.zeros(shape, ctx=ctx, dtype=dtype)
                continue
            if tuple(have.shape) != shape:
                raise ShapeError(
                    "binding %s for input shapes %s: auxiliary state '%s' would need shape %s but "
                    "is bound with shape %s" % (_sym_label(self.symbol), dict(input_shapes), name,
                                                shape, tuple(have.shape)))
            aux[name] = have
        reqs = {name: (self.grad_req[name] if grads[name] is not None else "null")
                for name in self.arg_names}
        exe = self.symbol.bind(ctx, args, args_grad={k: v for k, v in grads.items()
                                                    if v is not None},
                               grad_req=reqs, aux_states=aux)
        if self.monitor is not None:
            self.monitor.install(exe)
        return {"exec": exe, "args": args, "grads": grads, "aux": aux,
                "out_shapes": out_shapes,
                "inputs": [args[n] for n in self.data_names],
                "labels": [args[n] for n in self.label_names]}

    def bind_exec(self, data_shapes, label_shapes, shared_group=None, reshape=False):
        """Binds for data_shapes / label_shapes (DataDesc lists). reshape: switch the current
        executor to these shapes, sharing the parameters (an executor per shape set is kept)."""
        label_shapes = label_shapes or []
        self.data_names = [d.name for d in data_shapes]
        self.label_names = [d.name for d in label_shapes]
        self.data_shapes = data_shapes
        self.label_shapes = label_shapes
        self.batch_size = None
        for desc in data_shapes:
            axis = _batch_axis(desc)
            if axis >= 0:
                self.batch_size = desc.shape[axis]
                break
        input_shapes = OrderedDict((d.name, tuple(d.shape)) for d in data_shapes + label_shapes)
        input_types = {d.name: np.dtype(getattr(d, "dtype", np.float32)).name
                       for d in data_shapes + label_shapes}
        key = tuple(input_shapes.items()) + tuple(sorted(input_types.items()))
        if not reshape:
            self.grad_req = self._grad_reqs(self.data_names)
            shared = None
            if shared_group is not None:
                shared = shared_group._default
            rec = self._new_exec(input_shapes, input_types, shared)
            self._default = rec
            self._exec_cache = {key: rec}
        else:
            rec = self._exec_cache.get(key)
            if rec is None:
                rec = self._new_exec(input_shapes, input_types, self._default)
                self._exec_cache[key] = rec
        self._cur = rec
        self.execs = [rec["exec"]]
        self._data_arrays = rec["inputs"]
        self._label_arrays = rec["labels"]
        self._input_grads = [rec["grads"][n] for n in self.data_names]
        self._sync_arrays()

    def _sync_arrays(self):
        rec = self._default
        self.param_arrays = [[rec["args"][n]] for n in self.arg_names if n in self.param_names]
        self.grad_arrays = [[rec["grads"][n]] for n in self.arg_names if n in self.param_names]
        self.aux_arrays = [[rec["aux"][n]] for n in self.aux_names]
        self.state_arrays = [[rec["args"][n]] for n in self.state_names]

    def reshape(self, data_shapes, label_shapes):
        """Switches to new input shapes (same parameters)."""
        if data_shapes == self.data_shapes and (label_shapes or []) == self.label_shapes:
            return
        self.bind_exec(data_shapes, label_shapes, reshape=True)

    # ------------------------------------------------------------------ parameters
    def set_params(self, arg_params, aux_params, allow_extra=False):
        """Copies values (by name) into the bound parameters and auxiliary states."""
        rec = self._default
        for name, value in (arg_params or {}).items():
            if name in rec["args"]:
                _assign(rec["args"][name], value, "parameter", name)
            elif not allow_extra:
                raise ValueError("Find name \"%s\" that is not in the arguments of %s (pass "
                                 "allow_extra=True to ignore it)" % (name, _sym_label(self.symbol)))
        for name, value in (aux_params or {}).items():
            if name in rec["aux"]:
                _assign(rec["aux"][name], value, "auxiliary state", name)
            elif not allow_extra:
                raise ValueError("Find name \"%s\" that is not in the auxiliary states of %s "
                                 "(pass allow_extra=True to ignore it)"
                                 % (name, _sym_label(self.symbol)))

    def get_params(self, arg_params, aux_params):
        """Copies the bound values into the dicts' arrays (cast to their dtypes)."""
        rec = self._default
        for name in self.param_names:
            rec["args"][name].copyto(arg_params[name])
        for name in self.aux_names:
            rec["aux"][name].copyto(aux_params[name])

    # ------------------------------------------------------------------ computation
    def forward(self, data_batch, is_train=None):
        data = data_batch.data
        if len(data) != len(self._data_arrays):
            raise ValueError("forward: the batch has %d data arrays but the module was bound for "
                             "%d (%s)" % (len(data), len(self._data_arrays), self.data_names))
        for src, dst, name in zip(data, self._data_arrays, self.data_names):
            _assign(dst, src, "data", name)
        labels = data_batch.label
        if self._label_arrays and labels:
            if len(labels) != len(self._label_arrays):
                raise ValueError("forward: the batch has %d label arrays but the module was bound "
                                 "for %d (%s)" % (len(labels), len(self._label_arrays),
                                                  self.label_names))
            for src, dst, name in zip(labels, self._label_arrays, self.label_names):
                _assign(dst, src, "label", name)
        if is_train is None:
            is_train = self.for_training
        self.execs[0].forward(is_train=bool(is_train))

    def backward(self, out_grads=None):
        if not self.for_training:
            from .base_module import ModuleStateError
            raise ModuleStateError("backward: the module is bound for inference; re-bind with "
                                   "for_training=True to run backward")
        if out_grads is not None and not isinstance(out_grads, (list, tuple)):
            out_grads = [out_grads]
        self.execs[0].backward(out_grads=out_grads)

    def get_outputs(self, merge_multi_context=True):
        outputs = list(self.execs[0].outputs)
        if merge_multi_context:
            return outputs
        return [[o] for o in outputs]

    def get_input_grads(self, merge_multi_context=True):
        if merge_multi_context:
            return list(self._input_grads)
        return [[g] for g in self._input_grads]

    def get_states(self, merge_multi_context=True):
        states = [a[0] for a in self.state_arrays]
        return states if merge_multi_context else [[s] for s in states]

    def set_states(self, states=None, value=None):
        if states is not None:
            if value is not None:
                raise ValueError("set_states: give states or value, not both")
            if len(states) != len(self.state_arrays):
                raise ValueError("set_states: %d values for %d states (%s)"
                                 % (len(states), len(self.state_arrays), self.state_names))
            for src, dst, name in zip(states, self.state_arrays, self.state_names):
                if isinstance(src, (list, tuple)):
                    src = src[0]
                _assign(dst[0], src, "state", name)
        else:
            if value is None:
                raise ValueError("set_states: give states or value")
            for dst in self.state_arrays:
                dst[0][:] = value

    def get_output_shapes(self):
        return list(zip(self.output_names, self._cur["out_shapes"]))

    def update_metric(self, eval_metric, labels, pre_sliced=False):
        if pre_sliced:
            labels = labels[0]
        labels = list(labels or [])
        names = self.label_names if len(self.label_names) == len(labels) else \
            ["label%d" % i for i in range(len(labels))]
        eval_metric.update_dict(OrderedDict(zip(names, labels)),
                                OrderedDict(zip(self.output_names, self.get_outputs())))

    def install_monitor(self, mon):
        self.monitor = mon
        for rec in self._exec_cache.values():
            mon.install(rec["exec"])


def _sym_label(sym):
    try:
        name = sym.name
    except Exception:  # pylint: disable=broad-except
        name = None
    return "symbol '%s'" % name if name else "the symbol"
