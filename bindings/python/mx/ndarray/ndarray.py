"""The NDArray class (MXNet 1.x API) over an ``mx_ndarray*`` handle.

No numerics happen here: arithmetic, comparisons, casts and copies are op calls into libmx. The
operator methods keep a lean hot path: op handles are looked up once at import, parameter
handles of scalar forms are cached per scalar value, and ``a + b`` is one foreign call
(``mxpy_invoke2``) plus the wrapping of the new handle.
"""
import operator
import warnings
from functools import reduce

import numpy as np

from .. import _dtype
from ..base import HandleError, check_call, ffi, lib
from ..context import Context
from . import _call
from ._call import NULL, invoke_ps, params_for, raise_failed, try_op_handle, wrap_handle

__all__ = ["NDArray"]

_gc = ffi.gc
_free = lib.mx_ndarray_free
_new = object.__new__
_inv1 = lib.mxpy_invoke1
_inv2 = lib.mxpy_invoke2
_inv1_into = lib.mxpy_invoke1_into
_inv2_into = lib.mxpy_invoke2_into
_SCALARS = (int, float, np.number, np.bool_)
_SCALAR_CACHE_MAX = 1024


def _scalar_text(v):
    if isinstance(v, (bool, np.bool_)):
        return "1" if v else "0"
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    return repr(float(v))


def _scalar_params(op_name, cache, value):
    """Params handle of a scalar op for this scalar value (cached per value)."""
    if isinstance(value, (complex, np.complexfloating)):
        raise TypeError("complex scalars are not supported (operator %s)" % op_name)
    ps = params_for(op_name, (("scalar", _scalar_text(value)),))
    if len(cache) >= _SCALAR_CACHE_MAX:
        cache.clear()
    cache[value] = ps.handle
    return ps.handle


def _binary_method(array_op, scalar_op, doc):
    """x <op> y: array_op (broadcasting) for an NDArray y, scalar_op(x, scalar=y) for a number."""
    bop = try_op_handle(array_op) if array_op else None
    sop = try_op_handle(scalar_op)
    cache = {}

    def method(self, other):
        if isinstance(other, NDArray):
            if array_op is None:
                return NotImplemented
            h = _inv2(bop, NULL, self._h, other._h)
            name, op = array_op, bop
        elif isinstance(other, _SCALARS):
            p = cache.get(other)
            if p is None:
                if sop is None:
                    raise _call.missing_op_error(scalar_op)
                p = _scalar_params(scalar_op, cache, other)
            h = _inv1(sop, p, self._h)
            name, op = scalar_op, sop
        else:
            return NotImplemented
        if h:
            r = _new(NDArray)
            r._h = h
            return r
        raise_failed(name, op, self, other)

    method.__doc__ = doc
    return method


def _inplace_method(array_op, scalar_op, doc):
    """x <op>= y, written into x itself."""
    bop = try_op_handle(array_op)
    sop = try_op_handle(scalar_op)
    cache = {}

    def method(self, other):
        if isinstance(other, NDArray):
            rc = _inv2_into(bop, NULL, self._h, other._h, self._h)
            name, op = array_op, bop
        elif isinstance(other, _SCALARS):
            p = cache.get(other)
            if p is None:
                if sop is None:
                    raise _call.missing_op_error(scalar_op)
                p = _scalar_params(scalar_op, cache, other)
            rc = _inv1_into(sop, p, self._h, self._h)
            name, op = scalar_op, sop
        else:
            return NotImplemented
        if rc:
            raise_failed(name, op, self, other)
        return self

    method.__doc__ = doc
    return method


def _unary_method(op_name, doc):
    op = try_op_handle(op_name)

    def method(self):
        h = _inv1(op, NULL, self._h)
        if h:
            r = _new(NDArray)
            r._h = h
            return r
        raise_failed(op_name, op, self)

    method.__doc__ = doc
    return method


