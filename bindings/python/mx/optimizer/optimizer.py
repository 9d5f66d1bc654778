"""Optimizers (MXNet 1.x ``mxnet.optimizer`` API).

Python keeps the bookkeeping (learning rates, multipliers, update counts, states); each update of a
weight is one fused libmx op call with ``out=weight`` (``sgd_update``, ``sgd_mom_update``,
``nag_mom_update``, ``adam_update``, ``_adamw_update``, ``rmsprop_update``, ``rmspropalex_update``,
``_sparse_adagrad_update``, ``ftrl_update``, ``lamb_update_phase1``/``lamb_update_phase2``).
"""
import math
import pickle
import warnings

import numpy

from .. import ndarray as nd
from ..ndarray import NDArray

__all__ = ["Optimizer", "SGD", "NAG", "Adam", "AdamW", "RMSProp", "AdaGrad", "Ftrl", "LAMB",
           "Updater", "get_updater", "register", "create"]


def _zeros_like(weight, dtype=None):
    return nd.zeros(weight.shape, ctx=weight.context,
                    dtype=weight.dtype if dtype is None else dtype)


def _clip_kwargs(kwargs, clip_gradient):
    if clip_gradient is not None:
        kwargs["clip_gradient"] = clip_gradient
    return kwargs


class Optimizer:
    """The base class of all optimizers.

    Parameters
    ----------
    rescale_grad : float
        The gradient is multiplied by ``rescale_grad`` before the update (often ``1/batch_size``).
    param_idx2name : dict of int to str, optional
        Index -> parameter name, used by ``set_lr_mult``/``set_wd_mult``.
    wd : float
        Weight decay (L2 penalty ``0.5 * wd * w**2`` added to the loss).
    clip_gradient : float, optional
        Clip the (rescaled) gradient to ``[-clip_gradient, clip_gradient]``.
    learning_rate : float, optional
        The initial learning rate (0.01 when neither it nor a scheduler's ``base_lr`` is given).
    lr_scheduler : LRScheduler, optional
        Changes the learning rate with the number of updates.
    sym : Symbol, optional
        Reads ``__lr_mult__``/``__wd_mult__`` attributes of its arguments when it has ``attr_dict``.
    begin_num_update : int
        The update count to start from.
    multi_precision : bool
        With float16 weights, keep a float32 master copy that the update runs on.
    param_dict : dict of int to Parameter, optional
        Gluon Parameters, whose ``lr_mult``/``wd_mult`` then apply.
    """

    opt_registry = {}

    def __init__(self, rescale_grad=1., param_idx2name=None, wd=0., clip_gradient=None,
                 learning_rate=None, lr_scheduler=None, sym=None, begin_num_update=0,
                 multi_precision=False, param_dict=None):
        self.rescale_grad = rescale_grad
        self.lr_scheduler = lr_scheduler
        if self.lr_scheduler is None and learning_rate is None:
            learning_rate = 0.01
        self.lr = learning_rate
        if self.lr_scheduler is not None and learning_rate is not None:
            if self.lr_scheduler.base_lr != learning_rate:
                warnings.warn(UserWarning(
                    "learning rate from ``lr_scheduler`` has been overwritten by "
                    "``learning_rate`` in optimizer."))
            self.lr_scheduler.base_lr = learning_rate
        self.wd = wd
        self.lr_mult = {}
        self.wd_mult = {}
        self.begin_num_update = begin_num_update
        self.num_update = begin_num_update
        self._all_index_update_counts = {0: {}}
        self._index_update_count = self._all_index_update_counts[0]
        self.clip_gradient = clip_gradient
        self.multi_precision = multi_precision
        self.aggregate_num = 0
        if param_idx2name is None:
            param_idx2name = {}
        if not isinstance(param_idx2name, dict):
            raise ValueError("param_idx2name should be a dict of param indexes to names.")
        self.idx2name = param_idx2name.copy()
        self.sym_info = ((sym.attr_dict(), sym.list_arguments())
                         if sym is not None and hasattr(sym, "attr_dict") else ())
        self.param_dict = param_dict if param_dict else {}
        self.set_lr_mult({})
        self.set_wd_mult({})

    # ------------------------------------------------------------------ registry
    @staticmethod
    def register(klass):
        """Registers an Optimizer subclass under its lower-cased class name (a decorator)."""
        if not (isinstance(klass, type) and issubclass(klass, Optimizer)):
            raise TypeError("register expects an Optimizer subclass, got %r" % (klass,))
        name = klass.__name__.lower()
        if name in Optimizer.opt_registry:
            warnings.warn("WARNING: New optimizer %s.%s is overriding existing optimizer %s.%s"
                          % (klass.__module__, klass.__name__,
                             Optimizer.opt_registry[name].__module__,
                             Optimizer.opt_registry[name].__name__))
        Optimizer.opt_registry[name] = klass
        return klass

    @staticmethod
    def create_optimizer(name, **kwargs):
        """Creates a registered optimizer by (case-insensitive) name: ``create('sgd', momentum=0.9)``."""
        if not isinstance(name, str):
            raise TypeError("optimizer name must be a string, got %s" % type(name).__name__)
        key = name.lower()
        if key not in Optimizer.opt_registry:
            raise ValueError("Cannot find optimizer %s (registered: %s)"
                             % (name, ", ".join(sorted(Optimizer.opt_registry))))
        return Optimizer.opt_registry[key](**kwargs)

    # ------------------------------------------------------------------ states
    def create_state(self, index, weight):
        """The auxiliary state(s) of one weight (None, an NDArray or a tuple of them)."""
        return None

    def create_state_multi_precision(self, index, weight):
        """Like create_state; with multi_precision and a float16 weight, the state is
        ``(float32 master copy, create_state(index, master copy))``."""
        if self.multi_precision and weight.dtype == numpy.float16:
            master = weight.astype(numpy.float32)
            return (master, self.create_state(index, master))
        if weight.dtype == numpy.float16 and not self.multi_precision:
            warnings.warn("Accumulating with float16 in optimizer can lead to poor accuracy or slow "
                          "convergence. Consider using multi_precision=True option of the optimizer")
        return self.create_state(index, weight)

    def update(self, index, weight, grad, state):
        """Updates ``weight`` in place from ``grad`` and ``state``."""
        raise NotImplementedError("%s does not implement update" % type(self).__name__)

    def update_multi_precision(self, index, weight, grad, state):
        """update(), run on the float32 master copy for float16 weights with multi_precision."""
        if self.multi_precision and weight.dtype == numpy.float16:
            master, inner = state
            self.update(index, master, grad.astype(numpy.float32), inner)
            nd.cast(master, dtype=weight.dtype, out=weight)
        else:
            self.update(index, weight, grad, state)

    # ------------------------------------------------------------------ learning rate
    def set_learning_rate(self, lr):
        """Sets the learning rate (only without an lr_scheduler)."""
        if self.lr_scheduler is not None:
            raise UserWarning("LRScheduler of the optimizer has already been defined. Note that "
                              "set_learning_rate can mutate the value of the learning rate of the "
                              "optimizer only when the LRScheduler of the optimizer is undefined.")
        self.lr = lr

    @property
    def learning_rate(self):
        """The current learning rate (the scheduler's value at num_update if there is one)."""
        if self.lr_scheduler is not None:
            return self.lr_scheduler(self.num_update)
        return self.lr

    def set_lr_scale(self, args_lrscale):  # pylint: disable=unused-argument
        raise DeprecationWarning("set_lr_scale is deprecated: use set_lr_mult instead.")

    def _sym_mults(self, key):
        out = {}
        if self.sym_info:
            attr, arg_names = self.sym_info
            for name in arg_names:
                if name in attr and key in attr[name]:
                    out[name] = float(attr[name][key])
        return out

    def set_lr_mult(self, args_lr_mult):
        """Sets per-parameter learning-rate multipliers ({index or name: mult})."""
        self.lr_mult = self._sym_mults("__lr_mult__")
        self.lr_mult.update(args_lr_mult)

    def set_wd_mult(self, args_wd_mult):
        """Sets per-parameter weight-decay multipliers ({index or name: mult}). As in MXNet, names
        not ending in ``_weight`` or ``_gamma`` (biases, ...) default to 0."""
        self.wd_mult = {}
        for name in self.idx2name.values():
            if not (name.endswith("_weight") or name.endswith("_gamma")):
                self.wd_mult[name] = 0.0
        self.wd_mult.update(self._sym_mults("__wd_mult__"))
        self.wd_mult.update(args_wd_mult)

    def set_current_context(self, device_id):
        """Switches the per-device update counters."""
        if device_id not in self._all_index_update_counts:
            self._all_index_update_counts[device_id] = {}
        self._index_update_count = self._all_index_update_counts[device_id]

    def _update_count(self, index):
        indices = index if isinstance(index, (list, tuple)) else [index]
        for idx in indices:
            if idx not in self._index_update_count:
                self._index_update_count[idx] = self.begin_num_update
            self._index_update_count[idx] += 1
            self.num_update = max(self._index_update_count[idx], self.num_update)

    def _get_lrs(self, indices):
        lr = self.lr_scheduler(self.num_update) if self.lr_scheduler is not None else self.lr
        lrs = []
        for index in indices:
            mult = 1.0
            if index in self.param_dict:
                mult = self.param_dict[index].lr_mult
            elif index in self.lr_mult:
                mult = self.lr_mult[index]
            elif index in self.idx2name:
                mult = self.lr_mult.get(self.idx2name[index], 1.0)
            lrs.append(lr * mult)
        return lrs

    def _get_lr(self, index):
        return self._get_lrs([index])[0]

    def _get_wds(self, indices):
        wds = []
        for index in indices:
            mult = 1.0
            if index in self.param_dict:
                mult = self.param_dict[index].wd_mult
            elif index in self.wd_mult:
                mult = self.wd_mult[index]
            elif index in self.idx2name:
                mult = self.wd_mult.get(self.idx2name[index], 1.0)
            wds.append(self.wd * mult)
        return wds

    def _get_wd(self, index):
        return self._get_wds([index])[0]

    def _common_kwargs(self):
        return _clip_kwargs({"rescale_grad": self.rescale_grad}, self.clip_gradient)

    def __getstate__(self):
        ret = self.__dict__.copy()
        # Parameters are not pickled with the optimizer (as in MXNet); Trainer re-attaches them.
        ret["param_dict"] = {}
        return ret

    def __setstate__(self, state):
        self.__dict__ = state
        self.param_dict = {}


