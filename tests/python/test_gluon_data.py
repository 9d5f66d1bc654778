"""gluon.data: datasets, samplers, DataLoader (workers, errors, ordering), vision datasets and
transforms."""
import gzip
import os
import struct
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import mx
from mx import gluon, nd
from mx.gluon.data import (ArrayDataset, BatchSampler, DataLoader, RandomSampler,
                           SequentialSampler, SimpleDataset)
from mx.gluon.data.vision import transforms as T

HERE = os.path.dirname(os.path.abspath(__file__))
PYPATH = os.path.normpath(os.path.join(HERE, "..", "..", "bindings", "python"))


def _flatten(batch):
    if isinstance(batch, (list, tuple)):
        return [a for b in batch for a in _flatten(b)]
    return [batch.asnumpy() if isinstance(batch, nd.NDArray) else np.asarray(batch)]


# --------------------------------------------------------------------------- datasets

def test_array_and_simple_dataset():
    x = np.arange(12, dtype=np.float32).reshape(6, 2)
    y = nd.array(np.arange(6))
    ds = ArrayDataset(x, y)
    assert len(ds) == 6
    a, b = ds[4]
    np.testing.assert_array_equal(a, x[4])
    assert b == 4.0 and not isinstance(b, nd.NDArray)   # 1-D NDArray -> numbers
    single = ArrayDataset(nd.array(x))
    np.testing.assert_array_equal(single[1].asnumpy(), x[1])
    with pytest.raises(ValueError, match="same length"):
        ArrayDataset(x, np.arange(5))
    s = SimpleDataset([10, 20, 30])
    assert len(s) == 3 and s[2] == 30


def test_transform_lazy_and_first():
    calls = []

    def f(x, y):
        calls.append(1)
        return x * 10, y + 1

    ds = ArrayDataset(np.arange(4), np.arange(4))
    lazy = ds.transform(f)
    assert calls == []
    assert lazy[2] == (20, 3)
    eager = ds.transform(f, lazy=False)
    assert len(calls) == 5 and eager[3] == (30, 4)
    first = ds.transform_first(lambda x: -x)
    assert first[3] == (-3, 3)
    assert SimpleDataset([1, 2]).transform_first(lambda x: x * 5)[1] == 10
    assert list(SimpleDataset(list(range(10))).filter(lambda v: v % 3 == 0)) == [0, 3, 6, 9]
    assert list(SimpleDataset(list(range(10))).take(3)) == [0, 1, 2]
    shards = [list(SimpleDataset(list(range(10))).shard(3, i)) for i in range(3)]
    assert shards == [[0, 1, 2, 3], [4, 5, 6], [7, 8, 9]]


# --------------------------------------------------------------------------- samplers

def test_samplers():
    assert list(SequentialSampler(5)) == [0, 1, 2, 3, 4]
    assert list(SequentialSampler(3, start=2)) == [2, 3, 4]
    np.random.seed(3)
    r = list(RandomSampler(10))
    assert sorted(r) == list(range(10)) and r != list(range(10))
    seq = SequentialSampler(10)
    assert list(BatchSampler(seq, 4, "keep")) == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    assert list(BatchSampler(seq, 4, "discard")) == [[0, 1, 2, 3], [4, 5, 6, 7]]
    bs = BatchSampler(seq, 4, "rollover")
    assert list(bs) == [[0, 1, 2, 3], [4, 5, 6, 7]]
    assert len(bs) == 3   # 2 carried + 10
    assert list(bs) == [[8, 9, 0, 1], [2, 3, 4, 5], [6, 7, 8, 9]]
    assert len(BatchSampler(seq, 4, "keep")) == 3 and len(BatchSampler(seq, 4, "discard")) == 2
    with pytest.raises(ValueError, match="last_batch"):
        BatchSampler(seq, 4, "bogus")


# --------------------------------------------------------------------------- DataLoader

