"""NDArray __getitem__ / __setitem__ against numpy for many index forms."""
import numpy as np
import pytest

import mx

SHAPE = (4, 5, 6)

GET_KEYS = [
    0, 3, -1, -4,
    slice(None), slice(1, 3), slice(-3, None), slice(None, None, 2), slice(None, None, -1),
    slice(3, 0, -2), slice(10, 20), slice(2, 2),
    (1, 2), (1, 2, 3), (-1, -2, -3), (0, slice(1, 4)), (slice(None), 1), (slice(None), -1, 2),
    (slice(1, 3), slice(None, None, -2), slice(4, 1, -1)),
    (Ellipsis, 1), (1, Ellipsis), (Ellipsis,), (0, Ellipsis, slice(2, 5)),
    None, (None, 1), (slice(None), None, 2), (Ellipsis, None), (1, None, None, slice(None, 3)),
    (),
    [2, 0], [[0, 1], [3, 3]], [-1, 0, -4],
    (slice(None), [4, 0, 2]), (Ellipsis, [5, 1]), (slice(1, 3), [0, 0]),
    ([0, 2], [1, 3]), ([0, 2], slice(None), [1, 3]), (1, [0, 2]), ([1, 2], 3),
    (0, slice(None), [1, 5]), ([[0], [3]], [1, 2, 4]), (slice(None, None, -1), [2, 1], 0),
    (None, [1, 2]), ([0, 1], None, 2),
    np.array([True, False, True, False]),
    (slice(None), np.array([True, True, False, False, True])),
    (Ellipsis, np.array([False, True, False, True, False, True])),
]


def _ids(keys):
    return [repr(k).replace(" ", "")[:60] for k in keys]


@pytest.fixture
def data():
    return np.arange(np.prod(SHAPE), dtype=np.float32).reshape(SHAPE)


@pytest.mark.parametrize("key", GET_KEYS, ids=_ids(GET_KEYS))
def test_getitem_matches_numpy(data, key):
    x = mx.nd.array(data)
    got = x[key]
    exp = data[key]
    assert got.shape == exp.shape
    np.testing.assert_array_equal(got.asnumpy(), exp)


def test_getitem_2d_mask():
    data = np.arange(20, dtype=np.float32).reshape(4, 5)
    mask = data % 3 == 0
    x = mx.nd.array(data)
    np.testing.assert_array_equal(x[mask].asnumpy(), data[mask])
    np.testing.assert_array_equal(x[mx.nd.array(mask, dtype="bool")].asnumpy(), data[mask])


@pytest.mark.parametrize("dtype", ["float32", "int32", "int64", "uint8", "float16"])
def test_getitem_ndarray_index(data, dtype):
    x = mx.nd.array(data)
    idx = np.array([3, 1, 1], dtype=dtype)
    got = x[mx.nd.array(idx, dtype=dtype)]
    np.testing.assert_array_equal(got.asnumpy(), data[idx.astype(np.int64)])
    got = x[:, mx.nd.array(np.array([4, 0], dtype=dtype), dtype=dtype)]
    np.testing.assert_array_equal(got.asnumpy(), data[:, [4, 0]])


def test_getitem_numpy_integer_scalars(data):
    x = mx.nd.array(data)
    np.testing.assert_array_equal(x[np.int64(2)].asnumpy(), data[2])
    np.testing.assert_array_equal(x[np.int32(1), np.uint8(3)].asnumpy(), data[1, 3])
    np.testing.assert_array_equal(x[np.array(2)].asnumpy(), data[2])


@pytest.mark.parametrize("dtype", ["float64", "int32", "int8", "bool", "bfloat16"])
def test_getitem_other_dtypes(dtype):
    base = np.arange(24).reshape(4, 6) % 5
    host = base.astype(np.float32 if dtype == "bfloat16" else dtype)
    x = mx.nd.array(host, dtype=dtype)
    for key in (1, (slice(None), 2), (slice(None, None, -1), slice(1, 5, 2)), [3, 0], (0, [1, 2])):
        got = x[key]
        assert str(got.dtype) == str(x.dtype)
        np.testing.assert_array_equal(got.asnumpy(), host[key])


def test_integer_and_slice_are_views(data):
    x = mx.nd.array(data)
    for key in (1, -1, slice(1, 3), (2, 3), (1, slice(2, 4)), (1, 2, slice(0, 3)), (None, 2)):
        v = x[key]
        assert v.storage_id() == x.storage_id(), key
    v = x[2]
    v[:] = -7
    assert (x.asnumpy()[2] == -7).all()
    w = x[1, 1:3]
    w += 1000
    exp = data.copy()
    exp[2] = -7
    exp[1, 1:3] += 1000
    np.testing.assert_array_equal(x.asnumpy(), exp)


