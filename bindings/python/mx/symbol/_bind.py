"""Binding symbols to arrays: the argument checks and allocation behind Symbol.bind and
Symbol.simple_bind (the executor itself runs in libmx)."""
import numpy as np

from .. import _dtype
from ..base import UnsupportedError, check_call, ffi, lib
from ..context import Context
from ..executor import Executor, _shape_args
from ..ndarray import NDArray

NULL = ffi.NULL
_GRAD_REQ_MAP = {"null": 0, "write": 1, "inplace": 2, "add": 3}


def _cstrs(strs):
    keep = [ffi.new("char[]", s.encode("utf-8")) for s in strs]
    return (ffi.new("const char*[]", keep) if keep else NULL), keep


def bind(sym, ctx, args, args_grad, grad_req, aux_states, group2ctx, shared_exec):
    """Symbol.bind."""
    ctx = _check_ctx(ctx)
    _no_group2ctx(group2ctx)
    if shared_exec is not None and not isinstance(shared_exec, Executor):
        raise TypeError("shared_exec must be an Executor, got %s" % type(shared_exec).__name__)
    arg_names = sym.list_arguments()
    aux_names = sym.list_auxiliary_states()
    args = _array_list("args", args, arg_names, False)
    if args_grad is None:
        grads = [None] * len(arg_names)
    else:
        grads = _array_list("args_grad", args_grad, arg_names, True)
    aux = _array_list("aux_states", [] if aux_states is None else aux_states, aux_names, False)
    reqs = _grad_reqs(grad_req, arg_names)
    reqs = [r if g is not None else 0 for r, g in zip(reqs, grads)]
    n = len(args)
    out = ffi.new("mx_executor**")
    check_call(lib.mx_executor_bind(
        sym._h, ctx.device_typeid, ctx.device_id, n,
        ffi.new("mx_ndarray*[]", [a.handle for a in args]) if n else NULL,
        ffi.new("mx_ndarray*[]", [g.handle if g is not None else NULL for g in grads])
        if n else NULL,
        ffi.new("int[]", reqs) if n else NULL, len(aux),
        ffi.new("mx_ndarray*[]", [a.handle for a in aux]) if aux else NULL, 0, out))
    return Executor(out[0], sym, ctx, grad_req, args, grads, aux)


def simple_bind(sym, ctx, grad_req, type_dict, stype_dict, group2ctx, shared_arg_names,
                shared_exec, shared_buffer, kwargs):
    """Symbol.simple_bind."""
    ctx = _check_ctx(ctx)
    _no_group2ctx(group2ctx)
    if stype_dict:
        bad = {k: v for k, v in stype_dict.items() if v not in (None, "default")}
        if bad:
            raise UnsupportedError("simple_bind: sparse storage types are not supported (%s)"
                                   % ", ".join("%s=%s" % kv for kv in sorted(bad.items())))
    for k, v in kwargs.items():
        if not isinstance(v, (tuple, list)):
            raise TypeError("simple_bind: keyword %s=%r is not a shape (tuple)" % (k, v))
    type_dict = dict(type_dict or {})
    if shared_exec is not None or shared_buffer is not None or shared_arg_names:
        return _simple_bind_shared(sym, ctx, grad_req, type_dict, shared_arg_names,
                                   shared_exec, shared_buffer, kwargs)
    arg_names = sym.list_arguments()
    n_s, skeys, ndims, dims, _k1 = _shape_args(kwargs)
    tkeys, _k2 = _cstrs(list(type_dict))
    tflags = [_dtype.dtype_flag(t) for t in type_dict.values()]
    if isinstance(grad_req, str):
        req_names, req_codes = ["*"], [_req_code(grad_req, "*")]
    elif isinstance(grad_req, (list, tuple, dict)):
        codes = _grad_reqs(grad_req, arg_names)
        req_names, req_codes = list(arg_names), codes
    else:
        raise TypeError("grad_req must be a str, a list or a dict, got %s"
                        % type(grad_req).__name__)
    rkeys, _k3 = _cstrs(req_names)
    out = ffi.new("mx_executor**")
    check_call(lib.mx_executor_simple_bind(
        sym._h, ctx.device_typeid, ctx.device_id, n_s, skeys, ndims, dims,
        len(tflags), tkeys, ffi.new("int[]", tflags) if tflags else NULL,
        len(req_codes), rkeys, ffi.new("int[]", req_codes) if req_codes else NULL, 0, out))
    return Executor(out[0], sym, ctx, grad_req)


def _check_ctx(ctx):
    if isinstance(ctx, Context):
        return ctx
    if isinstance(ctx, str):
        name, _, rest = ctx.partition("(")
        return Context(name.strip(), int(rest.rstrip(")") or 0))
    raise TypeError("ctx must be a Context (mx.cpu(), mx.gpu(i)), got %s" % type(ctx).__name__)


def _no_group2ctx(group2ctx):
    if group2ctx:
        raise UnsupportedError("group2ctx (placing ctx_group parts of a graph on other devices) is "
                               "not supported by MX: bind the whole graph on one device")


