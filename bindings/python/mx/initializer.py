"""``mx.init``: weight initializers (MXNet 1.x ``mxnet.initializer`` API).

An initializer is called as ``init(desc, arr)``: ``desc`` is an :class:`InitDesc` (a ``str``
subclass holding the parameter name and attributes) and ``arr`` the NDArray to fill in place.
Without an ``__init__`` attribute the name picks the method, as in MXNet: names ending in
``weight`` get ``_init_weight``, ``bias`` zeros, ``gamma`` ones, ``beta`` zeros, ``min`` zeros,
``max`` ones. Gluon parameters always pass their own initializer as the ``__init__`` attribute,
which then fills the array with its ``_init_weight``.

Random draws go through the ``mx.nd.random`` operators, so ``mx.random.seed`` makes them
reproducible; no numerics happen in Python.
"""
import json
import math
import re
import numpy as np

from . import ndarray as _nd
from .base import UnsupportedError
from .ndarray.ndarray import NDArray

__all__ = ["InitDesc", "Initializer", "register", "create", "Load", "Mixed", "Zero", "One",
           "Constant", "Uniform", "Normal", "Orthogonal", "Xavier", "MSRAPrelu", "Bilinear",
           "LSTMBias"]

_REGISTRY = {}


def register(klass):
    """Registers an Initializer subclass under its lower-cased class name (for ``create`` and
    string specs such as ``init='zeros'``)."""
    if not (isinstance(klass, type) and issubclass(klass, Initializer)):
        raise TypeError("register expects an Initializer subclass, got %r" % (klass,))
    _REGISTRY[klass.__name__.lower()] = klass
    return klass


def _alias(*names):
    def deco(klass):
        for n in names:
            _REGISTRY[n] = klass
        return klass
    return deco


def create(init, *args, **kwargs):
    """An Initializer from an instance (returned as is), a registered name (``'zeros'``,
    ``'xavier'``, ...), or MXNet's JSON form ``'["xavier", {"magnitude": 2}]'``."""
    if isinstance(init, Initializer):
        return init
    if isinstance(init, type) and issubclass(init, Initializer):
        return init(*args, **kwargs)
    if isinstance(init, str):
        name = init
        if init.startswith("["):
            try:
                name, kw = json.loads(init)
            except ValueError as e:
                raise ValueError("cannot parse initializer spec %r: %s" % (init, e)) from None
            kwargs = dict(kw, **kwargs)
        klass = _REGISTRY.get(name.lower())
        if klass is None:
            raise ValueError("Cannot find initializer %r; registered initializers are %s"
                             % (name, sorted(_REGISTRY)))
        return klass(*args, **kwargs)
    raise TypeError("initializer must be an Initializer, a name or None, got %r" % (init,))


class InitDesc(str):
    """The name of a parameter together with its attributes (``attrs``) and the global
    initializer in effect (``global_init``)."""

    def __new__(cls, name, attrs=None, global_init=None):
        ret = super().__new__(cls, name)
        ret.attrs = attrs or {}
        ret.global_init = global_init
        return ret


def _fill(arr, value):
    """Writes value (scalar or NDArray) into arr in place (through libmx ops)."""
    if isinstance(value, NDArray):
        if value.shape != arr.shape:
            value = value.broadcast_to(arr.shape) if value.ndim <= arr.ndim else value
        value.copyto(arr)
    else:
        arr[:] = value


def _draw(kind, arr, **kw):
    """A draw of the arr's shape from mx.nd.random.<kind>, on arr's device, written into arr."""
    fn = getattr(_nd.random, kind, None)
    if fn is None:
        raise UnsupportedError("initializer needs the random operator %r, which this libmx "
                               "does not register" % kind)
    out = fn(shape=arr.shape, ctx=arr.context, dtype="float32", **kw)
    out.copyto(arr)


