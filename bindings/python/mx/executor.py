"""The Executor of a bound Symbol (MXNet 1.x ``mx.executor.Executor``).

An executor is made by ``Symbol.bind`` / ``Symbol.simple_bind`` (never directly). It runs the graph
in libmx (memory planned once at bind time); Python only passes the handle. Its arrays are plain
``mx.nd.NDArray`` objects over libmx's arrays: writing into ``exe.arg_dict['data']`` (or the arrays
given to ``bind``) changes what the next ``forward`` reads, and ``outputs`` / ``grad_arrays`` are the
executor's own result buffers (overwritten by the next forward / backward).
"""
import numpy as np

from .base import ShapeError, UnsupportedError, check_call, ffi, lib
from .ndarray import NDArray
from .ndarray._call import wrap_handle

__all__ = ["Executor"]

NULL = ffi.NULL
_ARGS, _GRADS, _AUX, _OUTPUTS = 0, 1, 2, 3


def _fetch(handle, which):
    """Arrays of one of the executor's lists (None for a gradient with req 'null')."""
    n = ffi.new("size_t*")
    check_call(lib.mx_executor_num(handle, which, n))
    out = ffi.new("mx_ndarray**")
    arrays = []
    for i in range(n[0]):
        check_call(lib.mx_executor_get(handle, which, i, out))
        arrays.append(wrap_handle(out[0]) if out[0] != NULL else None)
    return arrays


def _name_dict(names, arrays, what):
    if len(set(names)) != len(names):
        dup = sorted({n for n in names if names.count(n) > 1})
        raise ValueError("Duplicate names detected in the %s: %s" % (what, ", ".join(dup)))
    return dict(zip(names, arrays))


def _shape_args(shapes):
    """(num, keys array, ndims array, dims array, keepalive) of {name: shape}."""
    keep = [ffi.new("char[]", k.encode("utf-8")) for k in shapes]
    ndims = []
    dims = []
    for k, v in shapes.items():
        if not isinstance(v, (tuple, list)):
            raise TypeError("the shape of '%s' must be a tuple, got %s" % (k, type(v).__name__))
        ndims.append(len(v))
        dims.extend(int(d) for d in v)
    n = len(keep)
    keys = ffi.new("const char*[]", keep) if n else NULL
    nd = ffi.new("int[]", ndims) if n else NULL
    dm = ffi.new("int64_t[]", dims) if dims else ffi.new("int64_t[]", 1)
    return n, keys, nd, dm, keep


