"""The R package from Python, in one process (R embedded through rpy2==3.5.17).

* a CNN trained and exported here predicts identically from R (mx.model.load + predict);
* the files of real MXNet 1.9.1 predict their stored outputs from R;
* zero-copy hand-over: an NDArray made here is read in R through the same mx_ndarray (same data
  pointer, writes visible both ways), and an R array comes back the same way.

The R package must be installed (tools/r_check.sh installs it into <build>/r/lib; MX_R_LIBS
names another library). A missing R, rpy2 or package fails these tests: they never skip.
"""
import os
from pathlib import Path

import numpy as np
import pytest

import mx
from mx import autograd, gluon
from mx.base import check_call, ffi, lib
from mx.gluon import nn

ROOT = Path(__file__).resolve().parents[2]


def _r_library():
    if os.environ.get("MX_R_LIBS"):
        return Path(os.environ["MX_R_LIBS"])
    build = Path(os.environ.get("MX_BUILD_DIR", "build"))
    if not build.is_absolute():
        build = ROOT / build
    return build / "r" / "lib"


@pytest.fixture(scope="module")
def r():
    lib = _r_library()
    if not (lib / "mx" / "DESCRIPTION").is_file():
        pytest.fail(f"the R package mx is not installed in {lib}: run `bash tools/r_check.sh` "
                    "(or set MX_R_LIBS to the R library holding it)")
    try:
        import rpy2.robjects as ro
    except Exception as e:  # ImportError, or R itself missing / not loadable
        pytest.fail(f"rpy2 (pin rpy2==3.5.17 for Debian's R 4.2) with R is needed: {e!r}")
    # libmx is already loaded by Python: the R package links the very same file.
    ro.r(f'.libPaths(c("{lib.as_posix()}", .libPaths()))')
    ro.r("suppressPackageStartupMessages(library(mx))")
    r_lib = Path(ro.r("mx.lib.path()")[0]).resolve()
    mapped = set()
    with open("/proc/self/maps") as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 6 and os.path.basename(parts[5]).startswith("libmx.so"):
                mapped.add(Path(parts[5]).resolve())
    assert mapped == {r_lib}, (f"one libmx per process expected; R uses {r_lib}, the process "
                              f"maps {sorted(map(str, mapped))}")
    return ro


def to_r(ro, a):
    """A numpy array as an R double array in MXNet-R order (dims reversed, same element order)."""
    a = np.ascontiguousarray(a, dtype=np.float64)
    return ro.r["array"](ro.FloatVector(a.ravel()), dim=ro.IntVector(list(reversed(a.shape))))


def from_r(v, shape):
    """An R array of dims rev(shape) as a numpy array of shape `shape`."""
    import rpy2.robjects as ro
    return np.array(list(ro.r["as.vector"](v)), dtype=np.float64).reshape(shape)


def handle_address(nd):
    return str(int(ffi.cast("uintptr_t", nd.handle)))


def test_python_trained_cnn_predicts_identically_in_r(r, tmp_path):
    mx.random.seed(3)
    rng = np.random.RandomState(3)
    net = nn.HybridSequential(prefix="rcnn_")
    with net.name_scope():
        net.add(nn.Conv2D(8, 3, padding=1, activation="relu"), nn.MaxPool2D(2),
                nn.Conv2D(16, 3, padding=1), nn.BatchNorm(), nn.Activation("relu"),
                nn.MaxPool2D(2), nn.Flatten(), nn.Dense(10))
    net.initialize(mx.init.Xavier())
    net.hybridize()
    loss_fn = gluon.loss.SoftmaxCrossEntropyLoss()
    trainer = gluon.Trainer(net.collect_params(), "sgd", {"learning_rate": 0.01})
    for _ in range(3):
        x = mx.nd.array(rng.rand(16, 1, 28, 28).astype(np.float32))
        y = mx.nd.array(rng.randint(0, 10, 16).astype(np.float32))
        with autograd.record():
            loss = loss_fn(net(x), y)
        loss.backward()
        trainer.step(16)
    prefix = tmp_path / "pycnn"
    net.export(str(prefix), epoch=2)
    x = rng.rand(20, 1, 28, 28).astype(np.float32)
    ref = net(mx.nd.array(x)).asnumpy()

    predict = r.r("function(prefix, x, bs) predict(mx.model.load(prefix, 2), x, "
                  "array.batch.size = bs)")
    for bs in (20, 6):
        out = from_r(predict(str(prefix), to_r(r, x), bs), (20, 10))
        assert np.abs(out - ref).max() < 1e-5


