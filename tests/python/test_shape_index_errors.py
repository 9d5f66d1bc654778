"""Shape and indexing ops on bad input: each gives a typed mx.MXNetError subclass with a message that
names the problem, never a crash; asynchronous errors surface at the next read and leave the engine
usable. Also in-place slice assignment and large (parallel-path) runs of transpose/Concat/take,
checked against numpy.
"""
import numpy as np
import pytest

import mx
from mx import base

nd = mx.nd


@pytest.fixture
def x():
    return nd.array(np.arange(24, dtype=np.float32).reshape(2, 3, 4))


def _ok_after():
    """The engine still runs ops correctly after an error."""
    a = np.arange(6, dtype=np.float32).reshape(2, 3)
    np.testing.assert_array_equal((nd.array(a) * 2).asnumpy(), a * 2)
    np.testing.assert_array_equal(nd.transpose(nd.array(a)).asnumpy(), a.T)


# ------------------------------------------------------------------ Reshape
def test_reshape_impossible_shape(x):
    with pytest.raises(base.ShapeError, match=r"25 elements.*\(2, 3, 4\) has 24"):
        nd.Reshape(x, shape=(5, 5))
    with pytest.raises(base.ShapeError, match="not divisible"):
        nd.Reshape(x, shape=(5, -1))
    with pytest.raises(base.ShapeError, match=r"\(2, 3, 4\)"):
        x.reshape((7, -1))
    with pytest.raises(ValueError):  # ShapeError is a ValueError for generic handlers
        nd.reshape(x, shape=(25,))
    _ok_after()


def test_reshape_two_inferred_dims(x):
    with pytest.raises(base.ShapeError, match=r"only one dim can be inferred \(-1\)"):
        nd.Reshape(x, shape=(-1, -1))
    with pytest.raises(base.ShapeError, match="-1"):
        nd.Reshape(x, shape=(2, -1, -1))
    with pytest.raises(base.ShapeError, match="-4"):
        nd.Reshape(x, shape=(-4, -1, -1, 0, 0))
    _ok_after()


# ------------------------------------------------------------------ transpose / SwapAxis
def test_transpose_bad_axes(x):
    with pytest.raises(base.InvalidArgumentError, match=r"axis 5 is out of range.*ndim 3"):
        nd.transpose(x, axes=(0, 1, 5))
    with pytest.raises(base.InvalidArgumentError, match="axis -4 is out of range"):
        nd.transpose(x, axes=(0, -4, 1))
    with pytest.raises(base.InvalidArgumentError, match="has 2 entries but the input has 3 dims"):
        nd.transpose(x, axes=(0, 1))
    _ok_after()


def test_transpose_duplicate_axes(x):
    with pytest.raises(base.InvalidArgumentError, match="not a permutation"):
        nd.transpose(x, axes=(0, 1, 1))
    with pytest.raises(base.InvalidArgumentError, match="not a permutation"):
        nd.transpose(x, axes=(2, -1, 0))  # -1 is axis 2 again
    _ok_after()


def test_swapaxes_bad_axes(x):
    with pytest.raises(base.InvalidArgumentError, match=r"axis 3 is out of range"):
        nd.swapaxes(x, dim1=0, dim2=3)
    with pytest.raises(base.InvalidArgumentError, match=r"axis -4 is out of range"):
        nd.SwapAxis(x, dim1=-4, dim2=0)


# ------------------------------------------------------------------ Concat / split
def test_concat_mismatched_shapes(x):
    with pytest.raises(base.ShapeError, match=r"\(2, 4, 4\).*\(2, 3, 4\).*dim=2"):
        nd.Concat(x, nd.ones((2, 4, 4)), dim=2)
    with pytest.raises(base.ShapeError, match=r"\(2, 3\)"):
        nd.Concat(x, nd.ones((2, 3)), dim=0)
    with pytest.raises(base.InvalidArgumentError, match="axis 3 is out of range"):
        nd.Concat(x, x, dim=3)
    _ok_after()


def test_split_into_non_divisor(x):
    with pytest.raises(base.ShapeError, match=r"size 3.*cannot be split evenly into num_outputs=2"):
        nd.split(x, num_outputs=2, axis=1)
    with pytest.raises(base.ShapeError, match="num_outputs=3"):
        nd.SliceChannel(x, num_outputs=3, axis=-1)
    with pytest.raises(base.InvalidArgumentError, match="num_outputs must be at least 1"):
        nd.split(x, num_outputs=0, axis=1)
    with pytest.raises(base.ShapeError, match="squeeze_axis"):
        nd.split(nd.ones((2, 4)), num_outputs=2, axis=1, squeeze_axis=True)
    _ok_after()


