"""Python <-> C++ round trip of the C++ package, through the programs of examples/cpp.

- Python trains an MLP and exports it; examples/cpp/predict (mx::Symbol::Load + the params, bound
  in an mx::Executor) prints the same softmax probabilities as the Python net.
- examples/cpp/train_mlp trains the same architecture with mx::nn + autograd + Trainer and exports
  it; Python loads the export with SymbolBlock.imports, and its save_parameters file with
  net.load_parameters, and predicts what the C++ net predicted (and classifies well).
- The full circle: Python trains, C++ predicts, C++ continues training from Python's parameters,
  Python predicts with the C++ result.
- valgrind: both programs run under valgrind (leaks and invalid accesses are errors).

The programs are looked up in $MX_BUILD_DIR/examples/cpp (default build/, relative to the
repository root); the tests fail, not skip, when they are not built.
"""
import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

import mx
from mx import autograd, gluon, nd
from mx.gluon import nn

ROOT = Path(__file__).resolve().parents[2]
DIM, CLASSES = 8, 4  # train_mlp's data: 4 classes in 8 dims (see examples/cpp/train_mlp.cpp)


def _binary(name):
    build = Path(os.environ.get("MX_BUILD_DIR", "build"))
    if not build.is_absolute():
        build = ROOT / build
    cand = build / "examples" / "cpp" / name
    if cand.is_file() and os.access(str(cand), os.X_OK):
        return str(cand)
    pytest.fail("%s is not built in %s (build the project with MX_BUILD_CPP=ON, or point "
                "MX_BUILD_DIR at the build folder)" % (name, cand.parent))


def _run(name, *args, timeout=600, env=None, prefix=()):
    cmd = list(prefix) + [_binary(name)] + [str(a) for a in args]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                       env=dict(os.environ, **(env or {})))
    assert p.returncode == 0, "%s failed (%d):\n%s\n%s" % (cmd, p.returncode, p.stdout[-3000:],
                                                          p.stderr[-6000:])
    return p.stdout


def _parse_rows(stdout, n, k):
    """predict's lines: '<row> <argmax> <p0> ... <p{k-1}>'."""
    rows = [line.split() for line in stdout.strip().splitlines()]
    assert len(rows) == n, stdout[-2000:]
    assert [int(r[0]) for r in rows] == list(range(n))
    vals = np.array([[float(v) for v in r[2:]] for r in rows], dtype=np.float64)
    assert vals.shape == (n, k)
    np.testing.assert_array_equal([int(r[1]) for r in rows], vals.argmax(axis=1))
    return vals


def _softmax(z):
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def _data(n, seed):
    """Samples of train_mlp's classes: N(mu_c, I) with mu_c[j] = 2.5 where j % 4 == c."""
    rng = np.random.RandomState(seed)
    y = rng.randint(0, CLASSES, n)
    x = rng.randn(n, DIM).astype(np.float32)
    x[np.arange(DIM)[None, :] % CLASSES == y[:, None]] += 2.5
    return x, y.astype(np.float32)


def _mlp():
    """train_mlp's architecture: Dense(32, relu, in_units 8) -> BatchNorm -> Dropout(0.2) -> Dense(4)."""
    net = nn.HybridSequential()
    with net.name_scope():
        net.add(nn.Dense(32, activation="relu", in_units=DIM), nn.BatchNorm(), nn.Dropout(0.2),
                nn.Dense(CLASSES))
    return net


def _train_python(net, epochs=3, seed=0):
    mx.random.seed(seed)
    x, y = _data(512, seed + 100)
    net.initialize(mx.init.Xavier())
    trainer = gluon.Trainer(net.collect_params(), "sgd", {"learning_rate": 0.1, "momentum": 0.9})
    loss_fn = gluon.loss.SoftmaxCrossEntropyLoss()
    for _ in range(epochs):
        for b in range(0, 512, 64):
            xb, yb = nd.array(x[b:b + 64]), nd.array(y[b:b + 64])
            with autograd.record():
                loss = loss_fn(net(xb), yb)
            loss.backward()
            trainer.step(64)
    return net


