"""The Symbol class (MXNet 1.x ``mx.sym.Symbol``) over an ``mx_symbol*`` handle, and the module
functions ``var``/``Variable``, ``Group``, ``load``, ``load_json``, ``pow``, ``maximum``, ...

A Symbol is a list of outputs of a graph held by libmx; nodes are shared between symbols. No
graph logic lives here: composition, listing, inference, JSON and binding are C ABI calls.
"""
import os
import warnings
from numbers import Number

import numpy as np

from .. import _dtype
from ..attribute import AttrScope
from ..base import UnsupportedError, check_call, ffi, lib, numeric_types
from ..context import current_context
from ..ndarray.ndarray import FLUENT_METHODS
from . import _bind, _internal, op, register

__all__ = ["Symbol", "var", "Variable", "Group", "load", "load_json", "pow", "power", "maximum",
           "minimum", "hypot", "eye", "zeros", "ones", "full", "arange", "linspace"]

NULL = ffi.NULL
_ARGS, _OUTPUTS, _AUX, _INPUTS = 0, 1, 2, 3
_HIDDEN = register.HIDDEN_KEYS
_STORAGE_TYPE_ID = {"default": 0}


def _s(p):
    return ffi.string(p).decode("utf-8", "replace") if p != NULL else None


def _cstrs(strs):
    """(const char*[] or NULL, keepalive) of a list of str."""
    keep = [ffi.new("char[]", s.encode("utf-8")) for s in strs]
    return (ffi.new("const char*[]", keep) if keep else NULL), keep


def _wrap(h):
    s = object.__new__(Symbol)
    s._h = ffi.gc(h, lib.mx_symbol_free)
    return s


def create_node(op_name, keys, vals, input_keys, inputs, name):
    """A new op node (mx_symbol_create). input_keys None: inputs positional."""
    kk, k1 = _cstrs(keys)
    vv, k2 = _cstrs(vals)
    ik, k3 = _cstrs(input_keys) if input_keys else (NULL, None)
    ins = ffi.new("mx_symbol*[]", [s._h for s in inputs]) if inputs else NULL
    out = ffi.new("mx_symbol**")
    check_call(lib.mx_symbol_create(op_name.encode(), len(keys), kk, vv, len(inputs), ik, ins,
                                    name.encode("utf-8") if name else NULL, out))
    return _wrap(out[0])


def _np_type(flag):
    t = _dtype.DTYPE_OF_FLAG.get(flag)
    if t is None:
        raise ValueError("libmx reported an unknown dtype flag %d" % flag)
    return t.type if isinstance(t, np.dtype) else t


