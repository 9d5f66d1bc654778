"""Autograd state (MXNet 1.x ``mx.autograd``). This version has the training-mode switch that
decides how Dropout and BatchNorm behave; recording and backward come with the autograd work.
"""
from contextlib import contextmanager

from .base import check_call, ffi, lib

__all__ = ["set_training", "is_training", "train_mode", "predict_mode"]


def set_training(train_mode):
    """Sets training mode for ops invoked from this thread; returns the previous mode."""
    prev = ffi.new("int*")
    check_call(lib.mx_autograd_set_training(1 if train_mode else 0, prev))
    return bool(prev[0])


def is_training():
    """Whether ops invoked from this thread run in training mode."""
    out = ffi.new("int*")
    check_call(lib.mx_autograd_is_training(out))
    return bool(out[0])


@contextmanager
def _mode(train):
    prev = set_training(train)
    try:
        yield
    finally:
        set_training(prev)


def train_mode():
    """``with mx.autograd.train_mode():`` runs ops in training mode (restored on exit)."""
    return _mode(True)


def predict_mode():
    """``with mx.autograd.predict_mode():`` runs ops in inference mode (restored on exit)."""
    return _mode(False)
