"""Random sampling: ``mx.nd.random.uniform``, ``normal``, ``randint``, ``shuffle``,
``multinomial``, ...

The functions are generated from the registry's ``_random_X`` ops (scalar parameters). Where the
registry also has ``_sample_X`` (parameters given per row as NDArrays), X dispatches to it when its
first parameter is an NDArray, as MXNet does. ``shuffle`` and ``multinomial`` are the
``_shuffle`` and ``_sample_multinomial`` ops.
"""
import functools
import inspect

from ..context import current_context
from .ndarray import NDArray

__all__ = []

# Names register.py must leave alone.
_HAND_WRITTEN = ("randn",)


def _finish(internal_mod, make_function, op_info):
    """Adds the dispatchers and renamed ops once the generated functions exist."""
    g = globals()
    for name in list(__all__):
        sample = getattr(internal_mod, "_sample_" + name, None)
        if sample is not None:
            g[name] = _dispatcher(g[name], sample)
    for short, op in (("shuffle", "_shuffle"), ("multinomial", "_sample_multinomial")):
        if short not in g and hasattr(internal_mod, op):
            g[short] = make_function(op_info(op), short, _this_module())
            __all__.append(short)
    if "normal" in g:
        __all__.append("randn")


def _this_module():
    import sys
    return sys.modules[__name__]


def _dispatcher(scalar_fn, array_fn):
    sig = inspect.signature(scalar_fn)
    names = list(sig.parameters)

    @functools.wraps(scalar_fn)
    def fn(*args, **kwargs):
        first = args[0] if args else kwargs.get(names[0])
        if isinstance(first, NDArray):
            bound = sig.bind(*args, **kwargs)
            params = dict(bound.arguments)
            params.pop("ctx", None)
            arrays = [params.pop(n) for n in names if isinstance(params.get(n), NDArray)]
            extra = params.pop("kwargs", {})
            params.update(extra)
            return array_fn(*arrays, **params)
        return scalar_fn(*args, **kwargs)

    fn.__doc__ = (scalar_fn.__doc__ or "") + (
        "\n\nWhen the distribution parameters are NDArrays, samples per element with %s."
        % array_fn.__name__)
    return fn


def randn(*shape, loc=0.0, scale=1.0, dtype=None, ctx=None, out=None):
    """Samples of a normal distribution with the given shape: ``randn(2, 3)``."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    return globals()["normal"](loc=loc, scale=scale, shape=shape, dtype=dtype,
                               ctx=ctx if ctx is not None else current_context(), out=out)