class Symbol:
    """A symbolic graph: one or more outputs of op nodes and variables (MXNet's Symbol).

    Built with ``mx.sym.var`` and the op functions of ``mx.sym``; run with ``bind`` /
    ``simple_bind`` / ``eval``."""

    __slots__ = ("_h", "__weakref__")
    # numpy defers binary operators to Symbol instead of converting it.
    __array_priority__ = 1000.0
    __array_ufunc__ = None

    def __init__(self, handle):
        """Takes ownership of an ``mx_symbol*`` cdata (internal: use mx.sym.var and the ops)."""
        if not isinstance(handle, ffi.CData):
            raise TypeError("Symbol(handle) takes an mx_symbol* handle; create symbols with "
                            "mx.sym.var and the operator functions of mx.sym")
        self._h = ffi.gc(handle, lib.mx_symbol_free)

    @property
    def handle(self):
        """The ``mx_symbol*`` cdata (borrowed)."""
        return self._h

    # ------------------------------------------------------------ structure
    def __repr__(self):
        name = self.name
        if name is None:
            return "<%s group [%s]>" % (type(self).__name__, ", ".join(self.list_outputs()))
        return "<%s %s>" % (type(self).__name__, name)

    def __len__(self):
        n = ffi.new("size_t*")
        check_call(lib.mx_symbol_num_outputs(self._h, n))
        return int(n[0])

    def __iter__(self):
        return (self[i] for i in range(len(self)))

    def __getitem__(self, index):
        """Output ``index`` (an int, an output name, or a slice: a Group)."""
        count = len(self)
        if isinstance(index, slice):
            return Group([self[i] for i in range(*index.indices(count))])
        if isinstance(index, str):
            names = self.list_outputs()
            hits = [i for i, n in enumerate(names) if n == index]
            if not hits:
                raise ValueError('Cannot find output that matches name "%s" (outputs: %s)'
                                 % (index, ", ".join(names[:20]) + (", ..." if len(names) > 20
                                                                     else "")))
            if len(hits) > 1:
                raise ValueError('There are multiple outputs with name "%s"' % index)
            index = hits[0]
        if not isinstance(index, (int, np.integer)) or isinstance(index, bool):
            raise TypeError("Symbol only supports an int, an output name or a slice as index, "
                            "got %s" % type(index).__name__)
        index = int(index)
        if index < 0:
            index += count
        if not 0 <= index < count:
            raise IndexError("output index %d out of range for a symbol with %d output(s)"
                             % (index, count))
        out = ffi.new("mx_symbol**")
        check_call(lib.mx_symbol_get_output(self._h, index, out))
        return _wrap(out[0])

    @property
    def name(self):
        """The name of the head node (outputs of one node, as split's, share it); None for a
        group of several nodes."""
        out = ffi.new("const char**")
        check_call(lib.mx_symbol_name(self._h, out))
        return _s(out[0])

    def _list(self, which):
        n = ffi.new("size_t*")
        names = ffi.new("const char* const**")
        check_call(lib.mx_symbol_list(self._h, which, n, names))
        return [_s(names[0][i]) for i in range(n[0])]

    def list_arguments(self):
        """Names of the arguments (free variables that are not auxiliary states), graph order."""
        return self._list(_ARGS)

    def list_outputs(self):
        """Names of the outputs ("fc1_output", a variable's own name, ...)."""
        return self._list(_OUTPUTS)

    def list_auxiliary_states(self):
        """Names of the auxiliary states (variables an op mutates: BatchNorm's moving_mean...)."""
        return self._list(_AUX)

    def list_inputs(self):
        """Arguments and auxiliary states, graph order."""
        return self._list(_INPUTS)

    def get_internals(self):
        """A group of every output of every node (variables included), topological order."""
        out = ffi.new("mx_symbol**")
        check_call(lib.mx_symbol_get_internals(self._h, out))
        return _wrap(out[0])

    def get_children(self):
        """The inputs of the head node(s) as a group; None when there are none (a variable)."""
        out = ffi.new("mx_symbol**")
        check_call(lib.mx_symbol_get_children(self._h, out))
        if out[0] == NULL:
            return None
        ret = _wrap(out[0])
        return ret if len(ret) else None

    # ------------------------------------------------------------ attributes
    def attr(self, key):
        """The attribute ``key`` of the head node (op parameters included); None when absent."""
        val = ffi.new("const char**")
        found = ffi.new("int*")
        check_call(lib.mx_symbol_get_attr(self._h, key.encode("utf-8"), val, found))
        if found[0]:
            return _s(val[0])
        if key in _HIDDEN:
            check_call(lib.mx_symbol_get_attr(self._h, ("__%s__" % key).encode(), val, found))
            if found[0]:
                return _s(val[0])
        return None

    def _attr_triples(self, recursive):
        n = ffi.new("size_t*")
        triples = ffi.new("const char* const**")
        check_call(lib.mx_symbol_list_attr(self._h, 1 if recursive else 0, n, triples))
        t = triples[0]
        return [(_s(t[3 * i]), _s(t[3 * i + 1]), _s(t[3 * i + 2])) for i in range(n[0])]

    def list_attr(self, recursive=False):
        """{key: value} of the head node's attributes ("__lr_mult__" also shown as "lr_mult")."""
        if recursive:
            raise DeprecationWarning("Symbol.list_attr with recursive=True has been deprecated. "
                                     "Please use attr_dict instead.")
        ret = {}
        for _node, key, val in self._attr_triples(False):
            ret[key] = val
            plain = _unhide(key)
            if plain:
                ret[plain] = val
        return ret

    def attr_dict(self):
        """{node name: {key: value}} of every node with attributes."""
        ret = {}
        for node, key, val in self._attr_triples(True):
            d = ret.setdefault(node, {})
            d[key] = val
            plain = _unhide(key)
            if plain:
                d[plain] = val
        return ret

    def _set_attr(self, **kwargs):
        """Sets attributes (string values) of the head node."""
        for key, value in kwargs.items():
            if not isinstance(value, str):
                raise ValueError("Set Attr only accepts string values: %s=%r" % (key, value))
            key = _hide(key, value)
            check_call(lib.mx_symbol_set_attr(self._h, key.encode("utf-8"),
                                              value.encode("utf-8")))

    # ------------------------------------------------------------ composition, copies
    def __call__(self, *args, **kwargs):
        """A copy with its free variables replaced: ``net(data=x)``, ``net(x)``; name= renames
        the head node."""
        s = self.__copy__()
        s._compose(*args, **kwargs)
        return s

    def _compose(self, *args, **kwargs):
        """Replaces free variables in place (positional: list_arguments order; or by name)."""
        name = kwargs.pop("name", None)
        if args and kwargs:
            raise TypeError("compose only accepts input Symbols either as positional or keyword "
                            "arguments, not both")
        syms = list(args) if args else list(kwargs.values())
        for i, s in enumerate(syms):
            if not isinstance(s, Symbol):
                what = "argument %d" % i if args else "argument '%s'" % list(kwargs)[i]
                raise TypeError("Compose expects Symbols as arguments: %s is %s"
                                % (what, type(s).__name__))
        keys, keep = _cstrs(list(kwargs)) if kwargs else (NULL, None)
        arr = ffi.new("mx_symbol*[]", [s._h for s in syms]) if syms else NULL
        out = ffi.new("mx_symbol**")
        check_call(lib.mx_symbol_compose(self._h, name.encode("utf-8") if name else NULL,
                                         len(syms), keys, arr, out))
        self._h = ffi.gc(out[0], lib.mx_symbol_free)

    def __copy__(self):
        out = ffi.new("mx_symbol**")
        check_call(lib.mx_symbol_copy(self._h, out))
        return _wrap(out[0])

    def __deepcopy__(self, memo):
        return self.__copy__()

    def __reduce__(self):
        return (load_json, (self.tojson(),))

    def __hash__(self):
        return id(self) // 16

    def __bool__(self):
        raise NotImplementedError("the truth value of a Symbol is not defined (it is a graph, "
                                  "not a value): bind or eval it to get arrays")

    # ------------------------------------------------------------ files
    def tojson(self):
        """MXNet's nnvm JSON of the graph."""
        out = ffi.new("const char**")
        check_call(lib.mx_symbol_to_json(self._h, out))
        return _s(out[0])

    def save(self, fname, remove_amp_cast=True):
        """Writes the JSON to a file (``mx.sym.load`` reads it). remove_amp_cast: MX has no AMP
        cast nodes, so graphs never hold any to remove."""
        if not isinstance(fname, (str, os.PathLike)):
            raise TypeError("fname must be a str or path, got %s" % type(fname).__name__)
        check_call(lib.mx_symbol_save(self._h, os.fsencode(fname)))

    def debug_str(self):
        """A readable listing of the graph: outputs, variables and op nodes with inputs and
        attributes."""
        import json
        g = json.loads(self.tojson())
        nodes = g["nodes"]
        lines = ["Symbol Outputs:"]
        for i, h in enumerate(g["heads"]):
            lines.append("\toutput[%d]=%s(%d)" % (i, nodes[h[0]]["name"], h[1]))
        for n in nodes:
            if n["op"] == "null":
                lines.append("Variable:%s" % n["name"])
                continue
            lines += ["--------------------", "Op:%s, Name=%s" % (n["op"], n["name"]), "Inputs:"]
            for j, e in enumerate(n["inputs"]):
                src = nodes[e[0]]
                lines.append("\targ[%d]=%s(%d)%s" % (j, src["name"], e[1],
                                                     " version=%d" % e[2] if src["op"] == "null"
                                                     and len(e) > 2 else ""))
            attrs = n.get("attrs") or n.get("attr") or n.get("param") or {}
            if attrs:
                lines.append("Attrs:")
                lines += ["\t%s=%s" % kv for kv in sorted(attrs.items())]
        return "\n".join(lines) + "\n"

    # ------------------------------------------------------------ inference
    def infer_shape(self, *args, **kwargs):
        """(arg_shapes, out_shapes, aux_shapes) from known argument shapes (positional in
        list_arguments order, None for unknown, or by name). When some shape cannot be decided,
        warns and returns (None, None, None); inconsistent shapes raise an error naming the
        node."""
        res = self._infer_shape_impl(args, kwargs)
        if res[3]:
            return res[:3]
        unknowns = ["%s: %s" % (n, s) for n, s in zip(self.list_arguments(), res[0])
                    if s is None or any(d < 0 for d in s)]
        warnings.warn("Cannot decide shape for the following arguments. Consider providing "
                      "them as input:\n\t" + "\n\t".join(unknowns[:10] + (["..."] if len(unknowns)
                                                                           > 10 else [])),
                      stacklevel=2)
        return (None, None, None)

    def infer_shape_partial(self, *args, **kwargs):
        """As infer_shape, but returns what could be inferred (None for unknown shapes)."""
        return self._infer_shape_impl(args, kwargs)[:3]

    def _infer_shape_impl(self, args, kwargs):
        if args and kwargs:
            raise ValueError("Can only specify known argument shapes either by positional or "
                             "kwargs way.")
        ndims = []
        dims = []
        if args:
            keys, keep = NULL, None
            for i, s in enumerate(args):
                if s is None:
                    ndims.append(-1)
                    continue
                if not isinstance(s, (tuple, list)):
                    raise TypeError("Arguments need to be shapes (tuple), but argument %d is %s."
                                    % (i, type(s).__name__))
                ndims.append(len(s))
                dims.extend(int(d) for d in s)
        else:
            names = []
            for k, s in kwargs.items():
                if s is None:
                    continue
                if not isinstance(s, (tuple, list)):
                    raise TypeError("Arguments need to be shapes (tuple), but '%s' is %s."
                                    % (k, type(s).__name__))
                names.append(k)
                ndims.append(len(s))
                dims.extend(int(d) for d in s)
            keys, keep = _cstrs(names)
        n = len(ndims)
        res = ffi.new("mx_infer_result**")
        check_call(lib.mx_symbol_infer_shape(
            self._h, n, keys, ffi.new("int[]", ndims) if n else NULL,
            ffi.new("int64_t[]", dims) if dims else NULL, 1, res))
        r = ffi.gc(res[0], lib.mx_infer_result_free)
        return (_result_shapes(r, 0), _result_shapes(r, 1), _result_shapes(r, 2),
                _complete(r))

    def infer_type(self, *args, **kwargs):
        """(arg_types, out_types, aux_types) as numpy types from known argument dtypes
        (positional or by name). When some type cannot be decided, warns and returns
        (None, None, None)."""
        res = self._infer_type_impl(args, kwargs)
        if res[3]:
            return res[:3]
        unknowns = [n for n, t in zip(self.list_arguments(), res[0]) if t is None]
        warnings.warn("Cannot decide type for the following arguments. Consider providing them "
                      "as input:\n\t" + "\n\t".join(unknowns[:10] + (["..."] if len(unknowns) > 10
                                                                     else [])), stacklevel=2)
        return (None, None, None)

    def infer_type_partial(self, *args, **kwargs):
        """As infer_type, but returns what could be inferred (None for unknown types)."""
        return self._infer_type_impl(args, kwargs)[:3]

    def _infer_type_impl(self, args, kwargs):
        if args and kwargs:
            raise ValueError("Can only specify known argument types either by positional or "
                             "kwargs way.")
        if args:
            keys, keep = NULL, None
            flags = [-1 if t is None else _dtype.dtype_flag(t) for t in args]
        else:
            items = [(k, t) for k, t in kwargs.items() if t is not None]
            keys, keep = _cstrs([k for k, _ in items])
            flags = [_dtype.dtype_flag(t) for _, t in items]
        n = len(flags)
        res = ffi.new("mx_infer_result**")
        check_call(lib.mx_symbol_infer_type(self._h, n, keys, ffi.new("int[]", flags) if n
                                            else NULL, 1, res))
        r = ffi.gc(res[0], lib.mx_infer_result_free)
        return (_result_types(r, 0), _result_types(r, 1), _result_types(r, 2), _complete(r))

    # ------------------------------------------------------------ binding
    def bind(self, ctx, args, args_grad=None, grad_req="write", aux_states=None, group2ctx=None,
             shared_exec=None):
        """An Executor running this graph on ctx over the given arrays, used in place.

        args / args_grad / aux_states: lists in list_arguments / list_auxiliary_states order, or
        dicts by name (args_grad may leave names out: no gradient for them). grad_req: 'write',
        'add', 'null' (or 'inplace', treated as 'write'), one for all or a list / dict per
        argument (dict: names left out get 'null'). shared_exec only shares memory in MXNet
        (an optimisation): MX plans each executor's memory itself, so it does not change
        anything here."""
        return _bind.bind(self, ctx, args, args_grad, grad_req, aux_states, group2ctx,
                          shared_exec)

    def simple_bind(self, ctx, grad_req="write", type_dict=None, stype_dict=None, group2ctx=None,
                    shared_arg_names=None, shared_exec=None, shared_buffer=None, **kwargs):
        """An Executor with every array allocated (zero-filled) from the given input shapes
        (name=shape) and optional dtypes (type_dict, default float32 or the variable's dtype).

        shared_exec with shared_arg_names: those arguments (and their gradients) and the
        auxiliary states use shared_exec's arrays (MXNet's bucketing: parameters shared between
        executors); shared_buffer (dict name -> NDArray) supplies the other arguments' arrays when
        shapes and dtypes match, and receives the new ones."""
        return _bind.simple_bind(self, ctx, grad_req, type_dict, stype_dict, group2ctx,
                                 shared_arg_names, shared_exec, shared_buffer, kwargs)

    def eval(self, ctx=None, **kwargs):
        """Binds the arguments given by name (NDArrays) and runs forward: the list of outputs."""
        if ctx is None:
            ctx = current_context()
        return self.bind(ctx, kwargs).forward()

    def gradient(self, wrt):
        """The symbol of the gradients of this (loss) symbol w.r.t. the named arguments (head
        gradients ones): one output per name in wrt."""
        if isinstance(wrt, str):
            wrt = [wrt]
        keys, _keep = _cstrs(list(wrt))
        out = ffi.new("mx_symbol**")
        check_call(lib.mx_symbol_gradient(self._h, len(wrt), keys, out))
        return _wrap(out[0])

    # ------------------------------------------------------------ operators
    def __add__(self, other):
        return _binary(self, other, "_Plus", "_PlusScalar")

    __radd__ = __add__

    def __sub__(self, other):
        return _binary(self, other, "_Minus", "_MinusScalar")

    def __rsub__(self, other):
        return _rbinary(self, other, "_Minus", "_RMinusScalar")

    def __mul__(self, other):
        return _binary(self, other, "_Mul", "_MulScalar")

    __rmul__ = __mul__

    def __truediv__(self, other):
        return _binary(self, other, "_Div", "_DivScalar")

    def __rtruediv__(self, other):
        return _rbinary(self, other, "_Div", "_RDivScalar")

    __div__ = __truediv__
    __rdiv__ = __rtruediv__

    def __mod__(self, other):
        return _binary(self, other, "_Mod", "_ModScalar")

    def __rmod__(self, other):
        return _rbinary(self, other, "_Mod", "_RModScalar")

    def __pow__(self, other):
        return _binary(self, other, "_Power", "_PowerScalar")

    def __rpow__(self, other):
        return _rbinary(self, other, "_Power", "_rpower_scalar")

    def __neg__(self):
        return self.__mul__(-1.0)

    def __abs__(self):
        return op.abs(self)

    def __eq__(self, other):
        return _binary(self, other, "_equal", "_equal_scalar")

    def __ne__(self, other):
        return _binary(self, other, "_not_equal", "_not_equal_scalar")

    def __gt__(self, other):
        return _binary(self, other, "_greater", "_greater_scalar")

    def __ge__(self, other):
        return _binary(self, other, "_greater_equal", "_greater_equal_scalar")

    def __lt__(self, other):
        return _binary(self, other, "_lesser", "_lesser_scalar")

    def __le__(self, other):
        return _binary(self, other, "_lesser_equal", "_lesser_equal_scalar")

    def _no_inplace(self, other, sym="+="):
        raise NotImplementedError("in-place %s is not supported for Symbols (a graph node cannot "
                                  "change): write x = x %s y" % (sym, sym[0]))

    def __iadd__(self, other):
        self._no_inplace(other, "+=")

    def __isub__(self, other):
        self._no_inplace(other, "-=")

    def __imul__(self, other):
        self._no_inplace(other, "*=")

    def __itruediv__(self, other):
        self._no_inplace(other, "/=")

    __idiv__ = __itruediv__

    # ------------------------------------------------------------ fluent methods (more attached)
    def reshape(self, *args, **kwargs):
        """Fluent ``mx.sym.reshape(self, ...)``; ``x.reshape(2, 3)`` means shape (2, 3)."""
        if len(args) > 1 and all(isinstance(a, (int, np.integer)) for a in args):
            args = (tuple(args),)
        return op.reshape(self, *args, **kwargs)

    def astype(self, dtype, **kwargs):
        """Fluent ``mx.sym.cast(self, dtype=dtype)``."""
        return op.cast(self, dtype=dtype, **kwargs)

    def expand_dims(self, axis, **kwargs):
        return op.expand_dims(self, axis=axis, **kwargs)

    def broadcast_to(self, shape, **kwargs):
        return op.broadcast_to(self, shape=shape, **kwargs)

    def _not_for_symbol(self, *args, **kwargs):
        raise NotImplementedError("this NDArray method is not available for a Symbol: bind or "
                                  "eval the symbol to get NDArrays")

    asnumpy = asscalar = wait_to_read = as_in_context = detach = backward = _not_for_symbol