# ------------------------------------------------------------------ slice
def test_slice_out_of_range(x):
    with pytest.raises(base.InvalidArgumentError, match=r"more entries than the 3 dims"):
        nd.slice(x, begin=(0, 0, 0, 0), end=(1, 1, 1, 1))
    with pytest.raises(base.InvalidArgumentError, match="same length"):
        nd.slice(x, begin=(0, 0), end=(1,))
    with pytest.raises(base.InvalidArgumentError, match="size 3 of axis 1"):
        nd.slice_axis(x, axis=1, begin=0, end=6)
    with pytest.raises(base.InvalidArgumentError, match="axis 3 is out of range"):
        nd.slice_axis(x, axis=3, begin=0, end=1)
    with pytest.raises(base.InvalidArgumentError, match="invalid range"):
        nd.slice_axis(x, axis=1, begin=2, end=1)
    # MXNet 1.9's slice clips begin/end to the axis like numpy: an out-of-range window is empty.
    a = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
    got = nd.slice(x, begin=(0, 5), end=(1, 6)).asnumpy()
    assert got.shape == a[0:1, 5:6].shape == (1, 0, 4)
    _ok_after()


def test_slice_step_zero(x):
    with pytest.raises(base.InvalidArgumentError, match=r"step\[1\] cannot be 0"):
        nd.slice(x, begin=(0, 0), end=(1, 2), step=(1, 0))
    with pytest.raises(base.InvalidArgumentError, match="step"):
        nd.slice(x, begin=(0, 0), end=(1, 1), step=(1, 1, 1))
    _ok_after()


# ------------------------------------------------------------------ take (async error)
@pytest.mark.parametrize("shape", [(2, 3, 4), (2000, 600)])  # pushing-thread and worker paths
def test_take_raise_out_of_range_is_async_and_recoverable(shape):
    data = nd.ones(shape)
    idx = nd.array([0, shape[0] + 3], dtype="int64")
    try:
        bad = nd.take(data, idx, mode="raise")
    except base.MXIndexError as e:  # only the synchronous engine raises at the call
        assert base.lib_info("engine") == "NaiveEngine"
        assert "out of bounds" in str(e)
    else:
        with pytest.raises(base.MXIndexError, match=rf"index {shape[0] + 3} is out of bounds.*size {shape[0]}"):
            bad.asnumpy()
        with pytest.raises(IndexError):  # also a builtin IndexError
            bad.wait_to_read()
        with pytest.raises(base.MXIndexError):  # reported once more, by the next waitall
            nd.waitall()
    nd.waitall()
    # Later ops, including a valid take on the same data, still work.
    good = nd.take(data, nd.array([shape[0] - 1, 0], dtype="int64"), mode="raise").asnumpy()
    np.testing.assert_array_equal(good, np.ones((2,) + shape[1:], dtype=np.float32))
    _ok_after()


def test_take_clip_and_wrap_never_raise():
    a = np.arange(12, dtype=np.float32).reshape(4, 3)
    idx = np.array([-7, 0, 3, 9])
    np.testing.assert_array_equal(nd.take(nd.array(a), nd.array(idx), mode="clip").asnumpy(),
                                  np.take(a, idx, axis=0, mode="clip"))
    np.testing.assert_array_equal(nd.take(nd.array(a), nd.array(idx), mode="wrap").asnumpy(),
                                  np.take(a, idx, axis=0, mode="wrap"))


# ------------------------------------------------------------------ one_hot / where / tile
def test_one_hot_negative_depth():
    with pytest.raises(base.InvalidArgumentError, match="depth must be non-negative, got -1"):
        nd.one_hot(nd.array([0, 1]), depth=-1)
    _ok_after()


def test_where_mismatched_shapes():
    with pytest.raises(base.ShapeError, match=r"x has shape \(2, 3\) but y has shape \(3, 2\)"):
        nd.where(nd.ones((2, 3)), nd.ones((2, 3)), nd.ones((3, 2)))
    with pytest.raises(base.ShapeError, match=r"condition has shape \(5,\)"):
        nd.where(nd.ones((5,)), nd.ones((2, 3)), nd.ones((2, 3)))
    _ok_after()


def test_tile_negative_reps(x):
    with pytest.raises(base.InvalidArgumentError, match=r"reps \(2, -1\) must be non-negative"):
        nd.tile(x, reps=(2, -1))
    _ok_after()


