"""``BaseModule``: the module interface of MXNet 1.x and the loops written once on top of it
(``fit``, ``score``, ``predict``, ``iter_predict``, ``save_params``/``load_params``).

A module is driven through four states: created -> ``bind`` (executors for input shapes) ->
``init_params`` (parameter values) -> ``init_optimizer`` (can ``update``). Each call checks that
the earlier states were reached and says which call is missing.
"""
import logging
import time
import warnings

import numpy as np

from .. import metric
from .. import ndarray as nd
from ..base import MXNetError
from ..context import cpu
from ..initializer import Uniform
from ..io import DataBatch, DataDesc, DataIter
from ..model import BatchEndParam

__all__ = ["BaseModule", "ModuleStateError"]


class ModuleStateError(MXNetError, AssertionError):
    """A module method was called before the module reached the state it needs (bound, parameters
    initialized, optimizer initialized). It is also an AssertionError, which is what MXNet raises
    in these cases."""


def _as_list(obj):
    if isinstance(obj, (list, tuple)):
        return list(obj)
    return [obj]


def _check_input_names(symbol, names, typename, throw):
    """Every name must be an argument of the symbol (an error, or a warning when not throw)."""
    args = symbol.list_arguments()
    for name in names:
        if name in args:
            continue
        candidates = [a for a in args if not a.endswith(("_weight", "_bias", "_gamma", "_beta"))]
        msg = ("You created Module with Module(..., %s_names=%s) but input with name '%s' is not "
               "found in symbol.list_arguments(). Did you mean one of:\n\t%s"
               % (typename, list(names), name, "\n\t".join(candidates)))
        if throw:
            raise ValueError(msg)
        warnings.warn(msg)


def _check_names_match(data_names, data_shapes, name, throw):
    actual = [x[0] for x in data_shapes]
    if sorted(data_names) != sorted(actual):
        msg = ("Data provided by %s_shapes don't match names specified by %s_names (%s vs. %s)"
               % (name, name, [tuple(x) for x in data_shapes], list(data_names)))
        if throw:
            raise ValueError(msg)
        warnings.warn(msg)


def _as_desc(x, what):
    if isinstance(x, DataDesc):
        return x
    try:
        name, shape = x[0], x[1]
    except (TypeError, IndexError, KeyError):
        raise TypeError("%s must be DataDesc or (name, shape) pairs, got %r" % (what, x)) from None
    if not isinstance(name, str):
        raise TypeError("%s: the name must be a str, got %r" % (what, name))
    try:
        shape = tuple(int(d) for d in shape)
    except TypeError:
        raise TypeError("%s: the shape of %r must be a tuple of ints, got %r"
                        % (what, name, shape)) from None
    return DataDesc(name, shape, *x[2:])


def _parse_data_desc(data_names, label_names, data_shapes, label_shapes):
    """DataDesc lists of data_shapes / label_shapes, checked against the module's names."""
    if isinstance(data_shapes, (DataDesc,)) or (isinstance(data_shapes, tuple) and data_shapes
                                               and isinstance(data_shapes[0], str)):
        data_shapes = [data_shapes]
    data_shapes = [_as_desc(x, "data_shapes") for x in data_shapes]
    _check_names_match(data_names, data_shapes, "data", True)
    if label_shapes is not None:
        if isinstance(label_shapes, DataDesc) or (isinstance(label_shapes, tuple) and label_shapes
                                                  and isinstance(label_shapes[0], str)):
            label_shapes = [label_shapes]
        label_shapes = [_as_desc(x, "label_shapes") for x in label_shapes]
        _check_names_match(label_names, label_shapes, "label", False)
    else:
        _check_names_match(label_names, [], "label", False)
    return data_shapes, label_shapes


