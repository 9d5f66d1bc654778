"""Data iterators (MXNet 1.x ``mxnet.io``): DataDesc, DataBatch, DataIter, NDArrayIter.

The iterators only orchestrate: slicing, concatenation and shuffling of the arrays are op calls
(``NDArray`` slicing, ``concat``, ``take``); numpy is used only for the index permutation.
"""
from collections import OrderedDict, namedtuple

import numpy as np

from .. import ndarray as nd
from ..ndarray import NDArray

__all__ = ["DataDesc", "DataBatch", "DataIter", "NDArrayIter"]


class DataDesc(namedtuple("DataDesc", ["name", "shape"])):
    """Name, shape, dtype and layout of one input of a data iterator.

    ``DataDesc(name, shape, dtype=np.float32, layout='NCHW')`` is a ``(name, shape)`` tuple with
    the extra attributes ``dtype`` and ``layout``.
    """

    def __new__(cls, name, shape, dtype=np.float32, layout="NCHW"):
        ret = super(DataDesc, cls).__new__(cls, name, shape)
        ret.dtype = dtype
        ret.layout = layout
        return ret

    def __repr__(self):
        return "DataDesc[%s,%s,%s,%s]" % (self.name, self.shape, self.dtype, self.layout)

    @staticmethod
    def get_batch_axis(layout):
        """The index of 'N' in layout (0 when layout is None)."""
        if layout is None:
            return 0
        return layout.find("N")

    @staticmethod
    def get_list(shapes, types):
        """DataDesc list from ``[(name, shape)]`` and an optional ``[(name, dtype)]``."""
        if types is not None:
            type_dict = dict(types)
            return [DataDesc(x[0], x[1], type_dict[x[0]]) for x in shapes]
        return [DataDesc(x[0], x[1]) for x in shapes]


class DataBatch(object):
    """One batch: lists of NDArrays ``data`` and ``label``, ``pad`` (padded samples at the end),
    ``index``, ``bucket_key``, ``provide_data``/``provide_label`` (DataDesc lists)."""

    def __init__(self, data, label=None, pad=None, index=None, bucket_key=None,
                 provide_data=None, provide_label=None):
        if data is not None and not isinstance(data, (list, tuple)):
            raise TypeError("Data must be list of NDArrays")
        if label is not None and not isinstance(label, (list, tuple)):
            raise TypeError("Label must be list of NDArrays")
        self.data = data
        self.label = label
        self.pad = pad
        self.index = index
        self.bucket_key = bucket_key
        self.provide_data = provide_data
        self.provide_label = provide_label

    def __str__(self):
        data_shapes = [d.shape for d in self.data]
        label_shapes = [l.shape for l in self.label] if self.label else None
        return "{}: data shapes: {} label shapes: {}".format(
            self.__class__.__name__, data_shapes, label_shapes)


class DataIter(object):
    """Base class of the data iterators: ``for batch in it`` or ``it.next()``; ``reset()``."""

    def __init__(self, batch_size=0):
        self.batch_size = batch_size

    def __iter__(self):
        return self

    def reset(self):
        """Go back to the first batch."""

    def next(self):
        """The next DataBatch (StopIteration at the end)."""
        if self.iter_next():
            return DataBatch(data=self.getdata(), label=self.getlabel(), pad=self.getpad(),
                             index=self.getindex())
        raise StopIteration

    def __next__(self):
        return self.next()

    def iter_next(self):
        """Move to the next batch; False at the end."""
        raise NotImplementedError

    def getdata(self):
        raise NotImplementedError

    def getlabel(self):
        return None

    def getindex(self):
        return None

    def getpad(self):
        return 0


def _init_data(data, allow_empty, default_name):
    """Canonical form of data/label: a sorted list of (name, NDArray)."""
    if data is None:
        if not allow_empty:
            raise ValueError("data must not be None")
        data = []
    if isinstance(data, (np.ndarray, NDArray)):
        data = [data]
    if isinstance(data, list):
        if not allow_empty and len(data) == 0:
            raise ValueError("data must not be empty")
        if len(data) == 1:
            data = OrderedDict([(default_name, data[0])])
        else:
            data = OrderedDict([("_%d_%s" % (i, default_name), d) for i, d in enumerate(data)])
    if not isinstance(data, dict):
        raise TypeError("Input must be NDArray, numpy.ndarray, a list of them or dict with them "
                        "as values")
    out = OrderedDict()
    for k, v in data.items():
        if not isinstance(v, NDArray):
            try:
                v = nd.array(v)
            except Exception:
                raise TypeError("Invalid type '%s' for %s, should be NDArray or numpy.ndarray"
                                % (type(v), k)) from None
        out[k] = v
    return list(sorted(out.items()))


