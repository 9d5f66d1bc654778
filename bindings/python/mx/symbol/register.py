"""Generates one ``mx.sym`` function per registered operator, from the same registry description
that ``mx.nd`` uses (``mx.ndarray.register.op_info``): real signatures (inputs, then parameters
with their registry defaults), then ``name=None, attr=None`` (and ``out`` for MXNet signature
compatibility; symbols have no ``out``), ``**kwargs``.

Each call builds one graph node: inputs are Symbols, given positionally or by input name (inputs
left out become variables ``<name>_<input>``, e.g. ``fc1_weight``); parameter values are turned
into MXNet text as in ``mx.nd``. As in MXNet, only parameters that were given are stored on the
node (a parameter left at its default is not written into the JSON). The node's name comes from
the current ``mx.name.NameManager`` (``fullyconnected0``; ``Prefix`` applies), its attributes from
``attr`` merged over the current ``mx.AttrScope``.

Placement mirrors ``mx.nd``: every public name in ``mx.sym.op`` / ``mx.sym``, names starting with
"_" in ``mx.sym._internal``, ``_random_X`` as ``mx.sym.random.X``, ``_linalg_X`` as
``mx.sym.linalg.X``, ``_contrib_X`` / ``_image_X`` in ``mx.sym.contrib`` / ``mx.sym.image``.
"""
from ..ndarray._call import param_str
from ..ndarray.register import _PREFIX_MODULES, _Null, _ident, op_info, op_names, py_default

# MXNet stores these attribute keys as "__key__" (mx.sym.FullyConnected(..., lr_mult=2) or
# sym._set_attr(lr_mult='2') both set "__lr_mult__").
HIDDEN_KEYS = ("ctx_group", "lr_mult", "wd_mult", "force_mirroring", "mirror_stage", "profiler_scope")

Symbol = None        # set by symbol.py (circular import)
_create_node = None  # symbol.create_node(op_name, keys, vals, input_keys, inputs, name)


class _Default:
    """A parameter's default in a generated signature. It shows as the registry's default value;
    a parameter still holding it was not given, so it is not stored on the node."""
    __slots__ = ("value",)

    def __init__(self, value):
        self.value = value

    def __repr__(self):
        return repr(self.value)


class _Spec:
    __slots__ = ("op_name", "hint", "pnames", "input_names", "var_count")

    def __init__(self, op_name, hint, pnames, input_names, var_count):
        self.op_name = op_name
        self.hint = hint
        self.pnames = pnames
        self.input_names = input_names
        self.var_count = var_count


def _node_name(name, hint):
    from ..name import NameManager
    return NameManager.current.get(name, hint)


def _node_attr(attr):
    from ..attribute import AttrScope
    return AttrScope.current.get(attr)


def _not_symbol(spec, what, value):
    return TypeError("operator %s: %s must be a Symbol, got %s"
                     % (spec.op_name, what, type(value).__name__))


def _create(spec, inputs, values, name, attr, out, kwargs):
    if out is not None:
        raise TypeError("operator %s: out= is not supported for symbols (a node's outputs are "
                        "made by the graph)" % spec.op_name)
    keys = []
    vals = []
    for pname, v in zip(spec.pnames, values):
        if v.__class__ is _Default or v is _Null:
            continue
        if isinstance(v, Symbol):
            raise TypeError("operator %s: parameter %s got a Symbol; symbols are the inputs (%s)"
                            % (spec.op_name, pname, ", ".join(spec.input_names) or "none"))
        keys.append(pname)
        vals.append(param_str(v))
    in_keys = []
    in_syms = []
    if spec.var_count:
        if len(inputs) == 1 and isinstance(inputs[0], (list, tuple)):
            inputs = tuple(inputs[0])
        for i, s in enumerate(inputs):
            if not isinstance(s, Symbol):
                raise _not_symbol(spec, "input %d" % i, s)
            in_syms.append(s)
    else:
        for n, s in zip(spec.input_names, inputs):
            if s is None:
                continue
            if not isinstance(s, Symbol):
                raise _not_symbol(spec, "input '%s'" % n, s)
            in_keys.append(n)
            in_syms.append(s)
    for k, v in kwargs.items():
        if isinstance(v, Symbol):
            if spec.var_count:
                raise TypeError("operator %s takes its inputs positionally (*%s); got the Symbol "
                                "%s=" % (spec.op_name, spec.input_names[0] if spec.input_names
                                         else "data", k))
            in_keys.append(k)
            in_syms.append(v)
        elif v is None and k in spec.input_names:
            continue
        elif k in HIDDEN_KEYS:
            keys.append("__%s__" % k)
            vals.append(str(v))
        else:
            keys.append(k)
            vals.append(param_str(v))
    node_attr = _node_attr(attr)
    sym = _create_node(spec.op_name, keys, vals, None if spec.var_count else in_keys, in_syms,
                       _node_name(name, spec.hint))
    if node_attr:
        sym._set_attr(**node_attr)
    return sym