# ---------------------------------------------------------------- helpers
def _unhide(key):
    """'lr_mult' for '__lr_mult__' (MXNet lists hidden keys under both names), else None."""
    if key.startswith("__") and key.endswith("__") and key[2:-2] in _HIDDEN:
        return key[2:-2]
    return None


def _hide(key, value):
    if key in _HIDDEN:
        return "__%s__" % key
    for k in _HIDDEN:
        if key.endswith("_" + k):
            raise ValueError("setting variable attributes with %s is deprecated. please instead "
                             "use\nw = Variable(%s=%s)\nsym = YourSymbolName(%s=w)"
                             % (key, k, value, key[:-len(k) - 1]))
    return key


def _result_shapes(res, which):
    n = ffi.new("size_t*")
    check_call(lib.mx_infer_result_size(res, which, n))
    nd = ffi.new("int*")
    dp = ffi.new("const int64_t**")
    out = []
    for i in range(n[0]):
        check_call(lib.mx_infer_result_shape(res, which, i, nd, dp))
        k = nd[0]
        out.append(None if k < 0 else tuple(ffi.unpack(dp[0], k)) if k > 0 else ())
    return out


def _result_types(res, which):
    n = ffi.new("size_t*")
    check_call(lib.mx_infer_result_size(res, which, n))
    t = ffi.new("int*")
    out = []
    for i in range(n[0]):
        check_call(lib.mx_infer_result_dtype(res, which, i, t))
        out.append(None if t[0] < 0 else _np_type(int(t[0])))
    return out


