"""Autograd (MXNet 1.x ``mx.autograd``): recording scopes, training mode, variables, backward and
grad. The tape and the gradients live in libmx; this module only calls it.
"""
from contextlib import contextmanager

from .base import check_call, ffi, lib

__all__ = ["set_training", "is_training", "train_mode", "predict_mode", "set_recording", "is_recording",
           "record", "pause", "mark_variables", "backward", "grad"]

_REQ = {"null": 0, "write": 1, "add": 3}


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


def set_recording(is_recording):  # noqa: D401
    """Sets recording for this thread; returns the previous state."""
    prev = ffi.new("int*")
    check_call(lib.mx_autograd_set_recording(1 if is_recording else 0, prev))
    return bool(prev[0])


def is_recording():
    out = ffi.new("int*")
    check_call(lib.mx_autograd_is_recording(out))
    return bool(out[0])


@contextmanager
def _scope(recording, train):
    prev_r = set_recording(recording)
    prev_t = set_training(train) if train is not None else None
    try:
        yield
    finally:
        set_recording(prev_r)
        if train is not None:
            set_training(prev_t)


def record(train_mode=True):  # pylint: disable=redefined-outer-name
    """``with mx.autograd.record():`` records ops for backward (in training mode by default)."""
    return _scope(True, train_mode)


def pause(train_mode=False):  # pylint: disable=redefined-outer-name
    """``with mx.autograd.pause():`` stops recording inside a record() scope."""
    return _scope(False, train_mode)


def _handles(arrays, allow_none=False):
    hs = []
    for a in arrays:
        if a is None and allow_none:
            hs.append(ffi.NULL)
        else:
            hs.append(a._live())
    return hs


def mark_variables(variables, gradients, grad_reqs="write"):
    """Marks arrays as variables whose gradients go to the given buffers."""
    from .ndarray import NDArray
    if isinstance(variables, NDArray):
        variables, gradients = [variables], [gradients]
    if isinstance(grad_reqs, str):
        grad_reqs = [grad_reqs] * len(variables)
    if not (len(variables) == len(gradients) == len(grad_reqs)):
        raise ValueError("mark_variables: variables, gradients and grad_reqs differ in length")
    try:
        reqs = [_REQ[r] for r in grad_reqs]
    except KeyError as e:
        raise ValueError("grad_req must be 'write', 'add' or 'null', got %r" % (e.args[0],)) from None
    check_call(lib.mx_autograd_mark_variables(len(variables), _handles(variables), reqs, _handles(gradients)))


def backward(heads, head_grads=None, retain_graph=False, train_mode=True):  # pylint: disable=redefined-outer-name
    """Computes gradients of heads w.r.t. the marked variables into their buffers."""
    from .ndarray import NDArray
    if isinstance(heads, NDArray):
        heads = [heads]
        if head_grads is not None and not isinstance(head_grads, (list, tuple)):
            head_grads = [head_grads]
    hg = ffi.NULL if head_grads is None else _handles(head_grads, allow_none=True)
    check_call(lib.mx_autograd_backward(len(heads), _handles(heads), hg, int(bool(retain_graph)), 0,
                                        int(bool(train_mode))))


def grad(heads, variables, head_grads=None, retain_graph=None, create_graph=False, train_mode=True):  # pylint: disable=redefined-outer-name
    """Gradients of heads w.r.t. variables, returned as new arrays. With create_graph=True they are
    recorded, so they can be differentiated again (higher order)."""
    from .ndarray import NDArray
    from .ndarray._call import wrap_handle
    single = isinstance(variables, NDArray)
    if isinstance(heads, NDArray):
        heads = [heads]
        if head_grads is not None and not isinstance(head_grads, (list, tuple)):
            head_grads = [head_grads]
    if single:
        variables = [variables]
    if retain_graph is None:
        retain_graph = create_graph
    out = ffi.new("mx_ndarray*[]", len(variables))
    hg = ffi.NULL if head_grads is None else _handles(head_grads, allow_none=True)
    check_call(lib.mx_autograd_grad(len(heads), _handles(heads), hg, len(variables), _handles(variables),
                                    int(bool(retain_graph)), int(bool(create_graph)), int(bool(train_mode)), out))
    res = [wrap_handle(out[i]) for i in range(len(variables))]
    return res[0] if single else res
