"""The C ABI handle (``ffi``, ``lib``), error classes and the one error choke point.

Every call into libmx that can fail goes through :func:`check_call`, which turns the status code
into the matching :class:`MXNetError` subclass carrying ``mx_last_error()``'s message.
"""
import atexit
import numbers

import numpy as np

from ._api import ffi, lib

__all__ = [
    "MXNetError", "InvalidArgumentError", "ShapeError", "DTypeError", "NotFoundError",
    "MXIOError", "OutOfMemoryError", "UnsupportedError", "InternalError", "MXIndexError",
    "HandleError", "check_call", "last_error", "ffi", "lib", "numeric_types", "integer_types",
    "string_types",
]

numeric_types = (numbers.Number, np.generic)
integer_types = (int, np.integer)
string_types = (str,)


class MXNetError(RuntimeError):
    """An error reported by libmx (or a check of the binding with the same meaning).

    ``status`` is the C ABI status code (MX_ERR_*)."""

    status = lib.MX_ERR_INTERNAL

    def __str__(self):
        # KeyError would otherwise show repr(message).
        return str(self.args[0]) if len(self.args) == 1 else super().__str__()


class InvalidArgumentError(MXNetError, ValueError):
    """A parameter value or argument is wrong."""
    status = lib.MX_ERR_INVALID_ARGUMENT


class ShapeError(MXNetError, ValueError):
    """Shapes do not agree."""
    status = lib.MX_ERR_SHAPE


class DTypeError(MXNetError, TypeError):
    """A dtype is wrong or unsupported for the operation."""
    status = lib.MX_ERR_DTYPE


class NotFoundError(MXNetError, KeyError):
    """Unknown operator, key or file."""
    status = lib.MX_ERR_NOT_FOUND


class MXIOError(MXNetError, OSError):
    """Reading or writing a file or buffer failed, or its contents are corrupt."""
    status = lib.MX_ERR_IO


class OutOfMemoryError(MXNetError, MemoryError):
    """An allocation failed."""
    status = lib.MX_ERR_OUT_OF_MEMORY


class UnsupportedError(MXNetError, NotImplementedError):
    """A feature this build or this version does not have (e.g. CUDA in a CPU build)."""
    status = lib.MX_ERR_UNSUPPORTED


class InternalError(MXNetError):
    """A bug in MX."""
    status = lib.MX_ERR_INTERNAL


class MXIndexError(MXNetError, IndexError):
    """An index is out of range."""
    status = lib.MX_ERR_INDEX


class HandleError(MXNetError, ValueError):
    """A NULL, freed or foreign handle (e.g. an NDArray used after ``free()``)."""
    status = lib.MX_ERR_HANDLE


_STATUS_TO_CLASS = {
    cls.status: cls
    for cls in (InvalidArgumentError, ShapeError, DTypeError, NotFoundError, MXIOError,
                OutOfMemoryError, UnsupportedError, InternalError, MXIndexError, HandleError)
}


def last_error(status=None):
    """The exception for the last failed call on this thread (not raised)."""
    if status is None:
        status = lib.mx_last_status()
    msg = ffi.string(lib.mx_last_error()).decode("utf-8", "replace")
    cls = _STATUS_TO_CLASS.get(status, MXNetError)
    err = cls(msg or "libmx call failed with status %d" % status)
    err.status = status
    return err


def check_call(status):
    """Raises the MXNetError subclass of a non-zero libmx status."""
    if status:
        raise last_error(status)


def lib_info(key):
    """Build/runtime facts of libmx by key ("version", "cuda", "blas", "engine", ...)."""
    out = ffi.new("const char**")
    check_call(lib.mx_lib_info(key.encode(), out))
    return ffi.string(out[0]).decode()


def c_str(s):
    return s.encode("utf-8") if isinstance(s, str) else s


# Deleters running after interpreter teardown started must not touch Python objects.
atexit.register(lib.mxpy_mark_exiting)

__version__ = lib_info("version")