register = Optimizer.register
create = Optimizer.create_optimizer


@register
class SGD(Optimizer):
    """Stochastic gradient descent, optionally with momentum::

        rescaled_grad = clip(grad * rescale_grad, clip_gradient) + wd * weight
        state = momentum * state - lr * rescaled_grad      (momentum > 0)
        weight = weight + state

    ``lazy_update`` is accepted (it only matters for row_sparse gradients)."""

    def __init__(self, momentum=0.0, lazy_update=True, **kwargs):
        super().__init__(**kwargs)
        self.momentum = momentum
        self.lazy_update = lazy_update

    def create_state(self, index, weight):
        if self.momentum != 0.0:
            return _zeros_like(weight)
        return None

    def update(self, index, weight, grad, state):
        self._update_count(index)
        lr, wd = self._get_lr(index), self._get_wd(index)
        kw = self._common_kwargs()
        if state is not None:
            nd.sgd_mom_update(weight, grad, state, out=weight, lr=lr, wd=wd,
                              momentum=self.momentum, lazy_update=self.lazy_update, **kw)
        else:
            nd.sgd_update(weight, grad, out=weight, lr=lr, wd=wd,
                          lazy_update=self.lazy_update, **kw)


@register
class NAG(Optimizer):
    """Nesterov accelerated gradient::

        g = clip(grad * rescale_grad) + wd * weight
        state = momentum * state - lr * g
        weight = weight + momentum * state - lr * g
    """

    def __init__(self, momentum=0.0, **kwargs):
        super().__init__(**kwargs)
        self.momentum = momentum

    def create_state(self, index, weight):
        if self.momentum != 0.0:
            return _zeros_like(weight)
        return None

    def update(self, index, weight, grad, state):
        self._update_count(index)
        lr, wd = self._get_lr(index), self._get_wd(index)
        kw = self._common_kwargs()
        if state is not None:
            nd.nag_mom_update(weight, grad, state, out=weight, lr=lr, wd=wd,
                              momentum=self.momentum, **kw)
        else:
            nd.sgd_update(weight, grad, out=weight, lr=lr, wd=wd, **kw)