class Executor:
    """A Symbol bound to arrays on a device: ``forward``, ``backward`` and the bound arrays."""

    def __init__(self, handle, symbol, ctx, grad_req, arg_arrays=None, grad_arrays=None,
                 aux_arrays=None):
        """Internal: made by Symbol.bind / Symbol.simple_bind / Executor.reshape. Takes ownership
        of the ``mx_executor*`` handle."""
        if not isinstance(handle, ffi.CData):
            raise TypeError("Executor is created by Symbol.bind or Symbol.simple_bind")
        self._h = ffi.gc(handle, lib.mx_executor_free)
        self._symbol = symbol
        self._ctx = ctx
        self._grad_req = grad_req
        self._arg_names = symbol.list_arguments()
        self._aux_names = symbol.list_auxiliary_states()
        self._output_names = symbol.list_outputs()
        self.arg_arrays = arg_arrays if arg_arrays is not None else _fetch(self._h, _ARGS)
        self.grad_arrays = grad_arrays if grad_arrays is not None else _fetch(self._h, _GRADS)
        self.aux_arrays = aux_arrays if aux_arrays is not None else _fetch(self._h, _AUX)
        self._outputs = None
        n = ffi.new("size_t*")
        check_call(lib.mx_executor_num(self._h, _OUTPUTS, n))
        self._num_outputs = int(n[0])
        self._out_buf = ffi.new("mx_ndarray**")
        self._arg_dict = None
        self._grad_dict = None
        self._aux_dict = None

    @property
    def handle(self):
        """The ``mx_executor*`` cdata (borrowed)."""
        return self._h

    # ------------------------------------------------------------ running
    def forward(self, is_train=False, **kwargs):
        """Computes the outputs. ``kwargs`` (name=NDArray or numpy array) are copied into the
        bound arguments first. Returns ``outputs`` (a list of NDArrays).

        is_train: training mode (Dropout drops, BatchNorm uses and updates batch statistics);
        use it before ``backward``."""
        if kwargs:
            arg_dict = self.arg_dict
            for name, array in kwargs.items():
                if name not in arg_dict:
                    raise TypeError("Unknown argument %s: the arguments are %s"
                                    % (name, ", ".join(self._arg_names)))
                if not isinstance(array, (NDArray, np.ndarray)):
                    raise ValueError("forward: argument %s must be an NDArray or numpy.ndarray, "
                                     "got %s" % (name, type(array).__name__))
                dst = arg_dict[name]
                if tuple(dst.shape) != tuple(array.shape):
                    raise ValueError("Shape not match! Argument %s, need: %s, received: %s"
                                     % (name, tuple(dst.shape), tuple(array.shape)))
                if isinstance(array, NDArray):
                    if array.handle != dst.handle:
                        array.copyto(dst)
                else:
                    dst[:] = array
        check_call(lib.mx_executor_forward(self._h, 1 if is_train else 0))
        self._outputs = outs = self._fetch_outputs()
        return outs

    def _fetch_outputs(self, _get=lib.mx_executor_get):
        # Fresh handles after each forward (the arrays are the executor's output buffers); the
        # hot path of a training loop, so no per-call cffi allocation.
        h = self._h
        buf = self._out_buf
        outs = []
        for i in range(self._num_outputs):
            rc = _get(h, _OUTPUTS, i, buf)
            if rc:
                check_call(rc)
            outs.append(wrap_handle(buf[0]))
        return outs

    def backward(self, out_grads=None, is_train=True):
        """Computes the gradients of the arguments into ``grad_arrays`` (by their grad_req).

        out_grads: the gradients of the outputs (an NDArray, a list in output order, or a dict
        by output name); None (or None entries) means ones, for loss outputs.

        The gradient is that of the function the preceding forward computed, in that forward's
        mode; is_train is accepted for MXNet compatibility."""
        if out_grads is None:
            grads = []
        elif isinstance(out_grads, NDArray):
            grads = [out_grads]
        elif isinstance(out_grads, dict):
            unknown = sorted(set(out_grads) - set(self._output_names))
            if unknown:
                raise ValueError("backward: out_grads names %s are not outputs (%s)"
                                 % (", ".join(unknown), ", ".join(self._output_names)))
            grads = [out_grads.get(k) for k in self._output_names]
        elif isinstance(out_grads, (list, tuple)):
            grads = list(out_grads)
        else:
            raise TypeError("backward: out_grads must be an NDArray, a list or a dict of "
                            "NDArrays, got %s" % type(out_grads).__name__)
        for i, g in enumerate(grads):
            if g is not None and not isinstance(g, NDArray):
                raise TypeError("backward: out_grads[%d] must be an NDArray, got %s"
                                % (i, type(g).__name__))
        if grads and len(grads) != len(self._output_names):
            raise ValueError("backward: %d out_grads given for %d outputs (%s)"
                             % (len(grads), len(self._output_names),
                                ", ".join(self._output_names)))
        n = len(grads)
        arr = ffi.new("mx_ndarray*[]", [g.handle if g is not None else NULL for g in grads]) \
            if n else NULL
        check_call(lib.mx_executor_backward(self._h, n, arr))

    # ------------------------------------------------------------ arrays
    @property
    def outputs(self):
        """The output arrays (list of NDArrays, in list_outputs order)."""
        if self._outputs is None:
            self._outputs = self._fetch_outputs()
        return self._outputs

    @property
    def arg_dict(self):
        """{argument name: bound NDArray}."""
        if self._arg_dict is None:
            self._arg_dict = _name_dict(self._arg_names, self.arg_arrays, "arguments")
        return self._arg_dict

    @property
    def grad_dict(self):
        """{argument name: gradient NDArray (None where grad_req is 'null')}."""
        if self._grad_dict is None:
            self._grad_dict = _name_dict(self._arg_names, self.grad_arrays, "arguments")
        return self._grad_dict

    @property
    def aux_dict(self):
        """{auxiliary state name: NDArray}."""
        if self._aux_dict is None:
            self._aux_dict = _name_dict(self._aux_names, self.aux_arrays, "auxiliary states")
        return self._aux_dict

    @property
    def output_dict(self):
        """{output name: NDArray}."""
        return _name_dict(self._output_names, self.outputs, "outputs")

    def copy_params_from(self, arg_params, aux_params=None, allow_extra_params=False):
        """Copies parameter values (dicts of name to NDArray) into the bound arrays, cast to
        their dtypes. A name the executor does not have is an error unless
        allow_extra_params."""
        arg_dict = self.arg_dict
        for name, array in arg_params.items():
            if name in arg_dict:
                dst = arg_dict[name]
                _copy_param(array, dst, name)
            elif not allow_extra_params:
                raise ValueError('Find name "%s" that is not in the arguments' % name)
        if aux_params is None:
            return
        aux_dict = self.aux_dict
        for name, array in aux_params.items():
            if name in aux_dict:
                _copy_param(array, aux_dict[name], name)
            elif not allow_extra_params:
                raise ValueError('Find name %s that is not in the auxiliary states' % name)

    def reshape(self, partial_shaping=False, allow_up_sizing=False, **kwargs):
        """A new executor for new input shapes (name=shape), sharing the arrays whose shapes do
        not change. Arguments whose shapes change without being named need partial_shaping;
        arrays that would grow need allow_up_sizing."""
        n, keys, nd, dm, _keep = _shape_args(kwargs)
        out = ffi.new("mx_executor**")
        check_call(lib.mx_executor_reshape(self._h, n, keys, nd, dm, 1 if partial_shaping else 0,
                                           1 if allow_up_sizing else 0, out))
        return Executor(out[0], self._symbol, self._ctx, self._grad_req)

    # ------------------------------------------------------------ misc
    def set_monitor_callback(self, callback, monitor_all=False):
        """Not supported: MX executors do not call back into Python per node."""
        raise UnsupportedError("Executor.set_monitor_callback is not supported by MX: to inspect "
                               "intermediate values, bind symbol.get_internals() (or a Group of "
                               "the internals you need) and read its outputs")

    def memory_bytes(self):
        """(planned, naive): bytes of intermediate buffers with the memory plan, and with one
        buffer per intermediate result."""
        planned = ffi.new("size_t*")
        naive = ffi.new("size_t*")
        check_call(lib.mx_executor_memory(self._h, planned, naive))
        return int(planned[0]), int(naive[0])

    def debug_str(self):
        """The bound graph (Symbol.debug_str) and the memory its intermediates take."""
        planned, naive = self.memory_bytes()
        return "%sTotal %.3f MB of intermediate buffers (%.3f MB without the memory plan)\n" % (
            self._symbol.debug_str(), planned / 1048576.0, naive / 1048576.0)

    def __repr__(self):
        return "<Executor %s @%s>" % (self._symbol.name or "group", self._ctx)


def _copy_param(src, dst, name):
    if isinstance(src, np.ndarray):
        from .ndarray import array
        src = array(src, ctx=dst.context, dtype=dst.dtype)
    if not isinstance(src, NDArray):
        raise TypeError("copy_params_from: parameter %s must be an NDArray, got %s"
                        % (name, type(src).__name__))
    if tuple(src.shape) != tuple(dst.shape):
        raise ShapeError("copy_params_from: parameter %s has shape %s but the executor's "
                                   "array has shape %s" % (name, tuple(src.shape), tuple(dst.shape)))
    if src.dtype != dst.dtype:
        src = src.astype(dst.dtype)
    src.copyto(dst)