@pytest.mark.parametrize("name", ["cnn", "mlp_bn"])
def test_mxnet_fixtures_predict_from_r(r, mxnet_fixtures, name):
    x = np.load(mxnet_fixtures / f"{name}_input.npy")
    ref = np.load(mxnet_fixtures / f"{name}_output.npy")
    predict = r.r("function(prefix, x) predict(mx.model.load(prefix, 0), x, "
                  "array.batch.size = 7)")
    out = from_r(predict(str(mxnet_fixtures / name), to_r(r, x)), ref.shape)
    assert np.abs(out - ref).max() < 1e-5


def test_ndarray_handed_from_python_to_r_without_copy(r):
    a = mx.nd.array(np.arange(24, dtype=np.float64).reshape(2, 3, 4), dtype="float64")
    ptr = a._data_pointer()
    wrap = r.r("mx.nd.from.handle.address")
    ra = wrap(handle_address(a))
    # same storage, MXNet-R dims, same values
    assert int(r.r("mx.nd.data.ptr")(ra)[0]) == ptr
    assert list(r.r("dim")(ra)) == [4, 3, 2]
    assert np.array_equal(from_r(r.r("as.array")(ra), (2, 3, 4)), a.asnumpy())
    # a write through libmx from R is visible in Python, and the other way round
    r.r("function(x) invisible(mx:::.mx.invoke('_mul_scalar', list(x), list(scalar = 2), "
        "out = list(x)))")(ra)
    assert np.array_equal(a.asnumpy(), 2 * np.arange(24).reshape(2, 3, 4))
    a[:] = 7.0
    assert np.all(np.array(r.r("as.array")(ra)) == 7.0)
    # the R handle keeps the storage alive after Python lets go of its own
    del a
    assert np.all(np.array(r.r("as.array")(ra)) == 7.0)


def test_r_array_handed_back_to_python_without_copy(r):
    make = r.r("""function() {
        x <- array(as.double(1:24), c(4, 3, 2))
        nd <- mx.nd.array(x, dtype = "float64")      # wraps the R vector: no copy
        list(x = x, nd = nd, addr = mx.nd.handle.address(nd),
             r.ptr = .Call(mx:::C_mxr_r_data_ptr, x), nd.ptr = mx.nd.data.ptr(nd))
    }""")
    res = make()
    x, nd, addr = res.rx2("x"), res.rx2("nd"), res.rx2("addr")
    r_ptr, nd_ptr = int(res.rx2("r.ptr")[0]), int(res.rx2("nd.ptr")[0])
    assert r_ptr == nd_ptr  # the NDArray is the R vector's memory
    # Python gets its own handle on the same array (a reshape to the same shape is a view)
    src = ffi.cast("mx_ndarray*", int(addr[0]))
    shape = ffi.new("int64_t[]", [2, 3, 4])
    out = ffi.new("mx_ndarray**")
    check_call(lib.mx_ndarray_reshape(src, shape, 3, out))
    b = mx.nd.NDArray(out[0])
    assert b.shape == (2, 3, 4)
    assert b._data_pointer() == r_ptr
    assert np.array_equal(b.asnumpy(), np.arange(1, 25, dtype=np.float64).reshape(2, 3, 4))
    # results of libmx ops written into it from Python read back in R
    mx.nd.elemwise_add(b, b, out=b)
    assert np.array_equal(from_r(r.r("as.array")(nd), (24,)), 2 * np.arange(1, 25))
    del x, nd, res
    r.r("gc()")
    assert b.asnumpy()[1, 2, 3] == 48.0  # Python's view keeps the R memory alive
