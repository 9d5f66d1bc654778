"""Every registered op, checked against its numpy reference for every dtype it declares.

The op list comes from the registry over the C ABI, so a new op without a spec in specs/ fails
test_every_op_has_a_spec.
"""
import glob
import importlib
import os
import sys

import numpy as np
import pytest

import mx
from mx._api import ffi, lib

sys.path.insert(0, os.path.dirname(__file__))
from opspec import DEFAULT_TOL, Case  # noqa: E402


def _registry():
    """{canonical name: (declared dtypes, aliases)} read through the C ABI."""
    count = ffi.new("size_t*")
    names = ffi.new("const char* const**")
    assert lib.mx_op_list(count, names) == 0
    ops = {}
    for i in range(count[0]):
        alias = ffi.string(names[0][i]).decode()
        op = ffi.new("const mx_op**")
        assert lib.mx_op_find(alias.encode(), op) == 0
        cname = ffi.new("const char**")
        assert lib.mx_op_info(op[0], cname, *([ffi.NULL] * 9)) == 0
        canonical = ffi.string(cname[0]).decode()
        if canonical not in ops:
            val = ffi.new("const char**")
            assert lib.mx_op_attr(op[0], b"dtypes", val) == 0
            ops[canonical] = [d for d in ffi.string(val[0]).decode().split(",") if d]
    return ops


def _specs():
    specs, origin = {}, {}
    spec_dir = os.path.join(os.path.dirname(__file__), "specs")
    for path in sorted(glob.glob(os.path.join(spec_dir, "spec_*.py"))):
        modname = "specs." + os.path.splitext(os.path.basename(path))[0]
        mod = importlib.import_module(modname)
        for name, cases in mod.SPECS.items():
            assert name not in specs, f"op {name} specified in both {origin[name]} and {modname}"
            specs[name] = list(cases)
            origin[name] = modname
    return specs


REGISTRY = _registry()
SPECS = _specs()


def test_every_op_has_a_spec():
    missing = sorted(set(REGISTRY) - set(SPECS))
    assert not missing, f"registered ops without a test spec: {missing}"


def test_no_spec_for_unknown_op():
    unknown = sorted(set(SPECS) - set(REGISTRY))
    assert not unknown, f"specs for ops that are not registered: {unknown}"


@pytest.mark.parametrize("op", sorted(set(REGISTRY) & set(SPECS)))
def test_spec_covers_every_declared_dtype(op):
    covered = set()
    for case in SPECS[op]:
        covered |= set(case.dtypes if case.dtypes is not None else REGISTRY[op])
    missing = sorted(set(REGISTRY[op]) - covered)
    assert not missing, f"{op}: declared dtypes without a test case: {missing}"


def _bf16_round(x):
    """float32 values rounded (nearest even) to bfloat16 precision."""
    u = np.asarray(x, dtype=np.float32, order="C").view(np.uint32).astype(np.uint64)
    u = (u + 0x7FFF + ((u >> 16) & 1)) & 0xFFFF0000
    return u.astype(np.uint32).view(np.float32).reshape(np.shape(x))


def _to_mx(x, dtype):
    # mx.nd.array follows MXNet 1.x and turns a 0-d input into shape (1,); ops themselves take
    # 0-d arrays, so build those as a view.
    a = mx.nd.array(x.reshape(1) if x.ndim == 0 else x, dtype=x.dtype)
    if x.ndim == 0:
        a = a.reshape(())
    if dtype == "bfloat16" and x.dtype == np.float32:
        a = mx.nd.invoke("Cast", [a], {"dtype": "bfloat16"})
    return a


def _to_np(a):
    if str(a.dtype) == "bfloat16":
        a = mx.nd.invoke("Cast", [a], {"dtype": "float32"})
    return a.asnumpy()


def _cases():
    out = []
    for op in sorted(set(REGISTRY) & set(SPECS)):
        for ci, case in enumerate(SPECS[op]):
            for dt in (case.dtypes if case.dtypes is not None else REGISTRY[op]):
                out.append(pytest.param(op, ci, dt, id=f"{op}-{case.name or ci}-{dt}"))
    return out


@pytest.mark.parametrize("op,ci,dtype", _cases())
def test_op_forward(op, ci, dtype):
    case: Case = SPECS[op][ci]
    rng = np.random.default_rng(1234 + ci)
    xs = [np.asarray(x) for x in case.inputs(dtype, rng)]
    if dtype == "bfloat16":
        xs = [_bf16_round(x) if x.dtype == np.float32 else x for x in xs]
    ins = [_to_mx(x, dtype) for x in xs]
    res = mx.nd.invoke(op, ins, case.params)
    outs = res if isinstance(res, (list, tuple)) else [res]
    got = [_to_np(o) for o in outs]
    if case.ref is not None:
        exp = case.ref(*xs, **case.params)
        exp = list(exp) if isinstance(exp, (list, tuple)) else [exp]
        assert len(got) == len(exp), f"{op}: {len(got)} outputs, reference has {len(exp)}"
        rtol, atol = DEFAULT_TOL.get(dtype, (0, 0))
        rtol = case.rtol if case.rtol is not None else rtol
        atol = case.atol if case.atol is not None else atol
        for i, (g, e) in enumerate(zip(got, exp)):
            e = np.asarray(e)
            assert g.shape == e.shape, f"{op} output {i}: shape {g.shape}, expected {e.shape}"
            if dtype != "bfloat16" and str(outs[i].dtype) != "bfloat16":
                assert np.dtype(g.dtype) == np.dtype(e.dtype), f"{op} output {i}: dtype {g.dtype}, expected {e.dtype}"
            if g.dtype.kind in "fc" or e.dtype.kind in "fc":
                np.testing.assert_allclose(g.astype(np.float64), e.astype(np.float64), rtol=rtol, atol=atol,
                                           equal_nan=True, err_msg=f"{op} output {i} ({dtype})")
            else:
                np.testing.assert_array_equal(g, e, err_msg=f"{op} output {i} ({dtype})")
    if case.check is not None:
        case.check(got, xs, case.params)
