"""``mx.random``: seeding and sampling (MXNet 1.x API), delegating to ``mx.nd.random``."""
import numbers

from .base import UnsupportedError, check_call, lib
from .context import Context, num_gpus
from .ndarray import random as _ndr

__all__ = ["seed", "uniform", "normal", "randn", "randint", "shuffle", "multinomial"]


def seed(seed_state, ctx="all"):
    """Seeds the random generators so later sampling is reproducible.

    The generators are counter-based: results depend on the seed and the order of sampling
    calls, not on threads. ``ctx='all'`` (default) seeds every device. A single device may be
    named when that is the only device the build has (the CPU of a build without GPUs), since
    seeding all is then the same thing."""
    if not isinstance(seed_state, numbers.Integral) or isinstance(seed_state, bool):
        raise ValueError("seed_state must be an integer, got %r" % (seed_state,))
    if ctx != "all":
        if not isinstance(ctx, Context):
            raise ValueError("ctx must be 'all' or a Context, got %r" % (ctx,))
        if ctx.device_typeid == 2 or num_gpus() > 0:
            raise UnsupportedError(
                "seeding one device (%s) is not supported: libmx seeds every device at once; "
                "use mx.random.seed(seed_state) (ctx='all')" % ctx)
    check_call(lib.mx_random_seed(int(seed_state) & 0xFFFFFFFFFFFFFFFF))


def _delegate(name):
    def fn(*args, **kwargs):
        f = getattr(_ndr, name, None)
        if f is None:
            raise UnsupportedError("mx.random.%s: the operator is not registered in this libmx"
                                   % name)
        return f(*args, **kwargs)
    target = getattr(_ndr, name, None)
    if target is not None:
        import functools
        fn = functools.wraps(target)(fn)
    fn.__name__ = name
    fn.__qualname__ = name
    fn.__module__ = __name__
    return fn


uniform = _delegate("uniform")
normal = _delegate("normal")
randn = _delegate("randn")
randint = _delegate("randint")
shuffle = _delegate("shuffle")
multinomial = _delegate("multinomial")
