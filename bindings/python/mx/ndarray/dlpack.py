"""DLPack exchange: ``NDArray.__dlpack__`` / ``__dlpack_device__`` and ``mx.nd.from_dlpack``.

Capsules follow the Python array API: "dltensor_versioned" (DLPack >= 1.0) when the consumer
passes ``max_version >= (1, 0)``, else the legacy "dltensor". A consumed capsule is renamed
"used_..." so it cannot be imported twice; an unconsumed one releases its tensor when collected.
"""
from ..base import InvalidArgumentError, check_call, ffi, last_error, lib
from ..context import cpu
from ._call import wrap_handle

__all__ = ["from_dlpack", "to_dlpack_for_read", "to_dlpack_for_write"]

# DLDeviceType of each MX device type (cpu, gpu, cpu_pinned).
_DL_DEVICE = {1: 1, 2: 2, 3: 3}
_KDLCPU = 1


def dlpack_device(arr):
    ctx = arr.context
    return (_DL_DEVICE[ctx.device_typeid], ctx.device_id if ctx.device_typeid == 2 else 0)


def _capsule(arr, versioned, copied):
    h = arr._live()
    if versioned:
        out = ffi.new("struct DLManagedTensorVersioned**")
        check_call(lib.mx_ndarray_to_dlpack(h, out))
        if copied:
            lib.mxpy_dlpack_set_copied(out[0])
    else:
        out = ffi.new("struct DLManagedTensor**")
        check_call(lib.mx_ndarray_to_dlpack_legacy(h, out))
    tensor = out[0]
    holder = []
    rc = lib.mxpy_capsule_new(ffi.cast("void*", id(holder)), tensor, 1 if versioned else 0)
    if rc == -1:
        lib.mxpy_dlpack_delete(tensor, 1 if versioned else 0)
    if rc != 0:
        raise MemoryError("could not create a DLPack capsule")
    return holder[0]


def export_capsule(arr, stream=None, max_version=None, dl_device=None, copy=None):
    """The capsule behind ``NDArray.__dlpack__`` (see the array API standard)."""
    src = arr
    copied = False
    my_device = dlpack_device(arr)
    if stream is not None and my_device[0] == _KDLCPU:
        raise BufferError("stream must be None for an array on the CPU, got %r" % (stream,))
    if dl_device is not None:
        want = (int(dl_device[0]), int(dl_device[1]))
        if want != my_device:
            if copy is False:
                raise BufferError("exporting to device %s from %s needs a copy but copy=False"
                                  % (want, my_device))
            if want[0] != _KDLCPU:
                raise BufferError("cannot export an NDArray on %s to DLPack device %s"
                                  % (arr.context, want))
            src = arr.copyto(cpu())
            copied = True
    if copy is True and not copied:
        src = arr.copy()
        copied = True
    versioned = max_version is not None and int(tuple(max_version)[0]) >= 1
    return _capsule(src, versioned, copied)


def to_dlpack_for_read(data):
    """A legacy DLPack capsule of ``data`` (MXNet 1.x)."""
    return data.to_dlpack_for_read()


def to_dlpack_for_write(data):
    """A legacy DLPack capsule of ``data`` to be written by the consumer (MXNet 1.x)."""
    return data.to_dlpack_for_write()


def from_dlpack(obj):
    """An NDArray sharing the memory of a DLPack producer: any object with ``__dlpack__``
    (numpy, PyTorch, ...) or a DLPack capsule. Compact C-order tensors only."""
    if hasattr(obj, "__dlpack__"):
        try:
            cap = obj.__dlpack__(max_version=(1, 0))
        except TypeError:  # a producer older than the DLPack 1.0 protocol
            cap = obj.__dlpack__()
    else:
        cap = obj
    ref = ffi.cast("void*", id(cap))
    versioned = ffi.new("int*")
    tensor = lib.mxpy_capsule_take(ref, versioned)
    if tensor == ffi.NULL:
        if lib.mxpy_capsule_is_used(ref):
            raise InvalidArgumentError("this DLPack capsule was already consumed; a capsule can "
                                       "be imported only once")
        raise TypeError("from_dlpack expects an object with __dlpack__ or a DLPack capsule, got %s"
                        % type(obj).__name__)
    out = ffi.new("mx_ndarray**")
    if versioned[0]:
        rc = lib.mx_ndarray_from_dlpack(ffi.cast("struct DLManagedTensorVersioned*", tensor), out)
    else:
        rc = lib.mx_ndarray_from_dlpack_legacy(ffi.cast("struct DLManagedTensor*", tensor), out)
    if rc:
        err = last_error(rc)
        lib.mxpy_dlpack_delete(tensor, versioned[0])  # ownership stayed with us
        raise err
    return wrap_handle(out[0])