def _complete(res):
    c = ffi.new("int*")
    check_call(lib.mx_infer_result_complete(res, c))
    return bool(c[0])


def _binary(lhs, rhs, sym_op, scalar_op):
    if isinstance(rhs, Symbol):
        return getattr(_internal, sym_op)(lhs, rhs)
    if isinstance(rhs, numeric_types) and not isinstance(rhs, (complex, np.complexfloating)):
        return getattr(_internal, scalar_op)(lhs, scalar=rhs)
    raise TypeError("type %s not supported with a Symbol" % type(rhs).__name__)


def _rbinary(rhs, lhs, sym_op, scalar_op):
    """lhs <op> rhs where rhs (self) is the Symbol."""
    if isinstance(lhs, Symbol):
        return getattr(_internal, sym_op)(lhs, rhs)
    if isinstance(lhs, numeric_types) and not isinstance(lhs, (complex, np.complexfloating)):
        return getattr(_internal, scalar_op)(rhs, scalar=lhs)
    raise TypeError("type %s not supported with a Symbol" % type(lhs).__name__)


# ---------------------------------------------------------------- module functions
def var(name, attr=None, shape=None, lr_mult=None, wd_mult=None, dtype=None, init=None,
        stype=None, profiler_scope=None, **kwargs):
    """A variable (a graph input) named ``name``.

    shape, dtype, lr_mult, wd_mult, init (an Initializer or its string) are stored as MXNet's
    attributes "__shape__", "__dtype__" (type flag), "__lr_mult__", "__wd_mult__", "__init__";
    attr and the current AttrScope add others; extra keywords must be "__x__" attributes."""
    if not isinstance(name, str):
        raise TypeError("Expect a string for variable `name`, got %s" % type(name).__name__)
    out = ffi.new("mx_symbol**")
    check_call(lib.mx_symbol_variable(name.encode("utf-8"), out))
    ret = _wrap(out[0])
    attr = AttrScope.current.get(attr)
    if shape is not None:
        attr["__shape__"] = str(tuple(int(d) for d in shape)) if isinstance(shape, (tuple, list)) \
            else "(%d,)" % int(shape)
    if lr_mult is not None:
        attr["__lr_mult__"] = str(lr_mult)
    if wd_mult is not None:
        attr["__wd_mult__"] = str(wd_mult)
    if dtype is not None:
        attr["__dtype__"] = str(_dtype.dtype_flag(dtype))
    if init is not None:
        attr["__init__"] = init if isinstance(init, str) else init.dumps()
    if stype is not None:
        if stype not in _STORAGE_TYPE_ID:
            raise UnsupportedError("variable %s: storage type %r is not supported: MX arrays are "
                                   "dense" % (name, stype))
        attr["__storage_type__"] = str(_STORAGE_TYPE_ID[stype])
    if profiler_scope is not None:
        attr["__profiler_scope__"] = str(profiler_scope)
    for k, v in kwargs.items():
        if k.startswith("__") and k.endswith("__"):
            attr[k] = str(v)
        else:
            raise ValueError("Attribute name=%s is not supported. Additional attributes must "
                             "start and end with double underscores, e.g, __yourattr__" % k)
    ret._set_attr(**attr)
    return ret