class Initializer:
    """Base class of the initializers. Subclasses override ``_init_weight`` (and optionally the
    other ``_init_*`` methods)."""

    def __init__(self, **kwargs):
        self._kwargs = kwargs
        self._verbose = False
        self._print_func = None

    def set_verbosity(self, verbose=False, print_func=None):
        """Prints a summary (the array's norm by default) of each initialized array."""
        self._verbose = verbose
        if print_func is None:
            def print_func(x):
                return str(_nd.norm(x).asscalar() / math.sqrt(max(x.size, 1)))
        self._print_func = print_func
        return self

    def _verbose_print(self, desc, init, arr):
        if self._verbose and self._print_func:
            import logging
            logging.info("Initialized %s as %s: %s", desc, init, self._print_func(arr))

    def dumps(self):
        """JSON form ``[name, kwargs]`` (what ``create`` accepts)."""
        return json.dumps([self.__class__.__name__.lower(), self._kwargs])

    def __repr__(self):
        return "%s(%s)" % (type(self).__name__,
                           ", ".join("%s=%r" % kv for kv in sorted(self._kwargs.items())))

    def __eq__(self, other):
        return type(self) is type(other) and self._kwargs == other._kwargs

    def __hash__(self):
        return hash((type(self).__name__, self.dumps()))

    def __call__(self, desc, arr):
        if not isinstance(arr, NDArray):
            raise TypeError("an initializer fills an NDArray, got %r" % (type(arr),))
        if not isinstance(desc, InitDesc):
            desc = InitDesc(str(desc))
        if desc.global_init is None:
            desc.global_init = self
        init = desc.attrs.get("__init__", "")
        if init:
            create(init)._init_weight(desc, arr)
            self._verbose_print(desc, init, arr)
            return
        if desc.endswith("weight"):
            self._init_weight(desc, arr)
        elif desc.endswith("bias"):
            self._init_bias(desc, arr)
        elif desc.endswith("gamma"):
            self._init_gamma(desc, arr)
        elif desc.endswith("beta"):
            self._init_beta(desc, arr)
        elif desc.endswith("moving_mean") or desc.endswith("running_mean"):
            self._init_zero(desc, arr)
        elif desc.endswith("moving_var") or desc.endswith("running_var"):
            self._init_one(desc, arr)
        elif desc.endswith("moving_inv_var"):
            self._init_zero(desc, arr)
        elif desc.endswith("moving_avg"):
            self._init_zero(desc, arr)
        elif desc.endswith("min"):
            self._init_zero(desc, arr)
        elif desc.endswith("max"):
            self._init_one(desc, arr)
        else:
            self._init_default(desc, arr)
        self._verbose_print(desc, "default", arr)

    def _init_zero(self, _, arr):
        _fill(arr, 0.0)

    def _init_one(self, _, arr):
        _fill(arr, 1.0)

    def _init_bias(self, _, arr):
        _fill(arr, 0.0)

    def _init_gamma(self, _, arr):
        _fill(arr, 1.0)

    def _init_beta(self, _, arr):
        _fill(arr, 0.0)

    def _init_weight(self, name, arr):
        raise NotImplementedError("%s must override _init_weight (needed for %s)"
                                  % (type(self).__name__, name))

    def _init_default(self, name, _):
        raise ValueError(
            "Unknown initialization pattern for %s. Default initialization is now limited to "
            "\"weight\", \"bias\", \"gamma\" (1.0), and \"beta\" (0.0). Please use "
            "mx.sym.Variable(init=mx.init.*) to set initialization pattern" % name)


@register
class Load(Initializer):
    """Initializes by loading arrays from a dict (or a file saved with ``mx.nd.save``) by name;
    names missing there go to ``default_init``. The ``arg:``/``aux:`` prefixes of MXNet checkpoint
    files are stripped."""

    def __init__(self, param, default_init=None, verbose=False):
        if isinstance(param, str):
            param = _nd.load(param)
        if not isinstance(param, dict):
            raise TypeError("Load expects a dict of name -> NDArray (or a file of one)")
        self.param = {}
        for name, arr in param.items():
            if name.startswith("arg:") or name.startswith("aux:"):
                self.param[name[4:]] = arr
            else:
                self.param[name] = arr
        self.default_init = default_init
        self.verbose = verbose
        super().__init__()

    def _init_weight(self, name, arr):
        self(name, arr)

    def __call__(self, name, arr):
        if name in self.param:
            src = self.param[name]
            if src.shape != arr.shape:
                raise ValueError("Parameter %s cannot be initialized from loading: shape "
                                 "mismatch, target %s vs loaded %s"
                                 % (name, arr.shape, src.shape))
            src.copyto(arr)
            if self.verbose:
                import logging
                logging.info("Initialized %s by loading", name)
        else:
            if self.default_init is None:
                raise ValueError("Cannot initialize %s: not found in the loaded params and no "
                                 "default_init was given" % name)
            create(self.default_init)(name, arr)
            if self.verbose:
                import logging
                logging.info("Initialized %s by default", name)


