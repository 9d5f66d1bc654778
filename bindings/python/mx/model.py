"""Model checkpoints and the training helpers of MXNet 1.x's ``mxnet.model``.

A checkpoint is two files: ``prefix-symbol.json`` (the graph, MXNet's nnvm JSON) and
``prefix-%04d.params`` (an NDArray dict whose keys are ``arg:<name>`` for arguments and
``aux:<name>`` for auxiliary states), exactly what MXNet 1.9 reads and writes.

The kvstore helpers are the protocol the Module API speaks to a KVStore (``init``, ``push``,
``pull``, ``set_optimizer``); with one device and a ``'local'``/``'device'`` store none is needed
and the updates run directly through an ``mx.optimizer.Updater``.
"""
import logging
import os
from collections import namedtuple

from . import ndarray as nd
from .context import cpu
from .ndarray import NDArray

__all__ = ["BatchEndParam", "save_checkpoint", "load_checkpoint", "load_params"]

BatchEndParam = namedtuple("BatchEndParams", ["epoch", "nbatch", "eval_metric", "locals"])
"""What a batch-end callback receives: epoch, batch number, the EvalMetric and the caller's locals."""


def _symbol_module():
    # Imported on use: mx.symbol imports parts of mx that may import this module.
    from . import symbol
    return symbol


def _params_dict(arg_params, aux_params):
    save_dict = {}
    for prefix, params in (("arg", arg_params), ("aux", aux_params)):
        for name, value in (params or {}).items():
            if not isinstance(value, NDArray):
                raise TypeError("save_checkpoint: %s_params[%r] must be an NDArray, got %s"
                                % (prefix, name, type(value).__name__))
            save_dict["%s:%s" % (prefix, name)] = value.as_in_context(cpu())
    return save_dict


def save_checkpoint(prefix, epoch, symbol, arg_params, aux_params, remove_amp_cast=True):
    """Writes ``prefix-symbol.json`` (skipped when symbol is None) and ``prefix-%04d.params``.

    Parameters
    ----------
    prefix : str
        Path prefix of the two files.
    epoch : int
        The epoch number, written into the params file name.
    symbol : Symbol or None
    arg_params, aux_params : dict of str to NDArray
        Saved under ``arg:<name>`` / ``aux:<name>`` (copied to the CPU first).
    remove_amp_cast : bool
        Accepted for MXNet compatibility; the graphs MX writes hold no AMP casts to remove.
    """
    del remove_amp_cast  # nothing to remove: MX inserts no amp_cast nodes
    if symbol is not None:
        symbol.save("%s-symbol.json" % prefix)
    param_name = "%s-%04d.params" % (prefix, int(epoch))
    nd.save(param_name, _params_dict(arg_params, aux_params))
    logging.info('Saved checkpoint to "%s"', param_name)


def _split_params(save_dict, fname):
    arg_params, aux_params = {}, {}
    if isinstance(save_dict, list):
        if not save_dict:
            return arg_params, aux_params
        raise ValueError("params file %s holds unnamed arrays; a checkpoint stores a dict with "
                         "arg:/aux: names" % fname)
    for key, value in save_dict.items():
        kind, sep, name = key.partition(":")
        if not sep or kind not in ("arg", "aux"):
            raise ValueError("params file %s: key %r is neither 'arg:<name>' nor 'aux:<name>'"
                             % (fname, key))
        (arg_params if kind == "arg" else aux_params)[name] = value
    return arg_params, aux_params


def load_params(prefix, epoch):
    """``(arg_params, aux_params)`` from ``prefix-%04d.params``."""
    fname = "%s-%04d.params" % (prefix, int(epoch))
    save_dict = nd.load(fname)
    if not save_dict:
        logging.warning("Params file '%s' is empty", fname)
    return _split_params(save_dict, fname)


def load_checkpoint(prefix, epoch):
    """``(symbol, arg_params, aux_params)`` from ``prefix-symbol.json`` and ``prefix-%04d.params``
    (files written by ``save_checkpoint`` here or by MXNet)."""
    symbol = _symbol_module().load("%s-symbol.json" % prefix)
    arg_params, aux_params = load_params(prefix, epoch)
    return (symbol, arg_params, aux_params)


# ---------------------------------------------------------------------- kvstore protocol
def _create_kvstore(kvstore, num_device, arg_params):
    """``(kvstore or None, update_on_kvstore)`` for a kvstore argument (str, KVStore or None).

    With one device and a non-distributed type no store is needed (the updater runs locally), as
    in MXNet. A KVStore object is used through its ``init``/``push``/``pull``/``set_optimizer``.
    """
    update_on_kvstore = os.environ.get("MXNET_UPDATE_ON_KVSTORE", "1") != "0"
    if kvstore is None:
        kv = None
    elif isinstance(kvstore, str):
        if num_device == 1 and "dist" not in kvstore:
            kv = None
        else:
            try:
                from . import kvstore as kvs
            except ImportError:
                raise NotImplementedError(
                    "kvstore=%r needs mx.kvstore, which this build of the Python package does "
                    "not have; use kvstore='local' with one context" % (kvstore,)) from None
            kv = kvs.create(kvstore)
            if kvstore == "local":
                sizes = [int(p.size) for p in arg_params.values()]
                if sizes and max(sizes) > 1024 * 1024 * 16:
                    update_on_kvstore = False
    elif all(hasattr(kvstore, m) for m in ("init", "push", "pull")):
        kv = kvstore
    else:
        raise TypeError("kvstore must be a KVStore, a str or None, got %s"
                        % type(kvstore).__name__)
    if kv is None:
        update_on_kvstore = False
    return (kv, update_on_kvstore)


def _initialize_kvstore(kvstore, param_arrays, arg_params, param_names, update_on_kvstore):
    """Puts every parameter into the store; with update_on_kvstore pulls them back to the devices."""
    for idx, param_on_devs in enumerate(param_arrays):
        name = param_names[idx]
        kvstore.init(name, arg_params[name])
        if update_on_kvstore:
            kvstore.pull(name, param_on_devs, priority=-idx)


def _update_params_on_kvstore(param_arrays, grad_arrays, kvstore, param_names):
    """The store runs the optimizer: push the gradients, pull the updated weights."""
    for index, (arg_list, grad_list) in enumerate(zip(param_arrays, grad_arrays)):
        if grad_list[0] is None:
            continue
        name = param_names[index]
        kvstore.push(name, grad_list, priority=-index)
        kvstore.pull(name, arg_list, priority=-index)


def _update_params(param_arrays, grad_arrays, updater, num_device, kvstore=None,
                   param_names=None):
    """Aggregates gradients through the store when there is one, then runs ``updater`` on each
    (index, grad, weight) with index ``param_index * num_device + device``."""
    indices, grads, weights = [], [], []
    for index, (arg_list, grad_list) in enumerate(zip(param_arrays, grad_arrays)):
        if grad_list[0] is None:
            continue
        if kvstore is not None:
            name = param_names[index]
            kvstore.push(name, grad_list, priority=-index)
            kvstore.pull(name, grad_list, priority=-index)
        for k, (w, g) in enumerate(zip(arg_list, grad_list)):
            indices.append(index * num_device + k)
            grads.append(g)
            weights.append(w)
    if indices:
        updater(indices, grads, weights)


def _multiple_callbacks(callbacks, *args, **kwargs):
    """Calls one callback or each of a list of them."""
    if isinstance(callbacks, (list, tuple)):
        for cb in callbacks:
            cb(*args, **kwargs)
        return
    if callbacks:
        callbacks(*args, **kwargs)