Variable = var


def Group(symbols):
    """One symbol whose outputs are the outputs of all the given symbols, in order."""
    symbols = list(symbols) if isinstance(symbols, (list, tuple)) else symbols
    if not symbols or not isinstance(symbols, list) or \
            any(not isinstance(s, Symbol) for s in symbols):
        raise TypeError("Expected a list of symbols as input")
    out = ffi.new("mx_symbol**")
    check_call(lib.mx_symbol_group(len(symbols), ffi.new("mx_symbol*[]", [s._h for s in symbols]),
                                   out))
    return _wrap(out[0])


def load(fname):
    """The symbol in a JSON file (written by Symbol.save or by MXNet)."""
    if not isinstance(fname, (str, os.PathLike)):
        raise TypeError("fname must be a str or path, got %s" % type(fname).__name__)
    out = ffi.new("mx_symbol**")
    check_call(lib.mx_symbol_load(os.fsencode(fname), out))
    return _wrap(out[0])


def load_json(json_str):
    """The symbol of a JSON string (Symbol.tojson, MXNet's -symbol.json contents)."""
    if not isinstance(json_str, str):
        raise TypeError("json_str must be a str, got %s" % type(json_str).__name__)
    out = ffi.new("mx_symbol**")
    check_call(lib.mx_symbol_from_json(json_str.encode("utf-8"), out))
    return _wrap(out[0])


