"""Gluon ``Block`` and ``HybridBlock`` (MXNet 1.x API).

A Block owns Parameters (``self.params``, registered by attribute assignment in ``_reg_params``)
and child Blocks (``_children``, registered by attribute assignment or ``register_child``).
Names come from ``name_scope()``: a top-level block gets ``<alias><global count>_`` (``dense0_``),
a block created inside another's ``name_scope()`` gets the parent's prefix plus
``<alias><count within parent>_``.

HybridBlock runs imperatively: ``hybridize()`` is accepted and recorded, but there is no Symbol
graph yet, so forward always calls ``hybrid_forward(mx.nd, x, ...)``. Parameters whose shape has
unknown (0) entries are completed on the first forward by the layer's ``_infer_param_shapes``
(a shape rule per layer type), then initialized.
"""
import re
import threading
import weakref
from collections import OrderedDict, defaultdict

import numpy as np

from .. import initializer
from .. import ndarray as nd
from ..base import MXNetError, UnsupportedError
from ..ndarray.ndarray import NDArray
from .parameter import DeferredInitializationError, Parameter, ParameterDict
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
        return self

    def __exit__(self, ptype, value, trace):
        block = self._block()
        if block is None or block._empty_prefix:
            return
        _BlockScope._current.value = self._old_scope


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


def _flatten_arrays(args):
    out = []
    for a in args:
        if isinstance(a, NDArray):
            out.append(a)
        elif isinstance(a, (list, tuple)):
            out.extend(_flatten_arrays(a))
    return out


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

    def hybridize(self, active=True, **kwargs):
        """Passes ``active`` to the children. Blocks that are not HybridBlocks run imperatively
        anyway."""
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

    def __call__(self, *args):
        """Runs the pre-hooks, forward, then the hooks."""
        for hook in list(self._forward_pre_hooks.values()):
            hook(self, args)
        out = self.forward(*args)
        for hook in list(self._forward_hooks.values()):
            hook(self, args, out)
        return out

    def forward(self, *args):
        """Override to define the computation."""
        raise NotImplementedError("%s must override forward" % type(self).__name__)

    def register_op_hook(self, callback, monitor_all=False):
        raise UnsupportedError("register_op_hook needs a hybridized (Symbol) graph, which is "
                               "not supported yet")

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

    ``forward(x, ...)`` calls ``hybrid_forward(mx.nd, x, ..., **{name: param.data(ctx)})`` with
    the context of ``x``. ``hybridize()`` is accepted but, until the Symbol API exists, the
    block still runs imperatively (op by op through libmx), with identical results.
    Layers with deferred Parameters implement ``_infer_param_shapes(x, *args)``, which fills
    the unknown (0) dims from the input before initialization.
    """

    def __init__(self, prefix=None, params=None):
        super().__init__(prefix=prefix, params=params)
        self._active = False
        self._flags = []

    def __setattr__(self, name, value):
        super().__setattr__(name, value)

    def register_child(self, block, name=None):
        if not isinstance(block, HybridBlock):
            raise ValueError(
                "Children of HybridBlock must also be HybridBlock, but %s has type %s. If you "
                "are using Sequential, please try HybridSequential instead."
                % (str(block), str(type(block))))
        super().register_child(block, name)

    def hybridize(self, active=True, **kwargs):
        """Marks the block as hybridized. NOTE: without the Symbol API the block keeps running
        imperatively (same results); static_alloc/static_shape and other flags are recorded
        only."""
        self._active = bool(active)
        self._flags = list(kwargs.items())
        super().hybridize(active, **kwargs)

    def cast(self, dtype):
        super().cast(dtype)

    def _infer_param_shapes(self, x, *args):
        """Fills unknown (0) dims of this block's Parameters from the inputs. Layers override
        it; a custom block with deferred Parameters must override it too."""
        unknown = [p.name for p in self._reg_params.values()
                   if p.shape is None or any(d == 0 for d in p.shape)]
        if unknown:
            raise DeferredInitializationError(
                "%s cannot infer the shape of Parameter(s) %s from its input: deferred shape "
                "inference needs the Symbol API for custom blocks. Give the full shape when "
                "creating the Parameter, or override _infer_param_shapes(x, *args)."
                % (type(self).__name__, ", ".join(unknown)))

    def infer_shape(self, *args):
        """Infers the unknown Parameter shapes from the inputs (without initializing)."""
        self._infer_param_shapes(*args)

    def infer_type(self, *args):
        """Parameters keep their declared dtype (no Symbol-level type inference)."""
        return None

    def _deferred_infer_shape(self, *args):
        try:
            self._infer_param_shapes(*args)
        except DeferredInitializationError:
            raise
        except MXNetError as e:
            raise ValueError("Deferred initialization failed because shape cannot be inferred. "
                             "%s" % e) from e

    def forward(self, x, *args):
        """Calls ``hybrid_forward(mx.nd, x, *args, **params)`` (running deferred
        initialization first when needed)."""
        if not isinstance(x, NDArray):
            raise TypeError("HybridBlock.forward expects an NDArray as its first input, got %s "
                            "(Symbol inputs are not supported yet)" % type(x).__name__)
        ctx = x.context
        try:
            params = {k: v.data(ctx) for k, v in self._reg_params.items() if v is not None}
        except DeferredInitializationError:
            self._deferred_infer_shape(x, *args)
            for _, v in self.params.items():
                v._finish_deferred_init()
            params = {k: v.data(ctx) for k, v in self._reg_params.items() if v is not None}
        return self.hybrid_forward(nd, x, *args, **params)

    def hybrid_forward(self, F, x, *args, **kwargs):
        """Override to define the computation with ``F`` (``mx.nd``)."""
        raise NotImplementedError("%s must override hybrid_forward" % type(self).__name__)

    def export(self, path, epoch=0, remove_amp_cast=True):
        """Not supported until the Symbol API exists."""
        raise UnsupportedError("HybridBlock.export is not supported until Symbol exists "
                               "(no graph to save); use save_parameters for the weights")

    def optimize_for(self, x, *args, backend=None, **kwargs):
        raise UnsupportedError("HybridBlock.optimize_for is not supported until Symbol exists")


class SymbolBlock(HybridBlock):
    """Not supported until the Symbol API exists."""

    def __init__(self, outputs=None, inputs=None, params=None):
        raise UnsupportedError("SymbolBlock is not supported until Symbol exists")

    @staticmethod
    def imports(symbol_file, input_names, param_file=None, ctx=None):
        raise UnsupportedError("SymbolBlock.imports is not supported until Symbol exists")
