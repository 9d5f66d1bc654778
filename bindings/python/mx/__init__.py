"""MX: a deep-learning framework in the spirit of Apache MXNet 1.x.

``import mx`` gives ``mx.nd`` (NDArray and one function per registered operator), ``mx.cpu()``,
``mx.gpu(i)``, ``mx.context``, ``mx.random`` and ``mx.MXNetError``. The binding is thin: every
computation is an operator call into libmx through its C ABI.
"""
import importlib as _importlib
import importlib.util as _ilu

from . import base
from .base import MXNetError, __version__
from . import context
from .context import Context, cpu, gpu, cpu_pinned, current_context, num_gpus
from . import ndarray
from . import ndarray as nd
from . import random
from . import attribute, executor, name  # the Symbol API's naming, attribute scopes, Executor
from .attribute import AttrScope

# Later subpackages (symbol, autograd, gluon, ...) join the namespace as they land.
for _name, _alias in (("symbol", "sym"), ("autograd", None), ("initializer", "init"),
                      ("optimizer", None), ("lr_scheduler", None), ("metric", None), ("io", None), ("kvstore", "kv"),
                      ("gluon", None), ("profiler", None), ("test_utils", None), ("model", None),
                      ("callback", None), ("module", "mod")):
    if _ilu.find_spec(__name__ + "." + _name) is not None:
        _mod = _importlib.import_module(__name__ + "." + _name)
        globals()[_name] = _mod
        if _alias:
            globals()[_alias] = _mod
del _name, _alias

__all__ = ["nd", "ndarray", "cpu", "gpu", "cpu_pinned", "Context", "context", "current_context",
           "num_gpus", "random", "MXNetError", "base", "__version__"]
