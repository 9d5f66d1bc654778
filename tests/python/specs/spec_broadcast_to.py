"""broadcast_to / broadcast_like / broadcast_axis against numpy.broadcast_to."""
import numpy as np

from opspec import Case, rand

ALL = ["float32", "float64", "float16", "bfloat16", "uint8", "int8", "int32", "int64", "bool"]


def _to(shape, target):
    return Case(inputs=lambda dt, rng: [rand(shape, dt, rng)],
                ref=lambda x, shape: np.broadcast_to(x, tuple(s if s else x.shape[i] for i, s in enumerate(shape))).copy(),
                params={"shape": target}, dtypes=ALL, name=f"{shape}->{target}")


def _axis_ref(x, axis, size):
    t = list(x.shape)
    for a, s in zip(axis, size):
        t[a] = s
    return np.broadcast_to(x, t).copy()


SPECS = {
    "broadcast_to": [_to((1, 3), (4, 3)), _to((2, 1, 1), (2, 5, 3)), _to((3, 1), (0, 6)), _to((1,), (7,)),
                     _to((2, 3), (2, 3)), _to((1, 1), (0, 0))],
    "broadcast_like": [
        Case(inputs=lambda dt, rng: [rand((1, 4), dt, rng), rand((3, 4), dt, rng)],
             ref=lambda a, b: np.broadcast_to(a, b.shape).copy(), dtypes=ALL),
        Case(inputs=lambda dt, rng: [rand((2, 1), dt, rng), rand((5, 6, 7), dt, rng)],
             ref=lambda a, b, lhs_axes, rhs_axes: np.broadcast_to(a, (2, 7)).copy(),
             params={"lhs_axes": (1,), "rhs_axes": (2,)}, dtypes=["float32", "int32"], name="axes"),
        Case(inputs=lambda dt, rng: [rand((3, 1), dt, rng), rand((2, 3, 4), dt, rng)],
             ref=lambda a, b: np.broadcast_to(a, b.shape).copy(), dtypes=["float64", "int8"], name="fewer_dims"),
    ],
    "broadcast_axis": [
        Case(inputs=lambda dt, rng: [rand((2, 1, 3, 1), dt, rng)], ref=_axis_ref,
             params={"axis": (1, 3), "size": (4, 2)}, dtypes=ALL),
        Case(inputs=lambda dt, rng: [rand((1, 5), dt, rng)], ref=_axis_ref,
             params={"axis": (0,), "size": (3,)}, dtypes=["float64"], name="axis0"),
    ],
}