@register
class Adam(Optimizer):
    """Adam (Kingma & Ba). As in MXNet 1.x the bias corrections are folded into the learning rate:
    ``lr_t = lr * sqrt(1 - beta2**t) / (1 - beta1**t)``, then ``adam_update`` with lr_t."""

    def __init__(self, learning_rate=0.001, beta1=0.9, beta2=0.999, epsilon=1e-8,
                 lazy_update=True, **kwargs):
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.lazy_update = lazy_update

    def create_state(self, index, weight):
        return (_zeros_like(weight), _zeros_like(weight))

    def update(self, index, weight, grad, state):
        self._update_count(index)
        lr, wd = self._get_lr(index), self._get_wd(index)
        t = self._index_update_count[index]
        lr *= math.sqrt(1. - self.beta2 ** t) / (1. - self.beta1 ** t)
        mean, var = state
        nd.adam_update(weight, grad, mean, var, out=weight, lr=lr, wd=wd, beta1=self.beta1,
                       beta2=self.beta2, epsilon=self.epsilon, lazy_update=self.lazy_update,
                       **self._common_kwargs())


@register
class AdamW(Optimizer):
    """Adam with decoupled weight decay (Loshchilov & Hutter)::

        g = clip(grad * rescale_grad)
        m = beta1 * m + (1 - beta1) * g;  v = beta2 * v + (1 - beta2) * g**2
        weight -= lr * (c_t * m / (sqrt(v) + epsilon) + wd * weight)

    with ``c_t = sqrt(1 - beta2**t) / (1 - beta1**t)`` when ``correct_bias`` (else 1). ``lr`` is the
    scheduled learning rate times the parameter's lr_mult (the ``eta`` of ``_adamw_update``)."""

    def __init__(self, learning_rate=0.001, beta1=0.9, beta2=0.999, epsilon=1e-6,
                 correct_bias=True, **kwargs):
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.correct_bias = correct_bias
        self._rescale_cache = {}

    def create_state(self, index, weight):
        return (_zeros_like(weight), _zeros_like(weight))

    def _rescale_array(self, ctx):
        key = (str(ctx), float(self.rescale_grad))
        arr = self._rescale_cache.get(key)
        if arr is None:
            arr = nd.full((1,), float(self.rescale_grad), ctx=ctx, dtype="float32")
            self._rescale_cache = {key: arr}
        return arr

    def update(self, index, weight, grad, state):
        self._update_count(index)
        lr, wd = self._get_lr(index), self._get_wd(index)
        t = self._index_update_count[index]
        coef = 1.0
        if self.correct_bias:
            coef = math.sqrt(1. - self.beta2 ** t) / (1. - self.beta1 ** t)
        mean, var = state
        kw = _clip_kwargs({}, self.clip_gradient)
        nd.invoke("_adamw_update", [weight, grad, mean, var, self._rescale_array(weight.context)],
                  dict(lr=coef, eta=lr, wd=wd, beta1=self.beta1, beta2=self.beta2,
                       epsilon=self.epsilon, **kw), out=weight)

    def __getstate__(self):
        ret = super().__getstate__()
        ret["_rescale_cache"] = {}
        return ret