# ------------------------------------------------------------------ Pad
def test_pad_wrong_ndim():
    with pytest.raises(base.MXNetError, match=r"4-d or 5-d.*\(2, 3\)"):
        nd.Pad(nd.ones((2, 3)), mode="constant", pad_width=(0, 0, 0, 0, 1, 1, 1, 1))
    with pytest.raises(NotImplementedError):  # an unsupported layout, not a crash
        nd.Pad(nd.ones((2, 3, 4)), mode="edge", pad_width=(0, 0, 0, 0, 1, 1))
    _ok_after()


def test_pad_bad_pad_width():
    data = nd.ones((1, 1, 2, 3))
    with pytest.raises(base.InvalidArgumentError, match=r"must have 2\*ndim = 8 entries"):
        nd.Pad(data, mode="constant", pad_width=(0, 0, 0, 0, 1, 1))
    with pytest.raises(base.InvalidArgumentError, match="non-negative"):
        nd.Pad(data, mode="constant", pad_width=(0, 0, 0, 0, -1, 1, 1, 1))
    with pytest.raises(base.MXNetError, match="first two axes"):
        nd.Pad(data, mode="constant", pad_width=(1, 0, 0, 0, 1, 1, 1, 1))
    _ok_after()


# ------------------------------------------------------------------ gather_nd
def test_gather_nd_bad_index_shapes():
    data = nd.ones((2, 3))
    with pytest.raises(base.ShapeError, match=r"indices.shape\[0\]=3 must be between 1 and the 2 dims"):
        nd.gather_nd(data, nd.array(np.zeros((3, 2))))
    with pytest.raises(base.ShapeError, match=r"at least 2 dims.*\(\)"):
        nd.gather_nd(data, nd.array(np.zeros((1,))).reshape(()))
    _ok_after()


def test_gather_nd_out_of_range_index_is_typed():
    data = nd.ones((2, 3))
    try:
        bad = nd.gather_nd(data, nd.array([[5], [0]]))
        with pytest.raises(base.MXIndexError, match="out of bounds"):
            bad.asnumpy()
    except base.MXIndexError:
        assert base.lib_info("engine") == "NaiveEngine"
    try:
        nd.waitall()
    except base.MXIndexError:  # the error above, reported once more
        pass
    nd.waitall()
    _ok_after()


# ------------------------------------------------------------------ Cast
def test_cast_unknown_dtype(x):
    with pytest.raises(base.InvalidArgumentError, match="'float128' for parameter 'dtype'"):
        nd.Cast(x, dtype="float128")
    with pytest.raises(base.InvalidArgumentError, match="complex64"):
        nd.cast(x, dtype="complex64")
    _ok_after()


# ------------------------------------------------------------------ the extra shape ops
def test_extra_shape_op_errors(x):
    with pytest.raises(base.ShapeError, match="not divisible by block_size"):
        nd.depth_to_space(x.reshape((1, 2, 3, 4)), block_size=2)
    with pytest.raises(base.InvalidArgumentError, match="block_size must be positive"):
        nd.depth_to_space(x.reshape((1, 4, 3, 2)), block_size=0)
    with pytest.raises(base.ShapeError, match=r"must be 4-d.*\(2, 3, 4\)"):
        nd.space_to_depth(x, block_size=1)
    with pytest.raises(base.ShapeError, match="divisible by block_size = 2"):
        nd.space_to_depth(x.reshape((1, 2, 3, 4)), block_size=2)
    with pytest.raises(base.InvalidArgumentError, match="same axis"):
        nd.diag(x, axis1=1, axis2=-2)
    with pytest.raises(base.InvalidArgumentError, match="out of range"):
        nd.diag(x, axis1=0, axis2=3)
    with pytest.raises(base.ShapeError, match="0-d"):
        nd.diag(nd.ones((1,)).reshape(()))
    with pytest.raises(base.ShapeError, match=r"\(2, 3, 4\).*\(5, 5\)"):
        nd.reshape_like(x, nd.ones((5, 5)))
    with pytest.raises(base.InvalidArgumentError, match="lhs_begin=2, lhs_end=1"):
        nd.reshape_like(x, nd.ones((5, 5)), lhs_begin=2, lhs_end=1)
    with pytest.raises(base.InvalidArgumentError, match="rhs_end=5"):
        nd.reshape_like(x, nd.ones((5, 5)), rhs_end=5)
    _ok_after()


