"""``Module``: a Symbol with its parameters, bound on one device, trained by an optimizer
(MXNet 1.x ``mxnet.module.Module``)."""
import logging
import warnings

from .. import context as ctx
from .. import ndarray as nd
from .. import optimizer as opt
from ..initializer import InitDesc, Uniform
from ..io import DataDesc
from ..model import (_create_kvstore, _initialize_kvstore, _update_params,
                     _update_params_on_kvstore, load_checkpoint)
from .base_module import (BaseModule, ModuleStateError, _check_input_names, _parse_data_desc)
from .executor_group import ExecutorGroup

__all__ = ["Module"]


def _name_list(names, what):
    if names is None:
        return []
    if isinstance(names, str):
        return [names]
    names = list(names)
    for n in names:
        if not isinstance(n, str):
            raise TypeError("%s must be str names, got %r" % (what, n))
    return names


class Module(BaseModule):
    """A module over one Symbol.

    Parameters
    ----------
    symbol : Symbol
    data_names : list of str
        The inputs fed from a batch's ``data`` (default ``('data',)``).
    label_names : list of str or None
        The inputs fed from a batch's ``label`` (default ``('softmax_label',)``; None for none).
    logger : Logger
    context : Context or list of one Context
        The device (several devices are not supported).
    work_load_list : list of number, optional
        Only meaningful with several devices; must be None or one entry.
    fixed_param_names : list of str, optional
        Parameters that are not updated (bound without gradient).
    state_names : list of str, optional
        Inputs that are neither data nor label: set through ``set_states``, kept across batches.
    group2ctxs, compression_params :
        Model-parallel groups and gradient compression need several devices or a distributed
        kvstore; only None is accepted.
    """

    def __init__(self, symbol, data_names=("data",), label_names=("softmax_label",),
                 logger=logging, context=ctx.cpu(), work_load_list=None, fixed_param_names=None,
                 state_names=None, group2ctxs=None, compression_params=None):
        super().__init__(logger=logger)
        if isinstance(context, ctx.Context):
            context = [context]
        context = list(context)
        if len(context) != 1:
            raise NotImplementedError(
                "Module: data parallelism over several contexts (%s) is not supported; give one "
                "context" % (context,))
        if not isinstance(context[0], ctx.Context):
            raise TypeError("Module: context must be a Context, got %r" % (context[0],))
        self._context = context
        if work_load_list is not None and len(work_load_list) != 1:
            raise NotImplementedError("Module: work_load_list splits a batch over several "
                                      "devices, which is not supported")
        if group2ctxs is not None:
            raise NotImplementedError("Module: group2ctxs (model parallelism over several "
                                      "devices) is not supported")
        if compression_params is not None:
            raise NotImplementedError("Module: compression_params (gradient compression of a "
                                      "distributed kvstore) is not supported")
        if not all(hasattr(symbol, m) for m in ("list_arguments", "list_outputs",
                                                "list_auxiliary_states")):
            raise TypeError("Module: symbol must be an mx.sym.Symbol, got %s"
                            % type(symbol).__name__)
        self._symbol = symbol
        self._work_load_list = work_load_list

        data_names = _name_list(data_names, "data_names")
        label_names = _name_list(label_names, "label_names")
        state_names = _name_list(state_names, "state_names")
        fixed_param_names = _name_list(fixed_param_names, "fixed_param_names")
        _check_input_names(symbol, data_names, "data", True)
        _check_input_names(symbol, label_names, "label", False)
        _check_input_names(symbol, state_names, "state", True)
        _check_input_names(symbol, fixed_param_names, "fixed_param", True)

        arg_names = symbol.list_arguments()
        input_names = data_names + label_names + state_names
        self._param_names = [x for x in arg_names if x not in input_names]
        self._fixed_param_names = fixed_param_names
        self._aux_names = symbol.list_auxiliary_states()
        self._data_names = data_names
        self._label_names = label_names
        self._state_names = state_names
        self._output_names = symbol.list_outputs()

        self._arg_params = None
        self._aux_params = None
        self._params_dirty = False
        self._compression_params = compression_params
        self._optimizer = None
        self._kvstore = None
        self._update_on_kvstore = None
        self._updater = None
        self._preload_opt_states = None
        self._grad_req = None
        self._exec_group = None
        self._data_shapes = None
        self._label_shapes = None
        self._update_lists = None

    # ------------------------------------------------------------------ checkpoints
    @staticmethod
    def load(prefix, epoch, load_optimizer_states=False, **kwargs):
        """A Module from a checkpoint (``prefix-symbol.json``, ``prefix-%04d.params``); kwargs go
        to the constructor. Bind it before use; with load_optimizer_states the optimizer states
        of ``prefix-%04d.states`` are loaded by init_optimizer."""
        sym, args, auxs = load_checkpoint(prefix, epoch)
        mod = Module(symbol=sym, **kwargs)
        mod._arg_params = args
        mod._aux_params = auxs
        mod.params_initialized = True
        if load_optimizer_states:
            mod._preload_opt_states = "%s-%04d.states" % (prefix, epoch)
        return mod

    def save_checkpoint(self, prefix, epoch, save_optimizer_states=False, remove_amp_cast=True):
        """Writes ``prefix-symbol.json``, ``prefix-%04d.params`` and, optionally, the optimizer
        states ``prefix-%04d.states``."""
        del remove_amp_cast
        self._symbol.save("%s-symbol.json" % prefix)
        param_name = "%s-%04d.params" % (prefix, epoch)
        self.save_params(param_name)
        logging.info('Saved checkpoint to "%s"', param_name)
        if save_optimizer_states:
            state_name = "%s-%04d.states" % (prefix, epoch)
            self.save_optimizer_states(state_name)
            logging.info('Saved optimizer state to "%s"', state_name)

    def _reset_bind(self):
        self.binded = False
        self._exec_group = None
        self._data_shapes = None
        self._label_shapes = None
        self._update_lists = None

    # ------------------------------------------------------------------ information
    @property
    def data_names(self):
        return self._data_names

    @property
    def label_names(self):
        return self._label_names

    @property
    def output_names(self):
        return self._output_names

    @property
    def data_shapes(self):
        """The DataDesc list the module is bound for."""
        self._require("data_shapes")
        return self._data_shapes

    @property
    def label_shapes(self):
        """The label DataDesc list the module is bound for (None when bound without labels)."""
        self._require("label_shapes")
        return self._label_shapes

    @property
    def output_shapes(self):
        """``[(output name, shape)]`` for the current input shapes."""
        self._require("output_shapes")
        return self._exec_group.get_output_shapes()

    # ------------------------------------------------------------------ parameters
    def get_params(self):
        """``(arg_params, aux_params)``: CPU copies of the parameters, synced from the device."""
        self._require("get_params", params=True)
        if self._params_dirty:
            self._sync_params_from_devices()
        return (self._arg_params, self._aux_params)

    def init_params(self, initializer=Uniform(0.01), arg_params=None, aux_params=None,
                    allow_missing=False, force_init=False, allow_extra=False):
        """Initializes the parameters and auxiliary states: values in arg_params/aux_params are
        copied, the others drawn by initializer (only with allow_missing when the dicts are
        given). Ignored (with a warning) when already initialized, unless force_init."""
        if self.params_initialized and not force_init:
            warnings.warn("Parameters already initialized and force_init=False. init_params call "
                          "ignored.", stacklevel=2)
            return
        self._require("init_params")

        def _impl(desc, arr, cache, kind):
            if cache is not None:
                if desc in cache:
                    value = cache[desc]
                    if value is not arr:
                        _copy_param(value, arr, kind, desc)
                    return
                if not allow_missing:
                    raise RuntimeError("%s is not presented: %s '%s' has no value in the given "
                                       "%s_params (pass allow_missing=True to initialize it)"
                                       % (desc, kind, desc, "arg" if kind == "parameter"
                                          else "aux"))
            if initializer is None:
                raise RuntimeError("%s '%s' has no value and no initializer was given"
                                   % (kind, desc))
            initializer(desc, arr)

        attrs = self._symbol.attr_dict() if hasattr(self._symbol, "attr_dict") else {}
        for name, arr in sorted(self._arg_params.items()):
            _impl(InitDesc(name, attrs.get(name, None)), arr, arg_params, "parameter")
        for name, arr in sorted(self._aux_params.items()):
            _impl(InitDesc(name, attrs.get(name, None)), arr, aux_params, "auxiliary state")

        self.params_initialized = True
        self._params_dirty = False
        self._exec_group.set_params(self._arg_params, self._aux_params, allow_extra=allow_extra)

    def set_params(self, arg_params, aux_params, allow_missing=False, force_init=True,
                   allow_extra=False):
        """Assigns parameter and aux state values (copied). Without allow_missing every parameter
        must be given; names the module does not have are errors unless allow_extra."""
        if not allow_missing:
            if not allow_extra:
                self._check_extra(arg_params, aux_params)
            self.init_params(initializer=None, arg_params=arg_params, aux_params=aux_params,
                             allow_missing=allow_missing, force_init=force_init,
                             allow_extra=allow_extra)
            return
        if self.params_initialized and not force_init:
            warnings.warn("Parameters already initialized and force_init=False. set_params call "
                          "ignored.", stacklevel=2)
            return
        self._require("set_params")
        self._exec_group.set_params(arg_params, aux_params, allow_extra=allow_extra)
        # the CPU copies are refreshed from the device at the next get_params
        self._params_dirty = True
        self.params_initialized = True

    def _check_extra(self, arg_params, aux_params):
        arg_names = set(self._symbol.list_arguments())
        extra = [k for k in (arg_params or {}) if k not in arg_names]
        extra += [k for k in (aux_params or {}) if k not in self._aux_names]
        if extra:
            raise ValueError("set_params: %s are neither parameters nor auxiliary states of the "
                             "module (pass allow_extra=True to ignore them)" % sorted(extra))

    def _sync_params_from_devices(self):
        self._exec_group.get_params(self._arg_params, self._aux_params)
        if self._kvstore is not None and self._update_on_kvstore:
            for name in sorted(self._arg_params):
                self._kvstore.pull(name, self._arg_params[name])
        self._params_dirty = False

    # ------------------------------------------------------------------ bind
    def bind(self, data_shapes, label_shapes=None, for_training=True, inputs_need_grad=False,
             force_rebind=False, shared_module=None, grad_req="write"):
        """Allocates the executor for the given input shapes (DataDesc or (name, shape) lists).

        for_training: gradients are allocated (grad_req per parameter, 'null' for fixed ones);
        inputs_need_grad: the data inputs get gradients too (get_input_grads). A bound module
        ignores bind (with a warning) unless force_rebind. shared_module: a bound module whose
        parameter arrays this one uses (same parameters, other input shapes).
        """
        if force_rebind:
            if self.binded and self.params_initialized and self._params_dirty:
                self._sync_params_from_devices()  # the new executor starts from current values
            self._reset_bind()
        if self.binded:
            self.logger.warning("Already bound, ignoring bind()")
            return
        if not for_training and inputs_need_grad:
            raise ValueError("bind: inputs_need_grad=True needs for_training=True")
        self.for_training = for_training
        self.inputs_need_grad = inputs_need_grad
        self._grad_req = grad_req

        data_shapes, label_shapes = _parse_data_desc(self.data_names, self.label_names,
                                                     data_shapes, label_shapes)
        shared_group = None
        if shared_module is not None:
            if not isinstance(shared_module, Module):
                raise TypeError("bind: shared_module must be a Module, got %s"
                                % type(shared_module).__name__)
            if not (shared_module.binded and shared_module.params_initialized):
                raise ModuleStateError("bind: shared_module must be bound and have its "
                                       "parameters initialized")
            shared_group = shared_module._exec_group

        group = ExecutorGroup(self._symbol, self._context[0], self._param_names, for_training,
                              inputs_need_grad, fixed_param_names=self._fixed_param_names,
                              grad_req=grad_req, state_names=self._state_names)
        group.bind_exec(data_shapes, label_shapes, shared_group)
        self._data_shapes, self._label_shapes = data_shapes, label_shapes
        self._exec_group = group
        self._update_lists = None
        self.binded = True

        if shared_module is not None:
            self.params_initialized = True
            self._arg_params = shared_module._arg_params
            self._aux_params = shared_module._aux_params
        elif self.params_initialized:
            # parameters given before bind (Module.load) or kept over a rebind
            self._check_loaded_params()
            group.set_params(self._arg_params, self._aux_params, allow_extra=True)
            self._own_param_copies()
        else:
            self._arg_params = {name: nd.zeros(arr[0].shape, dtype=arr[0].dtype)
                                for name, arr in zip(self._param_names, group.param_arrays)}
            self._aux_params = {name: nd.zeros(arr[0].shape, dtype=arr[0].dtype)
                                for name, arr in zip(self._aux_names, group.aux_arrays)}

        if shared_module is not None and shared_module.optimizer_initialized:
            self.borrow_optimizer(shared_module)

    def _check_loaded_params(self):
        missing = [n for n in self._param_names if n not in self._arg_params]
        missing += [n for n in self._aux_names if n not in self._aux_params]
        if missing:
            raise RuntimeError("bind: the module's parameters lack %s, which the symbol needs"
                               % sorted(missing))

    def _own_param_copies(self):
        """CPU copies of exactly the module's parameters, refreshed from the device on use."""
        group = self._exec_group
        self._arg_params = {n: nd.zeros(a[0].shape, dtype=a[0].dtype)
                            for n, a in zip(self._param_names, group.param_arrays)}
        self._aux_params = {n: nd.zeros(a[0].shape, dtype=a[0].dtype)
                            for n, a in zip(self._aux_names, group.aux_arrays)}
        self._params_dirty = True

    def reshape(self, data_shapes, label_shapes=None):
        """Switches the bound module to new input shapes (typically another batch size)."""
        self._require("reshape")
        data_shapes, label_shapes = _parse_data_desc(self.data_names, self.label_names,
                                                     data_shapes, label_shapes)
        self._exec_group.reshape(data_shapes, label_shapes)
        self._data_shapes, self._label_shapes = data_shapes, label_shapes

    # ------------------------------------------------------------------ optimizer
    def init_optimizer(self, kvstore="local", optimizer="sgd",
                       optimizer_params=(("learning_rate", 0.01),), force_init=False):
        """Installs the optimizer (a name with optimizer_params, or an Optimizer). For a name,
        rescale_grad defaults to 1 / batch_size."""
        self._require("init_optimizer", params=True)
        if self.optimizer_initialized and not force_init:
            warnings.warn("optimizer already initialized, ignoring...", stacklevel=2)
            return
        if self._params_dirty:
            self._sync_params_from_devices()

        kvstore, update_on_kvstore = _create_kvstore(kvstore, len(self._context),
                                                     self._arg_params)
        batch_size = self._exec_group.batch_size or 1
        if kvstore is not None and "dist" in getattr(kvstore, "type", "") and \
                "_sync" in kvstore.type:
            batch_size *= kvstore.num_workers
        rescale_grad = 1.0 / batch_size

        idx2name = {}
        if update_on_kvstore:
            idx2name.update(enumerate(self._param_names))
        else:
            for k in range(len(self._context)):
                idx2name.update({i * len(self._context) + k: n
                                 for i, n in enumerate(self._param_names)})
        if isinstance(optimizer, str):
            optimizer_params = dict(optimizer_params)
            if "rescale_grad" not in optimizer_params:
                optimizer_params["rescale_grad"] = rescale_grad
            optimizer = opt.create(optimizer, sym=self.symbol, param_idx2name=idx2name,
                                   **optimizer_params)
        else:
            if not isinstance(optimizer, opt.Optimizer):
                raise TypeError("init_optimizer: optimizer must be a name or an "
                                "mx.optimizer.Optimizer, got %s" % type(optimizer).__name__)
            if optimizer.rescale_grad != rescale_grad:
                warnings.warn("Optimizer created manually outside Module but rescale_grad is not "
                              "normalized to 1.0/batch_size/num_workers (%s vs. %s). Is this "
                              "intended?" % (optimizer.rescale_grad, rescale_grad), stacklevel=2)

        self._optimizer = optimizer
        self._kvstore = kvstore
        self._update_on_kvstore = update_on_kvstore
        self._updater = None
        if kvstore is not None:
            if self._compression_params:
                kvstore.set_gradient_compression(self._compression_params)
            if update_on_kvstore:
                kvstore.set_optimizer(self._optimizer)
            _initialize_kvstore(kvstore=kvstore, param_arrays=self._exec_group.param_arrays,
                                arg_params=self._arg_params, param_names=self._param_names,
                                update_on_kvstore=update_on_kvstore)
        if not update_on_kvstore:
            self._updater = opt.get_updater(optimizer)
        self.optimizer_initialized = True

        if self._preload_opt_states is not None:
            self.load_optimizer_states(self._preload_opt_states)
            self._preload_opt_states = None

    def borrow_optimizer(self, shared_module):
        """Uses shared_module's optimizer, kvstore and updater (their states included)."""
        if not shared_module.optimizer_initialized:
            raise ModuleStateError("borrow_optimizer: the shared module has no optimizer")
        self._optimizer = shared_module._optimizer
        self._kvstore = shared_module._kvstore
        self._update_on_kvstore = shared_module._update_on_kvstore
        self._updater = shared_module._updater
        self.optimizer_initialized = True

    def save_optimizer_states(self, fname):
        """Writes the optimizer states (the updater's bytes) to fname."""
        self._require("save_optimizer_states", params=True, optimizer=True)
        if self._update_on_kvstore:
            self._kvstore.save_optimizer_states(fname)
            return
        with open(fname, "wb") as fout:
            fout.write(self._updater.get_states())

    def load_optimizer_states(self, fname):
        """Loads optimizer states written by save_optimizer_states."""
        self._require("load_optimizer_states", params=True, optimizer=True)
        if self._update_on_kvstore:
            self._kvstore.load_optimizer_states(fname)
            return
        with open(fname, "rb") as fin:
            self._updater.set_states(fin.read())

    # ------------------------------------------------------------------ computation
    def forward(self, data_batch, is_train=None):
        """Runs the network on data_batch (is_train None: the bind's for_training). A batch of
        other shapes switches the module to them first (same parameters)."""
        self._require("forward", params=True)
        data = getattr(data_batch, "data", None)
        if not isinstance(data, (list, tuple)):
            raise TypeError("forward: data_batch must be a DataBatch with a list of data arrays, "
                            "got %s" % type(data_batch).__name__)
        curr = self._data_shapes
        if len(data) != len(curr):
            raise ValueError("forward: the batch has %d data arrays but the module's data_names "
                             "are %s" % (len(data), self._data_names))
        if any(tuple(d.shape) != tuple(c.shape) for d, c in zip(data, curr)):
            provide_data = getattr(data_batch, "provide_data", None)
            if provide_data:
                new_dshape = provide_data
            else:
                new_dshape = [DataDesc(c.name, tuple(d.shape), c.dtype, c.layout)
                              for c, d in zip(curr, data)]
            provide_label = getattr(data_batch, "provide_label", None)
            label = getattr(data_batch, "label", None)
            if provide_label:
                new_lshape = provide_label
            elif label and self._label_shapes:
                new_lshape = [DataDesc(c.name, tuple(l.shape), c.dtype, c.layout)
                              for c, l in zip(self._label_shapes, label)]
            else:
                new_lshape = None
            self.reshape(new_dshape, new_lshape)
        self._exec_group.forward(data_batch, is_train)
        if self._aux_names and (self.for_training if is_train is None else is_train):
            self._params_dirty = True  # training mode moved the aux states (BatchNorm statistics)

    def backward(self, out_grads=None):
        """Back-propagates from the outputs (out_grads: head gradients for outputs that are not
        losses)."""
        self._require("backward", params=True)
        self._exec_group.backward(out_grads=out_grads)

    def update(self):
        """Updates the parameters from the gradients of the last backward."""
        self._require("update", params=True, optimizer=True)
        self._params_dirty = True
        group = self._exec_group
        if self._update_on_kvstore:
            _update_params_on_kvstore(group.param_arrays, group.grad_arrays, self._kvstore,
                                      self._param_names)
            return
        if self._kvstore is not None:
            _update_params(group.param_arrays, group.grad_arrays, updater=self._updater,
                           num_device=len(self._context), kvstore=self._kvstore,
                           param_names=self._param_names)
            return
        lists = self._update_lists
        if lists is None:
            # built once per bind: the (index, grad, weight) triples of the trainable parameters
            idx, grads, weights = [], [], []
            for i, (w, g) in enumerate(zip(group.param_arrays, group.grad_arrays)):
                if g[0] is not None:
                    idx.append(i)
                    grads.append(g[0])
                    weights.append(w[0])
            lists = self._update_lists = (idx, grads, weights)
        if lists[0]:
            self._updater(lists[0], lists[1], lists[2])

    def get_outputs(self, merge_multi_context=True):
        """The outputs of the last forward (NDArrays, overwritten by the next forward)."""
        self._require("get_outputs", params=True)
        return self._exec_group.get_outputs(merge_multi_context=merge_multi_context)

    def get_input_grads(self, merge_multi_context=True):
        """The gradients of the data inputs (bind with inputs_need_grad=True)."""
        self._require("get_input_grads", params=True)
        if not self.inputs_need_grad:
            raise ModuleStateError("get_input_grads: bind with inputs_need_grad=True to get the "
                                   "input gradients")
        return self._exec_group.get_input_grads(merge_multi_context=merge_multi_context)

    def get_states(self, merge_multi_context=True):
        """The arrays of the state inputs (state_names)."""
        self._require("get_states", params=True)
        return self._exec_group.get_states(merge_multi_context=merge_multi_context)

    def set_states(self, states=None, value=None):
        """Sets the states from arrays (states) or to a scalar (value)."""
        self._require("set_states", params=True)
        self._exec_group.set_states(states, value)

    def update_metric(self, eval_metric, labels, pre_sliced=False):
        """Accumulates eval_metric over the last forward's outputs and labels."""
        self._require("update_metric")
        self._exec_group.update_metric(eval_metric, labels, pre_sliced)

    def install_monitor(self, mon):
        """Installs a monitor (``mon.install(executor)``) on the executors."""
        self._require("install_monitor")
        self._exec_group.install_monitor(mon)


def _copy_param(value, arr, kind, name):
    shape = tuple(value.shape) if hasattr(value, "shape") else None
    if shape != tuple(arr.shape):
        from ..base import ShapeError
        raise ShapeError("%s '%s': the given value has shape %s but the symbol needs %s"
                         % (kind, name, shape, tuple(arr.shape)))
    if isinstance(value, nd.NDArray):
        value.copyto(arr)
    else:
        arr[:] = value
