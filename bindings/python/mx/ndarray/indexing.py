"""``NDArray.__getitem__`` / ``__setitem__`` with numpy semantics.

The index expression is parsed here, in Python (integers, slices with steps, Ellipsis, None,
integer arrays/lists/NDArrays, boolean masks); the data is moved by libmx:

* leading integers and a leading step-1 slice are zero-copy views (mx_ndarray_at /
  mx_ndarray_slice), None adds axes through a reshape view;
* other basic indexing runs the ``slice`` op; one integer array runs ``take``; several index
  arrays (or arrays mixed with integers) run ``gather_nd`` over an index grid;
* assignment runs ``_slice_assign`` / ``_slice_assign_scalar`` / ``_full`` / ``copyto`` for
  basic indices and ``_scatter_set_nd`` for advanced ones.

Index arrays (user input, not data) are checked and broadcast on the host, so an out-of-range
index raises IndexError at once, as in numpy.
"""
import numpy as np

from .. import _dtype
from ..base import MXIndexError, MXNetError, check_call, lib
from ._call import invoke_ps, param_str, params_for
from .ndarray import NDArray, _SCALARS, _at, _reshape_view, _scalar_text, _slice_view

_INT_TYPES = (int, np.integer)


# ---------------------------------------------------------------- parsing
class _Idx:
    """One entry of a parsed key: kind 'int' (value), 'slice' (start, stop, step, length),
    'none', or 'array' (an int64 numpy array, already bounds-checked and non-negative)."""
    __slots__ = ("kind", "value", "from_int")

    def __init__(self, kind, value=None, from_int=False):
        self.kind = kind
        self.value = value
        self.from_int = from_int


def _as_index_array(k):
    """numpy array of an array-like index entry (NDArray indices are read back: an index
    expression is small host data)."""
    if isinstance(k, NDArray):
        a = k.asnumpy()
        if a.dtype.kind == "f":  # MXNet's default float32 index arrays
            a = a.astype(np.int64)
        return a
    a = np.asarray(k)
    if a.dtype == object:
        raise IndexError("only integers, slices (`:`), ellipsis (`...`), None and integer or "
                         "boolean arrays are valid indices")
    if a.size == 0 and a.dtype.kind == "f":
        a = a.astype(np.int64)
    return a


def _parse(key, shape):
    """Parsed entries of key over an array of this shape (Ellipsis expanded; axes not named
    by the key are left out: they are full slices)."""
    if not isinstance(key, tuple):
        key = (key,)
    raw = []
    n_ellipsis = 0
    consumed = 0
    for k in key:
        if k is Ellipsis:
            n_ellipsis += 1
            raw.append(k)
        elif k is None:
            raw.append(k)
        elif isinstance(k, slice):
            raw.append(k)
            consumed += 1
        elif isinstance(k, (bool, np.bool_)):
            raise IndexError("a boolean scalar is not a supported index")
        elif isinstance(k, _INT_TYPES):
            raw.append(int(k))
            consumed += 1
        elif isinstance(k, (NDArray, np.ndarray, list, tuple)):
            a = _as_index_array(k)
            if a.dtype == np.bool_:
                raw.append(a)
                consumed += max(a.ndim, 1)
            elif a.dtype.kind in "iu":
                if a.ndim == 0:
                    raw.append(int(a))
                else:
                    raw.append(a)
                consumed += 1
            else:
                raise IndexError("arrays used as indices must be of integer (or boolean) type, "
                                 "got %s" % a.dtype)
        else:
            raise IndexError("only integers, slices (`:`), ellipsis (`...`), None and integer or "
                             "boolean arrays are valid indices, got %s" % type(k).__name__)
    if n_ellipsis > 1:
        raise IndexError("an index can only have a single ellipsis ('...')")
    ndim = len(shape)
    if consumed > ndim:
        raise MXIndexError("too many indices for array: array is %d-dimensional, but %d were "
                           "indexed" % (ndim, consumed))
    entries = []
    axis = 0
    for k in raw:
        if k is Ellipsis:
            for _ in range(ndim - consumed):
                entries.append(_slice_entry(slice(None), shape[axis]))
                axis += 1
        elif k is None:
            entries.append(_Idx("none"))
        elif isinstance(k, slice):
            entries.append(_slice_entry(k, shape[axis]))
            axis += 1
        elif isinstance(k, int):
            n = shape[axis]
            i = k + n if k < 0 else k
            if not 0 <= i < n:
                raise MXIndexError("index %d is out of bounds for axis %d with size %d"
                                   % (k, axis, n))
            entries.append(_Idx("int", i))
            axis += 1
        elif k.dtype == np.bool_:
            dims = shape[axis:axis + max(k.ndim, 1)]
            if k.ndim == 0 or k.shape != tuple(dims):
                raise MXIndexError("boolean index did not match indexed array along axis %d; "
                                   "array shape is %s but boolean index shape is %s"
                                   % (axis, tuple(dims), k.shape))
            for comp in np.nonzero(k):
                entries.append(_Idx("array", comp.astype(np.int64)))
                axis += 1
        else:
            n = shape[axis]
            a = k.astype(np.int64)
            bad = (a < -n) | (a >= n)
            if bad.any():
                raise MXIndexError("index %d is out of bounds for axis %d with size %d"
                                   % (int(a[bad].flat[0]), axis, n))
            entries.append(_Idx("array", np.where(a < 0, a + n, a)))
            axis += 1
    return entries


