"""Gluon utilities (MXNet 1.x ``mxnet.gluon.utils``): splitting batches over devices, global
gradient-norm clipping, file checksums."""
import hashlib
import warnings

from .. import ndarray as nd
from ..base import UnsupportedError
from ..ndarray.ndarray import NDArray

__all__ = ["split_data", "split_and_load", "clip_global_norm", "check_sha1", "download",
           "replace_file"]


def split_data(data, num_slice, batch_axis=0, even_split=True):
    """Splits an NDArray into ``num_slice`` slices along ``batch_axis``. With
    ``even_split=False`` the last slice takes the remainder (and a batch smaller than
    ``num_slice`` gives one slice per sample)."""
    if not isinstance(data, NDArray):
        raise TypeError("split_data expects an NDArray, got %r" % (type(data),))
    if num_slice < 1:
        raise ValueError("num_slice must be >= 1, got %d" % num_slice)
    if not -data.ndim <= batch_axis < data.ndim:
        raise ValueError("batch_axis %d is out of range for data of shape %s"
                         % (batch_axis, data.shape))
    batch_axis %= data.ndim
    size = data.shape[batch_axis]
    if even_split and size % num_slice != 0:
        raise ValueError(
            "data with shape %s cannot be evenly split into %d slices along axis %d. Use a "
            "batch size that's multiple of %d or set even_split=False to allow uneven "
            "partitioning of data." % (str(data.shape), num_slice, batch_axis, num_slice))
    step = size // num_slice
    if not even_split and size < num_slice:
        step = 1
        num_slice = size
    if num_slice == 1:
        return [data]
    bounds = [(i * step, (i + 1) * step if i < num_slice - 1 else size)
              for i in range(num_slice)]
    if batch_axis == 0:
        return [data[b:e] for b, e in bounds]
    if even_split:
        out = nd.split(data, num_outputs=num_slice, axis=batch_axis)
        return list(out) if isinstance(out, (list, tuple)) else [out]
    return [nd.slice_axis(data, axis=batch_axis, begin=b, end=e) for b, e in bounds]


def split_and_load(data, ctx_list, batch_axis=0, even_split=True):
    """Splits data along ``batch_axis`` and copies slice i to ``ctx_list[i]``."""
    if not isinstance(data, NDArray):
        data = nd.array(data, ctx=ctx_list[0])
    if len(ctx_list) == 1:
        return [data.as_in_context(ctx_list[0])]
    slices = split_data(data, len(ctx_list), batch_axis, even_split)
    return [s.as_in_context(c) for s, c in zip(slices, ctx_list)]


def clip_global_norm(arrays, max_norm, check_isfinite=True):
    """Rescales the arrays in place so that the 2-norm of their concatenation is at most
    ``max_norm``; returns that norm before clipping (a float when ``check_isfinite``, else a
    1-element NDArray). The norm is computed by the ``multi_sum_sq`` operator."""
    if not arrays:
        raise ValueError("clip_global_norm needs at least one array")
    ctx = arrays[0].context
    groups = {}
    for a in arrays:
        groups.setdefault((a.context.device_typeid, a.context.device_id), []).append(a)
    partial = []
    for group in groups.values():
        sq = nd.multi_sum_sq(*group, num_arrays=len(group))
        partial.append(nd.sum(sq).as_in_context(ctx).reshape((1,)))
    total = partial[0]
    for p in partial[1:]:
        total = total + p
    total_norm = nd.sqrt(total)
    if check_isfinite:
        value = float(total_norm.asscalar())
        if value != value or value in (float("inf"), float("-inf")):
            warnings.warn(UserWarning("nan or inf is detected. Clipping results will be "
                                      "undefined."), stacklevel=2)
    scale = float(max_norm) / (total_norm + 1e-8)
    scale = nd.minimum(scale, nd.ones((1,), ctx=ctx, dtype=scale.dtype))
    for a in arrays:
        s = scale.as_in_context(a.context)
        if s.dtype != a.dtype:
            s = s.astype(a.dtype)
        a *= s
    if check_isfinite:
        return value
    return total_norm


def check_sha1(filename, sha1_hash):
    """True when the file's SHA-1 hex digest equals ``sha1_hash``."""
    sha1 = hashlib.sha1()
    with open(filename, "rb") as f:
        while True:
            data = f.read(1048576)
            if not data:
                break
            sha1.update(data)
    return sha1.hexdigest() == sha1_hash


def replace_file(src, dst):
    """Atomically replaces dst by src."""
    import os
    os.replace(src, dst)


def download(url, path=None, overwrite=False, sha1_hash=None, retries=5, verify_ssl=True):
    """Not supported: this binding does no network access."""
    raise UnsupportedError("mx.gluon.utils.download(%r) is not supported: MX does no network "
                           "access; fetch the file yourself" % (url,))


def _indent(s_, num_spaces):
    """Indents every line but the first by num_spaces."""
    s = s_.split("\n")
    if len(s) == 1:
        return s_
    first = s.pop(0)
    s = [(num_spaces * " ") + line for line in s]
    return first + "\n" + "\n".join(s)


def _brief_print_list(lst, limit=7):
    """'a', 'b', ..., 'z' for long lists."""
    lst = list(lst)
    if len(lst) > limit:
        return _brief_print_list(lst[:limit // 2], limit) + ", ..., " + \
            _brief_print_list(lst[-limit // 2:], limit)
    return ", ".join(["'%s'" % str(i) for i in lst])
