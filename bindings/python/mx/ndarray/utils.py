"""Array creation, numpy interop, files and the MXNet module-level arithmetic helpers."""
import os

import numpy as np

from .. import _dtype
from ..base import (DTypeError, InvalidArgumentError, check_call, ffi, integer_types, lib,
                    numeric_types)
from ..context import Context, current_context
from ._call import invoke_ps, params_for, param_str, wrap_handle
from .ndarray import NDArray

__all__ = [
    "array", "empty", "zeros", "ones", "full", "arange", "linspace", "eye", "from_numpy",
    "waitall", "save", "load", "save_to_bytes", "load_from_bytes", "load_frombuffer",
    "concatenate", "add", "subtract", "multiply", "divide", "true_divide", "modulo", "power",
    "maximum", "minimum", "equal", "not_equal", "greater", "greater_equal", "lesser",
    "lesser_equal", "logical_and", "logical_or", "logical_xor", "invoke",
]

from ._call import invoke  # noqa: E402  (re-exported as mx.nd.invoke)


def _ctx(ctx):
    if ctx is None:
        return current_context()
    if isinstance(ctx, Context):
        return ctx
    if isinstance(ctx, str):
        name, _, rest = ctx.partition("(")
        return Context(name.strip(), int(rest.rstrip(")") or 0))
    raise TypeError("ctx must be a Context, got %s" % type(ctx).__name__)


def _shape_tuple(shape):
    if isinstance(shape, integer_types):
        return (int(shape),)
    return tuple(int(s) for s in shape)


def _creation(op_name, shape, ctx, dtype, out=None, **extra):
    kv = dict(extra)
    if shape is not None:
        kv["shape"] = _shape_tuple(shape)
    kv["ctx"] = _ctx(ctx)
    kv["dtype"] = _dtype.dtype_name("float32" if dtype is None else dtype)
    items = tuple(sorted((k, param_str(v)) for k, v in kv.items()))
    return invoke_ps(params_for(op_name, items), (), out)


def empty(shape, ctx=None, dtype=None):
    """A new array with uninitialised contents (default dtype float32)."""
    return _empty_flag(shape, ctx, _dtype.dtype_flag("float32" if dtype is None else dtype))


def _empty_flag(shape, ctx, flag):
    shape = _shape_tuple(shape)
    ctx = _ctx(ctx)
    n = len(shape)
    buf = ffi.new("int64_t[]", max(n, 1))
    for i, s in enumerate(shape):
        buf[i] = s
    out = ffi.new("mx_ndarray**")
    check_call(lib.mx_ndarray_create(buf, n, flag, ctx.device_typeid, ctx.device_id, out))
    return wrap_handle(out[0])


def zeros(shape, ctx=None, dtype=None, stype=None, **kwargs):
    """An array of zeros (the ``_zeros`` op)."""
    _dense_only(stype)
    kwargs.pop("name", None)  # accepted as by MXNet's generated functions (graph naming only)
    return _creation("_zeros", shape, ctx, dtype, kwargs.pop("out", None), **kwargs)


def ones(shape, ctx=None, dtype=None, stype=None, **kwargs):
    """An array of ones (the ``_ones`` op)."""
    _dense_only(stype)
    kwargs.pop("name", None)  # accepted as by MXNet's generated functions (graph naming only)
    return _creation("_ones", shape, ctx, dtype, kwargs.pop("out", None), **kwargs)


def full(shape, val, ctx=None, dtype=None, out=None):
    """An array filled with val (the ``_full`` op)."""
    return _creation("_full", shape, ctx, dtype, out, value=float(val))


def _dense_only(stype):
    if stype not in (None, "default"):
        raise NotImplementedError("storage type %r is not supported: MX arrays are dense" % stype)


def arange(start, stop=None, step=1.0, repeat=1, infer_range=None, ctx=None, dtype=None):
    """Evenly spaced values in [start, stop) (the ``_arange`` op); ``arange(5)`` is 0..4."""
    kv = {"start": float(start), "step": float(step), "repeat": int(repeat)}
    if stop is not None:
        kv["stop"] = float(stop)
    if infer_range is not None:
        kv["infer_range"] = bool(infer_range)
    return _creation("_arange", None, ctx, dtype, None, **kv)


def linspace(start, stop, num, endpoint=True, ctx=None, dtype=None):
    """num evenly spaced values over [start, stop] (the ``_linspace`` op)."""
    return _creation("_linspace", None, ctx, dtype, None, start=float(start), stop=float(stop),
                     num=int(num), endpoint=bool(endpoint))


