"""Python trains, C predicts: the seed CNN of examples/mnist_cnn.py is trained briefly on synthetic
28x28 digit-like images, saved with save_parameters, and classified by examples/c/predict_mnist
(plain C on the C ABI). Its softmax probabilities must equal the Python net's within 1e-5.

The program is looked up in $MX_BUILD_DIR (default "build", relative to the repository root); the
tests fail, not skip, when it has not been built (cmake builds it unless -DMX_BUILD_EXAMPLES=OFF).
"""
import gzip
import importlib.util
import os
import struct
import subprocess
from pathlib import Path

import numpy as np
import pytest

import mx
from mx import autograd, gluon, nd

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "mnist_cnn.py"
PARAM_NAMES = ("0.weight", "0.bias", "2.weight", "2.bias", "5.weight", "5.bias")


def _binary():
    build = Path(os.environ.get("MX_BUILD_DIR", "build"))
    if not build.is_absolute():
        build = ROOT / build
    for cand in (build / "predict_mnist", build / "examples" / "c" / "predict_mnist"):
        if cand.is_file() and os.access(str(cand), os.X_OK):
            return str(cand)
    pytest.fail("predict_mnist is not built in %s (build the project with MX_BUILD_EXAMPLES=ON, or "
                "point MX_BUILD_DIR at the build folder)" % build)


def _load_example():
    spec = importlib.util.spec_from_file_location("mnist_cnn_example_rt", EXAMPLE)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _write_idx(path, arr):
    arr = np.ascontiguousarray(arr, dtype=np.uint8)
    with open(path, "wb") as f:
        f.write(bytes([0, 0, 0x08, arr.ndim]))
        f.write(struct.pack(">" + "I" * arr.ndim, *arr.shape))
        f.write(arr.tobytes())


def _synthetic_digits(n, seed):
    """n uint8 28x28 images: ten classes of bars in class-specific places, shifted, with noise."""
    rng = np.random.RandomState(seed)
    labels = rng.randint(0, 10, n)
    imgs = rng.uniform(0, 60, (n, 28, 28))
    for i, lab in enumerate(labels):
        r, c = 4 + 2 * (lab % 5) + rng.randint(-1, 2), 6 + rng.randint(-2, 3)
        if lab < 5:
            imgs[i, r:r + 3, c:c + 16] += rng.uniform(150, 195)   # a horizontal bar, by row
        else:
            imgs[i, c:c + 16, r:r + 3] += rng.uniform(150, 195)   # a vertical bar, by column
    return np.clip(imgs, 0, 255).astype(np.uint8), labels


def _run(args, timeout=300):
    return subprocess.run([_binary()] + [str(a) for a in args], capture_output=True, text=True,
                          timeout=timeout)