@register
class RMSProp(Optimizer):
    """RMSProp. ``centered=False``: Tieleman & Hinton (``rmsprop_update``, decay gamma1);
    ``centered=True``: Graves 2013 (``rmspropalex_update``, decays gamma1 and momentum gamma2).
    ``clip_weights`` clips the weights to ``[-clip_weights, clip_weights]`` after the update."""

    def __init__(self, learning_rate=0.001, gamma1=0.9, gamma2=0.9, epsilon=1e-8, centered=False,
                 clip_weights=None, **kwargs):
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.gamma1 = gamma1
        self.gamma2 = gamma2
        self.centered = centered
        self.epsilon = epsilon
        self.clip_weights = clip_weights

    def create_state(self, index, weight):
        if self.centered:
            return (_zeros_like(weight), _zeros_like(weight), _zeros_like(weight))
        return (_zeros_like(weight),)

    def update(self, index, weight, grad, state):
        self._update_count(index)
        lr, wd = self._get_lr(index), self._get_wd(index)
        kw = dict(self._common_kwargs(), gamma1=self.gamma1, epsilon=self.epsilon)
        if self.clip_weights:
            kw["clip_weights"] = self.clip_weights
        if self.centered:
            n, g, delta = state
            nd.rmspropalex_update(weight, grad, n, g, delta, out=weight, lr=lr, wd=wd,
                                  gamma2=self.gamma2, **kw)
        else:
            (n,) = state
            nd.rmsprop_update(weight, grad, n, out=weight, lr=lr, wd=wd, **kw)