def _dataset(n=23):
    x = np.arange(n * 3, dtype=np.float32).reshape(n, 3)
    y = np.arange(n, dtype=np.int32)
    return ArrayDataset(nd.array(x), y), x, y


def test_dataloader_order_and_last_batch():
    ds, x, y = _dataset()
    batches = list(DataLoader(ds, batch_size=5))
    assert len(batches) == 5 and len(DataLoader(ds, batch_size=5)) == 5
    d = np.concatenate([b[0].asnumpy() for b in batches])
    lab = np.concatenate([b[1].asnumpy() for b in batches])
    np.testing.assert_array_equal(d, x)
    np.testing.assert_array_equal(lab, y)
    assert batches[0][1].dtype == np.int32
    assert batches[-1][0].shape == (3, 3)
    disc = list(DataLoader(ds, batch_size=5, last_batch="discard"))
    assert [b[0].shape[0] for b in disc] == [5, 5, 5, 5]
    roll = DataLoader(ds, batch_size=5, last_batch="rollover")
    e1 = list(roll)
    e2 = list(roll)
    assert len(e1) == 4 and len(e2) == 5
    np.testing.assert_array_equal(e2[0][1].asnumpy(), [20, 21, 22, 0, 1])


def test_dataloader_shuffle_and_sampler():
    ds, x, y = _dataset(40)
    np.random.seed(0)
    got = np.concatenate([b[1].asnumpy() for b in DataLoader(ds, batch_size=8, shuffle=True)])
    assert sorted(got.tolist()) == list(range(40)) and got.tolist() != list(range(40))
    sampler = SequentialSampler(10, start=5)
    got = np.concatenate([b[1].asnumpy() for b in DataLoader(ds, batch_size=4, sampler=sampler)])
    np.testing.assert_array_equal(got, np.arange(5, 15))
    bsamp = BatchSampler(SequentialSampler(6), 3)
    got = [b[1].asnumpy().tolist() for b in DataLoader(ds, batch_sampler=bsamp)]
    assert got == [[0, 1, 2], [3, 4, 5]]


def test_dataloader_argument_errors():
    ds, _, _ = _dataset()
    with pytest.raises(ValueError, match="batch_size must be specified"):
        DataLoader(ds)
    with pytest.raises(ValueError, match="shuffle must not be specified"):
        DataLoader(ds, batch_size=2, shuffle=True, sampler=SequentialSampler(3))
    with pytest.raises(ValueError, match="must not be specified if batch_sampler"):
        DataLoader(ds, batch_size=2, batch_sampler=BatchSampler(SequentialSampler(3), 2))
    with pytest.raises(ValueError, match="last_batch"):
        DataLoader(ds, batch_size=2, last_batch="nope")


def test_default_batchify_numpy_and_scalars():
    ds = SimpleDataset([(np.full((2,), i, np.float64), i, float(i) / 2) for i in range(5)])
    b = next(iter(DataLoader(ds, batch_size=5)))
    assert isinstance(b, list) and len(b) == 3
    assert b[0].shape == (5, 2) and b[0].dtype == np.float64
    np.testing.assert_array_equal(b[1].asnumpy(), np.arange(5))
    np.testing.assert_allclose(b[2].asnumpy(), np.arange(5) / 2)


@pytest.mark.parametrize("thread_pool", [False, True])
def test_workers_equal_single_process(thread_pool):
    ds, x, y = _dataset(37)
    tds = ds.transform_first(lambda a: a * 2 + 1)          # NDArray ops in the worker
    ref = [_flatten(b) for b in DataLoader(tds, batch_size=4)]
    for nw, pf in ((1, None), (3, None), (2, 0), (2, 7)):
        dl = DataLoader(tds, batch_size=4, num_workers=nw, prefetch=pf, thread_pool=thread_pool)
        for _ in range(2):   # two epochs over the same pool
            got = [_flatten(b) for b in dl]
            assert len(got) == len(ref)
            for g, r in zip(got, ref):
                for a, b in zip(g, r):
                    assert a.dtype == b.dtype
                    np.testing.assert_array_equal(a, b)