def _parse(stdout, n):
    lines = stdout.strip().splitlines()
    assert len(lines) == n, stdout[-2000:]
    idx, cls, probs = [], [], []
    for line in lines:
        f = line.split()
        assert len(f) == 12, line
        idx.append(int(f[0]))
        cls.append(int(f[1]))
        probs.append([float(v) for v in f[2:]])
        assert all(len(v.split(".")[1]) == 6 for v in f[2:]), line   # printed with %.6f
    return np.array(idx), np.array(cls), np.array(probs)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A briefly trained seed CNN, its parameter file and an IDX file of 300 images."""
    d = tmp_path_factory.mktemp("c_roundtrip")
    ex = _load_example()
    mx.random.seed(7)
    train_x, train_y = _synthetic_digits(256, seed=1)
    net = ex.build_net()
    net.initialize(mx.init.Xavier())
    net.hybridize()
    loss_fn = gluon.loss.SoftmaxCrossEntropyLoss()
    trainer = gluon.Trainer(net.collect_params(), "sgd", {"learning_rate": 0.05, "momentum": 0.9})
    x = nd.array(train_x[:, None].astype(np.float32) / 255)
    y = nd.array(train_y.astype(np.float32))
    losses = []
    for epoch in range(2):
        for s in range(0, 256, 64):
            with autograd.record():
                loss = loss_fn(net(x[s:s + 64]), y[s:s + 64])
            loss.backward()
            trainer.step(64)
            losses.append(float(loss.mean().asscalar()))
    assert np.isfinite(losses).all() and losses[-1] < losses[0], losses
    params = d / "mnist_cnn.params"
    net.save_parameters(str(params))
    # 300 images: more than one batch of the C program (256), so its batching is exercised.
    test_x, _ = _synthetic_digits(300, seed=2)
    images = d / "t10k-images-idx3-ubyte"
    _write_idx(images, test_x)
    return net, params, images, test_x


def _python_probs(net, imgs):
    # ToTensor's scaling: uint8 -> float32 in [0, 1].
    x = nd.array(imgs[:, None].astype(np.float32) / np.float32(255))
    return nd.softmax(net(x), axis=-1).asnumpy()


def _check_classes(cls, want_probs):
    # The class is the argmax; where the two best probabilities are closer than the print
    # precision, either of them is a correct answer.
    srt = np.sort(want_probs, axis=1)
    clear = srt[:, -1] - srt[:, -2] > 2e-5
    assert clear.mean() > 0.9
    np.testing.assert_array_equal(cls[clear], want_probs.argmax(1)[clear])
    assert (want_probs[np.arange(len(cls)), cls] >= srt[:, -1] - 2e-5).all()


def test_parameter_names_are_structural(trained):
    _, params, _, _ = trained
    loaded = nd.load(str(params))
    assert isinstance(loaded, dict) and sorted(loaded) == sorted(PARAM_NAMES)
    assert loaded["0.weight"].shape == (32, 1, 3, 3) and loaded["5.weight"].shape == (10, 3136)


def test_c_predictions_match_python(trained):
    net, params, images, test_x = trained
    n = test_x.shape[0]
    p = _run([params, images, n])
    assert p.returncode == 0, p.stderr
    idx, cls, probs = _parse(p.stdout, n)
    want = _python_probs(net, test_x)
    np.testing.assert_array_equal(idx, np.arange(n))
    np.testing.assert_allclose(probs, want, rtol=0, atol=1e-5)
    np.testing.assert_allclose(probs.sum(1), 1.0, atol=1e-4)
    _check_classes(cls, want)
    # The net learned something: its predictions are not all one class.
    assert len(np.unique(cls)) > 1


def test_c_first_n_images(trained):
    net, params, images, test_x = trained
    p = _run([params, images, 7])
    assert p.returncode == 0, p.stderr
    idx, cls, probs = _parse(p.stdout, 7)
    want = _python_probs(net, test_x[:7])
    np.testing.assert_array_equal(idx, np.arange(7))
    np.testing.assert_allclose(probs, want, rtol=0, atol=1e-5)
    _check_classes(cls, want)


def test_c_casts_float64_parameters(trained, tmp_path):
    # A parameter file holding float64 arrays (same names) gives the same predictions.
    net, params, images, test_x = trained
    loaded = nd.load(str(params))
    p64 = tmp_path / "f64.params"
    nd.save(str(p64), {k: v.astype("float64") for k, v in loaded.items()})
    p = _run([p64, images, 20])
    assert p.returncode == 0, p.stderr
    _, cls, probs = _parse(p.stdout, 20)
    want = _python_probs(net, test_x[:20])
    np.testing.assert_allclose(probs, want, rtol=0, atol=1e-5)
    _check_classes(cls, want)


def test_c_errors_are_reported(trained, tmp_path):
    _, params, images, test_x = trained
    # Usage errors.
    for args in ([], [params, images], [params, images, 0], [params, images, "3x"]):
        p = _run(args)
        assert p.returncode == 2 and "usage" in p.stderr, (args, p.stderr)
    # A missing parameter file: libmx's message (mx_last_error) names it.
    missing = tmp_path / "nothing.params"
    p = _run([missing, images, 1])
    assert p.returncode != 0 and "nothing.params" in p.stderr and p.stdout == ""
    # A corrupt parameter file.
    bad = tmp_path / "bad.params"
    bad.write_bytes(b"not an ndarray file at all")
    p = _run([bad, images, 1])
    assert p.returncode != 0 and "failed" in p.stderr and p.stdout == ""
    # More images asked for than the file has.
    p = _run([params, images, test_x.shape[0] + 1])
    assert p.returncode != 0 and "holds only 300" in p.stderr
    # A missing image file, and a gzip-compressed one.
    p = _run([params, tmp_path / "none-idx3-ubyte", 1])
    assert p.returncode != 0 and "none-idx3-ubyte" in p.stderr
    gz = tmp_path / "images.gz"
    gz.write_bytes(gzip.compress(images.read_bytes()))
    p = _run([params, gz, 1])
    assert p.returncode != 0 and "gzip" in p.stderr
    # Not an image file (the labels layout: 1 dimension).
    labels = tmp_path / "labels-idx1-ubyte"
    _write_idx(labels, np.zeros(10, np.uint8))
    p = _run([params, labels, 1])
    assert p.returncode != 0 and "not an IDX image file" in p.stderr


def test_c_rejects_parameters_of_another_net(trained, tmp_path):
    _, params, images, _ = trained
    loaded = nd.load(str(params))
    # A parameter missing.
    part = tmp_path / "part.params"
    nd.save(str(part), {k: v for k, v in loaded.items() if k != "2.bias"})
    p = _run([part, images, 1])
    assert p.returncode != 0 and "2.bias" in p.stderr and p.stdout == ""
    # A parameter of the wrong shape (a Dense layer of 5 classes).
    wrong = dict(loaded)
    wrong["5.weight"] = nd.zeros((5, 3136))
    wrong["5.bias"] = nd.zeros((5,))
    p5 = tmp_path / "five.params"
    nd.save(str(p5), wrong)
    p = _run([p5, images, 1])
    assert p.returncode != 0 and "5.weight" in p.stderr and p.stdout == ""
    # A list without names.
    lst = tmp_path / "list.params"
    nd.save(str(lst), [loaded[k] for k in PARAM_NAMES])
    p = _run([lst, images, 1])
    assert p.returncode != 0 and "without names" in p.stderr