def _both(name, left, right, sym_op, scalar_op, py):
    if isinstance(left, Symbol) and isinstance(right, Symbol):
        return getattr(_internal, sym_op)(left, right)
    if isinstance(left, Symbol) and isinstance(right, Number):
        return getattr(_internal, scalar_op)(left, scalar=right)
    if isinstance(left, Number) and isinstance(right, Number):
        return py(left, right)
    raise TypeError("%s: types (%s, %s) not supported" % (name, type(left).__name__,
                                                          type(right).__name__))


def pow(base, exp):  # noqa: A001  (MXNet's name)
    """base ** exp elementwise (Symbols of the same shape, or a scalar on one side)."""
    if isinstance(base, Number) and isinstance(exp, Symbol):
        return _internal._RPowerScalar(exp, scalar=base)
    return _both("pow", base, exp, "_Power", "_PowerScalar", lambda a, b: a ** b)


def power(base, exp):
    """base ** exp elementwise (as pow)."""
    return pow(base, exp)


def maximum(left, right):
    """Elementwise maximum (Symbols of the same shape, or a scalar on one side)."""
    if isinstance(left, Number) and isinstance(right, Symbol):
        return _internal._MaximumScalar(right, scalar=left)
    return _both("maximum", left, right, "_Maximum", "_MaximumScalar", max)


