"""Random sampling symbols: ``mx.sym.random.uniform``, ``normal``, ``randint``, ``shuffle``,
``multinomial``, ...

Generated from the registry's ``_random_X`` ops (scalar parameters). Where the registry also has
``_sample_X`` (parameters given per row as arrays), X dispatches to it when its first parameter is
a Symbol, as MXNet does. ``shuffle`` and ``multinomial`` are the ``_shuffle`` and
``_sample_multinomial`` ops.
"""
import functools
import inspect
import sys

__all__ = []


def _finish(internal_mod, make_function, op_info, symbol_cls):
    """Adds the dispatchers and renamed ops once the generated functions exist."""
    g = globals()
    for name in list(__all__):
        sample = getattr(internal_mod, "_sample_" + name, None)
        if sample is not None:
            g[name] = _dispatcher(g[name], sample, symbol_cls)
    for short, op in (("shuffle", "_shuffle"), ("multinomial", "_sample_multinomial")):
        if short not in g and hasattr(internal_mod, op):
            g[short] = make_function(op_info(op), short, sys.modules[__name__])
            __all__.append(short)


def _dispatcher(scalar_fn, array_fn, symbol_cls):
    sig = inspect.signature(scalar_fn)
    names = list(sig.parameters)

    @functools.wraps(scalar_fn)
    def fn(*args, **kwargs):
        first = args[0] if args else kwargs.get(names[0])
        if isinstance(first, symbol_cls):
            bound = sig.bind(*args, **kwargs)
            params = dict(bound.arguments)
            params.pop("ctx", None)
            arrays = [params.pop(n) for n in names if isinstance(params.get(n), symbol_cls)]
            params.update(params.pop("kwargs", {}))
            return array_fn(*arrays, **params)
        return scalar_fn(*args, **kwargs)

    fn.__doc__ = (scalar_fn.__doc__ or "") + (
        "\n\nWhen the distribution parameters are Symbols, samples per element with %s."
        % array_fn.__name__)
    return fn