def _losses(stdout):
    return [float(line.split()[3]) for line in stdout.splitlines() if line.startswith("epoch ")]


def _probs(block, x):
    return _softmax(block(nd.array(x)).asnumpy().astype(np.float64))


def _close(a, b):
    np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


# ------------------------------------------------------------------ Python -> C++

def test_python_trains_cpp_predicts(tmp_path):
    net = _train_python(_mlp())
    net.hybridize()
    x, _ = _data(40, 7)
    want = _probs(net, x)
    net.export(str(tmp_path / "py"), epoch=2)
    np.save(tmp_path / "x.npy", x)
    got = _parse_rows(_run("predict", tmp_path / "py", 2, tmp_path / "x.npy"), 40, CLASSES)
    _close(got, want)
    # the raw outputs, and a raw float32 file with --shape, and a float64 .npy (cast by libmx)
    logits = _parse_rows(_run("predict", tmp_path / "py", 2, tmp_path / "x.npy", "--logits"), 40,
                         CLASSES)
    _close(logits, net(nd.array(x)).asnumpy())
    x.tofile(tmp_path / "x.raw")
    _close(_parse_rows(_run("predict", tmp_path / "py", 2, tmp_path / "x.raw", "--shape", "40,8"),
                       40, CLASSES), want)
    np.save(tmp_path / "x64.npy", x.astype(np.float64))
    _close(_parse_rows(_run("predict", tmp_path / "py", 2, tmp_path / "x64.npy"), 40, CLASSES),
           want)


def test_predict_errors(tmp_path):
    net = _train_python(_mlp(), epochs=1)
    net.hybridize()
    net(nd.zeros((1, DIM)))
    net.export(str(tmp_path / "py"))
    np.save(tmp_path / "bad.npy", np.zeros((3, DIM + 1), np.float32))

    def fails(*args):
        p = subprocess.run([_binary("predict")] + [str(a) for a in args], capture_output=True,
                           text=True, timeout=120)
        return p.returncode, p.stderr

    rc, err = fails(tmp_path / "py", 0, tmp_path / "bad.npy")
    assert rc == 1 and "MX error" in err and "FullyConnected" in err, err  # libmx's message
    rc, err = fails(tmp_path / "py", 5, tmp_path / "bad.npy")
    assert rc == 1 and "py-0005.params" in err, err
    rc, err = fails(tmp_path / "py", 0, tmp_path / "x.raw")
    assert rc == 2 and "--shape" in err, err
    rc, err = fails(tmp_path / "py", 0)
    assert rc == 2 and "usage" in err, err


# ------------------------------------------------------------------ C++ -> Python

def test_cpp_trains_python_predicts(tmp_path):
    out = _run("train_mlp", tmp_path / "cpp", "--epochs", 6, "--seed", 3)
    losses = _losses(out)
    assert len(losses) == 6, out
    assert losses[-1] < 0.5 * losses[0], out
    ev = nd.load(str(tmp_path / "cpp-eval.nd"))
    x, label, prob = ev["data"].asnumpy(), ev["label"].asnumpy(), ev["prob"].asnumpy()
    assert x.shape == (256, DIM) and prob.shape == (256, CLASSES)
    # the classes are learnt (an independent check of the C++ training)
    assert (prob.argmax(axis=1) == label).mean() > 0.9
    # Python: the export, as SymbolBlock ...
    sb = gluon.SymbolBlock.imports(str(tmp_path / "cpp-symbol.json"), ["data"],
                                   str(tmp_path / "cpp-0000.params"))
    _close(_probs(sb, x), prob)
    # ... and the save_parameters file in the same architecture built in Python
    net = _mlp()
    net.load_parameters(str(tmp_path / "cpp.params"))
    _close(_probs(net, x), prob)
    xs, ys = _data(300, 12)  # fresh samples of the same classes
    assert (_probs(net, xs).argmax(axis=1) == ys).mean() > 0.9
    # C++ predict on the C++ export agrees as well
    np.save(tmp_path / "x.npy", x)
    _close(_parse_rows(_run("predict", tmp_path / "cpp", 0, tmp_path / "x.npy"), 256, CLASSES),
           prob)


