"""DataLoader (MXNet 1.x ``mxnet.gluon.data.DataLoader``).

With ``num_workers > 0`` the samples are loaded and batched in worker PROCESSES (forked once per
DataLoader; libmx's engine is fork-safe). A worker runs the dataset and ``batchify_fn``, then
writes every array of the batch into one POSIX shared-memory block and sends only a small
descriptor (block name, offsets, shapes, dtypes) back through the pool's pipe. The parent maps
the block, copies each array into a new NDArray (``mx.nd.array``) and unlinks the block. An
exception in a worker is re-raised in the parent with the worker's traceback text.
``thread_pool=True`` uses threads instead (batches are passed as they are).
"""
import atexit
import multiprocessing
import multiprocessing.pool
import os
import pickle
import sys
import time
import traceback
import weakref

import numpy as np

from ... import ndarray as nd
from ...context import cpu_pinned
from ...ndarray import NDArray
from . import sampler as _sampler

__all__ = ["DataLoader", "default_batchify_fn", "default_mp_batchify_fn"]

_ALIGN = 64


def default_batchify_fn(data):
    """Collate a list of samples into a batch: NDArrays are stacked (``nd.stack``), tuples are
    collated element-wise (a list comes back), anything else goes through ``np.asarray`` and
    becomes an NDArray of that dtype."""
    if isinstance(data[0], NDArray):
        return nd.stack(*data)
    if isinstance(data[0], tuple):
        return [default_batchify_fn(list(i)) for i in zip(*data)]
    data = np.asarray(data)
    return nd.array(data, dtype=data.dtype)


# In worker processes the batch is built by the same function; it travels through shared memory.
default_mp_batchify_fn = default_batchify_fn


def _as_in_context(data, ctx):
    if isinstance(data, NDArray):
        return data.as_in_context(ctx)
    if isinstance(data, (list, tuple)):
        return type(data)(_as_in_context(d, ctx) for d in data)
    return data


# ----------------------------------------------------------------------------------------------
# worker side

_worker_dataset = None
_worker_batchify_fn = None


def _worker_initializer(dataset, batchify_fn):
    global _worker_dataset, _worker_batchify_fn
    _worker_dataset = dataset
    _worker_batchify_fn = batchify_fn


def _plan(obj, arrays):
    """Descriptor of obj with its arrays replaced by ('nd'|'np', index) into ``arrays``."""
    if isinstance(obj, NDArray):
        arrays.append(obj.asnumpy())
        return ("nd", len(arrays) - 1)
    if isinstance(obj, np.ndarray):
        arrays.append(np.ascontiguousarray(obj))
        return ("np", len(arrays) - 1)
    if isinstance(obj, list):
        return ("list", [_plan(o, arrays) for o in obj])
    if isinstance(obj, tuple):
        return ("tuple", [_plan(o, arrays) for o in obj])
    return ("obj", obj)


def _to_shared(batch):
    """(shm name or None, descriptor, [(offset, shape, dtype)]) of a batch, its arrays copied
    into one new shared-memory block."""
    from multiprocessing import shared_memory
    arrays = []
    desc = _plan(batch, arrays)
    if not arrays:
        return None, desc, []
    layout, size = [], 0
    for a in arrays:
        layout.append((size, a.shape, a.dtype.str))
        size += (a.nbytes + _ALIGN - 1) // _ALIGN * _ALIGN
    shm = shared_memory.SharedMemory(create=True, size=max(size, 1))
    try:
        for a, (off, shape, dt) in zip(arrays, layout):
            dst = np.ndarray(shape, dtype=np.dtype(dt), buffer=shm.buf, offset=off)
            dst[...] = a
            del dst
        name = shm.name
    except BaseException:
        shm.close()
        shm.unlink()
        raise
    shm.close()
    return name, desc, layout


def _exception_payload(e):
    text = "".join(traceback.format_exception(type(e), e, e.__traceback__))
    try:
        etype = type(e)
        pickle.dumps(etype)
    except Exception:
        etype = None
    return ("error", os.getpid(), etype, type(e).__name__, str(e), text)


def _worker_fn(samples):
    """Runs in a worker process: load and batch ``samples``; return a shared-memory record."""
    try:
        batch = _worker_batchify_fn([_worker_dataset[i] for i in samples])
        return ("ok",) + _to_shared(batch)
    except BaseException as e:  # noqa: B902 -- everything surfaces in the parent
        return _exception_payload(e)


def _thread_worker_fn(samples, batchify_fn, dataset):
    try:
        return ("batch", batchify_fn([dataset[i] for i in samples]))
    except BaseException as e:  # noqa: B902
        return _exception_payload(e)


# ----------------------------------------------------------------------------------------------
# parent side

class DataLoaderWorkerError(RuntimeError):
    """An exception raised in a DataLoader worker whose class could not be rebuilt here."""


