"""Gluon ``Block`` and ``HybridBlock`` (MXNet 1.x API).

A Block owns Parameters (``self.params``, registered by attribute assignment in ``_reg_params``)
and child Blocks (``_children``, registered by attribute assignment or ``register_child``).
Names come from ``name_scope()``: a top-level block gets ``<alias><global count>_`` (``dense0_``),
a block created inside another's ``name_scope()`` gets the parent's prefix plus
``<alias><count within parent>_``.

HybridBlock runs ``hybrid_forward(mx.nd, x, ...)`` op by op until ``hybridize()``; then its
first call traces ``hybrid_forward(mx.sym, ...)`` into one Symbol graph (children included)
that runs as a libmx CachedOp (recorded into autograd as one node). ``export`` saves that graph
and the Parameters; ``SymbolBlock`` runs a saved (or any) graph as a block. Parameters whose
shape has unknown (0) entries are completed on the first forward by the layer's
``_infer_param_shapes`` (a shape rule per layer type, else symbolic shape inference), then
initialized.
"""
import re
import threading
import weakref
from collections import OrderedDict, defaultdict

import numpy as np

from .. import _dtype
from .. import initializer
from .. import ndarray as nd
from ..base import InvalidArgumentError, MXNetError, UnsupportedError
from ..ndarray.ndarray import NDArray
from ._hybrid import (_FLAT_FMTS, _TLS, _CachedGraph, _check_hybridize_kwargs, _common_prefix,
                      _first_array, _first_leaf, _flatten, _parse_shape_attr, _regroup, _symbol)
from .parameter import DeferredInitializationError, Parameter, ParameterDict, _shape_known
from .utils import _brief_print_list, _indent

__all__ = ["Block", "HybridBlock", "SymbolBlock"]


class _NameCounter(threading.local):
    def __init__(self):
        self.counter = defaultdict(int)


_GLOBAL_NAMES = _NameCounter()


def _global_name(hint):
    c = _GLOBAL_NAMES.counter
    name = "%s%d" % (hint, c[hint])
    c[hint] += 1
    return name


class _BlockScope:
    """The scope that names blocks created inside ``with block.name_scope():``."""
    _current = threading.local()

    def __init__(self, block):
        self._block = weakref.ref(block)
        self._counter = {}
        self._old_scope = None
        self._name_scope = None

    @staticmethod
    def create(prefix, params, hint):
        """(prefix, ParameterDict) for a new block."""
        current = getattr(_BlockScope._current, "value", None)
        if current is None or current._block() is None:
            if prefix is None:
                prefix = _global_name(hint) + "_"
            if params is None:
                params = ParameterDict(prefix)
            else:
                params = ParameterDict(params.prefix, params)
            return prefix, params
        if prefix is None:
            count = current._counter.get(hint, 0)
            prefix = "%s%d_" % (hint, count)
            current._counter[hint] = count + 1
        parent_block = current._block()
        if params is None:
            parent = parent_block.params
            params = ParameterDict(parent.prefix + prefix, parent._shared)
        else:
            params = ParameterDict(params.prefix, params)
        return parent_block.prefix + prefix, params

    def __enter__(self):
        block = self._block()
        if block is None or block._empty_prefix:
            return self
        self._old_scope = getattr(_BlockScope._current, "value", None)
        _BlockScope._current.value = self
        # symbols made inside (tracing) are named "<block prefix><op name>", as in MXNet
        self._name_scope = _name_prefix(block.prefix)
        if self._name_scope is not None:
            self._name_scope.__enter__()
        return self

    def __exit__(self, ptype, value, trace):
        block = self._block()
        if block is None or block._empty_prefix:
            return
        if self._name_scope is not None:
            self._name_scope.__exit__(ptype, value, trace)
            self._name_scope = None
        _BlockScope._current.value = self._old_scope


_NAME_MODULE = []


def _name_prefix(prefix):
    """mx.name.Prefix(prefix), or None while mx.name does not exist."""
    if not _NAME_MODULE:
        try:
            from .. import name as name_module
        except ImportError:
            return None
        _NAME_MODULE.append(name_module)
    return _NAME_MODULE[0].Prefix(prefix)


class HookHandle:
    """Removes a registered hook: ``handle.detach()`` (or use it as a context manager)."""

    def __init__(self):
        self._hooks_dict_ref = None
        self._id = None

    def attach(self, hooks_dict, hook):
        if self._hooks_dict_ref is not None:
            raise RuntimeError("The same handle cannot be attached twice.")
        self._id = id(hook)
        hooks_dict[self._id] = hook
        self._hooks_dict_ref = weakref.ref(hooks_dict)

    def detach(self):
        hooks_dict = self._hooks_dict_ref() if self._hooks_dict_ref else None
        if hooks_dict is not None and self._id in hooks_dict:
            del hooks_dict[self._id]

    def __enter__(self):
        return self

    def __exit__(self, ptype, value, trace):
        self.detach()


