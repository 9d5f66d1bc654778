"""Gluon ``Parameter``, ``Constant`` and ``ParameterDict`` (MXNet 1.x API).

A Parameter holds one NDArray per context (and a gradient buffer per context unless
``grad_req='null'``). A shape entry of 0 means "unknown until the first forward": such a
parameter with ``allow_deferred_init=True`` is initialized once its block has seen its input.
"""
import warnings
from collections import OrderedDict

import numpy as np

from .. import autograd
from .. import initializer
from .. import ndarray as nd
from .. import _dtype
from ..base import MXNetError
from ..context import Context, cpu, current_context
from ..ndarray.ndarray import NDArray
from .utils import _brief_print_list

__all__ = ["DeferredInitializationError", "Parameter", "Constant", "ParameterDict",
           "tensor_types"]

tensor_types = (NDArray,)


class DeferredInitializationError(MXNetError):
    """Raised when a parameter's data is needed before its deferred initialization could run
    (its shape is still unknown)."""


def _dtype_name(dtype):
    if dtype is None:
        return None
    return _dtype.dtype_name(dtype)


def _shape_known(shape):
    return shape is not None and all(int(d) > 0 for d in shape)


class Parameter:
    """A Block's parameter: weights, biases, running statistics.

    Parameters
    ----------
    name : str
    grad_req : {'write', 'add', 'null'}
    shape : int or tuple of int; 0 entries are inferred at the first forward
    dtype : numpy dtype or str, default 'float32'
    lr_mult, wd_mult : float, multipliers of the learning rate and weight decay
    init : Initializer or str, this parameter's own initializer (overrides the global one)
    allow_deferred_init : bool, allow initialize() before the shape is known
    differentiable : bool, False forces grad_req 'null'
    stype, grad_stype : only 'default' (dense) is supported
    """

    def __init__(self, name, grad_req="write", shape=None, dtype=np.float32, lr_mult=1.0,
                 wd_mult=1.0, init=None, allow_deferred_init=False, differentiable=True,
                 stype="default", grad_stype="default"):
        self._var = None
        self._data = None
        self._grad = None
        self._ctx_list = None
        self._ctx_map = None
        self._trainer = None
        self._deferred_init = ()
        self._differentiable = differentiable
        self._allow_deferred_init = allow_deferred_init
        self._grad_req = None
        if isinstance(shape, int):
            shape = (shape,)
        self._shape = tuple(int(s) for s in shape) if shape is not None else None
        self.name = name
        self._dtype = _dtype_name(dtype)
        self.lr_mult = lr_mult
        self.wd_mult = wd_mult
        self.grad_req = grad_req
        self.init = init
        for what, st in (("stype", stype), ("grad_stype", grad_stype)):
            if st != "default":
                raise NotImplementedError(
                    "Parameter '%s': %s=%r is not supported (only dense 'default' storage)"
                    % (name, what, st))
        self._stype = stype
        self._grad_stype = grad_stype

    def __repr__(self):
        return "Parameter %s (shape=%s, dtype=%s)" % (self.name, self.shape, self.dtype)

    # ------------------------------------------------------------------ attributes
    @property
    def grad_req(self):
        return self._grad_req

    @grad_req.setter
    def grad_req(self, req):
        if req not in ("write", "add", "null"):
            raise ValueError("grad_req must be one of 'write', 'add', or 'null', but got '%s'"
                             % (req,))
        if not self._differentiable:
            req = "null"
        if self._grad_req == req:
            return
        self._grad_req = req
        if req == "null" and self._grad is not None:
            self._grad = None
            self._data = [i.detach() for i in self._data]
        elif self._data is not None:
            self._init_grad()

    @property
    def dtype(self):
        if self._dtype is None:
            return None
        return _dtype.DTYPE_OF_FLAG[_dtype.FLAG_OF_NAME[self._dtype]]

    @dtype.setter
    def dtype(self, dtype):
        self._dtype = _dtype_name(dtype)

    @property
    def shape(self):
        """The shape; 0 entries are unknown until deferred initialization."""
        return self._shape

    @shape.setter
    def shape(self, new_shape):
        if isinstance(new_shape, int):
            new_shape = (new_shape,)
        new_shape = tuple(int(s) for s in new_shape)
        if self._shape is None:
            self._shape = new_shape
            return
        if len(self._shape) != len(new_shape) or not all(
                j in (0, i) for i, j in zip(new_shape, self._shape)):
            raise ValueError("Expected shape %s is incompatible with given shape %s for "
                             "Parameter '%s'." % (str(new_shape), str(self._shape), self.name))
        self._shape = new_shape

    @property
    def stype(self):
        return self._stype

    # ------------------------------------------------------------------ helpers
    def _check_and_get(self, arr_list, ctx):
        if arr_list is not None:
            if ctx is list:
                return arr_list
            if ctx is None:
                if len(arr_list) == 1:
                    return arr_list[0]
                ctx = current_context()
            idx = self._ctx_map.get(_ctx_key(ctx))
            if idx is not None:
                return arr_list[idx]
            raise RuntimeError(
                "Parameter '%s' was not initialized on context %s. It was only initialized on "
                "%s." % (self.name, str(ctx), str(self._ctx_list)))
        if self._deferred_init:
            raise DeferredInitializationError(
                "Parameter '%s' has not been initialized yet because initialization was "
                "deferred. Actual initialization happens during the first forward pass. Please "
                "pass one batch of data through the network before accessing Parameters. You "
                "can also avoid deferred initialization by specifying in_units, num_features, "
                "etc., for network layers." % self.name)
        raise RuntimeError(
            "Parameter '%s' has not been initialized. Note that you should initialize "
            "parameters and create Trainer with Block.collect_params() instead of Block.params "
            "because the later does not include Parameters of nested child Blocks" % self.name)

    def _load_init(self, data, ctx, cast_dtype=False, dtype_source="current"):
        """(Re)initializes from a loaded NDArray, checking shape and dtype."""
        if dtype_source not in ("current", "saved"):
            raise ValueError("dtype_source must be 'current' or 'saved', got %r"
                             % (dtype_source,))
        if self.shape:
            if len(self.shape) != len(data.shape) or not all(
                    s in (0, d) for s, d in zip(self.shape, data.shape)):
                raise ValueError(
                    "Failed loading Parameter '%s' from saved params: shape incompatible "
                    "expected %s vs saved %s" % (self.name, str(self.shape), str(data.shape)))
            self._shape = tuple(d if s == 0 else s for s, d in zip(self.shape, data.shape))
        if self._dtype is not None:
            saved = _dtype.dtype_name(data.dtype)
            if saved != self._dtype:
                if cast_dtype:
                    if dtype_source == "current":
                        data = data.astype(self._dtype)
                    else:
                        self._dtype = saved
                else:
                    raise TypeError(
                        "Failed loading Parameter '%s' from saved params: dtype incompatible "
                        "expected %s vs saved %s. Set cast_dtype=True to cast the dtype of saved "
                        "params." % (self.name, self._dtype, saved))
        if isinstance(ctx, Context):
            ctx = [ctx]
        if self._data is None:
            if self._deferred_init:
                if ctx is not None and set(map(_ctx_key, ctx)) != set(
                        map(_ctx_key, self._deferred_init[1])):
                    raise ValueError("Failed to load Parameter '%s' on %s because it was "
                                     "previously initialized on %s."
                                     % (self.name, str(ctx), str(self._deferred_init[1])))
                ctx = self._deferred_init[1]
            elif ctx is None:
                ctx = [cpu()]
            self._init_impl(data, ctx)
        else:
            if ctx is not None and set(map(_ctx_key, ctx)) != set(
                    map(_ctx_key, self.list_ctx())):
                raise ValueError("Failed to load Parameter '%s' on %s because it was previously "
                                 "initialized on %s." % (self.name, str(ctx),
                                                        str(self.list_ctx())))
            self.set_data(data)
        self._deferred_init = ()

    def _finish_deferred_init(self):
        """Runs the pending initialization once the shape is fully known."""
        if not self._deferred_init:
            return
        init, ctx, default_init, data = self._deferred_init
        self._deferred_init = ()
        if not _shape_known(self.shape):
            self._deferred_init = (init, ctx, default_init, data)
            raise DeferredInitializationError(
                "Cannot initialize Parameter '%s' because it has invalid shape: %s. Please "
                "specify in_units, in_channels, etc for `Block`s." % (self.name, str(self.shape)))
        with autograd.pause():
            if data is None:
                data = nd.zeros(self.shape, dtype=self._dtype, ctx=cpu())
                initializer.create(default_init)(
                    initializer.InitDesc(self.name, {"__init__": init}), data)
            self._init_impl(data, ctx)

    def _init_impl(self, data, ctx_list):
        self._ctx_list = list(ctx_list)
        self._ctx_map = {_ctx_key(c): i for i, c in enumerate(self._ctx_list)}
        arrs = []
        for c in self._ctx_list:
            a = nd.zeros(self.shape, dtype=self._dtype, ctx=c)
            data.copyto(a)
            arrs.append(a)
        self._data = arrs
        self._init_grad()

    def _init_grad(self):
        if self.grad_req == "null":
            self._grad = None
            return
        for a in self._data:
            a.attach_grad(self.grad_req)
        self._grad = [a.grad for a in self._data]

    def _reduce(self):
        """The data gathered on the CPU (the mean over contexts when there are several)."""
        block = self.list_data()
        if len(block) == 1:
            return block[0].copyto(cpu())
        return nd.add_n(*[d.copyto(cpu()) for d in block]) / len(block)

    # ------------------------------------------------------------------ public API
    def initialize(self, init=None, ctx=None, default_init=initializer.Uniform(),
                   force_reinit=False):
        """Creates the data (and gradient) arrays on ``ctx`` (a Context or list, default the
        current context) and fills them with ``init`` (this parameter's ``init`` if None, else
        ``default_init``). With an unknown shape and ``allow_deferred_init``, initialization
        waits for the first forward."""
        if self._data is not None and not force_reinit:
            warnings.warn("Parameter '%s' is already initialized, ignoring. Set "
                          "force_reinit=True to re-initialize." % self.name, stacklevel=2)
            return
        self._data = self._grad = None
        if ctx is None:
            ctx = [current_context()]
        if isinstance(ctx, Context):
            ctx = [ctx]
        if init is None:
            init = default_init if self.init is None else self.init
        if not _shape_known(self.shape):
            if self._allow_deferred_init:
                self._deferred_init = (init, ctx, default_init, None)
                return
            raise ValueError("Cannot initialize Parameter '%s' because it has invalid shape: "
                             "%s." % (self.name, str(self.shape)))
        self._deferred_init = (init, ctx, default_init, None)
        self._finish_deferred_init()

    def reset_ctx(self, ctx):
        """Moves the data (and gradients) to other contexts."""
        if ctx is None:
            ctx = [current_context()]
        if isinstance(ctx, Context):
            ctx = [ctx]
        if self._data:
            data = self._reduce()
            with autograd.pause():
                self._init_impl(data, ctx)
        elif self._deferred_init:
            init, _, default_init, data = self._deferred_init
            self._deferred_init = (init, ctx, default_init, data)
        else:
            raise ValueError("Cannot reset context for Parameter '%s' because it has not been "
                             "initialized." % self.name)

    def set_data(self, data):
        """Sets the value on every context (or the value to initialize with, while deferred)."""
        if not isinstance(data, NDArray):
            data = nd.array(np.asarray(data), dtype=self._dtype)
        self.shape = data.shape
        if self._data is None:
            if not self._deferred_init:
                raise RuntimeError("Parameter '%s' has not been initialized" % self.name)
            self._deferred_init = self._deferred_init[:3] + (data,)
            return
        for arr in self._check_and_get(self._data, list):
            with autograd.pause():
                data.copyto(arr)

    def data(self, ctx=None):
        """The data array on ``ctx`` (default: the only one, or the current context)."""
        return self._check_and_get(self._data, ctx)

    def list_data(self):
        return self._check_and_get(self._data, list)

    def grad(self, ctx=None):
        """The gradient buffer on ``ctx``."""
        if self._data is not None and self._grad is None:
            raise RuntimeError("Cannot get gradient array for Parameter '%s' because grad_req="
                               "'null'" % self.name)
        return self._check_and_get(self._grad, ctx)

    def list_grad(self):
        if self._data is not None and self._grad is None:
            raise RuntimeError("Cannot get gradient array for Parameter '%s' because grad_req="
                               "'null'" % self.name)
        return self._check_and_get(self._grad, list)

    def list_ctx(self):
        if self._data is None:
            if self._deferred_init:
                return self._deferred_init[1]
            raise RuntimeError("Parameter '%s' has not been initialized" % self.name)
        return self._ctx_list

    def zero_grad(self):
        """Sets the gradient buffers to 0."""
        if self._grad is None:
            return
        with autograd.pause():
            for g in self._grad:
                g[:] = 0

    def var(self):
        """The ``mx.sym.Variable`` of this parameter (its name, with MXNet's ``__shape__``,
        ``__dtype__``, ``__lr_mult__``, ``__wd_mult__`` and ``__init__`` attributes), cached.

        The shape attribute is given only once the shape is fully known (a 0 dim would read as
        a real size to shape inference). The cached variable is remade when one of these
        attributes changed since (a cast, a completed deferred shape, a new multiplier)."""
        key = (self._shape if _shape_known(self._shape) else None, self._dtype, self.lr_mult,
               self.wd_mult, self.init)
        cached = self._var
        if cached is not None and cached[0] == key:
            return cached[1]
        from .. import symbol
        init = self.init
        if init is not None and not isinstance(init, str) and hasattr(init, "dumps"):
            init = init.dumps()
        v = symbol.Variable(self.name, shape=key[0], dtype=self._dtype, lr_mult=self.lr_mult,
                            wd_mult=self.wd_mult, init=init)
        self._var = (key, v)
        return v

    def cast(self, dtype):
        """Casts data and gradients to dtype."""
        self._dtype = _dtype_name(dtype)
        if self._data is None:
            if self._deferred_init and self._deferred_init[3] is not None:
                d = self._deferred_init
                self._deferred_init = d[:3] + (d[3].astype(self._dtype),)
            return
        with autograd.pause():
            self._data = [i.astype(self._dtype) for i in self._data]
            if self._grad is None:
                return
            self._init_grad()