def _slice_entry(s, n):
    start, stop, step = s.indices(n)
    return _Idx("slice", (start, stop, step, len(range(start, stop, step))))


def _is_full(e, n):
    start, stop, step, length = e.value
    return step == 1 and start == 0 and length == n


# ---------------------------------------------------------------- get
def getitem(x, key):
    t = type(key)
    if t is int:  # the hot case: a view of row key
        try:
            return _at(x, key)
        except MXNetError:
            if not x.shape:
                raise MXIndexError("too many indices for array: array is 0-dimensional, but 1 "
                                   "was indexed") from None
            raise
    if t is slice and key.step in (None, 1):
        shape = x.shape
        if shape:
            start, stop, _ = key.indices(shape[0])
            return _slice_view(x, start, max(start, stop))
    shape = x.shape
    entries = _parse(key, shape)
    if all(e.kind != "array" for e in entries):
        return _basic_get(x, entries, shape)
    return _advanced_get(x, entries, shape)


def _result_shape(entries, shape):
    out = []
    axis = 0
    for e in entries:
        if e.kind == "none":
            out.append(1)
            continue
        if e.kind == "slice":
            out.append(e.value[3])
        axis += 1
    out.extend(shape[axis:])
    return tuple(out)


def _basic_get(x, entries, shape):
    final = _result_shape(entries, shape)
    axes = [e for e in entries if e.kind != "none"]
    h = x
    k = 0
    # Zero-copy prefix: leading integers, then one step-1 slice.
    while k < len(axes) and axes[k].kind == "int":
        h = _at(h, axes[k].value)
        k += 1
    n_ints = k
    sliced = False
    if k < len(axes) and axes[k].value[2] == 1:
        start, stop, _, length = axes[k].value
        if length != shape[k]:
            h = _slice_view(h, start, start + length)
            sliced = True
        k += 1
    rest = axes[k:]
    if all(e.kind == "slice" and _is_full(e, shape[k + j]) for j, e in enumerate(rest)):
        return _reshape_view(h, final) if h is x or h.shape != final else h
    if 0 in final:
        from .utils import _empty_flag
        return _empty_flag(final, x.context, x._dtype_flag)
    # Strided or inner selections: the slice op over the remaining axes of the view.
    begin, end, step = [], [], []
    for j, e in enumerate(axes[n_ints:]):
        b, en, st = (None, None, 1) if (j == 0 and sliced) else _bounds(e)
        begin.append(b)
        end.append(en)
        step.append(st)
    y = _slice_op(h, begin, end, step)
    return _reshape_view(y, final) if y.shape != final else y


def _bounds(e):
    """(begin, end, step) of an entry for the slice ops (end None: to the end, either way)."""
    if e.kind == "int":
        return e.value, e.value + 1, 1
    start, stop, step, _ = e.value
    if step < 0 and stop < 0:
        stop = None
    return start, stop, step


def _slice_op(h, begin, end, step):
    ps = params_for("slice", (("begin", param_str(tuple(begin))), ("end", param_str(tuple(end))),
                              ("step", param_str(tuple(step)))))
    return invoke_ps(ps, (h,))