@register
class Mixed(Initializer):
    """Initializes each parameter with the initializer of the first regex pattern that matches
    its name (``re.match``)."""

    def __init__(self, patterns, initializers):
        if len(patterns) != len(initializers):
            raise ValueError("Mixed: %d patterns but %d initializers"
                             % (len(patterns), len(initializers)))
        self.map = list(zip([re.compile(p) for p in patterns],
                            [create(i) for i in initializers]))
        super().__init__()

    def _init_weight(self, name, arr):
        self(name, arr)

    def __call__(self, name, arr):
        for prog, init in self.map:
            if prog.match(name):
                init(name, arr)
                return
        raise ValueError("Parameter name %s did not match any pattern. Consider adding a \".*\" "
                         "pattern at the end with a default Initializer." % name)


@register
@_alias("zeros")
class Zero(Initializer):
    """Fills with 0."""

    def __init__(self):
        super().__init__()

    def _init_weight(self, _, arr):
        _fill(arr, 0.0)


@register
@_alias("ones")
class One(Initializer):
    """Fills with 1."""

    def __init__(self):
        super().__init__()

    def _init_weight(self, _, arr):
        _fill(arr, 1.0)


@register
class Constant(Initializer):
    """Fills with a scalar, or copies an NDArray / array-like of the parameter's shape."""

    def __init__(self, value):
        super().__init__(value=value.tolist() if isinstance(value, (NDArray, np.ndarray))
                         else value)
        self.value = value

    def _init_weight(self, name, arr):
        v = self.value
        if isinstance(v, (NDArray, np.ndarray, list, tuple)):
            src = v if isinstance(v, NDArray) else _nd.array(np.asarray(v), ctx=arr.context)
            if src.size != arr.size and src.shape != arr.shape:
                raise ValueError("Constant initializer for %s: value of shape %s does not fit "
                                 "the parameter shape %s" % (name, src.shape, arr.shape))
            if src.shape != arr.shape:
                src = src.reshape(arr.shape)
            src.copyto(arr)
        else:
            _fill(arr, float(v))


@register
class Uniform(Initializer):
    """Draws from U(-scale, scale)."""

    def __init__(self, scale=0.07):
        super().__init__(scale=scale)
        self.scale = scale

    def _init_weight(self, _, arr):
        _draw("uniform", arr, low=-self.scale, high=self.scale)


@register
class Normal(Initializer):
    """Draws from N(0, sigma^2)."""

    def __init__(self, sigma=0.01):
        super().__init__(sigma=sigma)
        self.sigma = sigma

    def _init_weight(self, _, arr):
        _draw("normal", arr, loc=0.0, scale=self.sigma)


