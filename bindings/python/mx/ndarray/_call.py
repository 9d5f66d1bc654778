"""Calling registered operators: op handles, parameter conversion and caching, invoke.

Parameters cross the ABI as MXNet-syntax strings. A parsed ``mx_op_params`` handle is cached per
distinct (op, parameters) on the Python side too, so a repeated call converts its values and
does one dict lookup.
"""
import threading

import numpy as np

from .._dtype import dtype_name
from ..base import HandleError, NotFoundError, check_call, ffi, last_error, lib
from ..context import Context

NULL = ffi.NULL
_gc = ffi.gc
_free = lib.mx_ndarray_free
NDArray = None  # set by ndarray.py (circular import)
_new = object.__new__


# ---------------------------------------------------------------- op handles
_OPS = {}


def op_handle(name):
    """The ``const mx_op*`` of an op name or alias (NotFoundError when unknown)."""
    try:
        return _OPS[name]
    except KeyError:
        pass
    out = ffi.new("const mx_op**")
    check_call(lib.mx_op_find(name.encode(), out))
    _OPS[name] = out[0]
    return out[0]


def try_op_handle(name):
    """op_handle, or None when the op is not registered."""
    try:
        return op_handle(name)
    except NotFoundError:
        return None


def missing_op_error(name):
    return NotFoundError("operator '%s' is not registered in this build of libmx" % name)


# ---------------------------------------------------------------- parameter values
def param_str(value):
    """MXNet text of a Python parameter value: (2, 3) -> '(2, 3)', True -> 'True',
    None -> 'None', numpy/str dtypes -> their name, Context -> 'cpu(0)'."""
    t = type(value)
    if t is str:
        return value
    if t is bool:
        return "True" if value else "False"
    if t is int:
        return str(value)
    if t is float:
        return repr(value)
    if value is None:
        return "None"
    if t is tuple or t is list:
        if len(value) == 1:
            return "(%s,)" % param_str(value[0])
        return "(" + ", ".join(param_str(v) for v in value) + ")"
    if isinstance(value, (bool, np.bool_)):
        return "True" if value else "False"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        return repr(float(value))
    if isinstance(value, Context):
        return str(value)
    if isinstance(value, (tuple, list)):
        return param_str(tuple(value))
    if isinstance(value, (np.dtype, type)) or _is_dtype_like(value):
        return dtype_name(value)
    if NDArray is not None and isinstance(value, NDArray):
        raise TypeError("an NDArray was given where a parameter value is expected; "
                        "arrays are operator inputs")
    if isinstance(value, np.ndarray):
        if value.ndim == 0:
            return param_str(value.item())
        return param_str(tuple(value.tolist()))
    return str(value)


def _is_dtype_like(value):
    try:
        np.dtype(value)
    except TypeError:
        return False
    return not isinstance(value, (str, bytes))


class ParamSet:
    """A parsed parameter set of one op: the ``mx_op_params*`` handle and the arity."""
    __slots__ = ("op", "handle", "num_inputs", "num_outputs", "op_name")

    def __init__(self, op_name, op, kv):
        self.op_name = op_name
        self.op = op
        n = len(kv)
        keepalive = [ffi.new("char[]", k.encode()) for k, _ in kv]
        keepalive += [ffi.new("char[]", v.encode("utf-8")) for _, v in kv]
        keys = ffi.new("const char*[]", keepalive[:n]) if n else NULL
        vals = ffi.new("const char*[]", keepalive[n:]) if n else NULL
        out = ffi.new("mx_op_params**")
        check_call(lib.mx_op_params_create(op, n, keys, vals, out))
        self.handle = _gc(out[0], lib.mx_op_params_free)
        ni = ffi.new("int*")
        no = ffi.new("int*")
        check_call(lib.mx_op_arity(op, self.handle, ni, no))
        self.num_inputs = int(ni[0])
        self.num_outputs = int(no[0])


_PARAMS = {}
_PARAMS_MAX = 4096


def params_for(op_name, kv):
    """Cached ParamSet of ``op_name`` for kv, a tuple of (key, MXNet text) pairs."""
    key = (op_name, kv)
    ps = _PARAMS.get(key)
    if ps is None:
        ps = ParamSet(op_name, op_handle(op_name), kv)
        if len(_PARAMS) >= _PARAMS_MAX:
            _PARAMS.clear()
        _PARAMS[key] = ps
    return ps


