"""Bad input gives the right mx.MXNetError subclass with a clear message, never a crash."""
import numpy as np
import pytest

import mx
from mx import base


def test_error_hierarchy():
    assert issubclass(base.MXNetError, RuntimeError)
    assert mx.MXNetError is base.MXNetError
    pairs = [(base.InvalidArgumentError, ValueError), (base.ShapeError, ValueError),
             (base.DTypeError, TypeError), (base.NotFoundError, KeyError),
             (base.MXIOError, OSError), (base.OutOfMemoryError, MemoryError),
             (base.UnsupportedError, NotImplementedError), (base.MXIndexError, IndexError),
             (base.HandleError, ValueError)]
    for cls, builtin in pairs:
        assert issubclass(cls, base.MXNetError) and issubclass(cls, builtin)
    assert str(base.NotFoundError("no such op")) == "no such op"  # not KeyError's repr


def test_check_call_maps_status_codes():
    from mx._api import lib
    for code, cls in ((lib.MX_ERR_SHAPE, base.ShapeError), (lib.MX_ERR_NOT_FOUND, base.NotFoundError),
                      (lib.MX_ERR_UNSUPPORTED, base.UnsupportedError),
                      (lib.MX_ERR_INDEX, base.MXIndexError), (lib.MX_ERR_HANDLE, base.HandleError),
                      (lib.MX_ERR_INTERNAL, base.InternalError)):
        with pytest.raises(cls):
            base.check_call(code)
    base.check_call(0)


def test_mismatched_shapes():
    a, b = mx.nd.ones((2, 3)), mx.nd.ones((4, 5))
    with pytest.raises(base.ShapeError, match=r"\(2, 3\).*\(4, 5\)"):
        a + b
    with pytest.raises(base.ShapeError):
        mx.nd.broadcast_mul(a, b)
    with pytest.raises(base.ShapeError):
        mx.nd.concat(a, b, dim=0)
    with pytest.raises(ValueError):  # also a ValueError for generic handlers
        mx.nd.elemwise_add(a, mx.nd.ones((3, 2)))


def test_unknown_op_names():
    with pytest.raises(base.NotFoundError, match="no_such_op"):
        mx.nd.invoke("no_such_op", [mx.nd.ones((1,))])
    with pytest.raises(KeyError):
        mx.nd.invoke("Convolution2000", [])
    with pytest.raises(AttributeError):
        mx.nd.no_such_function


def test_unparsable_and_out_of_range_parameters():
    x = mx.nd.ones((2, 3))
    with pytest.raises(base.InvalidArgumentError, match="mode"):
        mx.nd.take(x, mx.nd.array([0]), mode="bogus")
    with pytest.raises(base.InvalidArgumentError, match="axis"):
        mx.nd.take(x, mx.nd.array([0]), axis="first")
    with pytest.raises(base.InvalidArgumentError, match="axis"):
        mx.nd.take(x, mx.nd.array([0]), axis=7)
    with pytest.raises(base.InvalidArgumentError, match="dtype"):
        mx.nd.Cast(x)  # required parameter missing
    with pytest.raises(base.InvalidArgumentError):
        mx.nd.invoke("take", [x, x], {"no_such_param": 1})
    with pytest.raises(base.InvalidArgumentError):
        mx.nd.transpose(x, axes=(0, "a"))
    # As in MXNet, unknown keywords reach the op, which names them.
    with pytest.raises(base.InvalidArgumentError, match="no parameter 'no_such_keyword'"):
        mx.nd.take(x, mx.nd.array([0]), no_such_keyword=1)


