"""examples/mnist_cnn.py end to end on a few hundred images, and a small CNN trained to a loss
threshold on tiny synthetic data.

Data for the example, first found wins: real MNIST in $MX_MNIST_ROOT or the repository's data/mnist
(tools/fetch_mnist.py puts it there); Fashion-MNIST from the Debian package dataset-fashion-mnist;
else small IDX files written here, ten classes of digit-like strokes with noise and random shifts,
so the test runs in CI without network access.
"""
import importlib.util
import json
import os
import shutil
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import mx
from mx import autograd, gluon, nd
from mx.gluon import nn

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "mnist_cnn.py"
NAMES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
         "t10k-labels-idx1-ubyte")


def _has_idx(d):
    d = Path(d)
    return all(any((d / c).is_file() for c in (n, n + ".gz", n.replace("-idx", ".idx"))) for n in NAMES)


def _fashion_mnist_dir():
    if shutil.which("dpkg") is None:
        return None
    p = subprocess.run(["dpkg", "-L", "dataset-fashion-mnist"], capture_output=True, text=True)
    if p.returncode != 0:
        return None
    for line in p.stdout.splitlines():
        if os.path.basename(line).startswith("train-images-idx3-ubyte") and _has_idx(os.path.dirname(line)):
            return os.path.dirname(line)
    return None


def _write_idx(path, arr):
    arr = np.ascontiguousarray(arr, dtype=np.uint8)
    with open(path, "wb") as f:
        f.write(bytes([0, 0, 0x08, arr.ndim]))
        f.write(struct.pack(">" + "I" * arr.ndim, *arr.shape))
        f.write(arr.tobytes())


def _strokes(label):
    """A 28x28 template per class: a few bars in class-specific places (digit-like strokes)."""
    img = np.zeros((28, 28), np.float32)
    segs = {  # seven-segment layout: (row0, row1, col0, col1)
        "a": (5, 7, 9, 19), "b": (6, 14, 17, 19), "c": (14, 22, 17, 19), "d": (21, 23, 9, 19),
        "e": (14, 22, 9, 11), "f": (6, 14, 9, 11), "g": (13, 15, 9, 19)}
    digits = ["abcdef", "bc", "abged", "abgcd", "fgbc", "afgcd", "afgedc", "abc", "abcdefg", "abcdfg"]
    for s in digits[label]:
        r0, r1, c0, c1 = segs[s]
        img[r0:r1, c0:c1] = 1.0
    return img


def synth_mnist(root, n_train=600, n_test=400, seed=0):
    rng = np.random.RandomState(seed)
    os.makedirs(root, exist_ok=True)
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        labels = rng.randint(0, 10, n).astype(np.uint8)
        imgs = np.zeros((n, 28, 28), np.float32)
        for i, lab in enumerate(labels):
            t = np.roll(_strokes(lab), (rng.randint(-3, 4), rng.randint(-4, 5)), axis=(0, 1))
            imgs[i] = t * rng.uniform(0.6, 1.0) + rng.uniform(0, 0.35, (28, 28))
        _write_idx(os.path.join(root, prefix + "-images-idx3-ubyte"), np.clip(imgs * 255, 0, 255))
        _write_idx(os.path.join(root, prefix + "-labels-idx1-ubyte"), labels)
    return root


@pytest.fixture(scope="module")
def mnist_root(tmp_path_factory):
    for cand in (os.environ.get("MX_MNIST_ROOT"), ROOT / "data" / "mnist"):
        if cand and _has_idx(cand):
            return str(cand), "mnist"
    fm = _fashion_mnist_dir()
    if fm:
        return fm, "fashion-mnist"
    return synth_mnist(str(tmp_path_factory.mktemp("synth_mnist"))), "synthetic"


def _load_example():
    spec = importlib.util.spec_from_file_location("mnist_cnn_example", EXAMPLE)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _env():
    env = dict(os.environ)
    pkg = str(ROOT / "bindings" / "python")
    env["PYTHONPATH"] = pkg + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return env