class NDArrayIter(DataIter):
    """Iterates over NDArrays / numpy arrays (or a list / dict of them) in batches.

    Parameters
    ----------
    data, label : array, list of arrays or dict name -> array
        The first axis is the sample axis; all arrays must have the same length.
    batch_size : int
    shuffle : bool
        Shuffle the samples at the start and at every ``reset()``.
    last_batch_handle : 'pad' (default), 'discard' or 'roll_over'
        'pad' fills the last batch with samples from the start (``batch.pad`` says how many),
        'discard' drops it, 'roll_over' carries it into the first batch of the next epoch.
    data_name, label_name : str
        Names of data / label when they are not given as a dict.
    """

    def __init__(self, data, label=None, batch_size=1, shuffle=False, last_batch_handle="pad",
                 data_name="data", label_name="softmax_label"):
        super(NDArrayIter, self).__init__(batch_size)
        if last_batch_handle not in ("pad", "discard", "roll_over"):
            raise ValueError("last_batch_handle must be 'pad', 'discard' or 'roll_over', got %r"
                             % (last_batch_handle,))
        if int(batch_size) <= 0:
            raise ValueError("batch_size must be positive, got %r" % (batch_size,))
        self.data = _init_data(data, allow_empty=False, default_name=data_name)
        self.label = _init_data(label, allow_empty=True, default_name=label_name)
        self.num_data = self.data[0][1].shape[0]
        for k, v in self.data + self.label:
            if v.shape[0] != self.num_data:
                raise ValueError("all data and labels must have the same number of samples: "
                                 "%s has %d, %s has %d" % (self.data[0][0], self.num_data, k,
                                                           v.shape[0]))
        self.idx = np.arange(self.num_data)
        self.shuffle = shuffle
        self.last_batch_handle = last_batch_handle
        self.batch_size = int(batch_size)
        self.cursor = -self.batch_size
        self._cache_data = None
        self._cache_label = None
        self.reset()
        self.data_list = [x[1] for x in self.data] + [x[1] for x in self.label]
        self.num_source = len(self.data_list)

    @property
    def provide_data(self):
        return [DataDesc(k, tuple([self.batch_size] + list(v.shape[1:])), v.dtype)
                for k, v in self.data]

    @property
    def provide_label(self):
        return [DataDesc(k, tuple([self.batch_size] + list(v.shape[1:])), v.dtype)
                for k, v in self.label]

    def hard_reset(self):
        """Back to the start, dropping the roll_over cache."""
        if self.shuffle:
            self._shuffle_data()
        self.cursor = -self.batch_size
        self._cache_data = None
        self._cache_label = None

    def reset(self):
        if self.shuffle:
            self._shuffle_data()
        if (self.last_batch_handle == "roll_over"
                and self.num_data - self.batch_size < self.cursor < self.num_data):
            # cursor - num_data samples are cached for the first batch of the new epoch
            self.cursor = self.cursor - self.num_data - self.batch_size
        else:
            self.cursor = -self.batch_size

    def iter_next(self):
        self.cursor += self.batch_size
        return self.cursor < self.num_data

    def next(self):
        if not self.iter_next():
            raise StopIteration
        data = self.getdata()
        label = self.getlabel()
        if data[0].shape[0] != self.batch_size:
            # incomplete last batch ('discard' / 'roll_over'): keep it for the next epoch
            self._cache_data = data
            self._cache_label = label
            raise StopIteration
        return DataBatch(data=data, label=label, pad=self.getpad(), index=None)

    def _getdata(self, source, start=None, end=None):
        start = 0 if start is None else start
        if end is None:
            end = source[0][1].shape[0] if source else 0
        return [x[1][start:end] for x in source]

    @staticmethod
    def _concat(first, second):
        return [nd.concat(a, b, dim=0) for a, b in zip(first, second)]

    @staticmethod
    def _tile(data, repeats):
        return [nd.concat(*([d] * repeats), dim=0) for d in data]

    def _batchify(self, source):
        if not self.cursor < self.num_data:
            raise StopIteration("DataIter needs reset.")
        if self.last_batch_handle == "roll_over" and -self.batch_size < self.cursor < 0:
            cache = self._cache_data if source is self.data else self._cache_label
            if cache is None:
                raise RuntimeError("NDArrayIter: the next epoch has no cached roll-over data")
            second = self._getdata(source, end=self.cursor + self.batch_size)
            return self._concat(cache, second)
        if self.last_batch_handle == "pad" and self.cursor + self.batch_size > self.num_data:
            pad = self.batch_size - self.num_data + self.cursor
            first = self._getdata(source, start=self.cursor)
            if pad > self.num_data:
                second = self._tile(self._getdata(source, end=self.num_data),
                                    pad // self.num_data)
                if pad % self.num_data != 0:
                    second = self._concat(second,
                                          self._getdata(source, end=pad % self.num_data))
            else:
                second = self._getdata(source, end=pad)
            return self._concat(first, second)
        end = min(self.cursor + self.batch_size, self.num_data)
        return self._getdata(source, self.cursor, end)

    def getdata(self):
        return self._batchify(self.data)

    def getlabel(self):
        return self._batchify(self.label)

    def getpad(self):
        if self.last_batch_handle == "pad" and self.cursor + self.batch_size > self.num_data:
            return self.cursor + self.batch_size - self.num_data
        if self.last_batch_handle == "roll_over" and -self.batch_size < self.cursor < 0:
            return -self.cursor
        return 0

    def _shuffle_data(self):
        np.random.shuffle(self.idx)
        order = nd.array(self.idx, dtype="int64")
        self.data = [(k, nd.take(v, order, axis=0)) for k, v in self.data]
        self.label = [(k, nd.take(v, order, axis=0)) for k, v in self.label]
        self.idx = np.arange(self.num_data)
        self.data_list = [x[1] for x in self.data] + [x[1] for x in self.label]
