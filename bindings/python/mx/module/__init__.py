"""``mx.mod``: the Module API of MXNet 1.x (a Symbol bound with its parameters, trained by an
optimizer through ``fit`` or step by step: ``forward``/``backward``/``update``)."""
from .base_module import BaseModule, ModuleStateError
from .module import Module

__all__ = ["BaseModule", "Module", "ModuleStateError"]
