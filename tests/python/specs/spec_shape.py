"""Specs of the shape ops: Reshape, Flatten, expand_dims, squeeze, transpose, Concat, stack,
SliceChannel (split), tile, repeat, reverse (flip), slice, slice_axis, slice_like, _slice_assign,
_slice_assign_scalar, Pad and Cast.

References are plain numpy; Reshape's expected shapes are the ones MXNet documents for its special
codes (0, -1, -2, -3, -4, reverse=True).
"""
import numpy as np

from opspec import Case, rand


def one(shape, low=-2.0, high=2.0):
    return lambda dt, rng: [rand(shape, dt, rng, low, high)]


def many(*shapes):
    return lambda dt, rng: [rand(s, dt, rng) for s in shapes]


def reshape_case(in_shape, shape, out_shape, reverse=False):
    params = {"shape": shape}
    if reverse:
        params["reverse"] = True
    return Case(one(in_shape), lambda x, **p: x.reshape(out_shape), params,
                name=f"{in_shape}->{shape}{'-rev' if reverse else ''}")


def bf16_round(x):
    u = np.ascontiguousarray(x, dtype=np.float32).view(np.uint32).astype(np.uint64)
    u = (u + 0x7FFF + ((u >> 16) & 1)) & 0xFFFF0000
    return u.astype(np.uint32).view(np.float32)


def numpy_slices(shape, begin, end, step=()):
    out = []
    for i in range(len(begin)):
        s = step[i] if step and step[i] is not None else None
        out.append(slice(begin[i], end[i], s))
    return tuple(out)


def slice_ref(x, begin, end, step=()):
    return x[numpy_slices(x.shape, begin, end, step)]


def slice_assign_ref(lhs, rhs, begin, end, step=()):
    out = lhs.copy()
    out[numpy_slices(lhs.shape, begin, end, step)] = rhs
    return out


def slice_assign_scalar_ref(x, scalar, begin, end, step=()):
    out = x.copy()
    out[numpy_slices(x.shape, begin, end, step)] = np.asarray(scalar).astype(x.dtype)
    return out


def pad_ref(x, mode, pad_width, constant_value=0.0):
    pw = [(pad_width[2 * i], pad_width[2 * i + 1]) for i in range(x.ndim)]
    if mode == "constant":
        return np.pad(x, pw, mode="constant", constant_values=np.asarray(constant_value).astype(x.dtype))
    return np.pad(x, pw, mode=mode)


def cast_ref(x, dtype):
    if dtype == "bfloat16":
        return bf16_round(x.astype(np.float32))
    return x.astype(dtype)


