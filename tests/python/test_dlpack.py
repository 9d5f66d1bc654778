"""Zero-copy exchange: numpy -> NDArray (from_numpy, from_dlpack) and NDArray -> numpy (DLPack)."""
import gc
import sys

import numpy as np
import pytest

import mx


def _ptr(a):
    return a.__array_interface__["data"][0]


# ---------------------------------------------------------------- numpy -> NDArray
@pytest.mark.parametrize("dtype", ["float32", "float64", "float16", "uint8", "int8", "int32",
                                   "int64", "bool"])
def test_from_numpy_zero_copy_shares_the_pointer(dtype):
    a = (np.arange(12).reshape(3, 4) % 2).astype(dtype)
    x = mx.nd.from_numpy(a, zero_copy=True)
    assert x._data_pointer() == _ptr(a)
    assert x.dtype == a.dtype and x.shape == a.shape
    np.testing.assert_array_equal(x.asnumpy(), a)


def test_from_numpy_write_through_ndarray_seen_by_numpy():
    a = np.zeros((2, 3), np.float32)
    x = mx.nd.from_numpy(a)
    assert not a.flags.writeable  # as MXNet: the numpy side must not change behind libmx
    x[:] = 3.0
    x[1] += 1.0
    x.wait_to_read()
    np.testing.assert_array_equal(a, [[3, 3, 3], [4, 4, 4]])


def test_from_numpy_keeps_numpy_buffer_alive():
    a = np.arange(1000, dtype=np.float64)
    before = sys.getrefcount(a)
    x = mx.nd.from_numpy(a)
    assert sys.getrefcount(a) == before + 1
    ptr = _ptr(a)
    del a
    gc.collect()
    assert x._data_pointer() == ptr
    np.testing.assert_array_equal(x.asnumpy(), np.arange(1000, dtype=np.float64))
    view = x[10:20]
    del x
    gc.collect()
    np.testing.assert_array_equal(view.asnumpy(), np.arange(10, 20, dtype=np.float64))


def test_from_numpy_releases_reference_when_done():
    a = np.ones(10, np.float32)
    base = sys.getrefcount(a)
    x = mx.nd.from_numpy(a)
    y = x + 1
    y.wait_to_read()
    del x
    gc.collect()
    mx.nd.waitall()
    assert sys.getrefcount(a) == base


def test_from_numpy_rejects_what_cannot_be_shared():
    with pytest.raises(mx.base.InvalidArgumentError, match="C-contiguous"):
        mx.nd.from_numpy(np.ones((4, 4), np.float32)[:, ::2])
    with pytest.raises(mx.base.DTypeError, match="complex128"):
        mx.nd.from_numpy(np.ones(3, np.complex128))
    with pytest.raises(mx.base.DTypeError):
        mx.nd.from_numpy(np.ones(3, np.uint16))
    with pytest.raises(mx.base.DTypeError):
        mx.nd.from_numpy(np.ones(3, np.dtype(">f4")))
    with pytest.raises(TypeError):
        mx.nd.from_numpy([1, 2, 3])


def test_from_numpy_copy_mode():
    a = np.arange(6, dtype=np.int32)
    x = mx.nd.from_numpy(a, zero_copy=False)
    assert x.dtype == np.int32
    assert x._data_pointer() != _ptr(a)
    assert a.flags.writeable
    a[0] = 100
    assert x.asnumpy()[0] == 0


def test_from_dlpack_of_numpy_shares_memory():
    a = np.arange(8, dtype=np.float32).reshape(2, 4)
    x = mx.nd.from_dlpack(a)
    assert x._data_pointer() == _ptr(a)
    a[1, 1] = -1  # numpy exported it writable: a write is seen by the NDArray
    assert x.asnumpy()[1, 1] == -1


# ---------------------------------------------------------------- NDArray -> numpy
@pytest.mark.parametrize("dtype", ["float32", "float64", "float16", "uint8", "int8", "int32",
                                   "int64", "bool"])