class Block:
    """Base class of all layers and models.

    Parameters
    ----------
    prefix : str, prefix of the names of this block's Parameters and children
        (default: an automatic ``<classname><count>_``)
    params : ParameterDict, Parameters to share (``params=other.params``)
    """

    def __init__(self, prefix=None, params=None):
        self._empty_prefix = prefix == ""
        self._prefix, self._params = _BlockScope.create(prefix, params, self._alias())
        self._name = self._prefix[:-1] if self._prefix.endswith("_") else self._prefix
        self._scope = _BlockScope(self)
        self._children = OrderedDict()
        self._reg_params = {}
        self._forward_hooks = OrderedDict()
        self._forward_pre_hooks = OrderedDict()

    def __repr__(self):
        s = "{name}(\n{modstr}\n)"
        modstr = "\n".join("  ({key}): {block}".format(key=key, block=_indent(repr(block), 2))
                           for key, block in self.__dict__.items() if isinstance(block, Block))
        return s.format(name=self.__class__.__name__, modstr=modstr)

    def __setattr__(self, name, value):
        """Registers Blocks and Parameters assigned as attributes."""
        if hasattr(self, name):
            existing = getattr(self, name)
            if isinstance(existing, (Parameter, Block)) and not isinstance(value, type(existing)):
                raise TypeError("Changing attribute type for {name} from {type1} to {type2} is "
                                "not allowed.".format(name=name, type1=type(existing),
                                                      type2=type(value)))
        if isinstance(value, Block):
            self.register_child(value, name)
        elif isinstance(value, Parameter):
            if name in self._reg_params:
                raise ValueError("Overriding Parameter attribute %s is not allowed. If you want "
                                 "to share parameters between blocks, please set 'params' at "
                                 "Block construction instead." % name)
            self._reg_params[name] = value
        super().__setattr__(name, value)

    def _check_container_with_block(self):
        children = set(self._children.values())

        def _find(data):
            if isinstance(data, (list, tuple)):
                return any(_find(d) for d in data)
            if isinstance(data, dict):
                return any(_find(d) for d in data.values())
            return isinstance(data, Block) and data not in children

        for k, v in self.__dict__.items():
            if isinstance(v, (list, tuple, dict)) and not (k.startswith("__") or
                                                           k == "_children"):
                if _find(v):
                    import warnings
                    warnings.warn('"{name}" is an unregistered container with Blocks. Note '
                                  "that Blocks inside the list, tuple or dict will not be "
                                  "registered automatically. Make sure to register them using "
                                  "register_child() or switching to nn.Sequential/"
                                  "nn.HybridSequential instead. ".format(
                                      name=self.__class__.__name__ + "." + k), stacklevel=3)

    def _alias(self):
        return self.__class__.__name__.lower()

    @property
    def prefix(self):
        """Prefix of this block's names."""
        return self._prefix

    @property
    def name(self):
        """Name of this block (the prefix without its trailing '_')."""
        return self._name

    def name_scope(self):
        """``with self.name_scope():`` names the blocks created inside after this one."""
        return self._scope

    @property
    def params(self):
        """This block's own ParameterDict (children's Parameters not included)."""
        return self._params

    def collect_params(self, select=None):
        """A ParameterDict of this block's and all descendants' Parameters; ``select`` is a
        regex that full names must match (``re.match``), e.g. ``'.*weight|.*bias'``."""
        self._check_container_with_block()
        ret = ParameterDict(self._params.prefix)
        if not select:
            ret.update(self.params)
        else:
            pattern = re.compile(select)
            ret.update({name: value for name, value in self.params.items()
                        if pattern.match(name)})
        for cld in self._children.values():
            ret.update(cld.collect_params(select=select))
        return ret

    def _collect_params_with_prefix(self, prefix=""):
        if prefix:
            prefix += "."
        ret = {prefix + key: val for key, val in self._reg_params.items()}
        for name, child in self._children.items():
            ret.update(child._collect_params_with_prefix(prefix + name))
        return ret

    def save_parameters(self, filename, deduplicate=False):
        """Saves Parameters under structural names (``0.weight``, ``features.1.bias``) with
        ``mx.nd.save``. ``deduplicate`` saves a shared Parameter once."""
        params = self._collect_params_with_prefix()
        if deduplicate:
            reverse = {}
            for k, v in params.items():
                reverse.setdefault(id(v), (k, v))
            params = {k: v for k, v in reverse.values()}
        arg_dict = {key: val._reduce() for key, val in params.items()}
        nd.save(filename, arg_dict)

    def save_params(self, filename):
        """Deprecated (MXNet): saves ``collect_params()`` under full names."""
        import warnings
        warnings.warn("save_params is deprecated. Please use save_parameters.")
        self.collect_params().save(filename, strip_prefix=self.prefix)

    def load_parameters(self, filename, ctx=None, allow_missing=False, ignore_extra=False,
                        cast_dtype=False, dtype_source="current"):
        """Loads a file of ``save_parameters`` (or of ``collect_params().save``).

        allow_missing: leave Parameters absent from the file alone (else KeyError);
        ignore_extra: skip names in the file that this block does not have (else KeyError);
        cast_dtype: cast saved arrays whose dtype differs (to the current dtype, or adopt the
        saved one with ``dtype_source='saved'``) instead of raising."""
        loaded = nd.load(filename)
        if not isinstance(loaded, dict):
            raise ValueError("file '%s' holds arrays without names; load_parameters needs a "
                             "file written by save_parameters" % filename)
        self._load_from_dict(loaded, filename, ctx, allow_missing, ignore_extra, cast_dtype,
                             dtype_source)

    def _load_from_dict(self, loaded, filename, ctx, allow_missing, ignore_extra, cast_dtype,
                        dtype_source):
        params = self._collect_params_with_prefix()
        if not loaded and not params:
            return
        if not any("." in i for i in loaded.keys()):
            # a file of collect_params().save(): full names
            self.collect_params().load_dict(loaded, ctx, allow_missing, ignore_extra,
                                            self.prefix, filename, cast_dtype, dtype_source)
            return
        if not allow_missing:
            params_inv = defaultdict(list)
            for k, v in params.items():
                params_inv[id(v)].append(k)
            for name, param in params.items():
                if not any(p in loaded for p in params_inv[id(param)]):
                    raise KeyError(
                        "Parameter '%s' is missing in file '%s', which contains parameters: %s. "
                        "Set allow_missing=True to ignore missing parameters."
                        % (name, filename, _brief_print_list(loaded.keys())))
        for name in loaded:
            if not ignore_extra and name not in params:
                raise KeyError(
                    "Parameter '%s' loaded from file '%s' is not present in ParameterDict, "
                    "which contains parameters %s. Set ignore_extra=True to ignore. "
                    % (name, filename, _brief_print_list(params.keys())))
            if name in params:
                params[name]._load_init(loaded[name], ctx, cast_dtype=cast_dtype,
                                        dtype_source=dtype_source)

    def load_params(self, filename, ctx=None, allow_missing=False, ignore_extra=False):
        """Deprecated (MXNet): use load_parameters."""
        import warnings
        warnings.warn("load_params is deprecated. Please use load_parameters.")
        self.load_parameters(filename, ctx, allow_missing, ignore_extra)

    def register_child(self, block, name=None):
        """Registers a child block (named ``name``, default its index)."""
        if name is None:
            name = str(len(self._children))
        self._children[name] = block

    def register_forward_pre_hook(self, hook):
        """``hook(block, inputs)`` runs before forward; returns a HookHandle."""
        handle = HookHandle()
        handle.attach(self._forward_pre_hooks, hook)
        return handle

    def register_forward_hook(self, hook):
        """``hook(block, inputs, outputs)`` runs after forward; returns a HookHandle."""
        handle = HookHandle()
        handle.attach(self._forward_hooks, hook)
        return handle

    def apply(self, fn):
        """Calls ``fn(block)`` on every descendant and then this block; returns self."""
        for cld in self._children.values():
            cld.apply(fn)
        fn(self)
        return self

    def initialize(self, init=initializer.Uniform(), ctx=None, verbose=False,
                   force_reinit=False):
        """Initializes all Parameters of this block and its children (``collect_params()``):
        ``init`` applies to those without their own initializer."""
        self.collect_params().initialize(init, ctx, verbose, force_reinit)
        if force_reinit:
            self._clear_cached_ops()

    def _clear_cached_ops(self):
        """Drops the traced graphs of this block and its descendants (rebuilt on next call)."""
        def clear(block):
            if isinstance(block, HybridBlock):
                block._clear_cached_op()
        self.apply(clear)

    def hybridize(self, active=True, **kwargs):
        """Passes ``active`` and the options to the children (see HybridBlock.hybridize).
        Blocks that are not HybridBlocks run imperatively anyway."""
        _check_hybridize_kwargs({k: v for k, v in kwargs.items()
                                 if k not in ("static_alloc", "static_shape")})
        for cld in self._children.values():
            cld.hybridize(active, **kwargs)

    def cast(self, dtype):
        """Casts the Parameters of this block and its children to ``dtype``."""
        for child in self._children.values():
            child.cast(dtype)
        for _, param in self.params.items():
            param.cast(dtype)

    def zero_grad(self):
        """Sets all gradients of ``collect_params()`` to 0."""
        self.collect_params().zero_grad()

    def reset_ctx(self, ctx):
        """Moves all Parameters to the context(s) ``ctx``."""
        self.collect_params().reset_ctx(ctx)
        self._clear_cached_ops()

    def __call__(self, *args):
        """Runs the pre-hooks, forward, then the hooks."""
        if self._forward_pre_hooks:
            for hook in list(self._forward_pre_hooks.values()):
                hook(self, args)
        out = self.forward(*args)
        if self._forward_hooks:
            for hook in list(self._forward_hooks.values()):
                hook(self, args, out)
        return out

    def forward(self, *args):
        """Override to define the computation."""
        raise NotImplementedError("%s must override forward" % type(self).__name__)

    def register_op_hook(self, callback, monitor_all=False):
        raise UnsupportedError("register_op_hook is not supported: the CachedOp of a hybridized "
                               "block has no per-op monitor callback")

    def summary(self, *inputs):
        """Prints each layer's output shape and parameter count for a forward of ``inputs``
        (the block must be initialized)."""
        summary = OrderedDict()
        seen = set()
        hooks = []

        def _get_shape_str(args):
            def flatten(args):
                if not isinstance(args, (list, tuple)):
                    return [args], int(0)
                flat, fmts = [], []
                for i in args:
                    arg, fmt = flatten(i)
                    flat.extend(arg)
                    fmts.append(fmt)
                return flat, fmts

            def regroup(args, fmt):
                if isinstance(fmt, int):
                    if fmt == 0:
                        return args[0], args[1:]
                    return args[:fmt], args[fmt:]
                ret = []
                for i in fmt:
                    res, args = regroup(args, i)
                    ret.append(res)
                return ret, args

            flat_args, fmts = flatten(args)
            flat_arg_shapes = [x.shape if isinstance(x, NDArray) else x for x in flat_args]
            shapes = regroup(flat_arg_shapes, fmts)[0]
            if isinstance(shapes, list):
                shape_str = str(shapes)[1:-1]
            else:
                shape_str = str(shapes)
            return shape_str.replace("L", "")

        def _register_summary_hook(block):
            if isinstance(block, HybridBlock) and block._active and \
                    getattr(block, "_summary_warned", False):
                pass

            def _summary_hook(block, _, outputs):
                class_name = block.__class__.__name__
                block_idx = len(summary) - 1
                m_key = "%s-%i" % (class_name, block_idx + 1)
                summary[m_key] = OrderedDict()
                summary[m_key]["output_shape"] = _get_shape_str(outputs)
                params = 0
                summary[m_key]["trainable"] = 0
                summary[m_key]["shared"] = 0
                for p in block.params.values():
                    n = int(np.prod(p.shape)) if p.shape else 0
                    params += n
                    summary[m_key]["trainable"] += 0 if p.grad_req == "null" else n
                    if id(p) in seen:
                        summary[m_key]["shared"] += n
                    else:
                        seen.add(id(p))
                summary[m_key]["n_params"] = params

            hooks.append(block.register_forward_hook(_summary_hook))

        summary["Input"] = OrderedDict()
        summary["Input"]["output_shape"] = _get_shape_str(inputs)
        summary["Input"]["n_params"] = 0
        summary["Input"]["trainable"] = 0
        summary["Input"]["shared"] = 0
        try:
            self.apply(_register_summary_hook)
            self(*inputs)
            line_format = "{:>20}  {:>42} {:>15}"
            print("-" * 80)
            print(line_format.format("Layer (type)", "Output Shape", "Param #"))
            print("=" * 80)
            total_params = 0
            trainable_params = 0
            shared_params = 0
            for layer in summary:
                print(line_format.format(layer, str(summary[layer]["output_shape"]),
                                         summary[layer]["n_params"]))
                total_params += summary[layer]["n_params"]
                trainable_params += summary[layer]["trainable"]
                shared_params += summary[layer]["shared"]
            print("=" * 80)
            print("Parameters in forward computation graph, duplicate included")
            print("   Total params: " + str(total_params))
            print("   Trainable params: " + str(trainable_params))
            print("   Non-trainable params: " + str(total_params - trainable_params))
            print("Shared params in forward computation graph: " + str(shared_params))
            print("Unique parameters in model: " + str(total_params - shared_params))
            print("-" * 80)
        finally:
            for h in hooks:
                h.detach()


