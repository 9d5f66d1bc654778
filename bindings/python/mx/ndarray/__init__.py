"""``mx.nd``: the NDArray class, creation and file functions, and one generated function per
registered operator (``mx.nd.broadcast_add``, ``mx.nd.random.uniform``, ...)."""
from . import _internal, contrib, image, linalg, op, random, register
from .ndarray import FLUENT_METHODS, NDArray

register.populate(op, _internal, {"random": random, "linalg": linalg, "contrib": contrib,
                                  "image": image})
random._finish(_internal, register.make_function, register.op_info)
register.attach_fluent(NDArray, op, FLUENT_METHODS)

from .op import *  # noqa: E402,F401,F403  (generated; the hand-written names below win)
from .dlpack import from_dlpack, to_dlpack_for_read, to_dlpack_for_write  # noqa: E402
from .utils import *  # noqa: E402,F401,F403
from .utils import (array, empty, zeros, ones, full, arange, linspace, eye,  # noqa: E402,F401
                    from_numpy, waitall, save, load, save_to_bytes, load_from_bytes,
                    load_frombuffer, invoke, concatenate)
