"""Vision datasets (MXNet 1.x ``mxnet.gluon.data.vision.datasets``): MNIST, FashionMNIST,
CIFAR10, CIFAR100.

The files are read from ``root``; files that are missing there are downloaded from MXNet's usual
locations (and checked against their SHA-1). Images are held as one uint8 NDArray (N, H, W, C),
labels as an int32 numpy array; a sample is ``(image NDArray (H, W, C), label)``, passed through
``transform(data, label)`` when one is given.
"""
import gzip
import os
import struct
import tarfile
import urllib.request

import numpy as np

from .... import ndarray as nd
from ....base import MXIOError
from ..dataset import Dataset

__all__ = ["MNIST", "FashionMNIST", "CIFAR10", "CIFAR100"]


def _sha1(filename):
    import hashlib
    h = hashlib.sha1()
    with open(filename, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _download(url, dirname, sha1_hash=None, retries=5):
    """Fetch url into dirname (atomically), check its SHA-1, return the file's path."""
    os.makedirs(dirname, exist_ok=True)
    fname = os.path.join(dirname, url.split("/")[-1])
    tmp = fname + ".part%d" % os.getpid()
    last = None
    for _ in range(max(1, retries)):
        try:
            with urllib.request.urlopen(url, timeout=60) as r, open(tmp, "wb") as f:
                while True:
                    chunk = r.read(1 << 20)
                    if not chunk:
                        break
                    f.write(chunk)
            if sha1_hash and _sha1(tmp) != sha1_hash:
                raise MXIOError("downloaded %s but its SHA-1 does not match %s (the file may be "
                                "corrupted)" % (url, sha1_hash))
            os.replace(tmp, fname)
            return fname
        except Exception as e:  # noqa: B902 -- retried, then reported
            last = e
            if os.path.exists(tmp):
                os.remove(tmp)
    raise MXIOError("cannot download %s into %s: %s (put the file there yourself to use the "
                    "dataset offline)" % (url, dirname, last))


class _DownloadedDataset(Dataset):
    """Base of the datasets read from files under ``root``."""

    def __init__(self, root, transform):
        super(_DownloadedDataset, self).__init__()
        self._transform = transform
        self._data = None
        self._label = None
        self._root = os.path.expanduser(root)
        if not os.path.isdir(self._root):
            os.makedirs(self._root, exist_ok=True)
        self._get_data()

    def __getitem__(self, idx):
        if self._transform is not None:
            return self._transform(self._data[idx], self._label[idx])
        return self._data[idx], self._label[idx]

    def __len__(self):
        return len(self._label)

    def _get_data(self):
        raise NotImplementedError


def _open_idx(path):
    """Open an IDX file, gzip-compressed (.gz) or not."""
    with open(path, "rb") as f:
        magic = f.read(2)
    if magic == b"\x1f\x8b":
        return gzip.open(path, "rb")
    return open(path, "rb")


def _read_idx(path, expect_dims):
    """(array, dims) of an IDX file of unsigned bytes with ``expect_dims`` dimensions."""
    with _open_idx(path) as fin:
        head = fin.read(4)
        if len(head) != 4 or head[0] != 0 or head[1] != 0:
            raise MXIOError("%s is not an IDX file (bad magic number)" % path)
        if head[2] != 0x08:
            raise MXIOError("%s: IDX element type 0x%02x is not supported (only unsigned bytes)"
                            % (path, head[2]))
        ndim = head[3]
        if ndim != expect_dims:
            raise MXIOError("%s: expected an IDX file with %d dimensions, got %d"
                            % (path, expect_dims, ndim))
        dims = struct.unpack(">" + "I" * ndim, fin.read(4 * ndim))
        raw = fin.read()
    count = int(np.prod(dims))
    if len(raw) < count:
        raise MXIOError("%s is truncated: %d bytes of data for dimensions %s"
                        % (path, len(raw), dims))
    return np.frombuffer(raw, dtype=np.uint8, count=count).reshape(dims), dims


class MNIST(_DownloadedDataset):
    """MNIST handwritten digits (http://yann.lecun.com/exdb/mnist).

    Each sample is an image (uint8 NDArray of shape (28, 28, 1)) and an int32 label.

    Parameters
    ----------
    root : str, default '~/.mxnet/datasets/mnist'
        Folder with the IDX files (``train-images-idx3-ubyte.gz`` etc., gzip-compressed or
        not, ``.gz`` suffix or not); missing files are downloaded there.
    train : bool, default True
        The training set (else the test set).
    transform : function, default None
        ``transform(data, label)`` applied to each sample, e.g.
        ``lambda data, label: (data.astype(np.float32)/255, label)``.
    """

    def __init__(self, root=os.path.join("~", ".mxnet", "datasets", "mnist"), train=True,
                 transform=None):
        self._train = train
        self._base_url = "https://apache-mxnet.s3-accelerate.dualstack.amazonaws.com/" \
                         "gluon/dataset/mnist/"
        self._train_data = ("train-images-idx3-ubyte.gz",
                            "6c95f4b05d2bf285e1bfb0e7960c31bd3b3f8a7d")
        self._train_label = ("train-labels-idx1-ubyte.gz",
                             "2a80914081dc54586dbdf242f9805a6b8d2a15fc")
        self._test_data = ("t10k-images-idx3-ubyte.gz",
                           "c3a25af1f52dad7f726cce8cacb138654b760d48")
        self._test_label = ("t10k-labels-idx1-ubyte.gz",
                            "763e7fa3757d93b0cdec073cef058b2004252c17")
        super(MNIST, self).__init__(root, transform)

    def _find(self, name, sha1):
        """Local path of ``name`` (``.gz`` or uncompressed; also the ``.`` spelling
        ``train-images.idx3-ubyte``), downloading the .gz file when none exists."""
        stem = name[:-3] if name.endswith(".gz") else name
        candidates = [name, stem, stem.replace("-idx", ".idx"),
                      stem.replace("-idx", ".idx") + ".gz"]
        for c in candidates:
            p = os.path.join(self._root, c)
            if os.path.isfile(p):
                return p
        return _download(self._base_url + name, self._root, sha1_hash=sha1)

    def _get_data(self):
        if self._train:
            data, label = self._train_data, self._train_label
        else:
            data, label = self._test_data, self._test_label
        label_file = self._find(*label)
        data_file = self._find(*data)
        label, (n,) = _read_idx(label_file, 1)
        label = label.astype(np.int32)
        data, dims = _read_idx(data_file, 3)
        if dims[0] != n:
            raise MXIOError("%s has %d images but %s has %d labels"
                            % (data_file, dims[0], label_file, n))
        data = data.reshape(n, dims[1], dims[2], 1)
        self._data = nd.array(data, dtype=data.dtype)
        self._label = label


class FashionMNIST(MNIST):
    """Fashion-MNIST (https://github.com/zalandoresearch/fashion-mnist): Zalando's article
    images, a drop-in replacement of MNIST (same files, same format, same samples).

    Parameters
    ----------
    root : str, default '~/.mxnet/datasets/fashion-mnist'
    train : bool, default True
    transform : function, default None
    """

    def __init__(self, root=os.path.join("~", ".mxnet", "datasets", "fashion-mnist"),
                 train=True, transform=None):
        self._train = train
        self._base_url = "https://apache-mxnet.s3-accelerate.dualstack.amazonaws.com/" \
                         "gluon/dataset/fashion-mnist/"
        self._train_data = ("train-images-idx3-ubyte.gz",
                            "0cf37b0d40ed5169c6b3aba31069a9770ac9043d")
        self._train_label = ("train-labels-idx1-ubyte.gz",
                             "236021d52f1e40852b06a4c3008d8de8aef1e40b")
        self._test_data = ("t10k-images-idx3-ubyte.gz",
                           "626ed6a7c06dd17c0eec72fa3be1740f146a2863")
        self._test_label = ("t10k-labels-idx1-ubyte.gz",
                            "17f9ab60e7257a1620f4ad76bbbaf857c3920701")
        _DownloadedDataset.__init__(self, root, transform)


def _read_cifar_bin(filename, label_bytes, label_index):
    """(images (N, 32, 32, 3) uint8, labels int32) of a CIFAR binary-version file."""
    with open(filename, "rb") as fin:
        raw = fin.read()
    rec = label_bytes + 3072
    if len(raw) % rec != 0:
        raise MXIOError("%s is not a CIFAR binary file: %d bytes is not a multiple of the "
                        "record size %d" % (filename, len(raw), rec))
    data = np.frombuffer(raw, dtype=np.uint8).reshape(-1, rec)
    images = data[:, label_bytes:].reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
    return np.ascontiguousarray(images), data[:, label_index].astype(np.int32)


class _CIFARBase(_DownloadedDataset):
    _archive = None       # (url, sha1)
    _folder = None        # folder inside root (and inside the archive)
    _train_files = ()
    _test_files = ()

    def _get_data(self):
        names = self._train_files if self._train else self._test_files
        paths = [os.path.join(self._root, self._folder, n) for n in names]
        if any(not os.path.isfile(p) for p in paths):
            url, sha1 = self._archive
            archive = os.path.join(self._root, url.split("/")[-1])
            if not os.path.isfile(archive):
                archive = _download(url, self._root, sha1_hash=sha1)
            with tarfile.open(archive) as tar:
                members = [m for m in tar.getmembers()
                           if m.name.startswith(self._folder + "/") and m.isfile()]
                tar.extractall(self._root, members=members)
        parts = [self._read_batch(p) for p in paths]
        data = np.concatenate([p[0] for p in parts])
        label = np.concatenate([p[1] for p in parts])
        self._data = nd.array(data, dtype=data.dtype)
        self._label = label


class CIFAR10(_CIFARBase):
    """CIFAR10 (https://www.cs.toronto.edu/~kriz/cifar.html), read from the BINARY version's
    files ``cifar-10-batches-bin/data_batch_{1..5}.bin`` and ``test_batch.bin`` under root
    (extracted from ``cifar-10-binary.tar.gz``, downloaded when missing).

    Each sample is an image (uint8 NDArray of shape (32, 32, 3)) and an int32 label.

    Parameters
    ----------
    root : str, default '~/.mxnet/datasets/cifar10'
    train : bool, default True
    transform : function, default None
        ``transform(data, label)``.
    """
    _archive = ("https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz",
                "e8aa088b9774a44ad217101d2e2569f823d2d491")
    _folder = "cifar-10-batches-bin"
    _train_files = tuple("data_batch_%d.bin" % i for i in range(1, 6))
    _test_files = ("test_batch.bin",)

    def __init__(self, root=os.path.join("~", ".mxnet", "datasets", "cifar10"), train=True,
                 transform=None):
        self._train = train
        super(CIFAR10, self).__init__(root, transform)

    def _read_batch(self, filename):
        return _read_cifar_bin(filename, 1, 0)


class CIFAR100(_CIFARBase):
    """CIFAR100, read from the BINARY version's files ``cifar-100-binary/train.bin`` and
    ``test.bin`` under root (from ``cifar-100-binary.tar.gz``). Each record has a coarse
    and a fine label.

    Parameters
    ----------
    root : str, default '~/.mxnet/datasets/cifar100'
    fine_label : bool, default False
        The fine (100-class) label instead of the coarse (20-class) one.
    train : bool, default True
    transform : function, default None
    """
    _archive = ("https://www.cs.toronto.edu/~kriz/cifar-100-binary.tar.gz",
                "a0bb982c76b83111308126cc779a992fa506b90b")
    _folder = "cifar-100-binary"
    _train_files = ("train.bin",)
    _test_files = ("test.bin",)

    def __init__(self, root=os.path.join("~", ".mxnet", "datasets", "cifar100"),
                 fine_label=False, train=True, transform=None):
        self._train = train
        self._fine_label = fine_label
        super(CIFAR100, self).__init__(root, transform)

    def _read_batch(self, filename):
        return _read_cifar_bin(filename, 2, 0 + int(bool(self._fine_label)))
