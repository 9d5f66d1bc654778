"""Training callbacks (MXNet 1.x ``mxnet.callback``).

Epoch-end callbacks are called as ``cb(epoch, symbol, arg_params, aux_params)``; batch-end
callbacks as ``cb(param)`` with a :class:`mx.model.BatchEndParam` (``epoch``, ``nbatch``,
``eval_metric``, ``locals``).
"""
import logging
import math
import time

from .model import save_checkpoint

__all__ = ["module_checkpoint", "do_checkpoint", "log_train_metric", "Speedometer", "ProgressBar",
           "LogValidationMetricsCallback"]


def _check_period(period):
    period = int(period)
    return max(1, period)


def module_checkpoint(mod, prefix, period=1, save_optimizer_states=False):
    """Epoch-end callback saving ``mod``'s checkpoint (``mod.save_checkpoint``) every ``period``
    epochs, numbered ``epoch + 1``; optionally with the optimizer states."""
    period = _check_period(period)

    def _callback(iter_no, sym=None, arg=None, aux=None):
        del sym, arg, aux
        if (iter_no + 1) % period == 0:
            mod.save_checkpoint(prefix, iter_no + 1, save_optimizer_states)
    return _callback


def do_checkpoint(prefix, period=1):
    """Epoch-end callback writing ``prefix-symbol.json`` and ``prefix-%04d.params`` (epoch + 1)
    every ``period`` epochs."""
    period = _check_period(period)

    def _callback(iter_no, sym, arg, aux):
        if (iter_no + 1) % period == 0:
            save_checkpoint(prefix, iter_no + 1, sym, arg, aux)
    return _callback


def log_train_metric(period, auto_reset=False):
    """Batch-end callback logging the training metric every ``period`` batches (and resetting its
    local statistics after logging when ``auto_reset``)."""
    period = _check_period(period)

    def _callback(param):
        if param.nbatch % period == 0 and param.eval_metric is not None:
            for name, value in param.eval_metric.get_name_value():
                logging.info("Iter[%d] Batch[%d] Train-%s=%f", param.epoch, param.nbatch, name,
                             value)
            if auto_reset:
                param.eval_metric.reset_local()
    return _callback


class Speedometer:
    """Batch-end callback logging the training speed (samples/sec) and the metric every
    ``frequent`` batches.

    Parameters
    ----------
    batch_size : int
        Samples per batch (the speed is ``frequent * batch_size / elapsed``).
    frequent : int
        Log every this many batches.
    auto_reset : bool
        Reset the metric's local statistics after each log, so each line shows the metric of the
        batches since the previous one.
    """

    def __init__(self, batch_size, frequent=50, auto_reset=True):
        self.batch_size = batch_size
        self.frequent = _check_period(frequent)
        self.init = False
        self.tic = 0
        self.last_count = 0
        self.auto_reset = auto_reset

    def __call__(self, param):
        count = param.nbatch
        if self.last_count > count:
            self.init = False  # a new epoch started
        self.last_count = count

        if not self.init:
            self.init = True
            self.tic = time.time()
            return
        if count % self.frequent != 0:
            return
        elapsed = time.time() - self.tic
        speed = self.frequent * self.batch_size / elapsed if elapsed > 0 else float("inf")
        if param.eval_metric is not None:
            name_value = param.eval_metric.get_name_value()
            if self.auto_reset:
                param.eval_metric.reset_local()
                msg = "Epoch[%d] Batch [%d-%d]\tSpeed: %.2f samples/sec"
                args = [param.epoch, count - self.frequent, count, speed]
            else:
                msg = "Epoch[%d] Batch [0-%d]\tSpeed: %.2f samples/sec"
                args = [param.epoch, count, speed]
            msg += "\t%s=%f" * len(name_value)
            for name, value in name_value:
                args += [name, value]
            logging.info(msg, *args)
        else:
            logging.info("Iter[%d] Batch [%d]\tSpeed: %.2f samples/sec", param.epoch, count, speed)
        self.tic = time.time()


class ProgressBar:
    """Batch-end callback logging a text progress bar of ``length`` characters for ``total``
    batches."""

    def __init__(self, total, length=80):
        if int(total) <= 0:
            raise ValueError("ProgressBar: total must be a positive number of batches, got %r"
                             % (total,))
        self.bar_len = int(length)
        self.total = int(total)

    def __call__(self, param):
        count = param.nbatch
        filled_len = int(round(self.bar_len * count / float(self.total)))
        percents = math.ceil(100.0 * count / float(self.total))
        prog_bar = "=" * filled_len + "-" * (self.bar_len - filled_len)
        logging.info("[%s] %s%s\r", prog_bar, percents, "%")


class LogValidationMetricsCallback:
    """Logs the validation metric at the end of an epoch (an ``eval_end_callback``)."""

    def __call__(self, param):
        if param.eval_metric is None:
            return
        for name, value in param.eval_metric.get_name_value():
            logging.info("Epoch[%d] Validation-%s=%f", param.epoch, name, value)