class NDArray:
    """An n-dimensional array on a device (MXNet 1.x ``mx.nd.NDArray``).

    Arrays are created with ``mx.nd.array``, ``mx.nd.zeros``, ... or returned by operators. The
    memory is freed when the last Python reference dies, or at once with :meth:`free`.
    """

    __slots__ = ("_h", "_shape", "_flag", "_ctx", "__weakref__")
    # numpy defers binary operators to NDArray instead of converting it.
    __array_priority__ = 1000.0
    __array_ufunc__ = None

    def __init__(self, handle):
        """Takes ownership of an ``mx_ndarray*`` cdata (internal: use the creation functions)."""
        if not isinstance(handle, ffi.CData):
            raise TypeError("NDArray(handle) takes an mx_ndarray* handle; create arrays with "
                            "mx.nd.array / mx.nd.zeros / ...")
        self._h = handle

    # ------------------------------------------------------------ lifetime
    @property
    def handle(self):
        """The ``mx_ndarray*`` cdata of this array (borrowed)."""
        return self._h

    def free(self):
        """Releases the handle now instead of at garbage collection. Views and pending
        operations keep the storage alive; any later use of this object raises
        ``mx.base.HandleError``."""
        h = self._h
        if h != NULL:
            self._h = NULL
            _free(h)
        for slot in ("_shape", "_flag", "_ctx"):
            try:
                delattr(self, slot)
            except AttributeError:
                pass

    def __del__(self, _free=_free):
        # A plain finalizer (cheaper than ffi.gc on the per-op hot path).
        try:
            h = self._h
        except AttributeError:  # __init__ never ran
            return
        if h:
            self._h = NULL
            _free(h)

    @property
    def is_freed(self):
        return self._h == NULL

    def _live(self):
        h = self._h
        if h == NULL:
            raise HandleError("this NDArray was freed")
        return h

    # ------------------------------------------------------------ metadata
    @property
    def shape(self):
        """Tuple of dimensions."""
        try:
            return self._shape
        except AttributeError:
            pass
        nd = ffi.new("int*")
        sp = ffi.new("const int64_t**")
        check_call(lib.mx_ndarray_shape(self._live(), nd, sp))
        s = tuple(ffi.unpack(sp[0], nd[0])) if nd[0] > 0 else ()
        self._shape = s
        return s

    @property
    def _dtype_flag(self):
        try:
            return self._flag
        except AttributeError:
            pass
        t = ffi.new("int*")
        check_call(lib.mx_ndarray_dtype(self._live(), t))
        self._flag = int(t[0])
        return self._flag

    @property
    def dtype(self):
        """numpy dtype of the elements ('bfloat16' -- or ml_dtypes' bfloat16 -- for bfloat16)."""
        return _dtype.DTYPE_OF_FLAG[self._dtype_flag]

    @property
    def context(self):
        """The device (Context) of the array."""
        try:
            return self._ctx
        except AttributeError:
            pass
        t = ffi.new("int*")
        i = ffi.new("int*")
        check_call(lib.mx_ndarray_device(self._live(), t, i))
        ctx = Context(Context.devtype2str[int(t[0])], int(i[0]))
        self._ctx = ctx
        return ctx

    ctx = context

    @property
    def size(self):
        """Number of elements."""
        return reduce(operator.mul, self.shape, 1)

    @property
    def ndim(self):
        return len(self.shape)

    @property
    def itemsize(self):
        return _dtype.ITEMSIZE_OF_FLAG[self._dtype_flag]

    @property
    def nbytes(self):
        return self.size * self.itemsize

    @property
    def stype(self):
        """Storage type: always 'default' (dense)."""
        return "default"

    @property
    def writable(self):
        return True

    def storage_id(self):
        """An id shared by every array viewing the same memory."""
        out = ffi.new("uint64_t*")
        check_call(lib.mx_ndarray_storage_id(self._live(), out))
        return int(out[0])

    def _data_pointer(self):
        """Address of the first element (waits for pending writes)."""
        out = ffi.new("void**")
        check_call(lib.mx_ndarray_data(self._live(), out))
        return int(ffi.cast("uintptr_t", out[0]))

    # ------------------------------------------------------------ synchronisation, host copies
    def wait_to_read(self):
        """Blocks until pending writes finish; raises an error raised by one of them."""
        check_call(lib.mx_ndarray_wait_to_read(self._live()))

    def wait_to_write(self):
        check_call(lib.mx_ndarray_wait_to_write(self._live()))

    def asnumpy(self):
        """A numpy copy of the contents (waits for pending writes). bfloat16 arrays come back
        as float32 unless ml_dtypes is installed."""
        flag = self._dtype_flag
        npd = _dtype.numpy_dtype(flag)
        if npd is None:
            return self.astype("float32").asnumpy()
        a = np.empty(self.shape, dtype=npd)
        check_call(lib.mx_ndarray_copy_to_host(self._h, ffi.from_buffer(a, require_writable=True),
                                               a.nbytes))
        return a

    def asscalar(self):
        """The value of a one-element array (shape () or (1,)) as a numpy scalar."""
        if self.shape not in ((), (1,)):
            raise ValueError("The current array is not a scalar (shape %s)" % (self.shape,))
        return self.asnumpy().reshape(())[()]

    def item(self):
        """The value of a one-element array as a Python number."""
        if self.size != 1:
            raise ValueError("can only convert an array of size 1 to a Python scalar")
        return self.asnumpy().reshape(()).item()

    def tolist(self):
        return self.asnumpy().tolist()

    def __array__(self, dtype=None, copy=None):
        if copy is False:
            a = np.from_dlpack(self)
        else:
            a = self.asnumpy()
        if dtype is not None and np.dtype(dtype) != a.dtype:
            if copy is False:
                raise ValueError("converting an NDArray to dtype %s needs a copy" % dtype)
            a = a.astype(dtype)
        return a

    def _sync_copyfrom(self, source_array):
        """Copies a numpy array (or array-like) of this shape into the array, synchronously."""
        flag = self._dtype_flag
        npd = _dtype.numpy_dtype(flag)
        if npd is None:  # bfloat16 without ml_dtypes: convert in libmx
            from .utils import array
            src = array(source_array, ctx=self.context, dtype="float32")
            if src.shape != self.shape:
                raise ValueError("array shape %s does not match the NDArray shape %s"
                                 % (src.shape, self.shape))
            src.copyto(self)
            self.wait_to_read()
            return
        src = np.asarray(source_array, dtype=npd)
        if src.shape != self.shape:
            src = np.broadcast_to(src, self.shape)
        if not src.flags["C_CONTIGUOUS"]:
            src = src.copy(order="C")
        check_call(lib.mx_ndarray_copy_from_host(self._live(), ffi.from_buffer(src), src.nbytes))

    # ------------------------------------------------------------ copies, casts, views
    def copyto(self, other):
        """Copies into another NDArray (cast to its dtype) or onto a Context (a new array)."""
        if isinstance(other, NDArray):
            if other._h == self._h:
                warnings.warn("You are attempting to copy an array to itself", RuntimeWarning)
                return other
            check_call(lib.mx_ndarray_copyto(self._live(), other._live()))
            return other
        if isinstance(other, Context):
            from .utils import _empty_flag
            dst = _empty_flag(self.shape, other, self._dtype_flag)
            check_call(lib.mx_ndarray_copyto(self._live(), dst._h))
            return dst
        raise TypeError("copyto does not support type " + str(type(other)))

    def copy(self):
        """A deep copy on the same device."""
        return self.copyto(self.context)

    def as_in_context(self, context):
        """This array if it already lives on ``context``, else a copy there."""
        if self.context == context:
            return self
        return self.copyto(context)

    as_in_ctx = as_in_context

    def astype(self, dtype, copy=True):
        """A copy cast to dtype (the ``Cast`` op); with copy=False, self when dtype matches."""
        name = _dtype.dtype_name(dtype)
        if not copy and _dtype.FLAG_OF_NAME[name] == self._dtype_flag:
            return self
        return invoke_ps(params_for("Cast", (("dtype", name),)), (self,))

    def reshape(self, *shape, **kwargs):
        """A reshaped array. Plain shapes (positive sizes and at most one -1) give a view sharing
        memory; MXNet's special codes (0, -2, -3, -4) or ``reverse=True`` go through the
        ``Reshape`` op (a copy)."""
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        elif not shape:
            shape = kwargs.pop("shape", None)
            if shape is None:
                raise TypeError("reshape() needs a shape")
            shape = tuple(shape) if isinstance(shape, (tuple, list)) else (shape,)
        reverse = bool(kwargs.pop("reverse", False))
        if kwargs:
            raise TypeError("reshape() got unexpected keyword arguments %s" % sorted(kwargs))
        shape = tuple(int(s) for s in shape)
        if not reverse and all(s > 0 or s == -1 for s in shape) and shape.count(-1) <= 1:
            return _reshape_view(self, shape)
        if not reverse and not shape and self.size == 1:
            return _reshape_view(self, ())
        return invoke_ps(params_for("Reshape", (("reverse", "True" if reverse else "False"),
                                                ("shape", _call.param_str(shape)))), (self,))

    def _reshape_view(self, shape):
        return _reshape_view(self, shape)

    @property
    def T(self):
        """Transpose (reversed axes); arrays with fewer than 2 dimensions are returned as is."""
        if self.ndim < 2:
            return self
        return invoke_ps(params_for("transpose", ()), (self,))

    def broadcast_to(self, shape):
        """Broadcasts to shape (numpy rules)."""
        shape = tuple(int(s) for s in shape)
        if shape == self.shape:
            return self
        src = self
        if len(shape) > self.ndim:  # as MXNet: align on the right with leading 1s (a view)
            src = self.reshape((1,) * (len(shape) - self.ndim) + self.shape)
        return invoke_ps(params_for("broadcast_to", (("shape", _call.param_str(shape)),)), (src,))

    def expand_dims(self, axis):
        """A view with a new axis of size 1 at ``axis``."""
        nd = self.ndim
        if axis < 0:
            axis += nd + 1
        if not 0 <= axis <= nd:
            raise ValueError("axis %d is out of range for an array of %d dimensions" % (axis, nd))
        s = list(self.shape)
        s.insert(axis, 1)
        return _reshape_view(self, tuple(s))

    # ------------------------------------------------------------ python protocol
    def __repr__(self):
        if self._h == NULL:
            return "<NDArray (freed)>"
        shape_info = "x".join("%d" % x for x in self.shape)
        return "\n%s\n<%s %s @%s>" % (str(self.asnumpy()), type(self).__name__, shape_info,
                                      self.context)

    def __len__(self):
        s = self.shape
        if not s:
            raise TypeError("len() of a 0-d NDArray")
        return s[0]

    def __iter__(self):
        s = self.shape
        if not s:
            raise TypeError("iteration over a 0-d NDArray")
        for i in range(s[0]):
            yield self[i]

    def __bool__(self):
        n = self.size
        if n == 0:
            return False
        if n == 1:
            return bool(self.asnumpy().reshape(())[()])
        raise ValueError("The truth value of an NDArray with multiple elements is ambiguous.")

    def __hash__(self):
        return id(self) // 16

    # ------------------------------------------------------------ autograd
    def attach_grad(self, grad_req="write", stype=None):
        """Allocates a zero gradient buffer and marks this array as a variable for autograd."""
        if stype not in (None, "default"):
            raise NotImplementedError("sparse gradient storage is not supported")
        from .. import autograd
        grad = _call.invoke_ps(params_for("zeros_like", ()), (self,))
        autograd.mark_variables([self], [grad], grad_reqs=grad_req)

    @property
    def grad(self):
        """The gradient buffer attached by attach_grad (None when there is none)."""
        out = ffi.new("mx_ndarray**")
        check_call(lib.mx_ndarray_get_grad(self._live(), out))
        return wrap_handle(out[0]) if out[0] != NULL else None

    @property
    def _fresh_grad(self):
        """Whether backward wrote this array's gradient since the flag was last cleared (MXNet's
        stale-gradient check in Trainer reads and clears it)."""
        out = ffi.new("int*")
        check_call(lib.mx_ndarray_get_grad_state(self._live(), out))
        return bool(out[0])

    @_fresh_grad.setter
    def _fresh_grad(self, state):
        check_call(lib.mx_ndarray_set_grad_state(self._live(), 1 if state else 0))

    def detach(self):
        """The same data, cut from the autograd graph."""
        out = ffi.new("mx_ndarray**")
        check_call(lib.mx_ndarray_detach(self._live(), out))
        return wrap_handle(out[0])

    def backward(self, out_grad=None, retain_graph=False, train_mode=True):
        """Computes the gradients of this array w.r.t. the marked variables."""
        from .. import autograd
        autograd.backward([self], None if out_grad is None else [out_grad], retain_graph=retain_graph,
                          train_mode=train_mode)

    def __reduce__(self):
        from .utils import _from_bytes_single, save_to_bytes
        return (_from_bytes_single, (save_to_bytes([self]),))

    def __getitem__(self, key):
        from .indexing import getitem
        return getitem(self, key)

    def __setitem__(self, key, value):
        from .indexing import setitem
        setitem(self, key, value)

    # ------------------------------------------------------------ DLPack
    def __dlpack__(self, *, stream=None, max_version=None, dl_device=None, copy=None):
        """Exports a DLPack capsule sharing this array's memory ("dltensor_versioned" when
        max_version >= (1, 0), else the legacy "dltensor")."""
        from .dlpack import export_capsule
        return export_capsule(self, stream=stream, max_version=max_version, dl_device=dl_device,
                              copy=copy)

    def __dlpack_device__(self):
        from .dlpack import dlpack_device
        return dlpack_device(self)

    def to_dlpack_for_read(self):
        """A legacy DLPack capsule for reading (MXNet 1.x)."""
        from .dlpack import export_capsule
        return export_capsule(self)

    def to_dlpack_for_write(self):
        """A legacy DLPack capsule for writing (MXNet 1.x): waits for pending reads too."""
        self.wait_to_write()
        from .dlpack import export_capsule
        return export_capsule(self)

    # ------------------------------------------------------------ operators
    __add__ = _binary_method("broadcast_add", "_plus_scalar", "x + y")
    __radd__ = _binary_method("broadcast_add", "_plus_scalar", "y + x")
    __sub__ = _binary_method("broadcast_sub", "_minus_scalar", "x - y")
    __rsub__ = _binary_method(None, "_rminus_scalar", "y - x")
    __mul__ = _binary_method("broadcast_mul", "_mul_scalar", "x * y")
    __rmul__ = _binary_method("broadcast_mul", "_mul_scalar", "y * x")
    __truediv__ = _binary_method("broadcast_div", "_div_scalar", "x / y")
    __rtruediv__ = _binary_method(None, "_rdiv_scalar", "y / x")
    __div__ = __truediv__
    __rdiv__ = __rtruediv__
    __mod__ = _binary_method("broadcast_mod", "_mod_scalar", "x % y")
    __rmod__ = _binary_method(None, "_rmod_scalar", "y % x")
    __pow__ = _binary_method("broadcast_power", "_power_scalar", "x ** y")
    __rpow__ = _binary_method(None, "_rpower_scalar", "y ** x")
    __eq__ = _binary_method("broadcast_equal", "_equal_scalar", "x == y (1/0 in x's dtype)")
    __ne__ = _binary_method("broadcast_not_equal", "_not_equal_scalar", "x != y")
    __gt__ = _binary_method("broadcast_greater", "_greater_scalar", "x > y")
    __ge__ = _binary_method("broadcast_greater_equal", "_greater_equal_scalar", "x >= y")
    __lt__ = _binary_method("broadcast_lesser", "_lesser_scalar", "x < y")
    __le__ = _binary_method("broadcast_lesser_equal", "_lesser_equal_scalar", "x <= y")

    __iadd__ = _inplace_method("broadcast_add", "_plus_scalar", "x += y (in place)")
    __isub__ = _inplace_method("broadcast_sub", "_minus_scalar", "x -= y (in place)")
    __imul__ = _inplace_method("broadcast_mul", "_mul_scalar", "x *= y (in place)")
    __itruediv__ = _inplace_method("broadcast_div", "_div_scalar", "x /= y (in place)")
    __idiv__ = __itruediv__
    __imod__ = _inplace_method("broadcast_mod", "_mod_scalar", "x %= y (in place)")
    __ipow__ = _inplace_method("broadcast_power", "_power_scalar", "x **= y (in place)")

    __neg__ = _unary_method("negative", "-x")
    __abs__ = _unary_method("abs", "abs(x)")


