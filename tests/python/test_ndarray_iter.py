"""mx.io: NDArrayIter (pad / discard / roll_over, shuffle, dict inputs), DataBatch, DataDesc."""
import numpy as np
import pytest

import mx
from mx import nd
from mx.io import DataBatch, DataDesc, NDArrayIter


def _data(n=10):
    return np.arange(n * 3, dtype=np.float32).reshape(n, 3), np.arange(n, dtype=np.float32)


def test_datadesc_and_databatch():
    d = DataDesc("data", (4, 3))
    assert d.name == "data" and d.shape == (4, 3) and d == ("data", (4, 3))
    assert d.dtype == np.float32 and d.layout == "NCHW"
    assert repr(d) == "DataDesc[data,(4, 3),<class 'numpy.float32'>,NCHW]"
    assert DataDesc.get_batch_axis("TNC") == 1 and DataDesc.get_batch_axis(None) == 0
    lst = DataDesc.get_list([("a", (1, 2))], [("a", np.int32)])
    assert lst[0].dtype == np.int32
    b = DataBatch([nd.ones((2, 3))], [nd.ones((2,))], pad=1)
    assert b.pad == 1 and "data shapes: [(2, 3)]" in str(b)
    with pytest.raises(TypeError):
        DataBatch(nd.ones((2, 3)))


def test_pad():
    x, y = _data()
    it = NDArrayIter(x, y, batch_size=4)
    assert it.provide_data == [DataDesc("data", (4, 3))]
    assert it.provide_label == [DataDesc("softmax_label", (4,))]
    batches = list(it)
    assert len(batches) == 3
    assert [b.pad for b in batches] == [0, 0, 2]
    np.testing.assert_array_equal(batches[2].data[0].asnumpy(), x[[8, 9, 0, 1]])
    np.testing.assert_array_equal(batches[2].label[0].asnumpy(), y[[8, 9, 0, 1]])
    assert list(it) == []                     # exhausted until reset
    it.reset()
    again = list(it)
    np.testing.assert_array_equal(again[0].data[0].asnumpy(), x[:4])


def test_pad_larger_than_data():
    x, y = _data(3)
    b = list(NDArrayIter(x, y, batch_size=8))
    assert len(b) == 1 and b[0].pad == 5
    np.testing.assert_array_equal(b[0].label[0].asnumpy(), [0, 1, 2, 0, 1, 2, 0, 1])


def test_discard():
    x, y = _data()
    batches = list(NDArrayIter(x, y, batch_size=4, last_batch_handle="discard"))
    assert len(batches) == 2 and all(b.pad == 0 for b in batches)
    np.testing.assert_array_equal(batches[1].data[0].asnumpy(), x[4:8])


def test_roll_over():
    x, y = _data()
    it = NDArrayIter(x, y, batch_size=4, last_batch_handle="roll_over")
    first = list(it)
    assert len(first) == 2
    it.reset()
    second = list(it)
    np.testing.assert_array_equal(second[0].label[0].asnumpy(), [8, 9, 0, 1])
    assert second[0].pad == 2
    np.testing.assert_array_equal(second[1].label[0].asnumpy(), [2, 3, 4, 5])


def test_shuffle_keeps_pairs():
    x, y = _data(20)
    np.random.seed(0)
    it = NDArrayIter(x, y, batch_size=5, shuffle=True)
    seen = []
    for b in it:
        d, l = b.data[0].asnumpy(), b.label[0].asnumpy()
        np.testing.assert_array_equal(d, x[l.astype(int)])   # pairs stay together
        seen += l.tolist()
    assert sorted(seen) == list(range(20)) and seen != list(range(20))
    it.reset()
    seen2 = [v for b in it for v in b.label[0].asnumpy().tolist()]
    assert sorted(seen2) == list(range(20)) and seen2 != seen


def test_dict_and_list_inputs():
    x, y = _data(6)
    z = x * 2
    it = NDArrayIter({"b": z, "a": nd.array(x)}, {"lab": y}, batch_size=3)
    assert [d.name for d in it.provide_data] == ["a", "b"]     # sorted by name
    b = next(it)
    np.testing.assert_array_equal(b.data[0].asnumpy(), x[:3])
    np.testing.assert_array_equal(b.data[1].asnumpy(), z[:3])
    it2 = NDArrayIter([x, z], batch_size=2, data_name="in")
    assert [d.name for d in it2.provide_data] == ["_0_in", "_1_in"]
    assert it2.provide_label == []
    assert next(it2).label == []
    # without label
    assert len(list(NDArrayIter(x, batch_size=2))) == 3


def test_errors():
    x, y = _data(6)
    with pytest.raises(ValueError, match="same number of samples"):
        NDArrayIter(x, y[:5])
    with pytest.raises(ValueError, match="last_batch_handle"):
        NDArrayIter(x, y, last_batch_handle="bogus")
    with pytest.raises(TypeError):
        NDArrayIter("not an array")
    with pytest.raises(ValueError):
        NDArrayIter(None)
