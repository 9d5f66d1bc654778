"""``mx.optimizer``: weight-update rules (MXNet 1.x API). Every update is a fused libmx op call
(``sgd_update``, ``adam_update``, ...) that writes the weight in place."""
from .optimizer import (Optimizer, SGD, NAG, Adam, AdamW, RMSProp, AdaGrad, Ftrl, LAMB, Updater,
                        get_updater, register, create)
from . import optimizer
from .. import lr_scheduler  # noqa: F401  (makes mx.lr_scheduler available)

__all__ = ["Optimizer", "SGD", "NAG", "Adam", "AdamW", "RMSProp", "AdaGrad", "Ftrl", "LAMB",
           "Updater", "get_updater", "register", "create"]