def _expand_none(x, entries, shape):
    """Turns None entries into full slices over new size-1 axes (a reshape view)."""
    if not any(e.kind == "none" for e in entries):
        return x, entries, shape
    new_shape = []
    new_entries = []
    axis = 0
    for e in entries:
        if e.kind == "none":
            new_shape.append(1)
            new_entries.append(_Idx("slice", (0, 1, 1, 1)))
        else:
            new_shape.append(shape[axis])
            new_entries.append(e)
            axis += 1
    new_shape.extend(shape[axis:])
    new_shape = tuple(new_shape)
    return _reshape_view(x, new_shape), new_entries, new_shape


def _index_grid(entries, shape):
    """Index arrays of every named axis broadcast to the numpy result layout.
    Returns (grid of shape (m,) + R, R) where m = len(entries)."""
    adv = [i for i, e in enumerate(entries) if e.kind in ("array", "int")]
    arrays = [np.asarray(entries[i].value if entries[i].kind == "array" else entries[i].value,
                         dtype=np.int64) for i in adv]
    try:
        bshape = np.broadcast_shapes(*[a.shape for a in arrays])
    except ValueError:
        raise MXIndexError("shape mismatch: indexing arrays could not be broadcast together "
                           "with shapes %s" % " ".join(str(a.shape) for a in arrays)) from None
    adjacent = adv == list(range(adv[0], adv[-1] + 1))
    basic = [i for i in range(len(entries)) if i not in adv]
    # Result dims: ('b', axis) for a sliced axis, 'B' for the broadcast block.
    layout = []
    if adjacent:
        layout += [("b", i) for i in basic if i < adv[0]]
        layout.append("B")
        layout += [("b", i) for i in basic if i > adv[-1]]
    else:
        layout.append("B")
        layout += [("b", i) for i in basic]
    rshape = []
    for item in layout:
        rshape.extend(bshape if item == "B" else [entries[item[1]].value[3]])
    rshape = tuple(rshape)
    bpos = 0
    for item in layout:
        if item == "B":
            break
        bpos += 1
    grid = np.empty((len(entries),) + rshape, dtype=np.int64)
    for i, e in enumerate(entries):
        if i in adv:
            a = np.broadcast_to(arrays[adv.index(i)], bshape)
            view = a.reshape((1,) * bpos + bshape + (1,) * (len(layout) - bpos - 1))
        else:
            start, stop, step, length = e.value
            pos = layout.index(("b", i))
            dims_before = pos if pos < bpos else pos - 1 + len(bshape)
            view = np.arange(start, start + step * length, step, dtype=np.int64)[:length]
            view = view.reshape((1,) * dims_before + (length,)
                                + (1,) * (len(rshape) - dims_before - 1))
        grid[i] = np.broadcast_to(view, rshape)
    return grid, rshape


def _index_nd(grid, ctx):
    from .utils import array
    return array(grid, ctx=ctx, dtype="int64")


def _advanced_get(x, entries, shape):
    x, entries, shape = _expand_none(x, entries, shape)
    adv = [i for i, e in enumerate(entries) if e.kind in ("array", "int")]
    if len(adv) == 1 and entries[adv[0]].kind == "array":
        # One index array: slice the other axes, then take along its axis.
        p = adv[0]
        idx = entries[p].value
        rest = list(entries)
        rest[p] = _Idx("slice", (0, shape[p], 1, shape[p]))
        y = _basic_get(x, rest, shape)
        out_shape = y.shape[:p] + idx.shape + y.shape[p + 1:]
        if 0 in out_shape:
            from .utils import _empty_flag
            return _empty_flag(out_shape, x.context, x._dtype_flag)
        ps = params_for("take", (("axis", str(p)), ("mode", "clip")))
        return invoke_ps(ps, (y, _index_nd(idx, x.context)))
    grid, rshape = _index_grid(entries, shape)
    out_shape = rshape + tuple(shape[len(entries):])
    if 0 in out_shape:
        from .utils import _empty_flag
        return _empty_flag(out_shape, x.context, x._dtype_flag)
    return invoke_ps(params_for("gather_nd", ()), (x, _index_nd(grid, x.context)))


