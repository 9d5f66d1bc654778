"""``mx.gluon``: MXNet 1.x's high-level interface (Blocks, Parameters, layers, losses,
Trainer, data loading), a thin Python layer whose array computations are libmx operators."""
import importlib as _importlib
import importlib.util as _ilu

from .parameter import Parameter, Constant, ParameterDict, DeferredInitializationError
from .block import Block, HybridBlock, SymbolBlock
from . import nn
from . import utils
from . import loss
from . import data
from .trainer import Trainer

# Parts that join as they land (rnn, model_zoo, contrib): imported when present, and an error in
# one of them is an error of ``import mx``.
for _name in ("rnn", "model_zoo", "contrib"):
    if _ilu.find_spec(__name__ + "." + _name) is not None:
        globals()[_name] = _importlib.import_module(__name__ + "." + _name)
del _name
