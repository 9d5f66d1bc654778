"""Declarative op test specs, checked by test_ops.py against every op in the registry.

Each spec module in tests/python/specs/ defines ``SPECS: dict[str, list[Case]]`` keyed by the op's
canonical registered name (aliases are covered through their canonical op). test_ops.py fails for a
registered op that no module specifies.
"""
from dataclasses import dataclass, field
from typing import Any, Callable, Optional, Sequence

import numpy as np


@dataclass
class Case:
    """One forward check of an op.

    inputs(dtype, rng) -> list of numpy arrays for a dtype name ("float32", ..., "bool",
        "bfloat16"). numpy has no bfloat16: for it, return float32 arrays; the harness rounds them
        to bfloat16 precision and casts them inside MX. Integer/bool index inputs may keep their
        own dtype.
    ref(*inputs, **params) -> numpy array or tuple of arrays: the expected outputs, computed by numpy
        on the same input values (for float16/bfloat16 the harness compares in float32).
    params: op parameters as Python values (converted to MXNet strings by the binding).
    dtypes: dtype names this case runs for (default: every dtype the op declares).
    rtol/atol: override the per-dtype defaults.
    check(outputs, inputs, params): optional extra/replacement check (random ops: statistics,
        reproducibility); when given and ref is None, only check runs.
    """
    inputs: Callable[[str, np.random.Generator], Sequence[np.ndarray]]
    ref: Optional[Callable[..., Any]] = None
    params: dict = field(default_factory=dict)
    dtypes: Optional[Sequence[str]] = None
    rtol: Optional[float] = None
    atol: Optional[float] = None
    check: Optional[Callable[..., None]] = None
    name: str = ""


DEFAULT_TOL = {
    "float64": (1e-10, 1e-12),
    "float32": (1e-5, 1e-6),
    "float16": (2e-3, 2e-3),
    "bfloat16": (2e-2, 2e-2),
}


def rand(shape, dtype, rng, low=-2.0, high=2.0):
    """Random array of a dtype name: uniform floats in [low, high), or integers in that range
    (bool: random True/False; uint8: clipped to >= 0)."""
    if dtype in ("float16", "float32", "float64", "bfloat16"):
        d = "float32" if dtype == "bfloat16" else dtype
        return rng.uniform(low, high, size=shape).astype(d)
    if dtype == "bool":
        return rng.integers(0, 2, size=shape).astype(bool)
    lo = max(int(np.floor(low)), 0) if dtype == "uint8" else int(np.floor(low))
    hi = max(int(np.ceil(high)), lo + 1)
    return rng.integers(lo, hi, size=shape).astype(dtype)