def _ctx_key(ctx):
    # (type id, device id): what HybridBlock's cached-op calls compute per call
    return (ctx.device_typeid, ctx.device_id)


class Constant(Parameter):
    """A constant parameter (grad_req 'null'), initialized with ``value``."""

    def __init__(self, name, value):
        if not isinstance(value, NDArray):
            value = nd.array(np.asarray(value), dtype=np.asarray(value).dtype
                             if np.asarray(value).dtype != np.float64 else "float32")
        self.value = value
        init = initializer.Constant(value)
        super().__init__(name, grad_req="null", shape=value.shape, dtype=value.dtype,
                         init=init)

    def __repr__(self):
        return "Constant %s (shape=%s, dtype=%s)" % (self.name, self.shape, self.dtype)

    @property
    def grad_req(self):
        return "null"

    @grad_req.setter
    def grad_req(self, req):
        if req != "null":
            warnings.warn("Constant parameter \"%s\" does not support grad_req other than "
                          "\"null\", and new value \"%s\" is ignored." % (self.name, req))
        self._grad_req = "null"


class ParameterDict:
    """A dictionary of Parameters keyed by full name, all starting with ``prefix``. ``shared``
    is another ParameterDict whose parameters ``get`` returns (instead of creating new ones)."""

    def __init__(self, prefix="", shared=None):
        self._prefix = prefix
        self._params = OrderedDict()
        self._shared = shared

    def __repr__(self):
        s = "{name}(\n{content}\n)"
        name = self._prefix + " " if self._prefix else ""
        return s.format(name=name, content="\n".join(
            "  " + repr(v).replace("\n", "\n  ") for v in self.values()))

    def __getitem__(self, key):
        return self._params[key]

    def __iter__(self):
        return iter(self._params)

    def __len__(self):
        return len(self._params)

    def __contains__(self, key):
        return key in self._params

    def items(self):
        return self._params.items()

    def keys(self):
        return self._params.keys()

    def values(self):
        return self._params.values()

    @property
    def prefix(self):
        return self._prefix

    def _get_impl(self, name):
        if name in self._params:
            return self._params[name]
        if self._shared is not None and name in self._shared._params:
            self._params[name] = self._shared._params[name]
            return self._shared._params[name]
        return None

    def get(self, name, **kwargs):
        """The Parameter ``prefix + name``: the existing one (own or shared, after checking that
        the given attributes agree) or a new one created with ``kwargs``."""
        name = self.prefix + name
        param = self._get_impl(name)
        if param is None:
            param = Parameter(name, **kwargs)
            self._params[name] = param
            return param
        for k, v in kwargs.items():
            if not hasattr(param, k) or getattr(param, k) is None:
                if k == "init" or not hasattr(param, k):
                    setattr(param, k, v)
                continue
            existing = getattr(param, k)
            if k == "shape":
                v = (v,) if isinstance(v, int) else tuple(v)
                if len(v) == len(existing):
                    inferred = []
                    ok = True
                    for d1, d2 in zip(v, existing):
                        if d1 != d2 and d1 != 0 and d2 != 0:
                            ok = False
                            break
                        inferred.append(d1 if d2 == 0 else d2)
                    if ok:
                        param._shape = tuple(inferred)
                        continue
            elif k == "dtype":
                if _dtype_name(v) == param._dtype:
                    continue
            elif k == "init":
                continue
            elif v == existing:
                continue
            raise AssertionError(
                "Cannot retrieve Parameter '%s' because desired attribute does not match with "
                "stored for attribute '%s': desired '%s' vs stored '%s'."
                % (name, k, str(v), str(existing)))
        return param

    def get_constant(self, name, value=None):
        """The Constant ``prefix + name`` (created from ``value`` if new)."""
        name = self.prefix + name
        param = self._get_impl(name)
        if param is None:
            if value is None:
                raise KeyError("No constant named '%s'. Please specify value if you want to "
                               "create a new constant." % name)
            param = Constant(name, value)
            self._params[name] = param
        elif value is not None:
            if not isinstance(param, Constant):
                raise TypeError("Parameter '%s' already exists but it is not a constant." % name)
        return param

    def update(self, other):
        """Adds the Parameters of another ParameterDict (or dict)."""
        for k, v in other.items():
            if k in self._params:
                if self._params[k] is not v:
                    raise ValueError("Cannot update self with other because they have different "
                                     "Parameters with the same name '%s'" % k)
            else:
                self._params[k] = v

    def initialize(self, init=initializer.Uniform(), ctx=None, verbose=False,
                   force_reinit=False):
        """Initializes every Parameter (``init`` is the default for those without their own)."""
        if init is None:
            init = initializer.Uniform()
        init = initializer.create(init)
        if verbose and hasattr(init, "set_verbosity"):
            init.set_verbosity(verbose=verbose)
        for v in self.values():
            v.initialize(None, ctx, init, force_reinit=force_reinit)

    def zero_grad(self):
        for v in self.values():
            v.zero_grad()

    def reset_ctx(self, ctx):
        for v in self.values():
            v.reset_ctx(ctx)

    def list_ctx(self):
        s = []
        for v in self.values():
            for c in v.list_ctx():
                if c not in s:
                    s.append(c)
        return s

    def setattr(self, name, value):
        """Sets an attribute (``grad_req``, ``lr_mult``, ...) on every Parameter."""
        for v in self.values():
            setattr(v, name, value)

    def save(self, filename, strip_prefix=""):
        """Saves with ``mx.nd.save`` (names without ``strip_prefix``)."""
        arg_dict = {}
        for param in self.values():
            weight = param._reduce()
            if not param.name.startswith(strip_prefix):
                raise ValueError(
                    "Prefix '%s' is to be striped before saving, but Parameter's name '%s' does "
                    "not start with '%s'. this may be due to your Block shares parameters from "
                    "other Blocks or you forgot to use 'with name_scope()' when creating child "
                    "blocks." % (strip_prefix, param.name, strip_prefix))
            arg_dict[param.name[len(strip_prefix):]] = weight
        nd.save(filename, arg_dict)

    def load(self, filename, ctx=None, allow_missing=False, ignore_extra=False,
             restore_prefix="", cast_dtype=False, dtype_source="current"):
        """Loads a file written by ``save`` (names get ``restore_prefix`` prepended)."""
        if restore_prefix:
            for name in self.keys():
                if not name.startswith(restore_prefix):
                    raise ValueError("restore_prefix is '%s' but Parameters name '%s' does not "
                                     "start with '%s'" % (restore_prefix, name, restore_prefix))
        ndarray_load = nd.load(filename)
        if not isinstance(ndarray_load, dict):
            raise ValueError("file '%s' holds a list of arrays without names; Parameters need "
                             "a file saved from a dict" % filename)
        self.load_dict(ndarray_load, ctx, allow_missing, ignore_extra, restore_prefix,
                       filename, cast_dtype, dtype_source)

    def load_dict(self, param_dict, ctx=None, allow_missing=False, ignore_extra=False,
                  restore_prefix="", filename=None, cast_dtype=False, dtype_source="current"):
        lprefix = len(restore_prefix)
        loaded = [(k[4:] if k.startswith("arg:") or k.startswith("aux:") else k, v)
                  for k, v in param_dict.items()]
        arg_dict = {restore_prefix + k: v for k, v in loaded}
        error_str = "file: %s" % filename if filename else "param_dict"
        if not allow_missing:
            for name in self.keys():
                if name not in arg_dict:
                    raise KeyError("Parameter '%s' is missing in %s, which contains parameters: "
                                   "%s. Please make sure source and target networks have the "
                                   "same prefix. Set allow_missing=True to ignore missing "
                                   "parameters." % (name[lprefix:], error_str,
                                                    _brief_print_list(arg_dict.keys())))
        for name in arg_dict:
            if name not in self._params:
                if not ignore_extra:
                    raise KeyError("Parameter '%s' loaded from %s is not present in "
                                   "ParameterDict, choices are: %s. Set ignore_extra to True to "
                                   "ignore. Please make sure source and target networks have the "
                                   "same prefix." % (name[lprefix:], error_str,
                                                     _brief_print_list(self._params.keys())))
                continue
            self[name]._load_init(arg_dict[name], ctx, cast_dtype=cast_dtype,
                                  dtype_source=dtype_source)