def minimum(left, right):
    """Elementwise minimum (Symbols of the same shape, or a scalar on one side)."""
    if isinstance(left, Number) and isinstance(right, Symbol):
        return _internal._MinimumScalar(right, scalar=left)
    return _both("minimum", left, right, "_Minimum", "_MinimumScalar", min)


def hypot(left, right):
    """sqrt(left**2 + right**2) elementwise (Symbols, or a scalar on one side)."""
    if isinstance(left, Number) and isinstance(right, Symbol):
        return _internal._HypotScalar(right, scalar=left)
    return _both("hypot", left, right, "_Hypot", "_HypotScalar", lambda a, b: np.hypot(a, b))


def eye(N, M=0, k=0, dtype=None, **kwargs):
    """A 2-D symbol with ones on the k-th diagonal (default dtype float32)."""
    return _internal._eye(N=N, M=M, k=k, dtype="float32" if dtype is None else dtype, **kwargs)


def zeros(shape, dtype=None, **kwargs):
    """A symbol of zeros of the given shape (default dtype float32)."""
    return _internal._zeros(shape=shape, dtype="float32" if dtype is None else dtype, **kwargs)


def ones(shape, dtype=None, **kwargs):
    """A symbol of ones of the given shape (default dtype float32)."""
    return _internal._ones(shape=shape, dtype="float32" if dtype is None else dtype, **kwargs)