def eye(N, M=0, k=0, ctx=None, dtype=None, **kwargs):
    """A 2-D array with ones on the k-th diagonal (the ``_eye`` op)."""
    return _creation("_eye", None, ctx, dtype, kwargs.pop("out", None), N=int(N), M=int(M),
                     k=int(k))


def array(source_array, ctx=None, dtype=None):
    """A new array holding a copy of ``source_array`` (an NDArray, numpy array, list, scalar).

    As in MXNet, dtype defaults to the source's dtype for an NDArray and to float32 otherwise
    (numpy float64 input becomes float32 unless dtype is given)."""
    if isinstance(source_array, NDArray):
        ctx = _ctx(ctx)
        src = source_array
        if dtype is not None and _dtype.dtype_flag(dtype) != src._dtype_flag:
            src = src.astype(dtype)
            return src if src.context == ctx else src.copyto(ctx)
        return src.copyto(ctx)
    name = "float32" if dtype is None else _dtype.dtype_name(dtype)
    npd = _dtype.numpy_dtype(_dtype.FLAG_OF_NAME[name])
    if npd is None:  # bfloat16 without ml_dtypes: convert from float32 in libmx
        return array(source_array, ctx=ctx, dtype="float32").astype("bfloat16")
    try:
        src = np.asarray(source_array, dtype=npd)
    except (TypeError, ValueError) as e:
        raise TypeError("source_array must be array like object: %s" % e) from None
    if not src.flags["C_CONTIGUOUS"]:
        src = src.copy(order="C")
    arr = empty(src.shape, ctx, name)
    check_call(lib.mx_ndarray_copy_from_host(arr._h, ffi.from_buffer(src), src.nbytes))
    return arr


def from_numpy(ndarray, zero_copy=True):
    """An NDArray over a numpy array's memory (zero_copy=True: the NDArray's data pointer IS
    numpy's; the numpy array is kept alive by the NDArray and, as in MXNet, marked read-only so
    that it is not modified behind libmx's back). zero_copy=False copies, keeping the dtype."""
    if not isinstance(ndarray, np.ndarray):
        raise TypeError("from_numpy expects a numpy.ndarray, got %s" % type(ndarray).__name__)
    if not zero_copy:
        return array(ndarray, dtype=ndarray.dtype)
    if not ndarray.flags["C_CONTIGUOUS"]:
        raise InvalidArgumentError("from_numpy(zero_copy=True) needs a C-contiguous array; pass "
                                   "np.ascontiguousarray(a) or zero_copy=False")
    if not ndarray.dtype.isnative:
        raise DTypeError("from_numpy(zero_copy=True): byte order of dtype %s is not native"
                         % ndarray.dtype)
    try:
        flag = _dtype.dtype_flag(ndarray.dtype)
    except DTypeError:
        raise DTypeError("from_numpy(zero_copy=True): dtype %s is not supported by MX "
                         "(supported: %s)" % (ndarray.dtype, ", ".join(_dtype.FLAG_OF_NAME))) from None
    if not ndarray.flags["ALIGNED"]:
        raise InvalidArgumentError("from_numpy(zero_copy=True) needs an aligned array")
    shape = ndarray.shape
    n = len(shape)
    buf = ffi.new("int64_t[]", max(n, 1))
    for i, s in enumerate(shape):
        buf[i] = s
    data = ffi.cast("void*", ndarray.__array_interface__["data"][0])
    ref = ffi.cast("void*", id(ndarray))
    lib.mxpy_incref(ref)
    out = ffi.new("mx_ndarray**")
    rc = lib.mx_ndarray_wrap(data, buf, n, flag, lib.MX_CPU, 0, ffi.addressof(lib, "mxpy_decref"),
                             ref, out)
    if rc:
        lib.mxpy_decref(ref)
        check_call(rc)
    ndarray.flags["WRITEABLE"] = False
    return wrap_handle(out[0])


def waitall():
    """Waits for all pushed work; raises the first asynchronous error since the last call."""
    check_call(lib.mx_wait_all())


# ---------------------------------------------------------------- files
def _split_data(data):
    if isinstance(data, NDArray):
        return [data], None
    if isinstance(data, dict):
        names = list(data.keys())
        for k in names:
            if not isinstance(k, str):
                raise TypeError("save: dict keys must be str, got %s" % type(k).__name__)
        arrays = [data[k] for k in names]
    elif isinstance(data, (list, tuple)):
        names, arrays = None, list(data)
    else:
        raise TypeError("save expects an NDArray, a list of NDArrays or a dict str -> NDArray")
    for a in arrays:
        if not isinstance(a, NDArray):
            raise TypeError("save: every value must be an NDArray, got %s" % type(a).__name__)
    return arrays, names