@register
class AdaGrad(Optimizer):
    """AdaGrad::

        g = clip(grad * rescale_grad)
        history += g**2
        weight -= lr * (g / sqrt(history + eps) + wd * weight)

    ``eps`` is MXNet 1.x's name (``epsilon`` is accepted as well)."""

    def __init__(self, eps=1e-7, **kwargs):
        if "epsilon" in kwargs:
            eps = kwargs.pop("epsilon")
        super().__init__(**kwargs)
        self.float_stable_eps = eps

    def create_state(self, index, weight):
        return _zeros_like(weight)

    def update(self, index, weight, grad, state):
        self._update_count(index)
        lr, wd = self._get_lr(index), self._get_wd(index)
        if wd != 0.0:
            # The fused op has no weight decay: the decay term is its own (libmx) op on the
            # weight as it was before the step, weight -= lr*wd*weight_old.
            decay = weight * (-lr * wd)
            nd.invoke("_sparse_adagrad_update", [weight, grad, state],
                      dict(lr=lr, epsilon=self.float_stable_eps, **self._common_kwargs()),
                      out=weight)
            weight += decay
        else:
            nd.invoke("_sparse_adagrad_update", [weight, grad, state],
                      dict(lr=lr, epsilon=self.float_stable_eps, **self._common_kwargs()),
                      out=weight)


@register
class Ftrl(Optimizer):
    """FTRL-Proximal (McMahan et al.)::

        g = clip(grad * rescale_grad)
        z += g - (sqrt(n + g**2) - sqrt(n)) * weight / lr
        n += g**2
        weight = (sign(z) * lamda1 - z) / ((beta + sqrt(n)) / lr + wd) * (|z| > lamda1)
    """

    def __init__(self, lamda1=0.01, learning_rate=0.1, beta=1, **kwargs):
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.lamda1 = lamda1
        self.beta = beta

    def create_state(self, index, weight):
        return (_zeros_like(weight), _zeros_like(weight))  # z, n

    def update(self, index, weight, grad, state):
        self._update_count(index)
        lr, wd = self._get_lr(index), self._get_wd(index)
        z, n = state
        nd.ftrl_update(weight, grad, z, n, out=weight, lr=lr, wd=wd, lamda1=self.lamda1,
                       beta=self.beta, **self._common_kwargs())