def _docstring(info, shown_name):
    lines = [info.doc.strip() or ("The %s operator." % info.name), ""]
    if shown_name != info.name:
        lines += ["(Registered as ``%s``.)" % info.name, ""]
    lines += ["Parameters", "----------"]
    if info.var_count:
        lines += ["*%s : Symbol" % info.inputs[0],
                  "    The inputs (their count, %s, is filled in)." % info.var_count]
    else:
        for n in info.inputs:
            lines += ["%s : Symbol, optional" % n,
                      "    The %s input (left out: a new variable <name>_%s)." % (n, n)]
    for n, t, _d, doc in info.params:
        if n == info.var_count:
            continue
        lines += ["%s : %s" % (n, t), "    %s" % (doc or "")]
    lines += ["name : str, optional",
              "    The node's name (default: from the current mx.name.NameManager).",
              "attr : dict of str to str, optional",
              "    Attributes of the node (merged over the current mx.AttrScope).",
              "", "Returns", "-------",
              "Symbol",
              "    The node: %s visible output(s)." % info.attrs.get("num_outputs", "1")]
    return "\n".join(lines)


_CODE_CACHE = {}
_RESERVED = ("out", "name", "attr", "kwargs")


def make_function(info, fname, module):
    """A Python function creating a node of op info.name, named fname, with a real signature."""
    g = {"_create": _create}
    params = []
    pnames = []
    for n, t, d, _doc in info.params:
        if n == info.var_count:
            continue
        if not _ident(n) or n in info.inputs or n in _RESERVED:
            continue  # reachable through **kwargs
        dv = py_default(t, d)
        g["_d%d" % len(pnames)] = dv if dv is _Null else _Default(dv)
        params.append("%s=_d%d" % (n, len(pnames)))
        pnames.append(n)
    if info.var_count:
        vname = info.inputs[0] if info.inputs and _ident(info.inputs[0]) else "data"
        g["_dc"] = _Default(None)
        head = ["*" + vname] + params + ["%s=_dc" % info.var_count]
        ins = vname
        pnames.append(info.var_count)
        input_names = tuple(info.inputs)
    else:
        in_args = [(n + "_" if n in _RESERVED else n) if _ident(n) else "in%d" % i
                   for i, n in enumerate(info.inputs)]
        head = ["%s=None" % n for n in in_args] + params + ["*"]
        ins = "(%s)" % "".join("%s, " % n for n in in_args)
        input_names = tuple(info.inputs)
    sig = ", ".join(head + ["name=None", "attr=None", "out=None", "**kwargs"])
    values = "(%s)" % "".join("%s, " % n for n in pnames)
    src = "def _op(%s):\n    return _create(_spec, %s, %s, name, attr, out, kwargs)\n" % (
        sig, ins, values)
    g["_spec"] = _Spec(info.name, fname.lower(), tuple(pnames), input_names, info.var_count)
    code = _CODE_CACHE.get(src)
    if code is None:  # many ops share a signature: compile each shape once
        code = _CODE_CACHE[src] = compile(src, "<mx generated symbol op>", "exec")
    exec(code, g)
    fn = g["_op"]
    fn.__code__ = fn.__code__.replace(co_name=fname)
    fn.__name__ = fname
    fn.__doc__ = _docstring(info, fname)
    fn.__module__ = module.__name__
    fn.__qualname__ = fname
    return fn


def populate(op_mod, internal_mod, sub_mods):
    """Creates the functions of every registered op name in their modules (as mx.nd does)."""
    infos = {}
    for name in op_names():
        if not _ident(name):
            continue
        info = infos.get(name)
        if info is None:
            info = infos[name] = op_info(name)
        if name.startswith("_"):
            _put(internal_mod, name, make_function(info, name, internal_mod))
            for prefix, mod_name in _PREFIX_MODULES:
                if name.startswith(prefix) and _ident(name[len(prefix):]):
                    mod = sub_mods[mod_name]
                    short = name[len(prefix):]
                    if short not in getattr(mod, "_HAND_WRITTEN", ()):
                        _put(mod, short, make_function(info, short, mod))
        else:
            _put(op_mod, name, make_function(info, name, op_mod))


def _put(mod, name, fn):
    setattr(mod, name, fn)
    if name not in mod.__all__:
        mod.__all__.append(name)