def test_wrong_dtypes():
    f32 = mx.nd.ones((3,))
    i32 = mx.nd.ones((3,), dtype="int32")
    with pytest.raises(base.DTypeError, match="int32"):
        f32 + i32
    with pytest.raises(base.DTypeError):
        mx.nd.zeros((2,), dtype="complex64")
    with pytest.raises(base.DTypeError):
        mx.nd.array([1, 2], dtype="float8")
    with pytest.raises(base.InvalidArgumentError, match="nonsense"):
        mx.nd.Cast(f32, dtype="nonsense")  # a bad parameter value
    with pytest.raises(TypeError):
        mx.nd.broadcast_add(f32, 1.0)  # inputs must be NDArrays


def test_freed_array():
    x = mx.nd.ones((2, 2))
    y = mx.nd.ones((2, 2))
    x.free()
    with pytest.raises(base.HandleError, match="freed"):
        x + y
    with pytest.raises(base.HandleError, match="freed"):
        y * x
    with pytest.raises(base.HandleError, match="freed"):
        x.asnumpy()
    with pytest.raises(base.HandleError, match="freed"):
        x.shape
    with pytest.raises(base.HandleError, match="freed"):
        mx.nd.broadcast_add(y, x)
    with pytest.raises(base.HandleError, match="freed"):
        y += x
    with pytest.raises(base.HandleError):
        x[0]
    with pytest.raises(base.HandleError):
        mx.nd.save_to_bytes([x])
    np.testing.assert_array_equal(y.asnumpy(), np.ones((2, 2)))  # earlier data intact


def test_gpu_in_cpu_build():
    if mx.num_gpus() > 0:
        pytest.skip("this build has GPUs")
    ctx = mx.gpu(0)  # creating the context is fine
    assert str(ctx) == "gpu(0)"
    for make in (lambda: mx.nd.zeros((2,), ctx=ctx), lambda: mx.nd.array([1.0], ctx=ctx),
                 lambda: mx.nd.empty((2,), ctx=ctx), lambda: mx.nd.ones((1,)).copyto(ctx),
                 lambda: mx.nd.random.uniform(shape=(2,), ctx=ctx)):
        with pytest.raises(base.UnsupportedError, match="built without CUDA"):
            make()
    with pytest.raises(NotImplementedError, match="without CUDA"):
        with mx.gpu(0):
            mx.nd.zeros((1,))


def test_bad_files(tmp_path):
    with pytest.raises(base.NotFoundError, match="missing.nd"):  # the ABI's "unknown file"
        mx.nd.load(str(tmp_path / "missing.nd"))
    bad = tmp_path / "bad.nd"
    bad.write_bytes(b"\x12\x01\x00\x00garbage")
    with pytest.raises(base.MXIOError):
        mx.nd.load(str(bad))
    blob = mx.nd.save_to_bytes([mx.nd.ones((100,))])
    with pytest.raises(base.MXIOError):
        mx.nd.load_from_bytes(blob[: len(blob) // 2])
    with pytest.raises(base.MXIOError):
        mx.nd.save(str(tmp_path / "no_dir" / "x.nd"), [mx.nd.ones((1,))])


def test_async_error_surfaces_at_read():
    x = mx.nd.ones((2, 3))
    try:
        bad = mx.nd.take(x, mx.nd.array([0, 5], dtype="int64"), mode="raise")
    except base.MXIndexError as e:  # only the synchronous engine raises at the call
        assert base.lib_info("engine") == "NaiveEngine"
        assert "take" in str(e)
    else:
        with pytest.raises(base.MXIndexError, match="take"):
            bad.asnumpy()
        with pytest.raises(IndexError):
            bad.wait_to_read()
        with pytest.raises(base.MXIndexError):  # reported once more, by the next waitall
            mx.nd.waitall()
    mx.nd.waitall()
    np.testing.assert_array_equal((x + 1).asnumpy(), np.full((2, 3), 2.0))


def test_creation_argument_errors():
    with pytest.raises(TypeError):
        mx.nd.array(object())
    with pytest.raises(base.MXNetError):
        mx.nd.zeros((-2, 3))
    with pytest.raises(ValueError):
        mx.Context("tpu", 0)
    with pytest.raises(TypeError):
        mx.nd.NDArray(5)