@register
class Orthogonal(Initializer):
    """Orthogonal matrix initialization (Saxe et al.): the (nout, prod(rest)) view of the
    weight gets orthonormal rows (nout <= nin) or columns (nout > nin), times ``scale``; the
    random matrix is drawn from U(-1, 1) (``rand_type='uniform'``) or N(0, 1) ('normal').

    The orthonormalization is a Gram-Schmidt pass (repeated once for stability) written with
    ``dot``/``norm`` operators, one row at a time."""

    def __init__(self, scale=1.414, rand_type="uniform"):
        super().__init__(scale=scale, rand_type=rand_type)
        if rand_type not in ("uniform", "normal"):
            raise ValueError("Orthogonal: rand_type must be 'uniform' or 'normal', got %r"
                             % (rand_type,))
        self.scale = scale
        self.rand_type = rand_type

    def _init_weight(self, name, arr):
        if arr.ndim < 1:
            raise ValueError("Orthogonal initializer cannot be applied to scalar %s" % name)
        nout = arr.shape[0]
        nin = 1
        for d in arr.shape[1:]:
            nin *= d
        ctx = arr.context
        if self.rand_type == "uniform":
            tmp = _nd.random.uniform(-1.0, 1.0, shape=(nout, nin), ctx=ctx, dtype="float64")
        else:
            tmp = _nd.random.normal(0.0, 1.0, shape=(nout, nin), ctx=ctx, dtype="float64")
        rows = tmp if nout <= nin else _nd.transpose(tmp)
        k = rows.shape[0]
        q = _nd.zeros(rows.shape, ctx=ctx, dtype="float64")
        for i in range(k):
            r = rows[i]
            if i:
                prev = q[:i]
                for _ in range(2):
                    r = r - _nd.dot(_nd.dot(prev, r), prev)
            n = float(_nd.norm(r).asscalar())
            if n < 1e-12:
                raise ValueError("Orthogonal initializer for %s: the random matrix is rank "
                                 "deficient; draw again" % name)
            q[i] = r / n
        res = q if nout <= nin else _nd.transpose(q)
        (res * self.scale).reshape(arr.shape).copyto(arr)


@register
class Xavier(Initializer):
    """Xavier/Glorot initialization: scale = sqrt(magnitude / factor) with factor the fan-in
    ('in'), fan-out ('out') or their mean ('avg'); draws from U(-scale, scale) ('uniform') or
    N(0, scale^2) ('gaussian')."""

    def __init__(self, rnd_type="uniform", factor_type="avg", magnitude=3):
        super().__init__(rnd_type=rnd_type, factor_type=factor_type, magnitude=magnitude)
        if rnd_type not in ("uniform", "gaussian"):
            raise ValueError("Xavier: unknown rnd_type %r (uniform or gaussian)" % (rnd_type,))
        if factor_type not in ("avg", "in", "out"):
            raise ValueError("Xavier: unknown factor_type %r (avg, in or out)" % (factor_type,))
        self.rnd_type = rnd_type
        self.factor_type = factor_type
        self.magnitude = float(magnitude)

    def _init_weight(self, name, arr):
        shape = arr.shape
        if len(shape) < 2:
            raise ValueError("Xavier initializer cannot be applied to vector %s. It requires at "
                             "least 2D." % name)
        hw_scale = 1.0
        for d in shape[2:]:
            hw_scale *= d
        fan_in, fan_out = shape[1] * hw_scale, shape[0] * hw_scale
        factor = {"avg": (fan_in + fan_out) / 2.0, "in": fan_in, "out": fan_out}[self.factor_type]
        scale = math.sqrt(self.magnitude / factor)
        if self.rnd_type == "uniform":
            _draw("uniform", arr, low=-scale, high=scale)
        else:
            _draw("normal", arr, loc=0.0, scale=scale)


@register
class MSRAPrelu(Xavier):
    """He/MSRA initialization for PReLU nets: Xavier('gaussian', factor_type,
    2 / (1 + slope^2))."""

    def __init__(self, factor_type="avg", slope=0.25):
        magnitude = 2.0 / (1 + slope ** 2)
        super().__init__("gaussian", factor_type, magnitude)
        self._kwargs = {"factor_type": factor_type, "slope": slope}


@register
class Bilinear(Initializer):
    """Bilinear upsampling weights (for Deconvolution). Unsupported here: the weights are a
    closed-form table that would have to be computed in Python."""

    def __init__(self):
        super().__init__()

    def _init_weight(self, name, arr):
        raise UnsupportedError("mx.init.Bilinear (for %s) is not supported by this binding"
                               % name)


@register
class LSTMBias(Initializer):
    """Zero bias except the forget gates (second quarter), set to ``forget_bias``."""

    def __init__(self, forget_bias=1.0):
        super().__init__(forget_bias=forget_bias)
        self.forget_bias = forget_bias

    def _init_weight(self, name, arr):
        n = arr.shape[0]
        if arr.ndim != 1 or n % 4:
            raise ValueError("LSTMBias for %s needs a 1-D array whose size is a multiple of 4, "
                             "got shape %s" % (name, arr.shape))
        arr[:] = 0.0
        arr[n // 4:n // 2] = self.forget_bias

    _init_bias = _init_weight