class BaseModule:
    """The module interface. Subclasses implement binding, parameters and computation; the
    training and evaluation loops here use only that interface."""

    def __init__(self, logger=logging):
        self.logger = logger
        self.binded = False
        self.for_training = False
        self.inputs_need_grad = False
        self.params_initialized = False
        self.optimizer_initialized = False
        self._symbol = None
        self._total_exec_bytes = 0

    # ------------------------------------------------------------------ state checks
    def _require(self, what, bound=True, params=False, optimizer=False):
        if bound and not self.binded:
            raise ModuleStateError("%s: the module is not bound; call bind() first" % what)
        if params and not self.params_initialized:
            raise ModuleStateError("%s: the parameters are not initialized; call init_params() "
                                   "or set_params() first" % what)
        if optimizer and not self.optimizer_initialized:
            raise ModuleStateError("%s: the optimizer is not initialized; call init_optimizer() "
                                   "first" % what)

    # ------------------------------------------------------------------ high-level API
    def forward_backward(self, data_batch):
        """forward(is_train=True) then backward()."""
        self.forward(data_batch, is_train=True)
        self.backward()

    def score(self, eval_data, eval_metric, num_batch=None, batch_end_callback=None,
              score_end_callback=None, reset=True, epoch=0, sparse_row_id_fn=None):
        """Runs the module over eval_data (inference mode) and returns the metric's
        ``[(name, value)]``. As in MXNet, the samples of a padded last batch are counted."""
        self._require("score", params=True)
        if reset:
            eval_data.reset()
        if not isinstance(eval_metric, metric.EvalMetric):
            eval_metric = metric.create(eval_metric)
        eval_metric.reset()
        actual_num_batch = 0
        for nbatch, eval_batch in enumerate(eval_data):
            if num_batch is not None and nbatch == num_batch:
                break
            self.prepare(eval_batch, sparse_row_id_fn=sparse_row_id_fn)
            self.forward(eval_batch, is_train=False)
            if isinstance(eval_batch, list):
                self.update_metric(eval_metric, [eb.label for eb in eval_batch], pre_sliced=True)
            else:
                self.update_metric(eval_metric, eval_batch.label)
            if batch_end_callback is not None:
                params = BatchEndParam(epoch=epoch, nbatch=nbatch, eval_metric=eval_metric,
                                       locals=locals())
                for callback in _as_list(batch_end_callback):
                    callback(params)
            actual_num_batch += 1
        if score_end_callback:
            params = BatchEndParam(epoch=epoch, nbatch=actual_num_batch, eval_metric=eval_metric,
                                   locals=locals())
            for callback in _as_list(score_end_callback):
                callback(params)
        return eval_metric.get_name_value()

    def iter_predict(self, eval_data, num_batch=None, reset=True, sparse_row_id_fn=None):
        """Yields ``(outputs, nbatch, batch)`` per batch; the outputs lose the batch's padding.
        The outputs are views of the module's output arrays, valid until the next forward."""
        self._require("iter_predict", params=True)
        if reset:
            eval_data.reset()
        for nbatch, eval_batch in enumerate(eval_data):
            if num_batch is not None and nbatch == num_batch:
                break
            self.prepare(eval_batch, sparse_row_id_fn=sparse_row_id_fn)
            self.forward(eval_batch, is_train=False)
            pad = eval_batch.pad or 0
            outputs = [out[0:out.shape[0] - pad] for out in self.get_outputs()]
            yield (outputs, nbatch, eval_batch)

    def predict(self, eval_data, num_batch=None, merge_batches=True, reset=True,
                always_output_list=False, sparse_row_id_fn=None):
        """Runs inference and collects the outputs (NDArrays), without the padded samples.

        eval_data is a DataIter, or one NDArray / numpy array (one batch, first output returned).
        With merge_batches, each output is the concatenation over the batches (the single output
        itself when there is one and not always_output_list); otherwise a list per batch.
        """
        self._require("predict", params=True)
        if isinstance(eval_data, (nd.NDArray, np.ndarray)):
            if isinstance(eval_data, np.ndarray):
                eval_data = nd.array(eval_data)
            self.forward(DataBatch([eval_data]), is_train=False)
            return self.get_outputs()[0]
        if not isinstance(eval_data, DataIter):
            raise ValueError("predict: eval_data must be a DataIter, an NDArray or a numpy array, "
                             "got %s" % type(eval_data).__name__)
        if reset:
            eval_data.reset()
        output_list = []
        for nbatch, eval_batch in enumerate(eval_data):
            if num_batch is not None and nbatch == num_batch:
                break
            self.prepare(eval_batch, sparse_row_id_fn=sparse_row_id_fn)
            self.forward(eval_batch, is_train=False)
            pad = eval_batch.pad or 0
            output_list.append([out[0:out.shape[0] - pad].copy() for out in self.get_outputs()])
        if not output_list:
            return output_list
        if merge_batches:
            num_outputs = len(output_list[0])
            for out in output_list:
                if len(out) != num_outputs:
                    raise ValueError("predict: cannot merge batches, the number of outputs "
                                     "differs between batches (%d vs %d); use "
                                     "merge_batches=False" % (num_outputs, len(out)))
            merged = [nd.concatenate([out[i] for out in output_list], axis=0,
                                     always_copy=False) for i in range(num_outputs)]
            if num_outputs == 1 and not always_output_list:
                return merged[0]
            return merged
        return output_list

    def fit(self, train_data, eval_data=None, eval_metric="acc", epoch_end_callback=None,
            batch_end_callback=None, kvstore="local", optimizer="sgd",
            optimizer_params=(("learning_rate", 0.01),), eval_end_callback=None,
            eval_batch_end_callback=None, initializer=Uniform(0.01), arg_params=None,
            aux_params=None, allow_missing=False, force_rebind=False, force_init=False,
            begin_epoch=0, num_epoch=None, validation_metric=None, monitor=None,
            sparse_row_id_fn=None):
        """Trains the module: binds to train_data's shapes, initializes the parameters (unless
        already done) and the optimizer, then runs num_epoch - begin_epoch epochs of
        forward/backward/update, calling the callbacks and scoring eval_data after each epoch.

        epoch_end_callback(epoch, symbol, arg_params, aux_params); batch_end_callback,
        eval_batch_end_callback and eval_end_callback get a BatchEndParam.
        """
        if num_epoch is None:
            raise ValueError("fit: please specify number of epochs (num_epoch)")
        self.bind(data_shapes=train_data.provide_data, label_shapes=train_data.provide_label,
                  for_training=True, force_rebind=force_rebind)
        if monitor is not None:
            self.install_monitor(monitor)
        self.init_params(initializer=initializer, arg_params=arg_params, aux_params=aux_params,
                         allow_missing=allow_missing, force_init=force_init)
        self.init_optimizer(kvstore=kvstore, optimizer=optimizer,
                            optimizer_params=optimizer_params)
        if validation_metric is None:
            validation_metric = eval_metric
        if not isinstance(eval_metric, metric.EvalMetric):
            eval_metric = metric.create(eval_metric)

        for epoch in range(begin_epoch, num_epoch):
            tic = time.time()
            eval_metric.reset()
            nbatch = 0
            data_iter = iter(train_data)
            end_of_batch = False
            try:
                next_data_batch = next(data_iter)
            except StopIteration:
                end_of_batch = True
            while not end_of_batch:
                data_batch = next_data_batch
                if monitor is not None:
                    monitor.tic()
                self.forward_backward(data_batch)
                self.update()
                if isinstance(data_batch, list):
                    self.update_metric(eval_metric, [db.label for db in data_batch],
                                       pre_sliced=True)
                else:
                    self.update_metric(eval_metric, data_batch.label)
                try:
                    next_data_batch = next(data_iter)
                    self.prepare(next_data_batch, sparse_row_id_fn=sparse_row_id_fn)
                except StopIteration:
                    end_of_batch = True
                if monitor is not None:
                    monitor.toc_print()
                if batch_end_callback is not None:
                    params = BatchEndParam(epoch=epoch, nbatch=nbatch, eval_metric=eval_metric,
                                           locals=locals())
                    for callback in _as_list(batch_end_callback):
                        callback(params)
                nbatch += 1

            for name, val in eval_metric.get_global_name_value():
                self.logger.info("Epoch[%d] Train-%s=%f", epoch, name, val)
            toc = time.time()
            self.logger.info("Epoch[%d] Time cost=%.3f", epoch, toc - tic)

            # the trained values, synced from the executor (one device: nothing to average back)
            arg_params_, aux_params_ = self.get_params()
            if epoch_end_callback is not None:
                for callback in _as_list(epoch_end_callback):
                    callback(epoch, self.symbol, arg_params_, aux_params_)

            if eval_data is not None:
                res = self.score(eval_data, validation_metric,
                                 score_end_callback=eval_end_callback,
                                 batch_end_callback=eval_batch_end_callback, epoch=epoch)
                for name, val in res:
                    self.logger.info("Epoch[%d] Validation-%s=%f", epoch, name, val)

            train_data.reset()

    # ------------------------------------------------------------------ symbol information
    @property
    def data_names(self):
        raise NotImplementedError()

    @property
    def output_names(self):
        raise NotImplementedError()

    @property
    def data_shapes(self):
        raise NotImplementedError()

    @property
    def label_shapes(self):
        raise NotImplementedError()

    @property
    def output_shapes(self):
        raise NotImplementedError()

    @property
    def symbol(self):
        """The symbol this module runs."""
        return self._symbol

    # ------------------------------------------------------------------ parameters
    def get_params(self):
        raise NotImplementedError()

    def init_params(self, initializer=Uniform(0.01), arg_params=None, aux_params=None,
                    allow_missing=False, force_init=False, allow_extra=False):
        raise NotImplementedError()

    def set_params(self, arg_params, aux_params, allow_missing=False, force_init=True,
                   allow_extra=False):
        """Sets the parameter and auxiliary state values (copied)."""
        self.init_params(initializer=None, arg_params=arg_params, aux_params=aux_params,
                         allow_missing=allow_missing, force_init=force_init,
                         allow_extra=allow_extra)

    def save_params(self, fname):
        """Saves the parameters as an NDArray dict with ``arg:``/``aux:`` names."""
        arg_params, aux_params = self.get_params()
        save_dict = {"arg:%s" % k: v.as_in_context(cpu()) for k, v in arg_params.items()}
        save_dict.update({"aux:%s" % k: v.as_in_context(cpu()) for k, v in aux_params.items()})
        nd.save(fname, save_dict)

    def load_params(self, fname):
        """Loads parameters written by save_params (or MXNet) and sets them."""
        save_dict = nd.load(fname)
        arg_params, aux_params = {}, {}
        items = save_dict.items() if isinstance(save_dict, dict) else []
        if isinstance(save_dict, list) and save_dict:
            raise ValueError("Invalid param file %s: unnamed arrays (expected arg:/aux: names)"
                             % fname)
        for k, value in items:
            arg_type, sep, name = k.partition(":")
            if not sep:
                raise ValueError("Invalid param file %s: key %r has no arg:/aux: prefix"
                                 % (fname, k))
            if arg_type == "arg":
                arg_params[name] = value
            elif arg_type == "aux":
                aux_params[name] = value
            else:
                raise ValueError("Invalid param file %s: key %r has no arg:/aux: prefix"
                                 % (fname, k))
        self.set_params(arg_params, aux_params)

    def get_states(self, merge_multi_context=True):
        """The values of the states (inputs given by state_names); none by default."""
        self._require("get_states", params=True)
        del merge_multi_context
        return []

    def set_states(self, states=None, value=None):
        """Sets the state values; a module without states accepts nothing."""
        self._require("set_states", params=True)
        if states or value is not None:
            raise ValueError("set_states: this module has no states")

    def install_monitor(self, mon):
        raise NotImplementedError()

    # ------------------------------------------------------------------ computation
    def prepare(self, data_batch, sparse_row_id_fn=None):
        """Prepares for a batch (a no-op for dense parameters on one device)."""
        if sparse_row_id_fn is not None:
            warnings.warn("sparse_row_id_fn is not used: MX modules hold dense parameters only")

    def forward(self, data_batch, is_train=None):
        raise NotImplementedError()

    def backward(self, out_grads=None):
        raise NotImplementedError()

    def get_outputs(self, merge_multi_context=True):
        raise NotImplementedError()

    def get_input_grads(self, merge_multi_context=True):
        raise NotImplementedError()

    def update(self):
        raise NotImplementedError()

    def update_metric(self, eval_metric, labels, pre_sliced=False):
        raise NotImplementedError()

    # ------------------------------------------------------------------ setup
    def bind(self, data_shapes, label_shapes=None, for_training=True, inputs_need_grad=False,
             force_rebind=False, shared_module=None, grad_req="write"):
        raise NotImplementedError()

    def init_optimizer(self, kvstore="local", optimizer="sgd",
                       optimizer_params=(("learning_rate", 0.01),), force_init=False):
        raise NotImplementedError()
