"""``mx.sym`` / ``mx.symbol``: the Symbol class, variables, groups, JSON files, and one generated
function per registered operator (``mx.sym.FullyConnected``, ``mx.sym.random.uniform``, ...)."""
from . import _internal, contrib, image, linalg, op, random, register
from .symbol import Symbol, FLUENT, attach_fluent

register.populate(op, _internal, {"random": random, "linalg": linalg, "contrib": contrib,
                                  "image": image})
random._finish(_internal, register.make_function, register.op_info, Symbol)
attach_fluent(FLUENT)

from .op import *  # noqa: E402,F401,F403  (generated; the hand-written names below win)
from .symbol import (var, Variable, Group, load, load_json, pow, power,  # noqa: E402,F401
                     maximum, minimum, hypot, eye, zeros, ones, full, arange, linspace)
