"""Autograd (MXNet 1.x ``mx.autograd``): recording scopes, training mode, variables, backward and
grad, and user-defined differentiable functions (:class:`Function`). The tape and the gradients
live in libmx; this module only calls it.
"""
import threading
import weakref
from contextlib import contextmanager

from .base import MXNetError, check_call, ffi, last_error, lib

__all__ = ["set_training", "is_training", "train_mode", "predict_mode", "set_recording", "is_recording",
           "record", "pause", "mark_variables", "backward", "grad", "Function"]

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
    _check_walk(lib.mx_autograd_backward(len(heads), _handles(heads), hg, int(bool(retain_graph)), 0,
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
    _check_walk(lib.mx_autograd_grad(len(heads), _handles(heads), hg, len(variables), _handles(variables),
                                     int(bool(retain_graph)), int(bool(create_graph)), int(bool(train_mode)),
                                     out))
    res = [wrap_handle(out[i]) for i in range(len(variables))]
    return res[0] if single else res


# ---------------------------------------------------------------- user-defined functions
#
# libmx records a Function call as one node (mx_autograd_record_function) whose backward is the
# C callback below; user_data is the Function object itself (a PyObject* holding one reference
# taken for libmx), and release is the module's shutdown-safe decref, so the object lives exactly
# as long as the node, whatever the caller does with its own references, and no Python code runs
# when libmx drops a node after the interpreter has gone.

_tls = threading.local()  # the Python exception of a failed backward callback, for chaining
_functions = weakref.WeakValueDictionary()  # id(Function) -> Function, while libmx holds it
_ERR_ARG = lib.MX_ERR_INVALID_ARGUMENT


def _check_walk(status):
    """check_call for backward/grad: an exception raised by a Function's backward becomes the
    cause of the MXNetError (whose message quotes it)."""
    cause = getattr(_tls, "exc", None)
    _tls.exc = None
    if status:
        raise last_error(status) from cause


def _borrowed(h):
    """An NDArray over a handle libmx owns (invalidated before the callback returns)."""
    from .ndarray._call import wrap_handle
    return wrap_handle(h)


def _disown(arr):
    arr._h = ffi.NULL  # pylint: disable=protected-access
    for slot in ("_shape", "_flag", "_ctx"):
        try:
            delattr(arr, slot)
        except AttributeError:
            pass


def _new_handle_of(arr):
    """A new handle to arr's data for libmx to take over (recorded when create_graph records)."""
    shape = arr.shape
    dims = ffi.new("int64_t[]", list(shape)) if shape else ffi.NULL
    out = ffi.new("mx_ndarray**")
    check_call(lib.mx_ndarray_reshape(arr._live(), dims, len(shape), out))  # pylint: disable=protected-access
    return out[0]


def _write_error(err, err_len, msg):
    data = msg.encode("utf-8", "replace")[: max(int(err_len) - 1, 0)]
    if err_len > 0:
        ffi.memmove(err, data + b"\0", len(data) + 1)


class _SavedOutput(object):
    """Stands in saved_tensors for output i of the Function between calls of its backward: holding
    the output itself would keep libmx's node alive from inside the node (a cycle through C that
    Python's collector cannot see)."""
    __slots__ = ("index",)

    def __init__(self, index):
        self.index = index


@ffi.callback("int(void*, int, mx_ndarray* const*, mx_ndarray* const*, int, mx_ndarray**, char*, size_t)")
def _backward_callback(user_data, num_outputs, outputs, ograds, num_igrads, igrads, err, err_len):
    from .ndarray import NDArray
    borrowed = []
    func = saved = None
    try:
        func = _functions.get(int(ffi.cast("uintptr_t", user_data)))
        if func is None:
            raise RuntimeError("the Function object of this node is gone")
        outs = [_borrowed(outputs[i]) for i in range(num_outputs)]
        borrowed.extend(outs)
        ogs = [_borrowed(ograds[i]) for i in range(num_outputs)]
        borrowed.extend(ogs)
        saved = func.saved_tensors
        func.saved_tensors = tuple(outs[t.index] if isinstance(t, _SavedOutput) else t for t in saved)
        grads = func.backward(*ogs)
        grads = tuple(grads) if isinstance(grads, (list, tuple)) else (grads,)
        if len(grads) != num_igrads:
            raise ValueError("%s.backward returned %d gradients for %d inputs"
                             % (type(func).__name__, len(grads), num_igrads))
        for i, g in enumerate(grads):
            if g is None:
                continue
            if not isinstance(g, NDArray):
                raise TypeError("%s.backward must return NDArrays (or None), got %s for input %d"
                                % (type(func).__name__, type(g).__name__, i))
            igrads[i] = _new_handle_of(g)  # libmx takes the handle over, even if we fail later
        return 0
    except BaseException as e:  # pylint: disable=broad-except
        _tls.exc = e
        _write_error(err, err_len, "%s: %s" % (type(e).__name__, e))
        return e.status if isinstance(e, MXNetError) else _ERR_ARG
    finally:
        if saved is not None:
            func.saved_tensors = saved
        for a in borrowed:
            _disown(a)


# The callback must outlive every node that points at it, even through interpreter teardown
# (module globals are cleared then): one reference is left to the process.
lib.mxpy_incref(ffi.cast("void*", id(_backward_callback)))
_RELEASE = ffi.addressof(lib, "mxpy_decref")


class Function(object):
    """A differentiable function with a hand-written backward (MXNet 1.x ``autograd.Function``).

    Subclass it and define ``forward(self, *inputs)`` and ``backward(self, *output_grads)``;
    ``forward`` runs with recording paused and returns an NDArray or a tuple of them,
    ``backward`` returns one gradient per input (an NDArray shaped like it, or None for no
    gradient). Arrays that ``backward`` needs are kept with :meth:`save_for_backward`. Call an
    instance once, like a function: ``y = MyFunc()(x)``. The outputs are recorded as one node; with
    ``grad(..., create_graph=True)`` the ops ``backward`` runs are recorded too, so a Function
    whose backward uses differentiable ops can be differentiated again::

        class Sigmoid(mx.autograd.Function):
            def forward(self, x):
                y = 1 / (1 + mx.nd.exp(-x))
                self.save_for_backward(y)
                return y

            def backward(self, dy):
                y, = self.saved_tensors
                return dy * y * (1 - y)
    """

    def __init__(self):
        self._used = False
        self.saved_tensors = ()

    def save_for_backward(self, *args):
        """Keeps arrays for :meth:`backward` (read back as ``self.saved_tensors``)."""
        self.saved_tensors = args

    def forward(self, *inputs):
        raise NotImplementedError

    def backward(self, *output_grads):
        raise NotImplementedError

    def __call__(self, *inputs):
        from .ndarray import NDArray
        if self._used:
            raise RuntimeError("each Function instance can only be called once: create another instance")
        for i, x in enumerate(inputs):
            if not isinstance(x, NDArray):
                raise TypeError("%s: input %d must be an NDArray, got %s" % (type(self).__name__, i, type(x).__name__))
        self._used = True
        prev = set_recording(False)
        try:
            outputs = self.forward(*inputs)
        finally:
            set_recording(prev)
        if not prev:
            return outputs
        outs = (outputs,) if isinstance(outputs, NDArray) else tuple(outputs)
        for i, o in enumerate(outs):
            if not isinstance(o, NDArray):
                raise TypeError("%s.forward must return NDArrays, got %s for output %d"
                                % (type(self).__name__, type(o).__name__, i))
        # One reference for libmx, dropped by release (mxpy_decref) once it is done with the node.
        key = id(self)
        _functions[key] = self
        ud = ffi.cast("void*", key)
        lib.mxpy_incref(ud)
        status = lib.mx_autograd_record_function(type(self).__name__.encode("utf-8"), len(inputs),
                                                 _handles(inputs), len(outs), _handles(outs),
                                                 _backward_callback, ud, _RELEASE)
        if status:
            lib.mxpy_decref(ud)  # on failure libmx took nothing
            check_call(status)
        self.saved_tensors = tuple(_saved_slot(t, outs) for t in self.saved_tensors)
        return outputs


def _saved_slot(t, outs):
    for i, o in enumerate(outs):
        if t is o:
            return _SavedOutput(i)
    return t