def _c_arrays(arrays, names):
    handles = ffi.new("mx_ndarray*[]", max(len(arrays), 1))
    for i, a in enumerate(arrays):
        handles[i] = a._live()
    if names is None:
        return handles, ffi.NULL, None
    keep = [ffi.new("char[]", n.encode("utf-8")) for n in names]
    cnames = ffi.new("const char*[]", keep) if keep else ffi.new("const char*[]", 1)
    return handles, cnames, keep


def save(fname, data):
    """Saves an NDArray, a list of NDArrays or a dict of them in MXNet's binary format."""
    arrays, names = _split_data(data)
    handles, cnames, _keep = _c_arrays(arrays, names)
    check_call(lib.mx_ndarray_save(os.fsencode(fname), len(arrays), handles, cnames))


def save_to_bytes(data):
    """The bytes ``save`` would write."""
    arrays, names = _split_data(data)
    handles, cnames, _keep = _c_arrays(arrays, names)
    buf = ffi.new("void**")
    n = ffi.new("size_t*")
    check_call(lib.mx_ndarray_save_to_buffer(len(arrays), handles, cnames, buf, n))
    try:
        return bytes(ffi.buffer(buf[0], n[0]))
    finally:
        lib.mx_buffer_free(buf[0])


def _unpack_list(lst_ptr):
    lst = ffi.gc(lst_ptr, lib.mx_ndarray_list_free)
    n = ffi.new("size_t*")
    check_call(lib.mx_ndarray_list_size(lst, n))
    arrays, names = [], []
    arr = ffi.new("mx_ndarray**")
    name = ffi.new("const char**")
    for i in range(n[0]):
        check_call(lib.mx_ndarray_list_get(lst, i, arr, name))
        arrays.append(wrap_handle(arr[0]))
        names.append(ffi.string(name[0]).decode("utf-8") if name[0] != ffi.NULL else None)
    if any(nm is not None for nm in names):
        return dict(zip(names, arrays))
    return arrays


def load(fname):
    """Loads a file written by ``save`` (or by MXNet): a list, or a dict when it has names."""
    out = ffi.new("mx_ndarray_list**")
    check_call(lib.mx_ndarray_load(os.fsencode(fname), out))
    return _unpack_list(out[0])


def load_from_bytes(buf):
    """Loads from the bytes of a saved file."""
    mv = memoryview(buf).cast("B")
    out = ffi.new("mx_ndarray_list**")
    check_call(lib.mx_ndarray_load_from_buffer(ffi.from_buffer(mv), mv.nbytes, out))
    return _unpack_list(out[0])


load_frombuffer = load_from_bytes


def _from_bytes_single(buf):
    return load_from_bytes(buf)[0]


def concatenate(arrays, axis=0, always_copy=True):
    """Joins arrays along an existing axis (the ``Concat`` op)."""
    if not arrays:
        raise ValueError("concatenate needs at least one array")
    if len(arrays) == 1 and not always_copy:
        return arrays[0]
    ps = params_for("Concat", (("dim", str(int(axis))), ("num_args", str(len(arrays)))))
    return invoke_ps(ps, tuple(arrays))


# ---------------------------------------------------------------- module-level arithmetic
def _ufunc(lhs, rhs, array_op, scalar_op, rscalar_op, py_fn):
    """MXNet's _ufunc_helper: array op for two arrays, scalar forms otherwise."""
    if isinstance(lhs, numeric_types) and isinstance(rhs, numeric_types):
        return py_fn(lhs, rhs)
    if isinstance(lhs, NDArray) and isinstance(rhs, NDArray):
        return invoke_ps(params_for(array_op, ()), (lhs, rhs))
    if isinstance(lhs, NDArray) and isinstance(rhs, numeric_types):
        return invoke_ps(params_for(scalar_op, (("scalar", _scalar(rhs)),)), (lhs,))
    if isinstance(lhs, numeric_types) and isinstance(rhs, NDArray):
        return invoke_ps(params_for(rscalar_op, (("scalar", _scalar(lhs)),)), (rhs,))
    raise TypeError("type %s and %s not supported" % (type(lhs).__name__, type(rhs).__name__))