def test_np_from_dlpack_shares_the_pointer(dtype):
    x = mx.nd.array(np.arange(6).reshape(2, 3) % 2, dtype=dtype)
    a = np.from_dlpack(x)
    assert _ptr(a) == x._data_pointer()
    assert a.dtype == np.dtype(dtype) and a.shape == (2, 3)
    np.testing.assert_array_equal(a, x.asnumpy())


def test_np_from_dlpack_write_seen_by_ndarray_and_back():
    x = mx.nd.zeros((3, 3))
    a = np.from_dlpack(x)
    a[0, :] = 5
    np.testing.assert_array_equal(x.asnumpy()[0], [5, 5, 5])
    x[2] = 7.0
    x.wait_to_read()
    np.testing.assert_array_equal(a[2], [7, 7, 7])


def test_dlpack_of_view_points_into_parent():
    x = mx.nd.array(np.arange(12, dtype=np.float32).reshape(4, 3))
    a = np.from_dlpack(x[2])
    assert _ptr(a) == x._data_pointer() + 2 * 3 * 4
    np.testing.assert_array_equal(a, [6, 7, 8])


def test_exported_memory_outlives_the_ndarray():
    x = mx.nd.array(np.arange(5, dtype=np.float64), dtype="float64")
    a = np.from_dlpack(x)
    del x
    gc.collect()
    np.testing.assert_array_equal(a, np.arange(5, dtype=np.float64))


def test_versioned_and_legacy_capsules():
    x = mx.nd.ones((2, 2))
    legacy = x.__dlpack__()
    assert "dltensor" in repr(legacy) and "versioned" not in repr(legacy)
    assert "dltensor" in repr(x.__dlpack__(max_version=(0, 8)))
    versioned = x.__dlpack__(max_version=(1, 0))
    assert "dltensor_versioned" in repr(versioned)
    for cap in (legacy, versioned):
        y = mx.nd.from_dlpack(cap)
        assert y._data_pointer() == x._data_pointer()
        np.testing.assert_array_equal(y.asnumpy(), np.ones((2, 2)))
    assert x.__dlpack_device__() == (1, 0)


def test_capsule_consumed_once():
    x = mx.nd.ones((3,))
    cap = x.__dlpack__(max_version=(1, 0))
    mx.nd.from_dlpack(cap)
    assert "used_dltensor" in repr(cap)
    with pytest.raises(mx.base.InvalidArgumentError, match="already consumed"):
        mx.nd.from_dlpack(cap)
    legacy = mx.nd.to_dlpack_for_read(x)
    mx.nd.from_dlpack(legacy)
    with pytest.raises(mx.base.InvalidArgumentError):
        mx.nd.from_dlpack(legacy)


def test_unconsumed_capsule_releases_its_tensor():
    x = mx.nd.ones((1000,))
    for _ in range(100):
        cap = x.__dlpack__(max_version=(1, 0))
        del cap
        cap = x.__dlpack__()
        del cap
    gc.collect()
    np.testing.assert_array_equal(x.asnumpy(), np.ones(1000))


def test_dlpack_copy_and_device_arguments():
    x = mx.nd.array([1.0, 2.0])
    a = np.from_dlpack(x, copy=True)
    assert _ptr(a) != x._data_pointer()
    a[0] = 10
    assert x.asnumpy()[0] == 1.0
    cap = x.__dlpack__(max_version=(1, 0), dl_device=(1, 0), copy=False)
    assert mx.nd.from_dlpack(cap)._data_pointer() == x._data_pointer()
    with pytest.raises(BufferError):
        x.__dlpack__(stream=1)
    with pytest.raises(BufferError):
        x.__dlpack__(dl_device=(2, 0))


def test_from_dlpack_rejects_other_objects():
    with pytest.raises(TypeError):
        mx.nd.from_dlpack(object())
    with pytest.raises(mx.base.MXNetError):
        mx.nd.from_dlpack(np.ones((4, 4), np.float32)[:, ::2])  # strided: not compact