# ---------------------------------------------------------------- set
def setitem(x, key, value):
    shape = x.shape
    entries = _parse(key, shape)
    if any(e.kind == "array" for e in entries):
        _advanced_set(x, entries, shape, value)
        return
    final = _result_shape(entries, shape)
    axes = [e for e in entries if e.kind != "none"]
    region = tuple([1 if e.kind == "int" else e.value[3] for e in axes]) + tuple(shape[len(axes):])
    if 0 in region:
        _check_broadcastable(value, final)
        return
    whole = all(e.kind == "slice" and _is_full(e, shape[j]) for j, e in enumerate(axes))
    if isinstance(value, _SCALARS):
        if whole:
            ps = params_for("_full", (("ctx", str(x.context)), ("dtype", _dtype.NAME_OF_FLAG[
                x._dtype_flag]), ("shape", param_str(shape)), ("value", _scalar_text(value))))
            invoke_ps(ps, (), out=x)
            return
        begin, end, step = _all_bounds(axes)
        ps = params_for("_slice_assign_scalar", (
            ("begin", param_str(tuple(begin))), ("end", param_str(tuple(end))),
            ("scalar", _scalar_text(value)), ("step", param_str(tuple(step)))))
        invoke_ps(ps, (x,), out=x)
        return
    if whole and isinstance(value, np.ndarray) and value.shape == shape \
            and _dtype.numpy_dtype(x._dtype_flag) is not None:
        x._sync_copyfrom(value)
        return
    v = _prepare_value(x, value, final)
    if whole:
        v = _reshape_view(v, shape) if v.shape != shape else v
        check_call(lib.mx_ndarray_copyto(v._live(), x._live()))
        return
    v = _reshape_view(v, region) if v.shape != region else v
    begin, end, step = _all_bounds(axes)
    ps = params_for("_slice_assign", (("begin", param_str(tuple(begin))),
                                      ("end", param_str(tuple(end))),
                                      ("step", param_str(tuple(step)))))
    invoke_ps(ps, (x, v), out=x)


def _all_bounds(axes):
    begin, end, step = [], [], []
    for e in axes:
        b, en, st = _bounds(e)
        begin.append(b)
        end.append(en)
        step.append(st)
    return begin, end, step


def _advanced_set(x, entries, shape, value):
    x, entries, shape = _expand_none(x, entries, shape)
    grid, rshape = _index_grid(entries, shape)
    vshape = rshape + tuple(shape[len(entries):])
    if 0 in vshape:
        _check_broadcastable(value, vshape)
        return
    if isinstance(value, _SCALARS):
        from .utils import full
        v = full(vshape, value, ctx=x.context, dtype=_dtype.NAME_OF_FLAG[x._dtype_flag])
    else:
        v = _prepare_value(x, value, vshape)
    ps = params_for("_scatter_set_nd", (("shape", param_str(shape)),))
    invoke_ps(ps, (x, v, _index_nd(grid, x.context)), out=x)


def _value_shape(value):
    if isinstance(value, NDArray):
        return value.shape
    return np.shape(value)


def _check_broadcastable(value, target):
    vs = _value_shape(value)
    while len(vs) > len(target) and vs[0] == 1:
        vs = vs[1:]
    try:
        if len(vs) > len(target) or np.broadcast_shapes(vs, target) != tuple(target):
            raise ValueError
    except ValueError:
        raise ValueError("could not broadcast input array from shape %s into shape %s"
                         % (_value_shape(value), tuple(target))) from None


def _prepare_value(x, value, target):
    """value as an NDArray of x's dtype and device, broadcast to target (numpy rules)."""
    _check_broadcastable(value, target)
    if isinstance(value, NDArray):
        v = value.as_in_context(x.context)
        if v._dtype_flag != x._dtype_flag:
            v = v.astype(_dtype.NAME_OF_FLAG[x._dtype_flag])
        elif v.storage_id() == x.storage_id():
            v = v.copy()  # the source overlaps the destination
    else:  # host data: broadcast while converting (a view, then one upload)
        from .utils import array
        npd = _dtype.numpy_dtype(x._dtype_flag) or np.float32
        a = np.asarray(value, dtype=npd)
        while a.ndim > len(target) and a.shape[0] == 1:
            a = a.reshape(a.shape[1:])
        return array(np.broadcast_to(a, tuple(target)), ctx=x.context,
                     dtype=_dtype.NAME_OF_FLAG[x._dtype_flag])
    vs = v.shape
    while len(vs) > len(target) and vs[0] == 1:
        vs = vs[1:]
    if vs != v.shape:
        v = _reshape_view(v, vs)
    if vs != tuple(target):
        v = v.broadcast_to(target)
    return v
