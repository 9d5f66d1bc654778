"""``mx.gluon``: MXNet 1.x's high-level interface (Blocks, Parameters, layers, losses,
Trainer, data loading), a thin Python layer whose array computations are libmx operators."""
import importlib as _importlib
import importlib.util as _ilu
import warnings as _warnings

from .parameter import Parameter, Constant, ParameterDict, DeferredInitializationError
from .block import Block, HybridBlock, SymbolBlock
from . import nn
from . import utils


def _optional(name):
    """Imports the submodule ``name`` when it exists; a broken one warns instead of breaking
    ``import mx``."""
    if _ilu.find_spec(__name__ + "." + name) is None:
        return None
    try:
        return _importlib.import_module(__name__ + "." + name)
    except ImportError as e:  # pragma: no cover - a part under construction
        _warnings.warn("mx.gluon.%s could not be imported: %s" % (name, e), ImportWarning)
        return None


# Parts written separately join when present.
for _name in ("loss", "data", "rnn", "model_zoo", "contrib"):
    _m = _optional(_name)
    if _m is not None:
        globals()[_name] = _m
_m = _optional("trainer")
if _m is not None:
    Trainer = _m.Trainer
del _name, _m