# ------------------------------------------------------------------ in-place assignment
def test_setitem_row_range_from_array():
    a = np.arange(20, dtype=np.float32).reshape(5, 4)
    y = np.full((2, 4), -1.5, dtype=np.float32)
    m = nd.array(a)
    m[1:3] = nd.array(y)
    a[1:3] = y
    np.testing.assert_array_equal(m.asnumpy(), a)
    # broadcast a row into the range, and a numpy value
    m[3:5] = nd.array(np.array([7, 8, 9, 10], dtype=np.float32))
    a[3:5] = np.array([7, 8, 9, 10], dtype=np.float32)
    np.testing.assert_array_equal(m.asnumpy(), a)
    m[0:2] = np.ones((2, 4), dtype=np.float32) * 3
    a[0:2] = 3
    np.testing.assert_array_equal(m.asnumpy(), a)


@pytest.mark.parametrize("dtype", ["float32", "float64", "int32", "int64", "uint8", "int8"])
def test_setitem_column_scalar(dtype):
    a = np.arange(24).reshape(4, 6).astype(dtype)
    m = nd.array(a, dtype=dtype)
    m[:, 0] = 5
    a[:, 0] = 5
    np.testing.assert_array_equal(m.asnumpy(), a)
    m[1:3, 2:5] = 9
    a[1:3, 2:5] = 9
    np.testing.assert_array_equal(m.asnumpy(), a)
    m[:, -1] = nd.array(np.arange(4).astype(dtype), dtype=dtype)
    a[:, -1] = np.arange(4).astype(dtype)
    np.testing.assert_array_equal(m.asnumpy(), a)


def test_setitem_bad_shape_is_typed():
    m = nd.zeros((5, 4))
    # numpy's error type (the binding checks before any op runs; mx.ShapeError is a ValueError too)
    with pytest.raises(ValueError, match=r"\(3, 4\).*\(2, 4\)"):
        m[1:3] = nd.ones((3, 4))
    np.testing.assert_array_equal(m.asnumpy(), np.zeros((5, 4), dtype=np.float32))


# ------------------------------------------------------------------ large arrays (parallel paths)
def test_large_transpose_concat_take():
    rng = np.random.default_rng(7)
    a = rng.standard_normal((64, 128, 160)).astype(np.float32)  # 1.3e6 elements
    b = rng.standard_normal((64, 40, 160)).astype(np.float32)
    ma, mb = nd.array(a), nd.array(b)
    assert a.size > 1_000_000

    np.testing.assert_array_equal(nd.transpose(ma, axes=(2, 0, 1)).asnumpy(), a.transpose(2, 0, 1))
    np.testing.assert_array_equal(nd.transpose(ma).asnumpy(), a.T)
    np.testing.assert_array_equal(nd.swapaxes(ma, dim1=0, dim2=2).asnumpy(), np.swapaxes(a, 0, 2))

    np.testing.assert_array_equal(nd.Concat(ma, mb, dim=1).asnumpy(), np.concatenate([a, b], axis=1))
    np.testing.assert_array_equal(nd.Concat(ma, ma, dim=0).asnumpy(), np.concatenate([a, a], axis=0))
    np.testing.assert_array_equal(nd.concat(ma, mb, ma, dim=-2).asnumpy(), np.concatenate([a, b, a], axis=-2))

    idx = rng.integers(0, 128, size=3000)
    np.testing.assert_array_equal(nd.take(ma, nd.array(idx, dtype="int64"), axis=1).asnumpy(),
                                  np.take(a, idx, axis=1))
    flat = a.reshape(-1, 160)
    rows = rng.integers(-5, flat.shape[0] + 5, size=20000)
    np.testing.assert_array_equal(nd.take(nd.array(flat), nd.array(rows, dtype="int64"), mode="clip").asnumpy(),
                                  np.take(flat, rows, axis=0, mode="clip"))
    np.testing.assert_array_equal(nd.take(nd.array(flat), nd.array(rows, dtype="int64"), mode="wrap").asnumpy(),
                                  np.take(flat, rows, axis=0, mode="wrap"))

    img = rng.standard_normal((8, 64, 48, 48)).astype(np.float32)  # 1.2e6 elements
    d2s = nd.depth_to_space(nd.array(img), block_size=4).asnumpy()
    ref = img.reshape(8, 4, 4, 4, 48, 48).transpose(0, 3, 4, 1, 5, 2).reshape(8, 4, 192, 192)
    np.testing.assert_array_equal(d2s, ref)
    np.testing.assert_array_equal(nd.space_to_depth(nd.array(ref), block_size=4).asnumpy(), img)
