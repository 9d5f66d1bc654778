"""dtype names, numpy dtypes and MXNet type flags.

bfloat16 has no numpy dtype: it is shown as ml_dtypes' ``bfloat16`` type when that package is
installed, else as the string ``'bfloat16'``.
"""
import numpy as np

from .base import DTypeError

try:  # optional
    import ml_dtypes as _ml_dtypes
    BFLOAT16 = np.dtype(_ml_dtypes.bfloat16)
except ImportError:  # pragma: no cover - depends on the environment
    _ml_dtypes = None
    BFLOAT16 = "bfloat16"

# MXNet's type flags (include/mx/c_api.h).
FLAG_OF_NAME = {
    "float32": 0, "float64": 1, "float16": 2, "uint8": 3, "int32": 4, "int8": 5, "int64": 6,
    "bool": 7, "bfloat16": 12,
}
NAME_OF_FLAG = {v: k for k, v in FLAG_OF_NAME.items()}
ITEMSIZE_OF_FLAG = {0: 4, 1: 8, 2: 2, 3: 1, 4: 4, 5: 1, 6: 8, 7: 1, 12: 2}
# What NDArray.dtype returns per flag.
DTYPE_OF_FLAG = {f: (np.dtype(n) if n != "bfloat16" else BFLOAT16) for n, f in FLAG_OF_NAME.items()}

_ALIASES = {"float": "float32", "double": "float64", "half": "float16", "bool_": "bool",
            "bf16": "bfloat16"}
_FLAG_CACHE = {}


def dtype_name(dtype):
    """Canonical name ("float32", ..., "bfloat16") of a dtype given as a name, a numpy dtype or
    scalar type, or ml_dtypes' bfloat16. Raises DTypeError for anything MX does not have."""
    try:
        return _FLAG_CACHE[dtype][0]
    except (KeyError, TypeError):
        pass
    name = _resolve(dtype)
    try:
        _FLAG_CACHE[dtype] = (name, FLAG_OF_NAME[name])
    except TypeError:  # unhashable
        pass
    return name


def dtype_flag(dtype):
    """MXNet type flag of a dtype (see dtype_name)."""
    try:
        return _FLAG_CACHE[dtype][1]
    except (KeyError, TypeError):
        return FLAG_OF_NAME[dtype_name(dtype)]


def _resolve(dtype):
    if dtype is None:
        raise DTypeError("dtype is None")
    if isinstance(dtype, str):
        name = _ALIASES.get(dtype, dtype)
        if name in FLAG_OF_NAME:
            return name
        try:
            name = np.dtype(dtype).name
        except TypeError:
            raise DTypeError("unknown dtype %r: MX has %s" % (dtype, ", ".join(FLAG_OF_NAME))) from None
    else:
        if _ml_dtypes is not None and (dtype is _ml_dtypes.bfloat16 or dtype == BFLOAT16):
            return "bfloat16"
        try:
            name = np.dtype(dtype).name
        except TypeError:
            raise DTypeError("unknown dtype %r: MX has %s" % (dtype, ", ".join(FLAG_OF_NAME))) from None
    if name not in FLAG_OF_NAME:
        raise DTypeError("dtype %s is not supported by MX (supported: %s)"
                         % (name, ", ".join(FLAG_OF_NAME)))
    return name


def numpy_dtype(flag):
    """The numpy dtype holding a flag's values on the host (bfloat16 without ml_dtypes: None)."""
    d = DTYPE_OF_FLAG[flag]
    return d if not isinstance(d, str) else None