def test_workers_custom_batchify_and_numpy_passthrough():
    ds = SimpleDataset([np.arange(3, dtype=np.int16) + i for i in range(6)])

    def batchify(items):
        return {"ignored": 1}, np.stack(items), nd.array(np.stack(items), dtype="int32")

    for nw in (0, 2):
        out = list(DataLoader(ds, batch_size=3, num_workers=nw, batchify_fn=batchify))
        assert len(out) == 2
        meta, arr, ndarr = out[1]
        assert meta == {"ignored": 1}
        assert isinstance(arr, np.ndarray) and arr.dtype == np.int16
        np.testing.assert_array_equal(arr, np.arange(3) + np.arange(3, 6)[:, None])
        assert isinstance(ndarr, nd.NDArray) and ndarr.dtype == np.int32


def test_worker_error_surfaces_with_traceback():
    ds, _, _ = _dataset(12)

    def bad(a, b):
        if int(b) == 7:
            raise KeyError("sample seven is broken")
        return a, b

    for nw in (2,):
        dl = DataLoader(ds.transform(bad), batch_size=3, num_workers=nw)
        it = iter(dl)
        next(it)
        next(it)   # samples 0..5 are fine
        with pytest.raises(Exception) as ei:
            next(it)
        msg = str(ei.value)
        assert "sample seven is broken" in msg
        assert "Traceback" in msg and "in bad" in msg
        # the loader keeps working afterwards
        assert len(list(DataLoader(ds, batch_size=3, num_workers=nw))) == 4


def test_worker_error_python_type_kept():
    ds = SimpleDataset(list(range(6))).transform(lambda v: v / (v - 4))
    with pytest.raises(ZeroDivisionError, match="Worker traceback"):
        list(DataLoader(ds, batch_size=2, num_workers=2))


def test_pin_memory_and_timeout_args():
    ds, x, _ = _dataset(6)
    for nw in (0, 2):
        b = next(iter(DataLoader(ds, batch_size=6, num_workers=nw, pin_memory=True)))
        assert b[0].context == mx.cpu_pinned(0)
        np.testing.assert_array_equal(b[0].asnumpy(), x)


def test_timeout_raises():
    import time
    import multiprocessing
    ds = SimpleDataset(list(range(4))).transform(lambda v: (time.sleep(3), v)[1])
    dl = DataLoader(ds, batch_size=2, num_workers=1, timeout=1)
    with pytest.raises(multiprocessing.TimeoutError, match="timeout"):
        list(dl)
    del dl