@register
class LAMB(Optimizer):
    """LAMB (You et al.): Adam direction plus wd, scaled per layer by ``||w|| / ||direction||``
    (``lamb_update_phase1`` then ``lamb_update_phase2``; the norms are ``norm`` op calls).
    ``lower_bound``/``upper_bound`` clamp ``||w||`` when given."""

    def __init__(self, learning_rate=0.001, beta1=0.9, beta2=0.999, epsilon=1e-6,
                 lower_bound=None, upper_bound=None, bias_correction=True, **kwargs):
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.lower_bound = lower_bound
        self.upper_bound = upper_bound
        self.bias_correction = bias_correction

    def create_state(self, index, weight):
        return (_zeros_like(weight), _zeros_like(weight))

    def update(self, index, weight, grad, state):
        self._update_count(index)
        lr, wd = self._get_lr(index), self._get_wd(index)
        t = self._index_update_count[index]
        mean, var = state
        g = nd.lamb_update_phase1(weight, grad, mean, var, wd=wd, beta1=self.beta1,
                                  beta2=self.beta2, epsilon=self.epsilon, t=t,
                                  bias_correction=self.bias_correction, **self._common_kwargs())
        kw = {}
        if self.lower_bound:
            kw["lower_bound"] = self.lower_bound
        if self.upper_bound:
            kw["upper_bound"] = self.upper_bound
        r1 = nd.norm(weight).reshape((1,))
        r2 = nd.norm(g).reshape((1,))
        nd.lamb_update_phase2(weight, g, r1, r2, out=weight, lr=lr, **kw)


# ---------------------------------------------------------------------- Updater
def _state_to_numpy(state):
    if isinstance(state, NDArray):
        return ("nd", state.asnumpy(), str(state.context))
    if isinstance(state, (tuple, list)):
        return ("seq", type(state) is tuple, [_state_to_numpy(s) for s in state])
    return ("py", state)


def _state_from_numpy(obj, ctx=None):
    kind = obj[0]
    if kind == "nd":
        return nd.array(obj[1], ctx=ctx, dtype=obj[1].dtype)
    if kind == "seq":
        items = [_state_from_numpy(s, ctx) for s in obj[2]]
        return tuple(items) if obj[1] else items
    return obj[1]


class Updater:
    """Applies an optimizer to (index, grad, weight) triples, creating each index's state on first
    use. ``get_states``/``set_states`` serialize the states (numpy arrays, pickled), optionally
    with the optimizer."""

    def __init__(self, optimizer):
        self.optimizer = optimizer
        self.states = {}
        self.states_synced = {}
        self.aggregate_updates = optimizer.aggregate_num > 1

    def __call__(self, index, grad, weight):
        if not isinstance(index, (list, tuple)):
            indices, grads, weights = [index], [grad], [weight]
        else:
            indices, grads, weights = list(index), list(grad), list(weight)
            if not len(indices) == len(grads) == len(weights):
                raise ValueError("Updater: index, grad and weight lists differ in length "
                                 "(%d, %d, %d)" % (len(indices), len(grads), len(weights)))
        for i, idx in enumerate(indices):
            if idx not in self.states:
                self.states[idx] = self.optimizer.create_state_multi_precision(idx, weights[i])
                self.states_synced[idx] = True
            elif not self.states_synced[idx]:
                self.states[idx] = self.sync_state_context(self.states[idx], weights[i].context)
                self.states_synced[idx] = True
        for idx, g, w in zip(indices, grads, weights):
            self.optimizer.update_multi_precision(idx, w, g, self.states[idx])

    def sync_state_context(self, state, context):
        """Moves a state (NDArray, tuple/list of them, or None) to ``context``."""
        if isinstance(state, NDArray):
            return state.as_in_context(context)
        if isinstance(state, (tuple, list)):
            synced = [self.sync_state_context(s, context) for s in state]
            return tuple(synced) if isinstance(state, tuple) else synced
        return state

    def set_states(self, states):
        """Loads states (the bytes of get_states)."""
        obj = pickle.loads(states)
        if not (isinstance(obj, tuple) and len(obj) == 3 and obj[0] == "mx-updater-states"):
            raise ValueError("set_states: not an optimizer state blob written by get_states")
        self.states = {k: _state_from_numpy(v) for k, v in obj[1].items()}
        if obj[2] is not None:
            self.optimizer = obj[2]
        self.states_synced = dict.fromkeys(self.states.keys(), False)

    def get_states(self, dump_optimizer=False):
        """The states as bytes (numpy arrays, pickled); with the optimizer if dump_optimizer."""
        states = {k: _state_to_numpy(v) for k, v in self.states.items()}
        return pickle.dumps(("mx-updater-states", states,
                             self.optimizer if dump_optimizer else None))


def get_updater(optimizer):
    """An Updater applying ``optimizer``."""
    return Updater(optimizer)
