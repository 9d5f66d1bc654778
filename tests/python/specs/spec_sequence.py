"""Specs of the sequence ops: SequenceMask, SequenceLast, SequenceReverse and the scatter
_backward_SequenceLast. References are plain numpy loops over the batch."""
import numpy as np

from opspec import Case, rand


def _lens(x, sequence_length, use_sequence_length, axis):
    t = x.shape[axis]
    n = x.shape[1 - axis]
    if not use_sequence_length:
        return [t] * n
    return [int(v) for v in np.asarray(sequence_length).astype(np.float64).astype(np.int64)]


def _steps(x, axis):
    """x with the time axis first: (max_len, batch, ...), a view."""
    return x if axis == 0 else np.swapaxes(x, 0, 1)


def mask_ref(x, sequence_length=None, use_sequence_length=False, value=0.0, axis=0):
    out = x.copy()
    v = _steps(out, axis)
    for n, ln in enumerate(_lens(x, sequence_length, use_sequence_length, axis)):
        v[max(ln, 0):, n] = np.asarray(value).astype(x.dtype)
    return out


def last_ref(x, sequence_length=None, use_sequence_length=False, axis=0):
    v = _steps(x, axis)
    lens = _lens(x, sequence_length, use_sequence_length, axis)
    return np.stack([v[ln - 1, n] for n, ln in enumerate(lens)]).astype(x.dtype)


def last_grad_ref(og, x, sequence_length=None, use_sequence_length=False, axis=0):
    out = np.zeros_like(x)
    v = _steps(out, axis)
    for n, ln in enumerate(_lens(x, sequence_length, use_sequence_length, axis)):
        v[ln - 1, n] = og[n]
    return out


def reverse_ref(x, sequence_length=None, use_sequence_length=False, axis=0):
    out = x.copy()
    for n, ln in enumerate(_lens(x, sequence_length, use_sequence_length, axis)):
        out[:ln, n] = x[:ln, n][::-1]
    return out


def with_len(shape, lens, len_dtype):
    """data of `shape` plus a lengths vector; float32 lengths in float runs, int32 otherwise
    (lengths of any dtype are accepted)."""
    def make(dt, rng):
        x = rand(shape, dt, rng)
        ldt = len_dtype or ("float32" if dt in ("float32", "float64", "float16") else "int32")
        return [x, np.asarray(lens, dtype=ldt)]
    return make


def data_only(shape):
    return lambda dt, rng: [rand(shape, dt, rng)]


def last_grad_inputs(shape, axis, lens):
    def make(dt, rng):
        x = rand(shape, dt, rng)
        og_shape = tuple(s for i, s in enumerate(shape) if i != axis)
        out = [rand(og_shape, dt, rng), x]
        if lens is not None:
            out.append(np.asarray(lens, dtype="int64"))
        return out
    return make


SPECS = {
    "SequenceMask": [
        Case(data_only((4, 3, 2)), mask_ref, {}, name="no-lengths"),
        Case(with_len((4, 3, 2), [1, 4, 2], None), mask_ref, {"use_sequence_length": True}, name="axis0"),
        Case(with_len((3, 5), [5, 0, 2], None), mask_ref,
             {"use_sequence_length": True, "value": -1.0, "axis": 1}, name="axis1-value"),
        Case(with_len((5, 2, 2, 3), [2.7, 3.2], "float64"), mask_ref,
             {"use_sequence_length": True, "value": 1.0}, dtypes=["float32", "float64"], name="float-lengths"),
        Case(with_len((2, 4, 3), [3, 1], "int64"), mask_ref,
             {"use_sequence_length": True, "value": 1.0, "axis": 1}, name="axis1-int64-lengths"),
    ],
    "SequenceLast": [
        Case(data_only((4, 3, 2)), last_ref, {}, name="no-lengths"),
        Case(data_only((3, 4)), last_ref, {"axis": 1}, name="no-lengths-axis1"),
        Case(with_len((4, 3, 2), [1, 4, 2], None), last_ref, {"use_sequence_length": True}, name="axis0"),
        Case(with_len((3, 5, 2), [5, 1, 3], "int64"), last_ref, {"use_sequence_length": True, "axis": 1},
             name="axis1"),
    ],
    "_backward_SequenceLast": [
        Case(last_grad_inputs((4, 3, 2), 0, None), last_grad_ref, {}, name="no-lengths"),
        Case(last_grad_inputs((4, 3, 2), 0, [2, 4, 1]), last_grad_ref, {"use_sequence_length": True},
             name="axis0"),
        Case(last_grad_inputs((3, 5), 1, [5, 1, 3]), last_grad_ref, {"use_sequence_length": True, "axis": 1},
             name="axis1"),
    ],
    "SequenceReverse": [
        Case(data_only((4, 3, 2)), reverse_ref, {}, name="no-lengths"),
        Case(with_len((5, 3, 2), [1, 5, 3], None), reverse_ref, {"use_sequence_length": True}, name="lengths"),
        Case(with_len((4, 2), [0, 2], "int32"), reverse_ref, {"use_sequence_length": True}, name="zero-length"),
    ],
}