def test_no_deadlock_at_exit_and_no_shm_leak(tmp_path):
    """A script that abandons a worker loader mid-epoch and one whose worker raises both exit
    promptly; no shared-memory block is left behind."""
    script = tmp_path / "s.py"
    script.write_text(textwrap.dedent("""
        import numpy as np, mx
        from mx.gluon.data import ArrayDataset, DataLoader
        ds = ArrayDataset(mx.nd.array(np.ones((64, 8))), np.arange(64))
        dl = DataLoader(ds, batch_size=4, num_workers=3)
        it = iter(dl)
        next(it); next(it)
        def bad(x, y):
            raise RuntimeError("worker failure")
        dl2 = DataLoader(ds.transform(bad), batch_size=4, num_workers=2)
        try:
            list(dl2)
        except RuntimeError as e:
            assert "worker failure" in str(e)
        print("done")
    """))
    before = set(os.listdir("/dev/shm")) if os.path.isdir("/dev/shm") else set()
    env = dict(os.environ, PYTHONPATH=PYPATH)
    r = subprocess.run([sys.executable, str(script)], env=env, capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 0, r.stderr
    assert "done" in r.stdout
    assert "leaked" not in r.stderr, r.stderr
    if os.path.isdir("/dev/shm"):
        leaked = [n for n in set(os.listdir("/dev/shm")) - before if n.startswith("psm_")]
        assert leaked == []


# --------------------------------------------------------------------------- vision datasets

def _write_idx(path, arr, gz):
    arr = np.asarray(arr, dtype=np.uint8)
    head = struct.pack(">BBBB", 0, 0, 8, arr.ndim) + struct.pack(">" + "I" * arr.ndim,
                                                                 *arr.shape)
    opener = gzip.open if gz else open
    with opener(path, "wb") as f:
        f.write(head + arr.tobytes())


@pytest.mark.parametrize("gz", [True, False])
def test_mnist_reader(tmp_path, gz):
    r = np.random.RandomState(0)
    imgs = r.randint(0, 256, size=(7, 28, 28)).astype(np.uint8)
    labels = r.randint(0, 10, size=7).astype(np.uint8)
    timgs = r.randint(0, 256, size=(3, 28, 28)).astype(np.uint8)
    tlabels = r.randint(0, 10, size=3).astype(np.uint8)
    sfx = ".gz" if gz else ""
    _write_idx(tmp_path / ("train-images-idx3-ubyte" + sfx), imgs, gz)
    _write_idx(tmp_path / ("train-labels-idx1-ubyte" + sfx), labels, gz)
    _write_idx(tmp_path / ("t10k-images-idx3-ubyte" + sfx), timgs, gz)
    _write_idx(tmp_path / ("t10k-labels-idx1-ubyte" + sfx), tlabels, gz)
    for cls in (gluon.data.vision.MNIST, gluon.data.vision.FashionMNIST):
        ds = cls(root=str(tmp_path))
        assert len(ds) == 7
        img, lab = ds[3]
        assert isinstance(img, nd.NDArray) and img.shape == (28, 28, 1)
        assert img.dtype == np.uint8
        np.testing.assert_array_equal(img.asnumpy()[:, :, 0], imgs[3])
        assert lab == labels[3] and np.asarray(lab).dtype == np.int32
        test = cls(root=str(tmp_path), train=False)
        assert len(test) == 3
        np.testing.assert_array_equal(test[2][0].asnumpy()[:, :, 0], timgs[2])
    ds = gluon.data.vision.MNIST(root=str(tmp_path),
                                 transform=lambda d, l: (d.astype("float32") / 255, l + 100))
    d, l = ds[0]
    np.testing.assert_allclose(d.asnumpy()[:, :, 0], imgs[0] / 255.0, rtol=1e-6)
    assert l == labels[0] + 100
    # through a DataLoader with ToTensor
    loader = DataLoader(gluon.data.vision.MNIST(root=str(tmp_path)).transform_first(T.ToTensor()),
                        batch_size=4, num_workers=2)
    b = next(iter(loader))
    assert b[0].shape == (4, 1, 28, 28) and b[0].dtype == np.float32
    np.testing.assert_allclose(b[0].asnumpy()[:, 0], imgs[:4] / 255.0, rtol=1e-6)


def test_mnist_corrupt_file(tmp_path):
    (tmp_path / "train-labels-idx1-ubyte").write_bytes(b"\x12\x34garbage")
    _write_idx(tmp_path / "train-images-idx3-ubyte", np.zeros((1, 28, 28)), False)
    with pytest.raises(mx.base.MXIOError, match="IDX"):
        gluon.data.vision.MNIST(root=str(tmp_path))


def test_fashion_mnist_real_data():
    """The real Fashion-MNIST files of Debian's dataset-fashion-mnist (the test command installs
    it): 60000/10000 images with labels 0..9, gzipped IDX read as is."""
    files = subprocess.run(["dpkg", "-L", "dataset-fashion-mnist"], capture_output=True,
                           text=True).stdout.split()
    roots = sorted({os.path.dirname(f) for f in files if "t10k-labels" in f})
    assert roots, "dataset-fashion-mnist is not installed (apt-get install dataset-fashion-mnist)"
    test = gluon.data.vision.FashionMNIST(root=roots[0], train=False)
    train = gluon.data.vision.FashionMNIST(root=roots[0], train=True)
    assert len(test) == 10000 and len(train) == 60000
    img, lab = test[0]
    assert img.shape == (28, 28, 1) and img.dtype == np.uint8 and 0 <= lab < 10
    labels = np.array([test[i][1] for i in range(0, 10000, 7)])
    assert set(labels.tolist()) == set(range(10))


def test_cifar_binary(tmp_path):
    r = np.random.RandomState(1)
    d10 = tmp_path / "c10" / "cifar-10-batches-bin"
    d10.mkdir(parents=True)
    chw = {}
    for name, n in [("data_batch_%d.bin" % i, 2) for i in range(1, 6)] + [("test_batch.bin", 3)]:
        img = r.randint(0, 256, size=(n, 3, 32, 32)).astype(np.uint8)
        lab = r.randint(0, 10, size=n).astype(np.uint8)
        chw[name] = (img, lab)
        rec = np.concatenate([lab[:, None], img.reshape(n, -1)], axis=1)
        (d10 / name).write_bytes(rec.tobytes())
    ds = gluon.data.vision.CIFAR10(root=str(tmp_path / "c10"))
    assert len(ds) == 10
    img, lab = ds[3]                      # batch 2, record 1
    assert img.shape == (32, 32, 3) and img.dtype == np.uint8
    np.testing.assert_array_equal(img.asnumpy(), chw["data_batch_2.bin"][0][1].transpose(1, 2, 0))
    assert lab == chw["data_batch_2.bin"][1][1]
    test = gluon.data.vision.CIFAR10(root=str(tmp_path / "c10"), train=False)
    assert len(test) == 3
    d100 = tmp_path / "c100" / "cifar-100-binary"
    d100.mkdir(parents=True)
    img = r.randint(0, 256, size=(4, 3, 32, 32)).astype(np.uint8)
    coarse = r.randint(0, 20, size=4).astype(np.uint8)
    fine = r.randint(0, 100, size=4).astype(np.uint8)
    rec = np.concatenate([coarse[:, None], fine[:, None], img.reshape(4, -1)], axis=1)
    (d100 / "train.bin").write_bytes(rec.tobytes())
    c = gluon.data.vision.CIFAR100(root=str(tmp_path / "c100"))
    f = gluon.data.vision.CIFAR100(root=str(tmp_path / "c100"), fine_label=True)
    assert c[2][1] == coarse[2] and f[2][1] == fine[2]
    np.testing.assert_array_equal(f[2][0].asnumpy(), img[2].transpose(1, 2, 0))


# --------------------------------------------------------------------------- transforms

def test_to_tensor_normalize_cast():
    r = np.random.RandomState(2)
    img = r.randint(0, 256, size=(5, 4, 3)).astype(np.uint8)
    t = T.ToTensor()(nd.array(img, dtype="uint8"))
    assert t.dtype == np.float32 and t.shape == (3, 5, 4)
    np.testing.assert_allclose(t.asnumpy(), img.transpose(2, 0, 1) / 255.0, rtol=1e-6)
    tb = T.ToTensor()(nd.array(np.stack([img, img]), dtype="uint8"))
    assert tb.shape == (2, 3, 5, 4)
    mean, std = (0.1, 0.2, 0.3), (0.5, 0.25, 2.0)
    n = T.Normalize(mean, std)(t)
    ref = (img.transpose(2, 0, 1) / 255.0 - np.array(mean)[:, None, None]) / \
        np.array(std)[:, None, None]
    np.testing.assert_allclose(n.asnumpy(), ref, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(T.Normalize(0.5, 2)(tb).asnumpy()[1],
                               (img.transpose(2, 0, 1) / 255.0 - 0.5) / 2, rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="channels"):
        T.Normalize((0.1, 0.2), (1, 1))(t)
    c = T.Cast("float16")(nd.array(img, dtype="uint8"))
    assert c.dtype == np.float16


def _np_bilinear(img, w, h):
    H, W = img.shape[:2]
    out = np.zeros((h, w) + img.shape[2:], np.float64)
    for i in range(h):
        for j in range(w):
            sy = min(max((i + 0.5) * H / h - 0.5, 0), H - 1)
            sx = min(max((j + 0.5) * W / w - 0.5, 0), W - 1)
            y0, x0 = int(np.floor(sy)), int(np.floor(sx))
            y1, x1 = min(y0 + 1, H - 1), min(x0 + 1, W - 1)
            fy, fx = sy - y0, sx - x0
            out[i, j] = ((1 - fy) * ((1 - fx) * img[y0, x0] + fx * img[y0, x1]) +
                         fy * ((1 - fx) * img[y1, x0] + fx * img[y1, x1]))
    return out


def test_resize_and_crops():
    r = np.random.RandomState(3)
    img = r.randint(0, 256, size=(6, 8, 3)).astype(np.uint8)
    x = nd.array(img, dtype="uint8")
    out = T.Resize((5, 4))(x)                       # (width, height)
    assert out.shape == (4, 5, 3) and out.dtype == np.uint8
    # uint8 follows OpenCV's fixed-point bilinear arithmetic: within 1 of the exact value.
    np.testing.assert_allclose(out.asnumpy().astype(float), np.clip(_np_bilinear(img, 5, 4), 0, 255),
                               atol=1.0)
    fimg = img.astype(np.float32)
    np.testing.assert_allclose(T.Resize(10)(nd.array(fimg)).asnumpy(), _np_bilinear(fimg, 10, 10),
                               rtol=1e-5, atol=1e-4)
    assert T.Resize(3, keep_ratio=True)(x).shape == (3, 4, 3)
    near = T.Resize((4, 3), interpolation=0)(x).asnumpy()
    np.testing.assert_array_equal(near, img[[0, 2, 4]][:, [0, 2, 4, 6]])
    with pytest.raises(NotImplementedError, match="bicubic"):
        T.Resize(4, interpolation=3)
    cc = T.CenterCrop((4, 2))(x)
    np.testing.assert_array_equal(cc.asnumpy(), img[2:4, 2:6])
    big = T.CenterCrop(12)(x)                       # larger than the image: crop 6x6, resize up
    assert big.shape == (12, 12, 3)
    np.testing.assert_allclose(big.asnumpy().astype(float),
                               np.clip(_np_bilinear(img[:, 1:7], 12, 12), 0, 255), atol=1.0)
    rrc = T.RandomResizedCrop(5)(x)
    assert rrc.shape == (5, 5, 3) and rrc.dtype == np.uint8
    flips = {T.RandomFlipLeftRight()(x).asnumpy().tobytes() for _ in range(30)}
    assert flips == {img.tobytes(), img[:, ::-1].tobytes()}


def test_compose():
    img = np.random.RandomState(4).randint(0, 256, size=(6, 6, 3)).astype(np.uint8)
    tf = T.Compose([T.CenterCrop(4), T.ToTensor(), T.Normalize(0.5, 0.5)])
    out = tf(nd.array(img, dtype="uint8"))
    ref = (img[1:5, 1:5].transpose(2, 0, 1) / 255.0 - 0.5) / 0.5
    np.testing.assert_allclose(out.asnumpy(), ref, rtol=1e-5, atol=1e-6)
    ds = ArrayDataset(nd.array(np.stack([img] * 4), dtype="uint8"), np.arange(4))
    b = next(iter(DataLoader(ds.transform_first(tf), batch_size=4, num_workers=2)))
    np.testing.assert_allclose(b[0].asnumpy()[3], ref, rtol=1e-5, atol=1e-6)
