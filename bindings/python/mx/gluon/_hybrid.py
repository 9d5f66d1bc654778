"""What hybridized blocks share (private to mx.gluon): the CachedOp wrapper with its per-call
input order, flattening of nested inputs/outputs, and small helpers of block.py."""
import threading

from ..base import InternalError, InvalidArgumentError, UnsupportedError, check_call, ffi, lib
from ..ndarray._call import wrap_handle
from ..ndarray.ndarray import NDArray


_HYBRIDIZE_HINTS = ("inline_limit", "forward_bulk_size", "backward_bulk_size")


def _check_hybridize_kwargs(kwargs):
    """The hybridize keywords other than the accepted no-op hints (returned to pass on to the
    children); raises on unknown ones."""
    for k, v in kwargs.items():
        if k == "backend":
            if v is not None:
                raise UnsupportedError("hybridize(backend=%r) is not supported: MX has no "
                                       "subgraph backends" % (v,))
        elif k not in _HYBRIDIZE_HINTS:
            raise InvalidArgumentError(
                "hybridize() got an unknown option '%s' (accepted: active, static_alloc, "
                "static_shape, and the no-op hints %s)" % (k, ", ".join(_HYBRIDIZE_HINTS)))
    return kwargs


def _flag_str(v):
    return "true" if v else "false"


class _CallBuffers(threading.local):
    def __init__(self):
        self.lst = ffi.new("mx_ndarray_list**")
        self.arr = ffi.new("mx_ndarray**")
        self.n = ffi.new("size_t*")


_CALL_BUF = _CallBuffers()


class _CachedGraph:
    """One traced graph and its libmx CachedOp, with the per-call input order precomputed:
    data_slots (slot, index in the flat inputs), param_slots (slot, Parameter)."""

    __slots__ = ("sym", "op", "n_in", "n_out", "data_slots", "param_slots", "first",
                 "out_fmt", "_checked")

    def __init__(self, sym, flags, data_slots, param_slots, first, out_fmt):
        self.sym = sym
        self.data_slots = tuple(data_slots)
        self.param_slots = tuple(param_slots)
        self.n_in = len(data_slots) + len(param_slots)
        self.n_out = len(sym.list_outputs())
        self.first = first
        self.out_fmt = out_fmt
        self._checked = False
        keep = [ffi.new("char[]", k.encode()) for k, _ in flags]
        keep += [ffi.new("char[]", _flag_str(v).encode()) for _, v in flags]
        n = len(flags)
        keys = ffi.new("const char*[]", keep[:n]) if n else ffi.NULL
        vals = ffi.new("const char*[]", keep[n:]) if n else ffi.NULL
        out = ffi.new("mx_cached_op**")
        check_call(lib.mx_cached_op_create(_sym_handle(sym), n, keys, vals, 0, out))
        self.op = ffi.gc(out[0], lib.mx_cached_op_free)

    def __call__(self, flat):
        ins = ffi.new("mx_ndarray*[]", self.n_in)
        for slot, i in self.data_slots:
            ins[slot] = flat[i]._h
        if self.param_slots:
            ctx = flat[self.first].context
            key = (ctx.device_typeid, ctx.device_id)
            for slot, p in self.param_slots:
                try:
                    ins[slot] = p._data[p._ctx_map[key]]._h
                except (TypeError, KeyError):
                    ins[slot] = p.data(ctx)._h  # raises the Parameter's own error
        buf = _CALL_BUF
        check_call(lib.mx_cached_op_invoke(self.op, self.n_in, ins, buf.lst))
        lst = buf.lst[0]
        try:
            if not self._checked:
                check_call(lib.mx_ndarray_list_size(lst, buf.n))
                if buf.n[0] != self.n_out:
                    raise InternalError("the cached op returned %d outputs, its graph has %d"
                                        % (buf.n[0], self.n_out))
                self._checked = True
            arr = buf.arr
            outs = []
            for i in range(self.n_out):
                check_call(lib.mx_ndarray_list_get(lst, i, arr, ffi.NULL))
                outs.append(wrap_handle(arr[0]))
        finally:
            lib.mx_ndarray_list_free(lst)
        if self.out_fmt == 0:
            return outs[0]
        return _regroup(outs, self.out_fmt)[0]

    def memory(self):
        """(planned bytes, bytes without the memory plan) of the cached op."""
        a = ffi.new("size_t*")
        b = ffi.new("size_t*")
        check_call(lib.mx_cached_op_memory(self.op, a, b))
        return int(a[0]), int(b[0])