def _reshape_view(arr, shape):
    n = len(shape)
    buf = ffi.new("int64_t[]", max(n, 1))
    for i, s in enumerate(shape):
        buf[i] = s
    out = ffi.new("mx_ndarray**")
    check_call(lib.mx_ndarray_reshape(arr._live(), buf, n, out))
    return wrap_handle(out[0])


def _at(arr, idx):
    out = ffi.new("mx_ndarray**")
    check_call(lib.mx_ndarray_at(arr._live(), idx, out))
    return wrap_handle(out[0])


def _slice_view(arr, begin, end):
    out = ffi.new("mx_ndarray**")
    check_call(lib.mx_ndarray_slice(arr._live(), begin, end, out))
    return wrap_handle(out[0])


_call.NDArray = NDArray

# MXNet's fluent methods: x.sum(axis=1) == mx.nd.sum(x, axis=1). Attached by register.py for
# the ops present in the registry.
FLUENT_METHODS = (
    "abs", "arccos", "arccosh", "arcsin", "arcsinh", "arctan", "arctanh", "argmax",
    "argmax_channel", "argmin", "argsort", "broadcast_axes", "broadcast_like", "cbrt",
    "ceil", "clip", "cos", "cosh", "degrees", "depth_to_space", "diag", "exp", "expm1", "fix",
    "flatten", "flip", "floor", "log", "log10", "log1p", "log2", "log_softmax", "max", "mean",
    "min", "nanprod", "nansum", "norm", "one_hot", "ones_like", "pad", "pick", "prod", "radians",
    "rcbrt", "reciprocal", "relu", "repeat", "reshape_like", "rint", "round", "rsqrt",
    "shape_array", "sigmoid", "sign", "sin", "sinh", "size_array", "slice", "slice_axis",
    "slice_like", "softmax", "softmin", "sort", "space_to_depth", "split", "sqrt", "square",
    "squeeze", "sum", "swapaxes", "take", "tan", "tanh", "tile", "topk", "transpose", "trunc",
    "zeros_like",
)