def test_round_trip_python_cpp_python(tmp_path):
    # 1. Python trains and saves (export + save_parameters)
    net = _train_python(_mlp(), epochs=2, seed=4)
    net.hybridize()
    net.save_parameters(str(tmp_path / "py.params"))
    x, _ = _data(64, 21)
    want = _probs(net, x)  # (the hybridized net runs once before export)
    net.export(str(tmp_path / "py"))
    # 2. C++ predicts from the Python export
    np.save(tmp_path / "x.npy", x)
    _close(_parse_rows(_run("predict", tmp_path / "py", 0, tmp_path / "x.npy"), 64, CLASSES), want)
    # 3. C++ mx::nn loads Python's save_parameters: with no training its predictions are Python's
    _run("train_mlp", tmp_path / "c0", "--epochs", 0, "--init-params", tmp_path / "py.params")
    ev = nd.load(str(tmp_path / "c0-eval.nd"))
    _close(ev["prob"].asnumpy(), _probs(net, ev["data"].asnumpy()))
    # 4. C++ continues training from Python's parameters (starting low: they are trained) ...
    scratch = _losses(_run("train_mlp", tmp_path / "s", "--epochs", 1, "--seed", 5))
    tuned_out = _run("train_mlp", tmp_path / "c1", "--epochs", 2, "--seed", 5, "--init-params",
                     tmp_path / "py.params")
    tuned = _losses(tuned_out)
    assert tuned[0] < scratch[0], (scratch, tuned_out)
    # 5. ... and Python predicts with the C++ result, as C++ did
    ev = nd.load(str(tmp_path / "c1-eval.nd"))
    xe, prob = ev["data"].asnumpy(), ev["prob"].asnumpy()
    sb = gluon.SymbolBlock.imports(str(tmp_path / "c1-symbol.json"), ["data"],
                                   str(tmp_path / "c1-0000.params"))
    _close(_probs(sb, xe), prob)
    back = _mlp()
    back.load_parameters(str(tmp_path / "c1.params"))
    _close(_probs(back, xe), prob)
    assert not np.allclose(_probs(back, xe), _probs(net, xe), atol=1e-4)  # it did train


# ------------------------------------------------------------------ memory checking

VALGRIND = ("valgrind", "--error-exitcode=99", "--leak-check=full",
            "--errors-for-leak-kinds=definite", "--quiet")


def test_examples_under_valgrind(tmp_path):
    if shutil.which("valgrind") is None:
        pytest.fail("valgrind is not installed (apt-get install valgrind; tools/run_tests.sh "
                    "installs it): the C++ examples must be checked for leaks and invalid accesses")
    # Synchronous engine and one OpenMP thread: valgrind serialises threads anyway.
    env = {"MX_ENGINE_TYPE": "NaiveEngine", "OMP_NUM_THREADS": "1", "MX_NUM_THREADS": "1"}
    out = _run("train_mlp", tmp_path / "v", "--epochs", 1, env=env, prefix=VALGRIND,
               timeout=900)
    assert "held-out accuracy" in out
    ev = nd.load(str(tmp_path / "v-eval.nd"))
    np.save(tmp_path / "x.npy", ev["data"].asnumpy()[:16])
    got = _parse_rows(_run("predict", tmp_path / "v", 0, tmp_path / "x.npy", env=env,
                           prefix=VALGRIND, timeout=900), 16, CLASSES)
    _close(got, ev["prob"].asnumpy()[:16])