def _raise_worker_error(payload):
    _, pid, etype, tname, msg, text = payload
    full = ("DataLoader worker (pid %d) raised %s: %s\n\nWorker traceback:\n%s"
            % (pid, tname, msg, text))
    err = None
    if etype is not None and issubclass(etype, Exception) and etype is not KeyError:
        try:
            err = etype(full)
        except Exception:
            err = None
    if err is None or str(err) != full:
        err = DataLoaderWorkerError(full)
    raise err


def _rebuild(desc, arrays):
    kind, v = desc
    if kind == "nd":
        a = arrays[v]
        return nd.array(a, dtype=a.dtype)
    if kind == "np":
        return arrays[v].copy()
    if kind == "list":
        return [_rebuild(d, arrays) for d in v]
    if kind == "tuple":
        return tuple(_rebuild(d, arrays) for d in v)
    return v


def _unlink(name):
    from multiprocessing import shared_memory
    try:
        shm = shared_memory.SharedMemory(name=name)
    except FileNotFoundError:
        return
    shm.close()
    shm.unlink()


def _from_shared(record):
    """The batch of a worker record (NDArrays copied out of the block, which is then freed)."""
    if record[0] == "error":
        _raise_worker_error(record)
    _, name, desc, layout = record
    if name is None:
        return _rebuild(desc, [])
    from multiprocessing import shared_memory
    shm = shared_memory.SharedMemory(name=name)
    try:
        arrays = [np.ndarray(shape, dtype=np.dtype(dt), buffer=shm.buf, offset=off)
                  for off, shape, dt in layout]
        batch = _rebuild(desc, arrays)
        del arrays
    finally:
        shm.close()
        shm.unlink()
    return batch


# Results of worker batches that nobody will read (abandoned iterators, an error mid-epoch):
# their shared-memory blocks are unlinked as soon as they are ready -- at the next batch of any
# loader, when a loader is collected, and (waiting a little) at interpreter exit.
_ORPHANS = []
_LIVE_ITERS = weakref.WeakSet()


def _reap_orphans(wait=0.0):
    deadline = time.monotonic() + wait
    keep = []
    for res in _ORPHANS:
        try:
            if not res.ready() and wait > 0:
                res.wait(max(0.0, deadline - time.monotonic()))
            if not res.ready():
                keep.append(res)
                continue
            if res.successful():
                rec = res.get(0)
                if rec[0] == "ok" and rec[1] is not None:
                    _unlink(rec[1])
        except Exception:
            pass
    _ORPHANS[:] = keep


def _reap_at_exit():
    for it in list(_LIVE_ITERS):
        it._orphan_pending()
    _reap_orphans(wait=2.0)


atexit.register(_reap_at_exit)


class _MultiWorkerIter(object):
    """Iterates over the batches of a worker pool, ``prefetch`` batches ahead, in order."""

    def __init__(self, pool, batch_sampler, pin_memory, pin_device_id, prefetch, timeout,
                 thread_pool, batchify_fn, dataset, loader=None):
        self._loader = loader  # keeps the loader (and so its pool) alive while iterating
        self._pool = pool
        self._iter = iter(batch_sampler)
        self._pin = pin_memory
        self._pin_id = pin_device_id
        self._timeout = timeout
        self._thread_pool = thread_pool
        self._batchify_fn = batchify_fn
        self._dataset = dataset
        self._buffer = {}
        self._rcvd = 0
        self._sent = 0
        _LIVE_ITERS.add(self)
        if _ORPHANS:
            _reap_orphans()
        for _ in range(prefetch):
            self._push_next()

    def __iter__(self):
        return self

    def _push_next(self):
        r = next(self._iter, None)
        if r is None:
            return
        if self._thread_pool:
            res = self._pool.apply_async(_thread_worker_fn, (r, self._batchify_fn, self._dataset))
        else:
            res = self._pool.apply_async(_worker_fn, (r,))
        self._buffer[self._sent] = res
        self._sent += 1

    def __next__(self):
        self._push_next()
        if self._rcvd == self._sent:
            if self._buffer:
                raise RuntimeError("DataLoader: data buffer should be empty at this moment")
            raise StopIteration
        res = self._buffer.pop(self._rcvd)
        try:
            record = res.get(self._timeout)
        except multiprocessing.TimeoutError:
            raise multiprocessing.TimeoutError(
                "DataLoader: no batch from the workers within timeout=%s seconds (a worker may "
                "have died or the dataset is too slow; raise `timeout`)" % self._timeout) from None
        self._rcvd += 1
        if record[0] == "batch":
            batch = record[1]
        elif record[0] == "error":
            self._orphan_pending()
            _raise_worker_error(record)
        else:
            batch = _from_shared(record)
        if self._pin:
            batch = _as_in_context(batch, cpu_pinned(self._pin_id))
        return batch

    next = __next__

    def _orphan_pending(self):
        """Hand the batches still in flight to the reaper (their blocks get freed)."""
        if not self._thread_pool:
            _ORPHANS.extend(self._buffer.values())
        self._buffer.clear()

    def __del__(self):
        try:
            self._orphan_pending()
            if sys is not None and not sys.is_finalizing():
                _reap_orphans()
        except Exception:
            pass