SPECS = {
    "Reshape": [
        reshape_case((2, 3, 4), (4, 0, 2), (4, 3, 2)),
        reshape_case((2, 3, 4), (2, 0, 0), (2, 3, 4)),
        reshape_case((2, 3, 4), (6, 1, -1), (6, 1, 4)),
        reshape_case((2, 3, 4), (3, -1, 8), (3, 1, 8)),
        reshape_case((2, 3, 4), (-1,), (24,)),
        reshape_case((2, 3, 4), (0, -1), (2, 12)),
        reshape_case((2, 3, 4), (-2,), (2, 3, 4)),
        reshape_case((2, 3, 4), (2, -2), (2, 3, 4)),
        reshape_case((2, 3, 4, 5), (-2, 1, 1), (2, 3, 4, 5, 1, 1)),
        reshape_case((2, 3, 4), (-3, 4), (6, 4)),
        reshape_case((2, 3, 4, 5), (-3, -3), (6, 20)),
        reshape_case((2, 3, 4), (0, -3), (2, 12)),
        reshape_case((2, 3, 4), (-3, -2), (6, 4)),
        reshape_case((2, 3, 4), (-4, 1, 2, -2), (1, 2, 3, 4)),
        reshape_case((2, 3, 4), (2, -4, -1, 3, -2), (2, 1, 3, 4)),
        reshape_case((10, 5, 4), (-1, 0), (40, 5)),
        reshape_case((10, 5, 4), (-1, 0), (50, 4), reverse=True),
        reshape_case((2, 3, 4), (0, -1), (3, 8), reverse=True),
        reshape_case((2, 3, 4), (-1, 3, 0), (2, 3, 4), reverse=True),
        reshape_case((0, 3), (3, -1), (3, 0)),
    ],
    "Flatten": [
        Case(one((2, 3, 4)), lambda x: x.reshape(2, 12)),
        Case(one((5,)), lambda x: x.reshape(5, 1)),
        Case(one((2, 3, 4, 5)), lambda x: x.reshape(2, 60)),
        Case(one((0, 3)), lambda x: x.reshape(0, 3)),
    ],
    "expand_dims": [
        Case(one((2, 3, 4)), lambda x, axis: np.expand_dims(x, axis), {"axis": 0}),
        Case(one((2, 3, 4)), lambda x, axis: np.expand_dims(x, axis), {"axis": 1}),
        Case(one((2, 3, 4)), lambda x, axis: np.expand_dims(x, axis), {"axis": 3}),
        Case(one((2, 3, 4)), lambda x, axis: np.expand_dims(x, axis), {"axis": -1}),
        Case(one((2, 3, 4)), lambda x, axis: np.expand_dims(x, axis), {"axis": -4}),
        Case(one((5,)), lambda x, axis: np.expand_dims(x, axis), {"axis": -2}),
    ],
    "squeeze": [
        Case(one((1, 3, 1, 4)), lambda x: x.reshape(3, 4)),
        Case(one((1, 3, 1, 4)), lambda x, axis: np.squeeze(x, axis), {"axis": 0}),
        Case(one((1, 3, 1, 4)), lambda x, axis: np.squeeze(x, axis), {"axis": (0, -2)}),
        Case(one((2, 1, 1)), lambda x, axis: np.squeeze(x, axis), {"axis": -1}),
        Case(one((1, 1)), lambda x: x.reshape(1), name="all-ones-keeps-(1,)"),
    ],
    "transpose": [
        Case(one((2, 3, 4)), lambda x: x.transpose()),
        Case(one((5, 7)), lambda x: x.T),
        Case(one((2, 3, 4)), lambda x, axes: x.transpose(axes), {"axes": (1, 0, 2)}),
        Case(one((2, 3, 4)), lambda x, axes: x.transpose(axes), {"axes": (-1, 0, 1)}),
        Case(one((2, 3, 4, 5)), lambda x, axes: x.transpose(axes), {"axes": (0, 2, 3, 1)}),
        Case(one((65, 47)), lambda x, axes: x.transpose(axes), {"axes": (1, 0)}, name="tiled"),
        Case(one((3, 40, 50)), lambda x, axes: x.transpose(axes), {"axes": (0, 2, 1)}, name="batched-tiled"),
        Case(one((2, 0, 3)), lambda x, axes: x.transpose(axes), {"axes": (2, 0, 1)}, name="empty"),
    ],
    "Concat": [
        Case(many((2, 3), (2, 4), (2, 1)), lambda *xs, **p: np.concatenate(xs, axis=1), {"num_args": 3}),
        Case(many((2, 3), (4, 3)), lambda *xs, **p: np.concatenate(xs, axis=0), {"num_args": 2, "dim": 0}),
        Case(many((2, 3, 4), (2, 3, 1), (2, 3, 2)), lambda *xs, **p: np.concatenate(xs, axis=-1),
             {"num_args": 3, "dim": -1}),
        Case(many((2, 3, 4), (2, 5, 4)), lambda *xs, **p: np.concatenate(xs, axis=1), {"num_args": 2, "dim": -2}),
        Case(many((3, 2)), lambda x, **p: x.copy(), {"num_args": 1}),
        Case(many((2, 0), (2, 3)), lambda *xs, **p: np.concatenate(xs, axis=1), {"num_args": 2}, name="empty-part"),
    ],
    "stack": [
        Case(many((2, 3), (2, 3), (2, 3)), lambda *xs, **p: np.stack(xs, axis=0), {"num_args": 3}),
        Case(many((2, 3), (2, 3)), lambda *xs, **p: np.stack(xs, axis=1), {"num_args": 2, "axis": 1}),
        Case(many((2, 3), (2, 3)), lambda *xs, **p: np.stack(xs, axis=-1), {"num_args": 2, "axis": -1}),
        Case(many((4,), (4,), (4,), (4,)), lambda *xs, **p: np.stack(xs, axis=1), {"num_args": 4, "axis": 1}),
        Case(many((2, 3, 4)), lambda *xs, **p: np.stack(xs, axis=-2), {"num_args": 1, "axis": -2}),
    ],
    "SliceChannel": [
        Case(one((4, 6)), lambda x, **p: tuple(np.split(x, 3, axis=1)), {"num_outputs": 3}),
        Case(one((4, 6)), lambda x, **p: tuple(np.split(x, 2, axis=0)), {"num_outputs": 2, "axis": 0}),
        Case(one((2, 3, 4)), lambda x, **p: tuple(np.split(x, 2, axis=-1)), {"num_outputs": 2, "axis": -1}),
        Case(one((2, 3)), lambda x, **p: tuple(a.reshape(2) for a in np.split(x, 3, axis=-1)),
             {"num_outputs": 3, "axis": -1, "squeeze_axis": True}, name="squeeze"),
        Case(one((3, 2, 2)), lambda x, **p: tuple(a.reshape(2, 2) for a in np.split(x, 3, axis=0)),
             {"num_outputs": 3, "axis": 0, "squeeze_axis": True}, name="squeeze-axis0"),
        Case(one((5, 2)), lambda x, **p: (x.copy(),), {"num_outputs": 1, "axis": 0}),
    ],
    "tile": [
        Case(one((2, 3)), lambda x, reps: np.tile(x, reps), {"reps": (2, 2)}),
        Case(one((2, 3)), lambda x, reps: np.tile(x, reps), {"reps": (3,)}),
        Case(one((2, 3)), lambda x, reps: np.tile(x, reps), {"reps": (2, 1, 3)}),
        Case(one((2, 3, 4)), lambda x, reps: np.tile(x, reps), {"reps": (2,)}),
        Case(one((4,)), lambda x, reps: np.tile(x, reps), {"reps": (3, 1)}),
        Case(one((2, 3)), lambda x, reps: np.tile(x, reps), {"reps": (0, 2)}, name="zero-rep"),
        Case(one((2, 3)), lambda x, reps: np.tile(x, reps), {"reps": ()}, name="empty-reps"),
    ],
    "repeat": [
        Case(one((2, 3)), lambda x, repeats: np.repeat(x, repeats), {"repeats": 2}),
        Case(one((2, 3)), lambda x, repeats, axis: np.repeat(x, repeats, axis), {"repeats": 2, "axis": 0}),
        Case(one((2, 3, 4)), lambda x, repeats, axis: np.repeat(x, repeats, axis), {"repeats": 3, "axis": -1}),
        Case(one((2, 3, 4)), lambda x, repeats, axis: np.repeat(x, repeats, axis), {"repeats": 1, "axis": 1}),
        Case(one((2, 3)), lambda x, repeats, axis: np.zeros((0,), x.dtype), {"repeats": 0, "axis": 1},
             name="zero-repeats-is-1d-empty"),
    ],
    "reverse": [
        Case(one((4, 3)), lambda x, axis: np.flip(x, axis), {"axis": 0}),
        Case(one((2, 3, 4)), lambda x, axis: np.flip(x, axis), {"axis": (0, 2)}),
        Case(one((2, 3, 4)), lambda x, axis: np.flip(x, axis), {"axis": -1}),
        Case(one((2, 3, 4)), lambda x, axis: np.flip(x, axis), {"axis": (-2,)}),
        Case(one((7,)), lambda x, axis: np.flip(x, axis), {"axis": (0,)}),
    ],
    "slice": [
        Case(one((4, 5, 6)), slice_ref, {"begin": (0, 1), "end": (2, 4)}),
        Case(one((4, 5, 6)), slice_ref, {"begin": (1, None), "end": (3, None)}),
        Case(one((4, 5, 6)), slice_ref, {"begin": (None,), "end": (None,), "step": (-1,)}),
        Case(one((4, 5, 6)), slice_ref, {"begin": (-3, 1, None), "end": (None, -1, None), "step": (2, 2, -2)}),
        Case(one((4, 5, 6)), slice_ref, {"begin": (3,), "end": (0,), "step": (-1,)}),
        Case(one((4, 5, 6)), slice_ref, {"begin": (1,), "end": (1,)}, name="empty"),
        Case(one((4, 5, 6)), slice_ref, {"begin": (-10, 2), "end": (10, 100)}, name="clamped"),
        Case(one((4, 5, 6)), slice_ref, {"begin": (None, 4), "end": (None, -10), "step": (None, -2)}),
        Case(one((7,)), slice_ref, {"begin": (5,), "end": (None,), "step": (-3,)}),
    ],
    "slice_axis": [
        Case(one((4, 5, 6)), lambda x, **p: x[:, 1:3], {"axis": 1, "begin": 1, "end": 3}),
        Case(one((4, 5, 6)), lambda x, **p: x[..., -2:], {"axis": -1, "begin": -2, "end": None}),
        Case(one((4, 5, 6)), lambda x, **p: x[0:-1], {"axis": 0, "begin": 0, "end": -1}),
        Case(one((4, 5)), lambda x, **p: x[:, 0:5], {"axis": 1, "begin": 0, "end": 5}),
    ],
    "slice_like": [
        Case(many((4, 5, 6), (2, 3, 4)), lambda x, y: x[:2, :3, :4]),
        Case(many((4, 5, 6), (2, 3, 4)), lambda x, y, axes: x[:2, :, :4], {"axes": (0, -1)}),
        Case(many((4, 5, 6), (3, 2)), lambda x, y, axes: x[:, :2], {"axes": (1,)}),
        Case(many((4, 5), (4, 5)), lambda x, y: x.copy()),
    ],
    "_slice_assign": [
        Case(many((4, 5), (2, 3)), slice_assign_ref, {"begin": (1, 1), "end": (3, 4)}),
        Case(many((4, 5), (2, 5)), slice_assign_ref, {"begin": (0, None), "end": (None, None), "step": (2, -1)}),
        Case(many((3, 4, 5), (3, 2, 5)), slice_assign_ref, {"begin": (None, -2), "end": (None, None)}),
        Case(many((6,), (2,)), slice_assign_ref, {"begin": (5,), "end": (1,), "step": (-3,)}),
        Case(many((4, 5), (0, 5)), slice_assign_ref, {"begin": (2,), "end": (2,)}, name="empty"),
    ],
    "_slice_assign_scalar": [
        Case(one((4, 5)), slice_assign_scalar_ref, {"scalar": 3.0, "begin": (1, 1), "end": (3, 4)}),
        Case(one((4, 5)), slice_assign_scalar_ref, {"scalar": 1.0, "begin": (None, 0), "end": (None, None),
                                                    "step": (-1, 2)}),
        Case(one((3, 4, 5)), slice_assign_scalar_ref, {"scalar": 0.0, "begin": (-1,), "end": (None,)}),
    ],
    "Pad": [
        Case(one((1, 2, 3, 4)), pad_ref, {"mode": "constant", "pad_width": (0, 0, 0, 0, 1, 2, 2, 1),
                                          "constant_value": 2.0}),
        Case(one((2, 1, 3, 3)), pad_ref, {"mode": "constant", "pad_width": (0, 0, 0, 0, 0, 1, 3, 0)}),
        Case(one((1, 2, 3, 4)), pad_ref, {"mode": "edge", "pad_width": (0, 0, 0, 0, 2, 1, 1, 3)}),
        Case(one((1, 2, 3, 4)), pad_ref, {"mode": "reflect", "pad_width": (0, 0, 0, 0, 2, 1, 3, 2)}),
        Case(one((1, 2, 3, 4, 5)), pad_ref, {"mode": "constant", "pad_width": (0, 0, 0, 0, 1, 1, 0, 2, 2, 0),
                                             "constant_value": 1.0}),
        Case(one((2, 1, 3, 4, 3)), pad_ref, {"mode": "edge", "pad_width": (0, 0, 0, 0, 1, 2, 2, 0, 1, 1)}),
        Case(one((1, 2, 3, 4, 5)), pad_ref, {"mode": "reflect", "pad_width": (0, 0, 0, 0, 2, 2, 1, 3, 4, 1)}),
    ],
    "Cast": [
        Case(one((3, 4)), cast_ref, {"dtype": "float32"}),
        Case(one((3, 4)), cast_ref, {"dtype": "float64"}),
        Case(one((3, 4)), cast_ref, {"dtype": "float16"}),
        Case(one((3, 4)), cast_ref, {"dtype": "bfloat16"}),
        Case(one((3, 4)), cast_ref, {"dtype": "int32"}),
        Case(one((3, 4)), cast_ref, {"dtype": "int64"}),
        Case(one((3, 4)), cast_ref, {"dtype": "int8"}),
        Case(one((3, 4), 0.0, 5.0), cast_ref, {"dtype": "uint8"}, name="to-uint8"),
        Case(one((2, 5)), cast_ref, {"dtype": "bool"}),
        Case(one((0, 2)), cast_ref, {"dtype": "float64"}, name="empty"),
    ],
}