def full(shape, val, dtype=None, **kwargs):
    """A symbol filled with val (default dtype float32)."""
    return _internal._full(shape=shape, dtype="float32" if dtype is None else dtype,
                           value=float(val), **kwargs)


def arange(start, stop=None, step=1.0, repeat=1, infer_range=False, name=None, dtype=None):
    """Evenly spaced values in [start, stop) (default dtype float32)."""
    kw = {"start": start, "step": step, "repeat": repeat, "infer_range": infer_range,
          "dtype": "float32" if dtype is None else dtype}
    if stop is not None:
        kw["stop"] = stop
    return _internal._arange(name=name, **kw)


def linspace(start, stop, num, endpoint=True, name=None, dtype=None):
    """num evenly spaced values over [start, stop] (default dtype float32)."""
    return _internal._linspace(start=start, stop=stop, num=num, endpoint=endpoint, name=name,
                               dtype="float32" if dtype is None else dtype)


def attach_fluent(names):
    """MXNet's fluent methods: x.sum(axis=1) == mx.sym.sum(x, axis=1)."""
    for n in names:
        fn = getattr(op, n, None)
        if fn is None or n in Symbol.__dict__:
            continue
        setattr(Symbol, n, _fluent(fn))


def _fluent(fn):
    def method(self, *args, **kwargs):
        return fn(self, *args, **kwargs)
    method.__name__ = fn.__name__
    method.__qualname__ = "Symbol." + fn.__name__
    method.__doc__ = fn.__doc__
    return method


FLUENT = FLUENT_METHODS + ("reshape_like", "zeros_like", "ones_like", "broadcast_axes",
                           "split_v2", "broadcast_like", "cast")
register.Symbol = Symbol
register._create_node = create_node