class HybridBlock(Block):
    """A Block whose computation is written once as ``hybrid_forward(F, x, *args, **params)``.

    Imperatively (the default) ``forward`` calls ``hybrid_forward(mx.nd, x, ...,
    **{name: param.data(ctx)})`` with the context of ``x``. After ``hybridize()`` the first call
    traces ``hybrid_forward(mx.sym, ...)`` (children included) into one Symbol graph and runs it
    as a libmx CachedOp from then on; called with Symbols (by a parent that traces), the block
    returns Symbols. Layers with deferred Parameters implement ``_infer_param_shapes(x, *args)``
    (a shape rule); other blocks infer them by symbolic shape inference of their graph.
    """

    def __init__(self, prefix=None, params=None):
        super().__init__(prefix=prefix, params=params)
        self._active = False
        self._flags = []
        self._cached_graph = ()
        self._graphs = {}       # input format -> (input symbols, output symbol, output format)
        self._cached_ops = {}   # input format -> _CachedGraph
        self._cached_op = None  # the CachedGraph built last (MXNet's attribute name)

    def __setattr__(self, name, value):
        super().__setattr__(name, value)
        if isinstance(value, HybridBlock):
            self._clear_cached_op()

    def register_child(self, block, name=None):
        if not isinstance(block, HybridBlock):
            raise ValueError(
                "Children of HybridBlock must also be HybridBlock, but %s has type %s. If you "
                "are using Sequential, please try HybridSequential instead."
                % (str(block), str(type(block))))
        super().register_child(block, name)
        self._clear_cached_op()

    def _clear_cached_op(self):
        self._cached_graph = ()
        self._graphs = {}
        self._cached_ops = {}
        self._cached_op = None

    def hybridize(self, active=True, static_alloc=False, static_shape=False, **kwargs):
        """Activates (or, active=False, deactivates) running the block as one cached graph.

        static_alloc: keep the graph's intermediate buffers across calls; static_shape: also
        assume the input shapes do not change. ``inline_limit``, ``forward_bulk_size`` and
        ``backward_bulk_size`` (MXNet tuning hints) are accepted and have no effect here;
        ``backend`` must be None. Any other keyword is an error. Applies to the children too
        and drops graphs traced before."""
        kwargs = _check_hybridize_kwargs(kwargs)
        self._active = bool(active)
        self._flags = [("static_alloc", bool(static_alloc)), ("static_shape", bool(static_shape))]
        self._clear_cached_op()
        if self._active and (self._forward_hooks or self._forward_pre_hooks):
            import warnings
            warnings.warn('"%s" is being hybridized while still having forward hook/pre-hook. '
                          "If it is a child of a HybridBlock, the hooks will not take effect."
                          % type(self).__name__, stacklevel=2)
        for cld in self._children.values():
            cld.hybridize(active, static_alloc=static_alloc, static_shape=static_shape, **kwargs)

    def cast(self, dtype):
        self._clear_cached_op()
        super().cast(dtype)

    # ------------------------------------------------------------------ shape inference
    def _infer_param_shapes(self, x, *args):
        """Fills unknown (0) dims of this block's Parameters from the inputs. Layers override
        it with a shape rule; the default infers them from the traced graph (symbolic shape
        inference, as MXNet does)."""
        unknown = [p for p in self._reg_params.values()
                   if p is not None and not _shape_known(p.shape)]
        if not unknown:
            return
        try:
            shapes = self._infer_attrs("shape", (x,) + args)
        except Exception as e:  # user code traced with mx.sym: any failure is the cause
            raise DeferredInitializationError(
                "%s cannot infer the shape of Parameter(s) %s from its input: shape inference "
                "of its graph failed (%s: %s). Give the full shape when creating the "
                "Parameter, or override _infer_param_shapes(x, *args)."
                % (type(self).__name__, ", ".join(p.name for p in unknown),
                   type(e).__name__, e)) from e
        for p in unknown:
            s = shapes.get(p.name)
            if not _shape_known(s):
                raise DeferredInitializationError(
                    "%s cannot infer the shape of Parameter '%s' from its input (shape "
                    "inference left it %s). Give the full shape when creating the Parameter, "
                    "or override _infer_param_shapes(x, *args)."
                    % (type(self).__name__, p.name, "unknown" if s is None else str(s)))
            p.shape = s

    def _infer_attrs(self, attr, args):
        """{argument or aux name: shape (attr 'shape') or dtype ('dtype')} from symbolic
        inference of this block's graph for the inputs args."""
        flat, fmt = _flatten(args, "input")
        inputs, out, _ = self._get_graph(fmt, flat)
        known = {s.name: getattr(a, attr) for s, a in zip(inputs, flat) if s is not None}
        if attr == "shape":
            arg_attrs, _, aux_attrs = out.infer_shape_partial(**known)
        else:
            arg_attrs, _, aux_attrs = out.infer_type(**known)
        res = dict(zip(out.list_arguments(), arg_attrs))
        res.update(zip(out.list_auxiliary_states(), aux_attrs))
        return res

    def infer_shape(self, *args):
        """Infers the unknown Parameter shapes (this block's and its children's) from the
        inputs, without initializing."""
        shapes = self._infer_attrs("shape", args)
        for name, p in self.collect_params().items():
            s = shapes.get(name)
            if not _shape_known(p.shape) and _shape_known(s):
                p.shape = s

    def infer_type(self, *args):
        """Infers the dtypes of the Parameters not yet initialized from the inputs."""
        types = self._infer_attrs("dtype", args)
        for name, p in self.collect_params().items():
            t = types.get(name)
            if t is not None and p._data is None:
                p.dtype = t

    def _deferred_infer_shape(self, *args):
        try:
            self._infer_param_shapes(*args)
        except DeferredInitializationError:
            raise
        except MXNetError as e:
            raise ValueError("Deferred initialization failed because shape cannot be inferred. "
                             "%s" % e) from e

    # ------------------------------------------------------------------ forward
    def forward(self, x, *args):
        """NDArrays: the cached graph when hybridized, else ``hybrid_forward(mx.nd, ...)``
        (running deferred initialization first when needed). Symbols: ``hybrid_forward(
        mx.sym, ...)`` with the Parameters' variables."""
        if x.__class__ is NDArray or _first_leaf(x, args) is NDArray:
            if self._active and not _TLS.imperative:
                return self._call_cached_op(x, *args)
            return self._forward_imperative(x, *args)
        sym = _symbol()
        if _first_leaf(x, args) is not sym.Symbol:
            raise TypeError("HybridBlock requires the first argument to forward be either Symbol "
                            "or NDArray (or a list of them), but got %s" % type(x).__name__)
        params = {k: v.var() for k, v in self._reg_params.items() if v is not None}
        with self.name_scope():
            return self.hybrid_forward(sym, x, *args, **params)

    def _forward_imperative(self, x, *args):
        ctx = _first_array(x, args).context
        try:
            params = {k: v.data(ctx) for k, v in self._reg_params.items() if v is not None}
        except DeferredInitializationError:
            self._deferred_infer_shape(x, *args)
            for _, v in self.params.items():
                v._finish_deferred_init()
            params = {k: v.data(ctx) for k, v in self._reg_params.items() if v is not None}
        return self.hybrid_forward(nd, x, *args, **params)

    def hybrid_forward(self, F, x, *args, **kwargs):
        """Override to define the computation with ``F`` (``mx.nd`` or ``mx.sym``)."""
        raise NotImplementedError("%s must override hybrid_forward" % type(self).__name__)

    # ------------------------------------------------------------------ the cached graph
    def _get_graph(self, fmt, flat):
        """(input variables aligned with flat, None for None inputs; the output symbol; the
        output format), traced once per input format."""
        g = self._graphs.get(fmt)
        if g is not None:
            return g
        sym = _symbol()
        n_real = sum(a is not None for a in flat)
        if n_real == 0:
            raise ValueError("%s: a hybridized block needs at least one input array"
                             % type(self).__name__)
        inputs, cnt = [], 0
        for a in flat:
            if a is None:
                inputs.append(None)
                continue
            inputs.append(sym.var("data" if n_real == 1 else "data%d" % cnt))
            cnt += 1
        grouped = _regroup(inputs, fmt)[0]
        params = {k: v.var() for k, v in self._reg_params.items() if v is not None}
        with self.name_scope():
            out = self.hybrid_forward(sym, *grouped, **params)
        outs, out_fmt = _flatten(out, "output")
        if any(o is None for o in outs):
            raise TypeError("%s.hybrid_forward returned None among its outputs"
                            % type(self).__name__)
        out_sym = outs[0] if len(outs) == 1 else sym.Group(outs)
        g = (inputs, out_sym, out_fmt)
        self._graphs[fmt] = g
        return g

    def _build_cache(self, fmt, flat):
        inputs, out, out_fmt = self._get_graph(fmt, flat)
        data_names = {s.name: i for i, s in enumerate(inputs) if s is not None}
        params = self.collect_params()
        data_slots, param_slots, used = [], [], set()
        for slot, name in enumerate(out.list_inputs()):
            if name in data_names:
                data_slots.append((slot, data_names[name]))
            elif name in params:
                param_slots.append((slot, params[name]))
            else:
                raise InvalidArgumentError(
                    "Unknown input to HybridBlock %s: '%s' is neither an input nor a Parameter "
                    "of the block (a variable created in hybrid_forward, or an op input left "
                    "out?)" % (self.name, name))
            used.add(name)
        import warnings
        unused = [i for name, i in data_names.items() if name not in used]
        if unused:
            warnings.warn("The %s input to HybridBlock %s is not used by any computation. Is "
                          "this intended?" % (", ".join("%d-th" % i for i in unused), self.name),
                          stacklevel=4)
        unused = [name for name in params.keys() if name not in used]
        if unused:
            warnings.warn("Parameter %s is not used by any computation. Is this intended?"
                          % ", ".join(unused), stacklevel=4)
        first = min((i for _, i in data_slots), default=None)
        if first is None:
            first = next(i for i, a in enumerate(flat) if a is not None)
        g = _CachedGraph(out, self._flags, data_slots, param_slots, first, out_fmt)
        self._cached_ops[fmt] = g
        self._cached_op = g
        self._cached_graph = (inputs, out)
        return g

    def _call_cached_op(self, *args):
        for a in args:
            if a.__class__ is not NDArray:
                flat, fmt = _flatten(args, "input")
                break
        else:
            flat = args
            fmt = _FLAT_FMTS[len(args)] if len(args) < len(_FLAT_FMTS) else (0,) * len(args)
        g = self._cached_ops.get(fmt)
        if g is None:
            if any(p._data is None and p._deferred_init
                   for p in self.collect_params().values()):
                # Finish deferred initialization by one imperative run (the layers' shape
                # rules), whose result is this call's; the graph is traced right after.
                _TLS.imperative += 1
                try:
                    out = self._forward_imperative(*args)
                finally:
                    _TLS.imperative -= 1
                self._build_cache(fmt, flat)
                return out
            g = self._build_cache(fmt, flat)
        return g(flat)

    # ------------------------------------------------------------------ export
    def export(self, path, epoch=0, remove_amp_cast=True):
        """Saves the traced graph to ``path-symbol.json`` and the Parameters to
        ``path-%04d.params`` (names ``arg:<name>``, and ``aux:<name>`` for auxiliary states
        such as BatchNorm's running statistics), the files ``SymbolBlock.imports``,
        ``mx.mod.Module`` and the C predict API load. The block must have been hybridized and
        called once. Returns (symbol file, params file), or (symbol, {name: array}) when path
        is None. ``remove_amp_cast`` has nothing to remove here (no AMP cast ops)."""
        if not self._cached_graph:
            raise RuntimeError("Please first call block.hybridize() and then run forward with "
                               "this block at least once before calling export.")
        sym = self._cached_graph[1]
        arg_names = set(sym.list_arguments())
        aux_names = set(sym.list_auxiliary_states())
        arg_dict = {}
        for name, param in self.collect_params().items():
            if name in arg_names:
                arg_dict["arg:%s" % name] = param._reduce()
            elif name in aux_names:
                arg_dict["aux:%s" % name] = param._reduce()
            else:
                import warnings
                warnings.warn('Parameter "%s" is not found in the graph. ' % name, stacklevel=2)
        if path is None:
            return sym, arg_dict
        sym_file = "%s-symbol.json" % path
        params_file = "%s-%04d.params" % (path, epoch)
        sym.save(sym_file)
        nd.save(params_file, arg_dict)
        return sym_file, params_file if arg_dict else None

    def optimize_for(self, x, *args, backend=None, **kwargs):
        raise UnsupportedError("HybridBlock.optimize_for is not supported: MX has no subgraph "
                               "backends to partition for")