def _scalar(v):
    from .ndarray import _scalar_text
    return _scalar_text(v)


def add(lhs, rhs):
    """lhs + rhs with broadcasting; either side may be a scalar."""
    return _ufunc(lhs, rhs, "broadcast_add", "_plus_scalar", "_plus_scalar", lambda a, b: a + b)


def subtract(lhs, rhs):
    """lhs - rhs with broadcasting; either side may be a scalar."""
    return _ufunc(lhs, rhs, "broadcast_sub", "_minus_scalar", "_rminus_scalar", lambda a, b: a - b)


def multiply(lhs, rhs):
    """lhs * rhs with broadcasting; either side may be a scalar."""
    return _ufunc(lhs, rhs, "broadcast_mul", "_mul_scalar", "_mul_scalar", lambda a, b: a * b)


def divide(lhs, rhs):
    """lhs / rhs with broadcasting; either side may be a scalar."""
    return _ufunc(lhs, rhs, "broadcast_div", "_div_scalar", "_rdiv_scalar", lambda a, b: a / b)


true_divide = divide


def modulo(lhs, rhs):
    """lhs % rhs with broadcasting; either side may be a scalar."""
    return _ufunc(lhs, rhs, "broadcast_mod", "_mod_scalar", "_rmod_scalar", lambda a, b: a % b)


def power(base, exp):
    """base ** exp with broadcasting; either side may be a scalar."""
    return _ufunc(base, exp, "broadcast_power", "_power_scalar", "_rpower_scalar",
                  lambda a, b: a ** b)


def maximum(lhs, rhs):
    """Elementwise maximum with broadcasting; either side may be a scalar."""
    return _ufunc(lhs, rhs, "broadcast_maximum", "_maximum_scalar", "_maximum_scalar", max)


def minimum(lhs, rhs):
    """Elementwise minimum with broadcasting; either side may be a scalar."""
    return _ufunc(lhs, rhs, "broadcast_minimum", "_minimum_scalar", "_minimum_scalar", min)


def equal(lhs, rhs):
    """1 where lhs == rhs, else 0 (in the input dtype)."""
    return _ufunc(lhs, rhs, "broadcast_equal", "_equal_scalar", "_equal_scalar",
                  lambda a, b: 1 if a == b else 0)


def not_equal(lhs, rhs):
    """1 where lhs != rhs, else 0."""
    return _ufunc(lhs, rhs, "broadcast_not_equal", "_not_equal_scalar", "_not_equal_scalar",
                  lambda a, b: 1 if a != b else 0)


def greater(lhs, rhs):
    """1 where lhs > rhs, else 0."""
    return _ufunc(lhs, rhs, "broadcast_greater", "_greater_scalar", "_lesser_scalar",
                  lambda a, b: 1 if a > b else 0)


def greater_equal(lhs, rhs):
    """1 where lhs >= rhs, else 0."""
    return _ufunc(lhs, rhs, "broadcast_greater_equal", "_greater_equal_scalar",
                  "_lesser_equal_scalar", lambda a, b: 1 if a >= b else 0)


def lesser(lhs, rhs):
    """1 where lhs < rhs, else 0."""
    return _ufunc(lhs, rhs, "broadcast_lesser", "_lesser_scalar", "_greater_scalar",
                  lambda a, b: 1 if a < b else 0)


def lesser_equal(lhs, rhs):
    """1 where lhs <= rhs, else 0."""
    return _ufunc(lhs, rhs, "broadcast_lesser_equal", "_lesser_equal_scalar",
                  "_greater_equal_scalar", lambda a, b: 1 if a <= b else 0)


def logical_and(lhs, rhs):
    """1 where both are non-zero, else 0."""
    return _ufunc(lhs, rhs, "broadcast_logical_and", "_logical_and_scalar", "_logical_and_scalar",
                  lambda a, b: 1 if (a and b) else 0)


def logical_or(lhs, rhs):
    """1 where either is non-zero, else 0."""
    return _ufunc(lhs, rhs, "broadcast_logical_or", "_logical_or_scalar", "_logical_or_scalar",
                  lambda a, b: 1 if (a or b) else 0)


def logical_xor(lhs, rhs):
    """1 where exactly one is non-zero, else 0."""
    return _ufunc(lhs, rhs, "broadcast_logical_xor", "_logical_xor_scalar", "_logical_xor_scalar",
                  lambda a, b: 1 if (bool(a) != bool(b)) else 0)
