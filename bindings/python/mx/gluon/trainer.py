"""``gluon.Trainer``: applies an Optimizer to a set of Parameters (MXNet 1.x API).

On one device no key-value store is involved (as in MXNet, where ``kvstore='device'`` with a single
context creates none). With several contexts and a kvstore, the gradients of each parameter are
summed across contexts (libmx copies and adds) and the sum is written back to every context before
each context's copy is updated, which is what MXNet's local kvstore computes.
"""
from .. import optimizer as opt
from .parameter import Parameter, ParameterDict

__all__ = ["Trainer"]


def _ctx_key(ctx):
    return (ctx.device_type, ctx.device_id)


class Trainer:
    """Applies an Optimizer on a set of Parameters. Trainer should be used together with
    ``autograd``.

    Parameters
    ----------
    params : ParameterDict, dict of Parameters, or list of Parameters
        The parameters to optimize (a dict is taken in sorted-key order).
    optimizer : str or Optimizer
        The optimizer, e.g. ``'sgd'``, or an Optimizer instance.
    optimizer_params : dict, optional
        Keyword arguments of the optimizer (with a str optimizer only), e.g.
        ``{'learning_rate': 0.1}``.
    kvstore : str or None
        ``'device'``/``'local'`` (gradients summed across contexts) or None (no reduction).
        Distributed kvstores are not supported.
    compression_params : dict, optional
        Gradient compression needs a distributed kvstore: only None is accepted.
    update_on_kvstore : bool, optional
        Whether updates run on the kvstore. With a single context there is no kvstore and it is
        ignored, as in MXNet. With several contexts it defaults to True, and ``allreduce_grads``/
        ``update`` then refuse as in MXNet (set it to False to use them).
    """

    def __init__(self, params, optimizer, optimizer_params=None, kvstore="device",
                 compression_params=None, update_on_kvstore=None):
        if isinstance(params, (dict, ParameterDict)):
            params = [params[key] for key in sorted(list(params.keys()))]
        if not isinstance(params, (list, tuple)):
            raise ValueError("First argument must be a list or dict of Parameters, got %s."
                             % (type(params)))
        self._params = []
        self._param2idx = {}
        seen = set()
        for i, param in enumerate(params):
            if not isinstance(param, Parameter):
                raise ValueError("First argument must be a list or dict of Parameters, got list "
                                 "of %s." % (type(param)))
            if id(param) in seen:  # a shared Parameter is updated once
                continue
            seen.add(id(param))
            self._param2idx[param.name] = i
            self._params.append(param)
            setter = getattr(param, "_set_trainer", None)
            if setter is not None:
                setter(self)
            else:
                param._trainer = self
        if compression_params is not None:
            raise NotImplementedError("Trainer: compression_params needs a distributed kvstore, "
                                      "which is not supported")
        self._compression_params = compression_params
        self._contexts = self._check_contexts()
        optimizer_params = optimizer_params if optimizer_params else {}
        self._init_optimizer(optimizer, optimizer_params)
        self._scale = self._optimizer.rescale_grad
        self._check_kvstore_arg(kvstore)
        self._kvstore_params = {"kvstore": kvstore, "update_on_kvstore": update_on_kvstore}
        self._kv_initialized = False
        self._kvstore = None
        self._update_on_kvstore = None
        self._distributed = False
        self._params_to_init = []
        self._reset_kvstore()

    # ------------------------------------------------------------------ setup
    @staticmethod
    def _check_kvstore_arg(kvstore):
        if kvstore is None or kvstore is False:
            return
        if not isinstance(kvstore, str):
            raise NotImplementedError("Trainer: a KVStore object as kvstore is not supported; "
                                      "pass 'device', 'local' or None")
        if "dist" in kvstore or kvstore.startswith("horovod") or kvstore.startswith("byteps"):
            raise NotImplementedError("Trainer: distributed kvstore '%s' is not supported "
                                      "(single-process training only)" % kvstore)
        if kvstore not in ("device", "local", "local_update_cpu", "local_allreduce_cpu",
                           "local_allreduce_device", "nccl"):
            raise ValueError("Trainer: unknown kvstore type '%s'" % kvstore)

    def _check_contexts(self):
        contexts = None
        for param in self._params:
            try:
                ctx = list(param.list_ctx())
            except RuntimeError:
                continue  # not initialized yet: checked again at the first step
            if contexts is not None and list(map(_ctx_key, contexts)) != list(
                    map(_ctx_key, ctx)):
                raise ValueError("All Parameters must be initialized on the same set of "
                                 "contexts, but Parameter %s is initialized on %s while previous "
                                 "Parameters are initialized on %s."
                                 % (param.name, str(ctx), str(contexts)))
            contexts = ctx
        return contexts if contexts is not None else []

    def _init_optimizer(self, optimizer, optimizer_params):
        param_dict = {i: param for i, param in enumerate(self._params)}
        if isinstance(optimizer, opt.Optimizer):
            if optimizer_params:
                raise ValueError("optimizer_params must be None if optimizer is an instance of "
                                 "Optimizer instead of str")
            self._optimizer = optimizer
            self._optimizer.param_dict = param_dict
        else:
            self._optimizer = opt.create(optimizer, param_dict=param_dict, **optimizer_params)
        self._updaters = [opt.get_updater(self._optimizer)
                          for _ in (self._contexts or [None])]

    def _reset_kvstore(self):
        self._kv_initialized = False
        self._kvstore = None
        self._distributed = False
        self._update_on_kvstore = None
        self._params_to_init = list(self._params)

    def _init_kvstore(self):
        contexts = self._check_contexts()
        if contexts and (not self._contexts or list(map(_ctx_key, contexts)) != list(
                map(_ctx_key, self._contexts))):
            self._contexts = contexts
            self._updaters = [opt.get_updater(self._optimizer) for _ in self._contexts]
        config = self._kvstore_params
        kv = config["kvstore"]
        if kv and len(self._contexts) > 1:
            self._kvstore = kv  # reduction across contexts, done here by libmx copies and adds
            uok = config["update_on_kvstore"]
            self._update_on_kvstore = True if uok is None else bool(uok)
        else:
            self._kvstore = None
            self._update_on_kvstore = None
        self._kv_initialized = True

    def _init_params(self):
        self._params_to_init = [p for p in self._params
                                if p._data is None and getattr(p, "_deferred_init", ())]

    # ------------------------------------------------------------------ learning rate
    @property
    def learning_rate(self):
        if not isinstance(self._optimizer, opt.Optimizer):
            raise UserWarning("Optimizer has to be defined before its learning rate can be "
                              "accessed.")
        return self._optimizer.learning_rate

    @property
    def optimizer(self):
        if isinstance(self._optimizer, opt.Optimizer):
            return self._optimizer
        raise UserWarning("Optimizer has not been initialized yet")

    def set_learning_rate(self, lr):
        """Sets a new learning rate of the optimizer."""
        if not isinstance(self._optimizer, opt.Optimizer):
            raise UserWarning("Optimizer has to be defined before its learning rate is mutated.")
        self._optimizer.set_learning_rate(lr)

    # ------------------------------------------------------------------ steps
    def step(self, batch_size, ignore_stale_grad=False):
        """One optimization step: gradients are scaled by ``1/batch_size`` (times the optimizer's
        initial rescale_grad), reduced across contexts, and applied.

        Parameters
        ----------
        batch_size : int
            Batch size of data processed; the gradient is normalized by ``1/batch_size``.
        ignore_stale_grad : bool
            If False (default), a Parameter whose gradient was not computed by backward since the
            last step raises; if True, such Parameters are skipped.
        """
        rescale_grad = self._scale / batch_size
        self._check_and_rescale_grad(rescale_grad)
        if not self._kv_initialized:
            self._init_kvstore()
        if self._params_to_init:
            self._init_params()
        self._allreduce_grads()
        self._update(ignore_stale_grad)

    def _check_and_rescale_grad(self, scale):
        self._optimizer.rescale_grad = scale

    def allreduce_grads(self):
        """Sums the gradients across contexts (for gradient clipping etc. between the reduction
        and ``update``). Not available when updates run on the kvstore."""
        if not self._kv_initialized:
            self._init_kvstore()
        if self._params_to_init:
            self._init_params()
        if self._kvstore and self._update_on_kvstore:
            raise AssertionError("allreduce_grads() when parameters are updated on kvstore is not "
                                 "supported. Try setting `update_on_kvstore` to False when "
                                 "creating trainer.")
        self._allreduce_grads()

    def _allreduce_grads(self):
        if not self._kvstore:
            return
        for param in self._params:
            if param.grad_req == "null" or param._data is None:
                continue
            grads = param.list_grad()
            if len(grads) < 2:
                continue
            ctx0 = grads[0].context
            total = grads[0].copy()
            for g in grads[1:]:
                total += g.as_in_context(ctx0)
            for g in grads:
                total.copyto(g)

    def update(self, batch_size, ignore_stale_grad=False):
        """Applies the optimizer to the (already reduced) gradients, scaled by
        ``1/batch_size``; use after ``allreduce_grads``."""
        if not self._kv_initialized:
            self._init_kvstore()
        if self._params_to_init:
            self._init_params()
        if self._kvstore and self._update_on_kvstore:
            raise AssertionError("update() when parameters are updated on kvstore is not "
                                 "supported. Try setting `update_on_kvstore` to False when "
                                 "creating trainer.")
        self._check_and_rescale_grad(self._scale / batch_size)
        self._update(ignore_stale_grad)

    def _update(self, ignore_stale_grad=False):
        updates = [[] for _ in self._updaters]
        for i, param in enumerate(self._params):
            if param.grad_req == "null":
                continue
            if param._data is None and ignore_stale_grad:
                continue  # never initialized (deferred and never run forward): nothing to update
            datas = param.list_data()
            if not ignore_stale_grad:
                for data in datas:
                    if not data._fresh_grad:
                        raise UserWarning(
                            "Gradient of Parameter `%s` on context %s has not been updated by "
                            "backward since last `step`. This could mean a bug in your model "
                            "that made it only use a subset of the Parameters (Blocks) for this "
                            "iteration. If you are intentionally only using a subset, call step "
                            "with ignore_stale_grad=True to suppress this warning and skip "
                            "updating of Parameters with stale gradient"
                            % (param.name, str(data.context)))
            for upd, arr, grad in zip(updates, datas, param.list_grad()):
                if not ignore_stale_grad or arr._fresh_grad:
                    upd.append((i, grad, arr))
                    arr._fresh_grad = False
        for dev_id, (updater, upd) in enumerate(zip(self._updaters, updates)):
            if upd:
                self._optimizer.set_current_context(dev_id)
                idx, grads, arrs = zip(*upd)
                updater(list(idx), list(grads), list(arrs))
        self._optimizer.set_current_context(0)

    # ------------------------------------------------------------------ states
    def save_states(self, fname):
        """Saves the optimizer (updater) states, with the optimizer, to a file."""
        if self._optimizer is None:
            raise RuntimeError("Trainer.save_states: no optimizer")
        if not self._kv_initialized:
            self._init_kvstore()
        if self._params_to_init:
            self._init_params()
        with open(fname, "wb") as fout:
            fout.write(self._updaters[0].get_states(dump_optimizer=True))

    def load_states(self, fname):
        """Loads the optimizer (updater) states written by save_states."""
        if not self._kv_initialized:
            self._init_kvstore()
        if self._params_to_init:
            self._init_params()
        with open(fname, "rb") as f:
            states = f.read()
        for updater in self._updaters:
            updater.set_states(states)
            updater.optimizer = self._updaters[0].optimizer
        self._optimizer = self._updaters[0].optimizer
        self._optimizer.param_dict = {i: param for i, param in enumerate(self._params)}