class SymbolBlock(HybridBlock):
    """A HybridBlock made from a Symbol graph: ``SymbolBlock(outputs, inputs, params=None)``.

    ``inputs`` are the graph's data variables (a Symbol or a list); every other argument of
    ``outputs`` becomes a Parameter (auxiliary states with grad_req 'null'), named as in the
    graph, shaped, typed and initialized from the variables' ``__shape__``/``__dtype__``/
    ``__init__`` attributes (0 and absent dims are inferred at the first forward). It always runs as a CachedOp, records into
    autograd (its Parameters get gradients: fine-tuning works) and, as the child of a block
    that traces, contributes its graph. ``SymbolBlock.imports`` loads an exported model.
    """

    @staticmethod
    def imports(symbol_file, input_names, param_file=None, ctx=None, allow_missing=False,
                ignore_extra=False):
        """Loads ``symbol_file`` (``-symbol.json``) with ``input_names`` as the data inputs
        and, when given, the Parameters from ``param_file`` (``arg:``/``aux:`` prefixes or
        plain names; saved dtypes are kept) on ``ctx``. A Parameter absent from the file is an
        error naming it unless allow_missing (then initialize() it); a name in the file that
        the graph lacks is an error unless ignore_extra."""
        sym = _symbol()
        graph = sym.load(symbol_file)
        if isinstance(input_names, str):
            input_names = [input_names]
        if param_file is None:
            inputs = [sym.var(i, dtype="float32") for i in input_names]
        else:
            inputs = [sym.var(i) for i in input_names]
        ret = SymbolBlock(graph, inputs)
        if param_file is not None:
            ret.collect_params().load(param_file, ctx, allow_missing, ignore_extra,
                                      cast_dtype=True, dtype_source="saved")
        return ret

    def __init__(self, outputs, inputs, params=None):
        super().__init__(prefix=None, params=None)
        sym = _symbol()
        self._prefix = ""
        self._params = ParameterDict("", params)
        if isinstance(inputs, sym.Symbol) and len(inputs.list_outputs()) == 1:
            inputs = [inputs]
        if isinstance(outputs, (list, tuple)) and len(outputs) == 1:
            outputs = outputs[0]
        syms, self._in_format = _flatten(inputs, "input")
        if not isinstance(self._in_format, tuple):
            self._in_format = (self._in_format,)
        outs, self._out_format = _flatten(outputs, "output")
        out = outs[0] if len(outs) == 1 else sym.Group(outs)
        input_names = set()
        for s in syms:
            if not isinstance(s, sym.Symbol) or len(s.get_internals().list_outputs()) != 1:
                raise ValueError("SymbolBlock inputs must be variables, but %s is an output "
                                 "of operators" % str(s))
            input_names.add(s.name)
        attrs = out.attr_dict()
        for names, aux in ((out.list_arguments(), False), (out.list_auxiliary_states(), True)):
            for name in names:
                if name in input_names:
                    continue
                a = attrs.get(name, {})
                kw = {"allow_deferred_init": True}
                shape = _parse_shape_attr(a.get("__shape__"))
                if shape is not None:
                    kw["shape"] = shape
                if "__dtype__" in a:
                    kw["dtype"] = _dtype.DTYPE_OF_FLAG[int(a["__dtype__"])]
                if a.get("__init__"):
                    kw["init"] = a["__init__"]  # the variable's own initializer
                if aux:
                    kw["grad_req"] = "null"
                self.params.get(name, **kw)
        for name in input_names:
            if name not in out.list_inputs():
                import warnings
                warnings.warn("SymbolBlock input '%s' is not used by the graph" % name,
                              stacklevel=2)
        self._cached_graph = (syms, out)
        self._graph = (syms, out, self._out_format)
        len_prefix = len(_common_prefix(list(self._params.keys())))
        self._reg_params = {key[len_prefix:]: val for key, val in self._params.items()}

    def forward(self, x, *args):
        if x.__class__ is NDArray or _first_leaf(x, args) is NDArray:
            return self._call_cached_op(x, *args)
        sym = _symbol()
        if _first_leaf(x, args) is not sym.Symbol:
            raise TypeError("SymbolBlock requires the first argument to forward be either Symbol "
                            "or NDArray, but got %s" % type(x).__name__)
        flat, fmt = _flatten([x] + list(args), "input")
        self._check_format(fmt)
        syms, out, out_fmt = self._graph
        composed = out(**{s.name: v for s, v in zip(syms, flat)})
        outs = [composed[i] for i in range(len(composed.list_outputs()))]
        return _regroup(outs, out_fmt)[0] if out_fmt != 0 else outs[0]

    def _check_format(self, fmt):
        if fmt != self._in_format:
            raise ValueError("SymbolBlock: invalid input format: it was made with %d input(s) "
                             "in the structure %s, called with %s"
                             % (len(self._graph[0]), self._in_format, fmt))

    def _get_graph(self, fmt, flat):
        self._check_format(fmt)
        return self._graph

    def _call_cached_op(self, *args):
        flat, fmt = _flatten(args, "input")
        g = self._cached_ops.get(fmt)
        if g is None:
            pending = [p for p in self.collect_params().values()
                       if p._data is None and p._deferred_init]
            if pending:
                self._infer_pending_shapes(args, pending)
                for p in pending:
                    p._finish_deferred_init()
            g = self._build_cache(fmt, flat)
        return g(flat)

    def _infer_pending_shapes(self, args, pending):
        shapes = self._infer_attrs("shape", args)
        for p in pending:
            s = shapes.get(p.name)
            if not _shape_known(s):
                raise DeferredInitializationError(
                    "SymbolBlock: the shape of Parameter '%s' cannot be inferred from the "
                    "inputs (got %s); load it or give its variable a __shape__"
                    % (p.name, "nothing" if s is None else str(s)))
            p.shape = s

    def _infer_param_shapes(self, x, *args):
        pending = [p for p in self.collect_params().values() if not _shape_known(p.shape)]
        if pending:
            self._infer_pending_shapes((x,) + args, pending)

    def _clear_cached_op(self):
        graph = getattr(self, "_graph", None)
        cached = self._cached_graph if graph is not None else ()
        super()._clear_cached_op()
        self._cached_graph = cached

    def hybrid_forward(self, F, x, *args, **kwargs):
        raise NotImplementedError("SymbolBlock runs its graph; it has no hybrid_forward")