def test_example_trains_end_to_end(mnist_root, tmp_path):
    root, kind = mnist_root
    out_dir = tmp_path / "run"
    cmd = [sys.executable, str(EXAMPLE), "--data-root", root, "--limit", "400", "--epochs", "3",
           "--batch-size", "32", "--out-dir", str(out_dir)]
    p = subprocess.run(cmd, env=_env(), capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, "example failed on %s data:\n%s\n%s" % (kind, p.stdout[-3000:], p.stderr[-3000:])
    out = p.stdout
    for what in ("samples/s", "left", "loss", "acc"):
        assert what in out, "progress bar lacks %r:\n%s" % (what, out[-2000:])
    assert out.count("test accuracy") >= 3

    hist = json.loads((out_dir / "history.json").read_text())
    assert hist["train_samples"] == 400 and hist["test_samples"] == 400
    assert len(hist["test_acc"]) == 3 and len(hist["iter_loss"]) == 3 * 13
    # Learning happened: loss down, accuracy up, far above chance (0.1) at the end.
    assert hist["train_loss"][-1] < 0.8 * hist["train_loss"][0], hist["train_loss"]
    assert hist["train_acc"][-1] > hist["train_acc"][0], hist["train_acc"]
    assert hist["train_acc"][-1] > hist["iter_acc"][0] + 0.2
    early = float(np.mean(hist["iter_loss"][:3]))
    late = float(np.mean(hist["iter_loss"][-3:]))
    assert late < early, (early, late)
    assert hist["test_acc"][-1] >= hist["test_acc"][0] - 0.02
    assert hist["test_acc"][-1] > 0.4, (kind, hist["test_acc"])

    # The parameter file holds the trained net: reloaded, it scores the reported test accuracy.
    params = out_dir / "mnist_cnn.params"
    assert params.is_file()
    ex = _load_example()
    net = ex.build_net()
    net.load_parameters(str(params))
    test = gluon.data.vision.MNIST(root=root, train=False).take(400)
    loader = gluon.data.DataLoader(test.transform_first(gluon.data.vision.transforms.ToTensor()),
                                   batch_size=100)
    acc = ex.evaluate(net, loader, mx.cpu())
    assert abs(acc - hist["test_acc"][-1]) < 1e-9

    png = out_dir / "mnist_cnn_training.png"
    has_mpl = subprocess.run([sys.executable, "-c", "import matplotlib"], capture_output=True).returncode == 0
    if has_mpl:
        assert png.is_file() and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    else:
        assert not png.exists() and "matplotlib is not installed" in out


def test_example_missing_data_is_a_clear_error(tmp_path):
    p = subprocess.run([sys.executable, str(EXAMPLE), "--data-root", str(tmp_path / "nothing"),
                        "--out-dir", str(tmp_path / "o")], env=_env(), capture_output=True, text=True,
                       timeout=120)
    assert p.returncode == 2
    assert "fetch_mnist.py" in p.stderr and "train-images-idx3-ubyte" in p.stderr


def test_synthetic_idx_files_read_back(tmp_path):
    root = synth_mnist(str(tmp_path), n_train=50, n_test=20, seed=3)
    ds = gluon.data.vision.MNIST(root=root, train=True)
    assert len(ds) == 50
    img, lab = ds[7]
    assert img.shape == (28, 28, 1) and img.dtype == np.uint8
    with open(os.path.join(root, "train-images-idx3-ubyte"), "rb") as f:
        raw = np.frombuffer(f.read()[16:], np.uint8).reshape(50, 28, 28)
    np.testing.assert_array_equal(img.asnumpy()[:, :, 0], raw[7])
    assert 0 <= int(lab) < 10


def test_small_cnn_reaches_loss_threshold():
    # Two classes of 1x8x8 images (a bright vertical vs. horizontal bar, noisy); a small CNN with
    # SGD must drive the mean softmax cross-entropy below 0.05.
    rng = np.random.RandomState(0)
    n = 64
    y = rng.randint(0, 2, n)
    x = rng.uniform(0, 0.3, (n, 1, 8, 8)).astype(np.float32)
    for i in range(n):
        k = rng.randint(1, 7)
        if y[i]:
            x[i, 0, :, k] += 1.0
        else:
            x[i, 0, k, :] += 1.0
    mx.random.seed(0)
    net = nn.HybridSequential()
    with net.name_scope():
        net.add(nn.Conv2D(8, 3, padding=1, activation="relu"), nn.MaxPool2D(2), nn.Flatten(), nn.Dense(2))
    net.initialize(mx.init.Xavier())
    net.hybridize()
    loss_fn = gluon.loss.SoftmaxCrossEntropyLoss()
    trainer = gluon.Trainer(net.collect_params(), "sgd", {"learning_rate": 0.1, "momentum": 0.9})
    xd, yd = nd.array(x), nd.array(y.astype(np.float32))
    losses = []
    for _ in range(60):
        with autograd.record():
            loss = loss_fn(net(xd), yd)
        loss.backward()
        trainer.step(n)
        losses.append(float(loss.mean().asscalar()))
    assert losses[-1] < 0.05, losses[::10]
    assert losses[0] > 0.3
    # The loss the net reports is the cross-entropy of its own softmax (numpy reference).
    logits = net(xd).asnumpy().astype(np.float64)
    logp = logits - logits.max(1, keepdims=True)
    logp -= np.log(np.exp(logp).sum(1, keepdims=True))
    ref = -logp[np.arange(n), y]
    np.testing.assert_allclose(loss_fn(net(xd), yd).asnumpy(), ref, rtol=1e-4, atol=1e-6)
    assert (logits.argmax(1) == y).all()