def test_strided_and_advanced_results_are_copies(data):
    x = mx.nd.array(data)
    for key in ((slice(None), slice(None, None, 2)), [0, 1], (Ellipsis, 3)):
        r = x[key]
        r[:] = 0
    np.testing.assert_array_equal(x.asnumpy(), data)


@pytest.mark.parametrize("key", [4, -5, (0, 5), (0, 0, 6), [0, 4], (slice(None), [5]), [-5]],
                         ids=_ids([4, -5, (0, 5), (0, 0, 6), [0, 4], (slice(None), [5]), [-5]]))
def test_getitem_out_of_range(data, key):
    x = mx.nd.array(data)
    with pytest.raises(IndexError):
        x[key]


@pytest.mark.parametrize("key", [(0, 0, 0, 0), (Ellipsis, Ellipsis), 1.5, "a", [1.5, 2],
                                 ([0, 1], [0, 1, 2]), np.array([True, False])])
def test_getitem_invalid(data, key):
    x = mx.nd.array(data)
    with pytest.raises(IndexError):
        x[key]


SET_KEYS = [
    0, -1, slice(1, 3), slice(None, None, -2), (1, 2), (1, 2, 3), (slice(None), 1),
    (slice(1, 4, 2), slice(None, None, -1), 0), (Ellipsis, 2), (None, 1), (1, None, slice(2, 5)),
    slice(None), (), (Ellipsis,),
    [2, 0], (slice(None), [4, 0, 2]), ([0, 2], [1, 3]), ([0, 2], slice(None), [1, 3]), (1, [0, 2]),
    ([[0], [3]], [1, 2, 4]), (slice(None, None, -1), [2, 1], 0),
    np.array([True, False, True, True]),
    (slice(None), np.array([True, False, False, False, True])),
]


@pytest.mark.parametrize("key", SET_KEYS, ids=_ids(SET_KEYS))
@pytest.mark.parametrize("kind", ["scalar", "same_shape_np", "same_shape_nd", "broadcast_row",
                                  "list"])
def test_setitem_matches_numpy(data, key, kind):
    rng = np.random.default_rng(5)
    target = data[key].shape
    if kind == "scalar":
        value = 2.5
    elif kind == "broadcast_row":
        value = rng.uniform(size=target[-1:] if target else ()).astype(np.float32)
    else:
        value = rng.uniform(size=target).astype(np.float32)
    x = mx.nd.array(data)
    exp = data.copy()
    exp[key] = value
    if kind == "same_shape_nd":
        value = mx.nd.array(value)
    elif kind == "list":
        value = value.tolist()
    x[key] = value
    np.testing.assert_array_equal(x.asnumpy(), exp)


def test_setitem_broadcast_ndarray_value(data):
    x = mx.nd.array(data)
    exp = data.copy()
    x[:, 1:3] = mx.nd.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
    exp[:, 1:3] = np.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
    np.testing.assert_array_equal(x.asnumpy(), exp)
    x[[0, 3]] = mx.nd.array(np.ones((1, 1, 6), np.float32) * 9)
    exp[[0, 3]] = 9
    np.testing.assert_array_equal(x.asnumpy(), exp)


def test_setitem_casts_value_to_array_dtype():
    x = mx.nd.zeros((2, 3), dtype="int32")
    x[0] = mx.nd.array([1.7, 2.2, -3.9])
    x[1, 1:] = 5.9
    np.testing.assert_array_equal(x.asnumpy(), [[1, 2, -3], [0, 5, 5]])
    assert x.dtype == np.int32


def test_setitem_overlapping_source(data):
    x = mx.nd.array(data)
    exp = data.copy()
    x[1:] = x[:-1]
    exp[1:] = exp[:-1].copy()
    np.testing.assert_array_equal(x.asnumpy(), exp)


def test_setitem_bad_value_shape(data):
    x = mx.nd.array(data)
    with pytest.raises(ValueError):
        x[0] = np.ones((3, 3), np.float32)
    with pytest.raises(ValueError):
        x[[0, 1]] = np.ones((3,), np.float32)
    with pytest.raises(IndexError):
        x[9] = 1.0


def test_setitem_through_view_updates_parent():
    x = mx.nd.zeros((3, 4))
    row = x[1]
    row[1:3] = 4.0
    row[[0, 3]] = mx.nd.array([7.0, 8.0])
    np.testing.assert_array_equal(x.asnumpy(), [[0, 0, 0, 0], [7, 4, 4, 8], [0, 0, 0, 0]])


def test_scalar_array_indexing():
    x = mx.nd.array(5.0)
    assert x[()].shape == ()
    assert x[...].asscalar() == 5.0
    x[()] = 3.0
    assert x.asscalar() == 3.0
    with pytest.raises(IndexError):
        x[0]
