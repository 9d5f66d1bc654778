"""Generates one Python function per registered operator from the registry (mx_op_list,
mx_op_info, mx_op_attr): real signatures (inputs, then parameters with their defaults), numpy-style
docstrings from the registry's docs, ``out=`` and ``name=`` keywords, and ``*data`` for variadic
ops (their count parameter, e.g. Concat's num_args, is filled in automatically).

Where the functions go (as in MXNet):
  ``mx.nd.op`` / ``mx.nd``   every name (and alias) not starting with "_"
  ``mx.nd._internal``       every name starting with "_"
  ``mx.nd.random``          ``_random_X`` as X (``_sample_X`` dispatch for array parameters)
  ``mx.nd.linalg``          ``_linalg_X`` as X;  ``mx.nd.contrib``: ``_contrib_X``;
  ``mx.nd.image``           ``_image_X``
"""
import ast
import keyword

from ..base import check_call, ffi, lib
from ..context import current_context, cpu
from ._call import invoke_ps, op_handle, param_str, params_for

_CPU0 = cpu(0)


class _NullType:
    """Default of a required parameter (libmx reports it missing when not given)."""
    __slots__ = ()

    def __repr__(self):
        return "_Null"

    def __bool__(self):
        return False


_Null = _NullType()


class OpInfo:
    """The registry's description of one op."""
    __slots__ = ("name", "doc", "params", "inputs", "var_count", "attrs")

    def __init__(self, name, doc, params, inputs, var_count, attrs):
        self.name = name
        self.doc = doc
        self.params = params      # [(name, type_str, default_text, doc)]
        self.inputs = inputs      # input names (one name for a variadic op)
        self.var_count = var_count  # count parameter of a variadic op, or ""
        self.attrs = attrs


def _s(p):
    return ffi.string(p).decode("utf-8", "replace") if p != ffi.NULL else ""


def op_names():
    """Every registered op name and alias."""
    n = ffi.new("size_t*")
    names = ffi.new("const char* const**")
    check_call(lib.mx_op_list(n, names))
    return [_s(names[0][i]) for i in range(n[0])]


def op_info(name):
    op = op_handle(name)
    out = [ffi.new(t) for t in ("const char**", "const char**", "int*", "const char* const**",
                                "const char* const**", "const char* const**",
                                "const char* const**", "int*", "const char* const**",
                                "const char**")]
    check_call(lib.mx_op_info(op, *out))
    canon, doc, npar, pn, pt, pd, pdoc, nin, inames, kvna = out
    params = [(_s(pn[0][i]), _s(pt[0][i]), _s(pd[0][i]), _s(pdoc[0][i])) for i in range(npar[0])]
    inputs = [_s(inames[0][i]) for i in range(nin[0])]
    attrs = {}
    val = ffi.new("const char**")
    for key in ("num_outputs", "dtypes", "aliases", "category", "needs_rng", "mutate_inputs"):
        if lib.mx_op_attr(op, key.encode(), val) == 0:
            attrs[key] = _s(val[0])
    return OpInfo(_s(canon[0]), _s(doc[0]), params, inputs, _s(kvna[0]), attrs)


# ---------------------------------------------------------------- defaults
def py_default(type_str, text):
    """Python value of a registry default (shown in signatures; never sent back as is)."""
    if "required" in type_str.split(",")[-1]:
        return _Null
    t = text.strip()
    if t == "None":
        return None
    kind = type_str.split(",")[0].strip()
    try:
        if kind in ("int", "long", "int or None", "long (non-negative)", "int (non-negative)"):
            return int(t)
        if kind in ("float", "double", "float or None"):
            return float(t)
        if kind in ("boolean", "bool"):
            return t in ("True", "true", "1")
        if kind.startswith("Shape") or kind.startswith("tuple"):
            v = ast.literal_eval(t if t.startswith(("(", "[")) else "(%s,)" % t)
            return tuple(v) if isinstance(v, (tuple, list)) else (v,)
    except (ValueError, SyntaxError):
        return t
    if len(t) >= 2 and t[0] == t[-1] and t[0] in "'\"":
        return t[1:-1]
    return t