class DataLoader(object):
    """Loads data from a dataset and returns mini-batches.

    Parameters
    ----------
    dataset : Dataset
    batch_size : int
        Size of mini-batch (required unless batch_sampler is given).
    shuffle : bool
        Shuffle the samples (not with sampler).
    sampler : Sampler
        Order of the samples (not with shuffle).
    last_batch : None, 'keep', 'discard' or 'rollover'
        How to handle the last, incomplete batch (None means 'keep').
    batch_sampler : Sampler
        Yields lists of indices; excludes batch_size, shuffle, sampler and last_batch.
    batchify_fn : callable
        Merges a list of samples into a batch (default: ``default_batchify_fn``).
    num_workers : int
        Worker processes (0: load in the calling thread).
    pin_memory : bool
        Return batches in pinned (page-locked) host memory, ``mx.cpu_pinned(pin_device_id)``.
    pin_device_id : int
    prefetch : int
        Batches requested ahead (default ``2 * num_workers``).
    thread_pool : bool
        Use a pool of threads instead of processes.
    timeout : int
        Seconds to wait for a worker's batch (default 120).
    """

    def __init__(self, dataset, batch_size=None, shuffle=False, sampler=None, last_batch=None,
                 batch_sampler=None, batchify_fn=None, num_workers=0, pin_memory=False,
                 pin_device_id=0, prefetch=None, thread_pool=False, timeout=120):
        self._dataset = dataset
        self._pin_memory = pin_memory
        self._pin_device_id = pin_device_id
        self._thread_pool = thread_pool
        self._timeout = timeout
        if timeout is not None and timeout <= 0:
            raise ValueError("timeout must be positive, got %r" % (timeout,))

        if batch_sampler is None:
            if batch_size is None:
                raise ValueError("batch_size must be specified unless batch_sampler is "
                                 "specified")
            if sampler is None:
                if shuffle:
                    sampler = _sampler.RandomSampler(len(dataset))
                else:
                    sampler = _sampler.SequentialSampler(len(dataset))
            elif shuffle:
                raise ValueError("shuffle must not be specified if sampler is specified")
            batch_sampler = _sampler.BatchSampler(sampler, batch_size,
                                                  last_batch if last_batch else "keep")
        elif batch_size is not None or shuffle or sampler is not None or \
                last_batch is not None:
            raise ValueError("batch_size, shuffle, sampler and last_batch must not be specified "
                             "if batch_sampler is specified.")

        self._batch_sampler = batch_sampler
        self._num_workers = num_workers if num_workers >= 0 else 0
        self._worker_pool = None
        self._prefetch = max(0, int(prefetch) if prefetch is not None else 2 * self._num_workers)
        if batchify_fn is None:
            batchify_fn = default_mp_batchify_fn if num_workers > 0 else default_batchify_fn
        self._batchify_fn = batchify_fn
        if self._num_workers > 0:
            if self._thread_pool:
                self._worker_pool = multiprocessing.pool.ThreadPool(self._num_workers)
            else:
                # One resource tracker for parent and workers, so a block created by a worker
                # and unlinked here is accounted once (and cleaned up if never read).
                from multiprocessing import resource_tracker
                resource_tracker.ensure_running()
                ctx = multiprocessing.get_context("fork")
                self._worker_pool = ctx.Pool(self._num_workers,
                                             initializer=_worker_initializer,
                                             initargs=(self._dataset, self._batchify_fn))

    def __iter__(self):
        if self._num_workers == 0:
            return self._same_process_iter()
        return _MultiWorkerIter(self._worker_pool, self._batch_sampler, self._pin_memory,
                                self._pin_device_id, self._prefetch, self._timeout,
                                self._thread_pool, self._batchify_fn, self._dataset,
                                loader=self)

    def _same_process_iter(self):
        for batch in self._batch_sampler:
            ret = self._batchify_fn([self._dataset[idx] for idx in batch])
            if self._pin_memory:
                ret = _as_in_context(ret, cpu_pinned(self._pin_device_id))
            yield ret

    def __len__(self):
        return len(self._batch_sampler)

    def __del__(self):
        pool = getattr(self, "_worker_pool", None)
        if pool is not None:
            self._worker_pool = None
            try:
                if not self._thread_pool and _ORPHANS:
                    _reap_orphans(wait=1.0)
                pool.terminate()
            except Exception:
                pass
