"""_backward_Dropout: ograd times a replayed mask (0 or 1/(1-p)), or ograd itself when inactive."""
import numpy as np

from opspec import Case, rand

F = ["float32", "float64", "float16", "bfloat16"]


def _check_mask(p, axes=()):
    def check(outs, ins, params):
        g, y = ins[0].astype(np.float64), outs[0].astype(np.float64)
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(g != 0, y / g, np.nan)
        kept = np.isclose(ratio, 1.0 / (1.0 - p), rtol=2e-2)
        dropped = ratio == 0
        assert np.all(kept | dropped | np.isnan(ratio)), "every element is dropped or scaled by 1/(1-p)"
        frac = dropped[~np.isnan(ratio)].mean()
        assert abs(frac - p) < 0.08, f"dropped fraction {frac} far from p={p}"
        for ax in axes:  # one mask value along shared axes
            first = np.take(dropped, [0], axis=ax)
            assert np.array_equal(np.broadcast_to(first, dropped.shape), dropped)
    return check


SPECS = {
    "_backward_Dropout": [
        Case(inputs=lambda dt, rng: [rand((40, 50), dt, rng, low=0.5, high=2.0)], dtypes=F,
             params={"p": 0.3, "rng_seed": "5", "rng_stream": "9"}, check=_check_mask(0.3), name="active"),
        Case(inputs=lambda dt, rng: [rand((20, 4, 30), dt, rng, low=0.5, high=2.0)], dtypes=["float32"],
             params={"p": 0.5, "axes": (1,), "rng_seed": "5", "rng_stream": "9"}, check=_check_mask(0.5, (1,)),
             name="axes"),
        Case(inputs=lambda dt, rng: [rand((3, 4), dt, rng)], ref=lambda g, **kw: g, dtypes=F,
             params={"p": 0.3, "active": False}, name="inactive"),
    ],
}