# ---------------------------------------------------------------- calling
class _Spec:
    __slots__ = ("op_name", "pnames", "defaults", "ctx_index", "var_count")

    def __init__(self, op_name, pnames, defaults, ctx_index, var_count):
        self.op_name = op_name
        self.pnames = pnames
        self.defaults = defaults
        self.ctx_index = ctx_index
        self.var_count = var_count


_RAW = {}          # (spec, typed argument values, ...) -> ParamSet: skips formatting the values
_RAW_MAX = 4096


def _call(spec, inputs, values, out, kwargs):
    # Fast path: the same Python values as an earlier call reuse its parsed parameters. Values are
    # keyed with their types (1, 1.0 and True format differently); unhashable ones (lists) miss.
    ci = spec.ctx_index
    try:
        key = (spec, tuple((v.__class__, v) for v in values),
               tuple((k, v.__class__, v) for k, v in kwargs.items()) if kwargs else (),
               current_context() if ci >= 0 and values[ci] is None else None,
               len(inputs[0]) if spec.var_count and len(inputs) == 1 and isinstance(inputs[0], (list, tuple))
               else len(inputs) if spec.var_count else 0)
        ps = _RAW.get(key)
    except TypeError:
        key, ps = None, None
    if ps is not None:
        if spec.var_count:
            if len(inputs) == 1 and isinstance(inputs[0], (list, tuple)):
                inputs = tuple(inputs[0])
        else:
            inputs = [x for x in inputs if x is not None]
        return invoke_ps(ps, inputs, out)
    kv = []
    for pname, v, d in zip(spec.pnames, values, spec.defaults):
        if v is not d and v is not _Null:
            kv.append((pname, param_str(v)))
    ci = spec.ctx_index
    if ci >= 0 and values[ci] is None:
        ctx = current_context()
        if ctx != _CPU0:
            kv.append(("ctx", str(ctx)))
    if kwargs:
        kv.extend((k, param_str(v)) for k, v in kwargs.items())
    if spec.var_count:
        if len(inputs) == 1 and isinstance(inputs[0], (list, tuple)):
            inputs = tuple(inputs[0])
        if not any(k == spec.var_count for k, _ in kv):
            kv.append((spec.var_count, str(len(inputs))))
    else:
        inputs = [x for x in inputs if x is not None]
    kv.sort()
    ps = params_for(spec.op_name, tuple(kv))
    if key is not None:
        if len(_RAW) >= _RAW_MAX:
            _RAW.clear()
        _RAW[key] = ps
    return invoke_ps(ps, inputs, out)


def _ident(name):
    return name.isidentifier() and not keyword.iskeyword(name)


def _docstring(info, shown_name):
    lines = [info.doc.strip() or ("The %s operator." % info.name), ""]
    if shown_name != info.name:
        lines += ["(Registered as ``%s``.)" % info.name, ""]
    lines += ["Parameters", "----------"]
    if info.var_count:
        lines += ["*%s : NDArray" % info.inputs[0],
                  "    The inputs (their count, %s, is filled in)." % info.var_count]
    else:
        for n in info.inputs:
            lines += ["%s : NDArray" % n, "    The %s input." % n]
    for n, t, _d, doc in info.params:
        if n == info.var_count:
            continue
        lines += ["%s : %s" % (n, t), "    %s" % (doc or "")]
    lines += ["out : NDArray or list of NDArrays, optional",
              "    Where to write the result(s).",
              "name : str, optional",
              "    Accepted for MXNet compatibility (unused by imperative calls).",
              "", "Returns", "-------",
              "out : NDArray or list of NDArrays",
              "    The result(s): %s output(s)." % info.attrs.get("num_outputs", "1")]
    return "\n".join(lines)


_CODE_CACHE = {}
_RESERVED = ("out", "name", "kwargs")