def _sym_handle(sym):
    h = getattr(sym, "handle", None)
    return h if h is not None else sym._h


def _common_prefix(names):
    if not names:
        return ""
    prefix = names[0]
    for name in names:
        i = 0
        while i < len(prefix) and i < len(name) and prefix[i] == name[i]:
            i += 1
        prefix = prefix[:i]
    return prefix


def _parse_shape_attr(text):
    """'(32, 0, 3, 3)' -> (32, 0, 3, 3); None when absent or not a shape."""
    if not text:
        return None
    try:
        dims = [t.strip() for t in text.strip().strip("()[]").split(",")]
        return tuple(int(d) for d in dims if d)
    except ValueError:
        return None


_FLAT_FMTS = tuple((0,) * k for k in range(9))


class _ThreadState(threading.local):
    imperative = 0  # > 0 while a block runs imperatively to finish deferred initialization


_TLS = _ThreadState()
_SYMBOL = []


def _symbol():
    """The mx.symbol module (imported on first use)."""
    if not _SYMBOL:
        from .. import symbol
        _SYMBOL.append(symbol)
    return _SYMBOL[0]


def _first_leaf(x, args):
    """The type of the first NDArray or Symbol in (x, *args), nested lists included."""
    stack = [x]
    stack.extend(args)
    while stack:
        a = stack.pop(0)
        if isinstance(a, NDArray):
            return NDArray
        if isinstance(a, (list, tuple)):
            stack[0:0] = list(a)
        elif a is not None:
            sym = _symbol()
            return sym.Symbol if isinstance(a, sym.Symbol) else type(a)
    return None


def _first_array(x, args):
    stack = [x] + list(args)
    while stack:
        a = stack.pop(0)
        if isinstance(a, NDArray):
            return a
        if isinstance(a, (list, tuple)):
            stack[0:0] = list(a)
    raise TypeError("HybridBlock.forward expects NDArray inputs")


def _flatten(args, what):
    """(flat list, format) of nested lists/tuples of NDArrays, Symbols and None: the format
    is 0 for one array (or single-output symbol), n > 1 for a symbol with n outputs, -1 for
    None, a tuple of formats for a list or tuple."""
    if isinstance(args, NDArray):
        return [args], 0
    if args is None:
        return [None], -1
    if isinstance(args, (list, tuple)):
        flat, fmts = [], []
        for a in args:
            f, m = _flatten(a, what)
            flat.extend(f)
            fmts.append(m)
        return flat, tuple(fmts)
    sym = _symbol()
    if isinstance(args, sym.Symbol):
        n = len(args.list_outputs())
        return [args], (n if n > 1 else 0)
    raise TypeError("HybridBlock %s must be (nested) list of Symbol or NDArray, but got %r of "
                    "type %s" % (what, args, type(args).__name__))


def _regroup(flat, fmt):
    """Inverse of _flatten: (value, rest of flat)."""
    if isinstance(fmt, int):
        if fmt == 0:
            return flat[0], flat[1:]
        if fmt == -1:
            return None, flat[1:]
        return list(flat[:fmt]), flat[fmt:]
    ret = []
    for f in fmt:
        r, flat = _regroup(flat, f)
        ret.append(r)
    return ret, flat
