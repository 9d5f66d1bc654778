"""pytest setup: import the in-tree package (bindings/python) only when ``mx`` is not installed."""
import importlib.util
import os
import sys

_HERE = os.path.dirname(os.path.abspath(__file__))

if importlib.util.find_spec("mx") is None:
    sys.path.insert(0, os.path.normpath(os.path.join(_HERE, "..", "..", "bindings", "python")))
# Spec modules (specs/, opspec.py) import each other by plain name.
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)
