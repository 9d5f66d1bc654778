"""Devices: ``mx.cpu()``, ``mx.gpu(i)``, ``mx.cpu_pinned()`` and the default-context stack."""
import threading

from .base import check_call, ffi, lib, UnsupportedError

__all__ = ["Context", "cpu", "gpu", "cpu_pinned", "current_context", "num_gpus"]


class Context:
    """A device where arrays live and operators run, as in MXNet.

    ``Context('cpu', 0)``, ``Context('gpu', 1)`` or ``Context(other_context)``. Used as a
    ``with`` block it becomes the default device of array creation inside the block.
    """

    __slots__ = ("device_typeid", "device_id")
    devtype2str = {1: "cpu", 2: "gpu", 3: "cpu_pinned"}
    devstr2type = {"cpu": 1, "gpu": 2, "cpu_pinned": 3}
    _tls = threading.local()

    def __init__(self, device_type, device_id=0):
        if isinstance(device_type, Context):
            self.device_typeid = device_type.device_typeid
            self.device_id = device_type.device_id
        else:
            if device_type not in self.devstr2type:
                raise ValueError("unknown device type %r: expected one of %s"
                                 % (device_type, ", ".join(sorted(self.devstr2type))))
            self.device_typeid = self.devstr2type[device_type]
            self.device_id = int(device_id)

    @property
    def device_type(self):
        """'cpu', 'gpu' or 'cpu_pinned'."""
        return self.devtype2str[self.device_typeid]

    def __hash__(self):
        return hash((self.device_typeid, self.device_id))

    def __eq__(self, other):
        return (isinstance(other, Context) and self.device_typeid == other.device_typeid
                and self.device_id == other.device_id)

    def __ne__(self, other):
        return not self.__eq__(other)

    def __str__(self):
        return "%s(%d)" % (self.device_type, self.device_id)

    __repr__ = __str__

    def __enter__(self):
        stack = _stack()
        stack.append(self)
        return self

    def __exit__(self, *exc):
        _stack().pop()

    def empty_cache(self):
        """Returns this device's cached, unused memory blocks to the system."""
        check_call(lib.mx_storage_release_cached(self.device_typeid, self.device_id))

    def memory_stats(self):
        """(bytes in use by arrays, bytes held idle in the pool) of this device."""
        in_use = ffi.new("size_t*")
        cached = ffi.new("size_t*")
        check_call(lib.mx_storage_stats(self.device_typeid, self.device_id, in_use, cached))
        return int(in_use[0]), int(cached[0])


_DEFAULT = Context("cpu", 0)


def _stack():
    tls = Context._tls
    try:
        return tls.stack
    except AttributeError:
        tls.stack = []
        return tls.stack


def current_context():
    """The innermost ``with`` context of this thread, else cpu(0)."""
    stack = _stack()
    return stack[-1] if stack else _DEFAULT


def cpu(device_id=0):
    """CPU context. The id is accepted for MXNet compatibility; all CPUs are one device."""
    return Context("cpu", device_id)


def gpu(device_id=0):
    """GPU context. Creating it always works; using it in a build without CUDA raises
    ``mx.base.UnsupportedError`` ("built without CUDA")."""
    return Context("gpu", device_id)


def cpu_pinned(device_id=0):
    """Page-locked host memory context."""
    return Context("cpu_pinned", device_id)


def num_gpus():
    """Number of GPUs this build can use (0 without CUDA)."""
    n = ffi.new("int*")
    check_call(lib.mx_gpu_count(n))
    return int(n[0])


def gpu_memory_info(device_id=0):
    """(in-use bytes, cached bytes) of a GPU's memory pool."""
    if num_gpus() == 0:
        raise UnsupportedError("gpu_memory_info: no GPU is available (this build of MX has %s)"
                               % ("CUDA" if _cuda_built() else "no CUDA: built without CUDA"))
    return gpu(device_id).memory_stats()


def _cuda_built():
    from .base import lib_info
    return lib_info("cuda") == "1"