def _array_list(what, arrays, names, allow_missing):
    """Arrays in names order from a list or a dict (None where missing and allowed)."""
    if isinstance(arrays, (list, tuple)):
        if len(arrays) != len(names):
            raise ValueError("Length of %s (%d) does not match the number of %s (%d: %s)"
                             % (what, len(arrays), "auxiliary states" if what == "aux_states"
                                else "arguments", len(names), ", ".join(names)))
        out = list(arrays)
        for n, a in zip(names, out):
            if a is None and allow_missing:
                continue
            if not isinstance(a, NDArray):
                raise TypeError("%s: %s must be an NDArray, got %s" % (what, n, type(a).__name__))
        return out
    if isinstance(arrays, dict):
        out = []
        missing = []
        for n in names:
            a = arrays.get(n)
            if a is None:
                missing.append(n)
            elif not isinstance(a, NDArray):
                raise TypeError("%s: %s must be an NDArray, got %s" % (what, n, type(a).__name__))
            out.append(a)
        if missing and not allow_missing:
            many = len(missing) > 1
            raise ValueError("key%s %s %s missing in `%s`" % ("s" if many else "", ", ".join(
                "`%s`" % n for n in missing), "are" if many else "is", what))
        return out
    raise TypeError("%s must be a list of NDArrays or a dict of str to NDArray, got %s"
                    % (what, type(arrays).__name__))


def _req_code(req, name):
    try:
        return _GRAD_REQ_MAP[req]
    except (KeyError, TypeError):
        raise ValueError("grad_req of %s must be one of 'write', 'add', 'null' (or 'inplace'), "
                         "got %r" % (name if name != "*" else "the arguments", req)) from None


def _grad_reqs(grad_req, names):
    if isinstance(grad_req, str):
        code = _req_code(grad_req, "*")
        return [code] * len(names)
    if isinstance(grad_req, (list, tuple)):
        if len(grad_req) != len(names):
            raise ValueError("grad_req has %d entries for %d arguments (%s)"
                             % (len(grad_req), len(names), ", ".join(names)))
        return [_req_code(r, n) for r, n in zip(grad_req, names)]
    if isinstance(grad_req, dict):
        unknown = sorted(set(grad_req) - set(names))
        if unknown:
            raise ValueError("grad_req names %s are not arguments (%s)"
                             % (", ".join(unknown), ", ".join(names)))
        return [_req_code(grad_req.get(n, "null"), n) for n in names]
    raise TypeError("grad_req must be a str, a list or a dict, got %s" % type(grad_req).__name__)


def _simple_bind_shared(sym, ctx, grad_req, type_dict, shared_arg_names, shared_exec,
                        shared_buffer, shapes):
    """simple_bind reusing arrays of another executor / a buffer dict (allocation here, then
    bind)."""
    from ..ndarray import zeros
    if shared_exec is not None and not isinstance(shared_exec, Executor):
        raise TypeError("shared_exec must be an Executor, got %s" % type(shared_exec).__name__)
    if shared_arg_names is not None and not isinstance(shared_arg_names, (list, tuple, set)):
        raise ValueError("shared_arg_names in simple_bind must be a list or None")
    if shared_buffer is not None and not isinstance(shared_buffer, dict):
        raise ValueError("shared_buffer in simple_bind must be dict or None")
    arg_names = sym.list_arguments()
    aux_names = sym.list_auxiliary_states()
    arg_shapes, _, aux_shapes = sym._infer_shape_impl((), shapes)[:3]
    missing = [n for n, s in zip(arg_names, arg_shapes) if s is None or any(d < 0 for d in s)]
    missing += [n for n, s in zip(aux_names, aux_shapes) if s is None or any(d < 0 for d in s)]
    if missing:
        raise ValueError("simple_bind: cannot infer the shapes of %s; give their shapes"
                         % ", ".join(missing))
    arg_types, _, aux_types = sym._infer_type_impl((), type_dict)[:3]
    if any(t is None for t in arg_types + aux_types):
        known = dict(type_dict)
        for n, t in zip(arg_names, arg_types):
            if t is None and n not in known:
                known[n] = np.float32
        arg_types, _, aux_types = sym._infer_type_impl((), known)[:3]
    reqs = _grad_reqs(grad_req, arg_names)
    shared = set(shared_arg_names or ())
    sargs = shared_exec.arg_dict if shared_exec is not None else {}
    sgrads = shared_exec.grad_dict if shared_exec is not None else {}
    saux = shared_exec.aux_dict if shared_exec is not None else {}

    def fits(arr, shape, t):
        return arr is not None and tuple(arr.shape) == tuple(shape) and arr.dtype == np.dtype(t)

    args, grads = [], []
    for n, shape, t, req in zip(arg_names, arg_shapes, arg_types, reqs):
        if n in shared and n in sargs:
            a = sargs[n]
            if not fits(a, shape, t):
                raise ValueError("simple_bind: shared argument %s has shape %s / dtype %s in "
                                 "shared_exec, but %s / %s here" % (n, a.shape, a.dtype, shape,
                                                                    np.dtype(t).name))
            g = sgrads.get(n) if req else None
            if req and g is None:
                g = zeros(shape, ctx=ctx, dtype=t)
        else:
            a = shared_buffer.get(n) if shared_buffer is not None else None
            if not fits(a, shape, t):
                a = zeros(shape, ctx=ctx, dtype=t)
                if shared_buffer is not None:
                    shared_buffer[n] = a
            g = zeros(shape, ctx=ctx, dtype=t) if req else None
        args.append(a)
        grads.append(g)
    aux = []
    for n, shape, t in zip(aux_names, aux_shapes, aux_types):
        a = saux.get(n)
        aux.append(a if fits(a, shape, t) else zeros(shape, ctx=ctx, dtype=t))
    names = {v: k for k, v in _GRAD_REQ_MAP.items()}
    return sym.bind(ctx, args, grads, [names[r] for r in reqs], aux)