def make_function(info, fname, module):
    """A Python function calling op info.name, named fname, with a real signature."""
    g = {"_call": _call, "_Null": _Null}
    params = []
    pnames = []
    defaults = []
    ctx_index = -1
    for n, t, d, _doc in info.params:
        if n == info.var_count:
            continue
        if not _ident(n) or n in info.inputs or n in _RESERVED:
            continue  # reachable through **kwargs
        dv = py_default(t, d)
        if n == "ctx":
            dv = None
            ctx_index = len(pnames)
        g["_d%d" % len(pnames)] = dv
        params.append("%s=_d%d" % (n, len(pnames)))
        pnames.append(n)
        defaults.append(dv)
    if info.var_count:
        vname = info.inputs[0] if info.inputs and _ident(info.inputs[0]) else "data"
        head = ["*" + vname] + params + ["%s=None" % info.var_count]
        ins = vname
        pnames.append(info.var_count)
        defaults.append(None)
    else:
        # An input named like a reserved argument (out, name) gets a trailing underscore.
        in_names = [(n + "_" if n in _RESERVED else n) if _ident(n) else "in%d" % i
                    for i, n in enumerate(info.inputs)]
        head = ["%s=None" % n for n in in_names] + params + ["*"]
        ins = "(%s)" % "".join("%s, " % n for n in in_names)
    # **kwargs always: graph attributes such as __layout__ pass through (libmx ignores "__" keys),
    # anything else reaches libmx, which names an unknown parameter.
    sig = ", ".join(head + ["out=None", "name=None", "**kwargs"])
    values = "(%s)" % "".join("%s, " % n for n in pnames)
    src = "def _op(%s):\n    return _call(_spec, %s, %s, out, %s)\n" % (
        sig, ins, values, "kwargs")
    g["_spec"] = _Spec(info.name, tuple(pnames), tuple(defaults), ctx_index, info.var_count)
    code = _CODE_CACHE.get(src)
    if code is None:  # many ops share a signature: compile each shape once
        code = _CODE_CACHE[src] = compile(src, "<mx generated op>", "exec")
    exec(code, g)
    fn = g["_op"]
    fn.__code__ = fn.__code__.replace(co_name=fname)
    fn.__name__ = fname
    fn.__doc__ = _docstring(info, fname)
    fn.__module__ = module.__name__
    fn.__qualname__ = fname
    return fn


# ---------------------------------------------------------------- placement
_PREFIX_MODULES = (("_random_", "random"), ("_linalg_", "linalg"), ("_contrib_", "contrib"),
                   ("_image_", "image"))


def populate(op_mod, internal_mod, sub_mods):
    """Creates the functions of every registered op name in their modules. Returns
    {name: function} of the public ones."""
    infos = {}
    public = {}
    for name in op_names():
        if not _ident(name):
            continue
        info = infos.get(name)
        if info is None:
            info = op_info(name)
            infos[name] = info
        if name.startswith("_"):
            _put(internal_mod, name, make_function(info, name, internal_mod))
            for prefix, mod_name in _PREFIX_MODULES:
                if name.startswith(prefix) and _ident(name[len(prefix):]):
                    mod = sub_mods[mod_name]
                    short = name[len(prefix):]
                    if short not in getattr(mod, "_HAND_WRITTEN", ()):
                        _put(mod, short, make_function(info, short, mod))
        else:
            fn = make_function(info, name, op_mod)
            _put(op_mod, name, fn)
            public[name] = fn
    return public


def _put(mod, name, fn):
    setattr(mod, name, fn)
    if name not in mod.__all__:
        mod.__all__.append(name)


def attach_fluent(cls, op_mod, names):
    """MXNet's fluent methods: x.sum(...) == mx.nd.sum(x, ...)."""
    for n in names:
        fn = getattr(op_mod, n, None)
        if fn is None or n in cls.__dict__:
            continue
        setattr(cls, n, _fluent(fn))


def _fluent(fn):
    def method(self, *args, **kwargs):
        return fn(self, *args, **kwargs)
    method.__name__ = fn.__name__
    method.__qualname__ = "NDArray." + fn.__name__
    method.__doc__ = fn.__doc__
    return method