def params_from_dict(op_name, params):
    """ParamSet from a dict of Python values (None values are passed as 'None')."""
    if not params:
        return params_for(op_name, ())
    kv = tuple(sorted((str(k), param_str(v)) for k, v in params.items()))
    return params_for(op_name, kv)


# ---------------------------------------------------------------- invoke
class _Buffers(threading.local):
    """Per-thread input/output handle arrays, reused across calls (cffi releases the GIL around
    each call, so threads must not share them)."""

    def __init__(self):
        self.nin = 16
        self.ins = ffi.new("mx_ndarray*[]", 16)
        self.nout = 8
        self.outs = ffi.new("mx_ndarray*[]", 8)


_BUF = _Buffers()


def wrap_handle(h):
    """An NDArray owning a new ``mx_ndarray*`` (freed when the NDArray dies)."""
    r = _new(NDArray)
    r._h = h
    return r


def invoke_ps(ps, inputs, out=None):
    """Runs the op of ParamSet ps on a sequence of NDArrays. Returns an NDArray (one output),
    a list (several), or ``out`` when given (an NDArray or a list/tuple of them)."""
    buf = _BUF
    n = len(inputs)
    if n > buf.nin:
        buf.nin = max(n, 2 * buf.nin)
        buf.ins = ffi.new("mx_ndarray*[]", buf.nin)
    ins = buf.ins
    i = 0
    for x in inputs:
        if not isinstance(x, NDArray):
            raise TypeError("operator %s: input %d must be an NDArray, got %s"
                            % (ps.op_name, i, type(x).__name__))
        ins[i] = x._h
        i += 1
    nout = ps.num_outputs
    if nout > buf.nout:
        buf.nout = max(nout, 2 * buf.nout)
        buf.outs = ffi.new("mx_ndarray*[]", buf.nout)
    outs = buf.outs
    if out is None:
        for j in range(nout):
            outs[j] = NULL
    else:
        outl = [out] if isinstance(out, NDArray) else list(out)
        if len(outl) != nout:
            raise ValueError("operator %s produces %d output(s) but out= holds %d"
                             % (ps.op_name, nout, len(outl)))
        for j, o in enumerate(outl):
            if not isinstance(o, NDArray):
                raise TypeError("operator %s: out= must hold NDArrays, got %s"
                                % (ps.op_name, type(o).__name__))
            outs[j] = o._h
    rc = lib.mx_op_invoke(ps.op, ps.handle, n, ins, nout, outs)
    if rc:
        err = last_error(rc)
        _check_freed(ps.op_name, inputs, out)
        raise err
    if out is not None:
        return out
    if nout == 1:
        return wrap_handle(outs[0])
    return [wrap_handle(outs[j]) for j in range(nout)]


def invoke(op_name, inputs, params=None, out=None):
    """Runs a registered op by name: ``invoke("broadcast_add", [a, b])``,
    ``invoke("Convolution", [x, w, b], {"kernel": (3, 3), "num_filter": 8})``.

    Returns an NDArray, or a list of NDArrays for a multi-output op (``out`` when given)."""
    if isinstance(inputs, NDArray):
        inputs = [inputs]
    return invoke_ps(params_from_dict(op_name, params), inputs, out)


def raise_failed(op_name, op, *arrays):
    """Raises the error of a failed one-call invoke."""
    if op is None:
        raise missing_op_error(op_name)
    err = last_error()
    _check_freed(op_name, arrays, None)
    raise err


def _check_freed(op_name, inputs, out):
    """A clearer error than libmx's NULL-handle one when an input was freed in Python."""
    for i, x in enumerate(inputs):
        if isinstance(x, NDArray) and x._h == NULL:
            raise HandleError("operator %s: input %d is an NDArray that was freed" % (op_name, i))
    if out is not None:
        for o in ([out] if isinstance(out, NDArray) else out):
            if isinstance(o, NDArray) and o._h == NULL:
                raise HandleError("operator %s: out= holds an NDArray that was freed" % op_name)


def handle_of(x):
    """The live handle of an NDArray (HandleError after free())."""
    h = x._h
    if h == NULL:
        raise HandleError("this NDArray was freed")
    return h
