#!/usr/bin/env python3
"""Training benchmarks, side by side: MX (Gluon) vs PyTorch (CPU) vs Apache MXNet 1.9.1 (Gluon).

    python bench/bench_train.py --setup                  creates the comparison venvs (bench_core.py)
    python bench/bench_train.py --data-root data/mnist   runs every case, prints medians and ratios

Cases (float32, SGD with momentum 0.9, learning rate 0.01, softmax cross-entropy):
  cnn_step     one training step of the seed CNN at batch 32 (1x28x28 input): Conv2D(32, 3x3, pad 1,
               relu) -> MaxPool(2) -> Conv2D(64, 3x3, pad 1, relu) -> MaxPool(2) -> Flatten ->
               Dense(10); forward, loss, backward, SGD update (Gluon nets hybridized)
  mlp_step     one training step of an MLP 784-256-256-10 (relu) at batch 64
  *_imperative the same step with the Gluon net not hybridized (PyTorch runs its one eager step in
               both rows), so hybridized and imperative stand side by side
  mnist_epoch  one full epoch of the seed CNN on the 60,000 MNIST training images at batch 64
               (needs --data-root with the IDX files, see tools/fetch_mnist.py): wall time and the
               peak resident set size of the worker (resource.getrusage), before and after the epoch;
               the loop reads its loss back every --sync-every batches (default 1), as a loop that
               logs its loss does. MX's threaded engine lets Python run ahead of the computation and
               sizes each queued op's outputs when it is queued, so with --sync-every 0 its peak RSS
               grows with the number of queued steps (about 55 MiB per CNN step at batch 64)

Every framework reads the IDX files with the same numpy code and feeds shuffled mini-batches
sliced from the uint8 array (scaled to [0, 1]), so the epoch measures the framework, not a data
pipeline. Each case runs in its own subprocess under the framework's interpreter (MX under this
one; the others under bench/.venv-torch and bench/.venv-mxnet), so each peak RSS is that case's
alone. Step times are medians over every repeat of every round (in milliseconds); the epoch runs
in the first --epoch-rounds rounds (default 1). Nothing here is asserted.
"""
import argparse
import json
import os
import platform
import resource
import statistics
import struct
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import bench_core  # noqa: E402  (shared venv setup and timing)

CASES = ("cnn_step", "cnn_step_imperative", "mlp_step", "mlp_step_imperative", "mnist_epoch")
CNN_BATCH, MLP_BATCH, EPOCH_BATCH = 32, 64, 64
LR, MOMENTUM = 0.01, 0.9


def _peak_rss_mib():
    # ru_maxrss is in KiB on Linux
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _read_idx(root, stem):
    import numpy as np

    for name in (stem, stem.replace("-idx", ".idx"), stem + ".gz"):
        path = os.path.join(root, name)
        if os.path.isfile(path):
            break
    else:
        raise FileNotFoundError("%s not found in %s (run tools/fetch_mnist.py)" % (stem, root))
    opener = open
    if path.endswith(".gz"):
        import gzip
        opener = gzip.open
    with opener(path, "rb") as f:
        head = f.read(4)
        dims = struct.unpack(">" + "I" * head[3], f.read(4 * head[3]))
        return np.frombuffer(f.read(), np.uint8).reshape(dims)


def _mnist(root):
    return _read_idx(root, "train-images-idx3-ubyte"), _read_idx(root, "train-labels-idx1-ubyte")


def _batches(images, labels, batch, limit, seed=0):
    """Shuffled (x float32 (B,1,28,28) in [0,1], y float32 (B,)) numpy batches, last one kept."""
    import numpy as np

    order = np.random.default_rng(seed).permutation(len(labels))
    nb = (len(order) + batch - 1) // batch
    if limit:
        nb = min(nb, limit)
    for i in range(nb):
        idx = order[i * batch:(i + 1) * batch]
        yield (images[idx].astype(np.float32)[:, None] / np.float32(255.0),
               labels[idx].astype(np.float32))


def _synthetic(rng, batch, shape):
    x = rng.random((batch,) + shape, dtype="float32")
    y = rng.integers(0, 10, batch).astype("float32")
    return x, y


# ----------------------------------------------------------------------------- Gluon (MX, MXNet)
def _gluon_worker(mxmod, args, info):
    """Shared by MX and MXNet 1.9.1: the same Gluon code runs under both."""
    import numpy as np

    gluon, nd, autograd, nn = mxmod.gluon, mxmod.nd, mxmod.autograd, mxmod.gluon.nn

    def cnn():
        net = nn.HybridSequential()
        with net.name_scope():
            net.add(nn.Conv2D(32, 3, padding=1, activation="relu"), nn.MaxPool2D(2),
                    nn.Conv2D(64, 3, padding=1, activation="relu"), nn.MaxPool2D(2),
                    nn.Flatten(), nn.Dense(10))
        return net

    def mlp():
        net = nn.HybridSequential()
        with net.name_scope():
            net.add(nn.Dense(256, activation="relu"), nn.Dense(256, activation="relu"), nn.Dense(10))
        return net

    def setup(net, x, hybridize=True):
        mxmod.random.seed(0)
        net.initialize(mxmod.init.Xavier())
        if hybridize:
            net.hybridize()
        net(x)  # finish the deferred initialization
        trainer = gluon.Trainer(net.collect_params(), "sgd", {"learning_rate": LR, "momentum": MOMENTUM})
        return trainer

    loss_fn = gluon.loss.SoftmaxCrossEntropyLoss()
    state = {}

    def make_step(net, trainer, x, y):
        def step():
            with autograd.record():
                loss = loss_fn(net(x), y)
            loss.backward()
            trainer.step(x.shape[0])
            state["loss"] = loss
        return step

    def sync():
        nd.waitall()

    out, extra = {}, {}
    rng = np.random.default_rng(0)
    case = args.cases[0]
    if case.startswith(("cnn_step", "mlp_step")):
        hybrid = not case.endswith("_imperative")
        if case.startswith("cnn"):
            xn, yn = _synthetic(rng, CNN_BATCH, (1, 28, 28))
            net = cnn()
        else:
            xn, yn = _synthetic(rng, MLP_BATCH, (784,))
            net = mlp()
        x, y = nd.array(xn), nd.array(yn)
        trainer = setup(net, x, hybrid)
        out[case] = bench_core._timeit(make_step(net, trainer, x, y), sync, args.inner, args.repeats, 2)
    elif case == "mnist_epoch":
        images, labels = _mnist(args.data_root)
        net = cnn()
        trainer = setup(net, nd.zeros((1, 1, 28, 28)))
        sync()
        extra["rss_before_mib"] = _peak_rss_mib()
        t0 = time.perf_counter()
        n, nb, losses = 0, 0, []
        for xn, yn in _batches(images, labels, EPOCH_BATCH, args.epoch_limit):
            x, y = nd.array(xn), nd.array(yn)
            with autograd.record():
                loss = loss_fn(net(x), y)
            loss.backward()
            trainer.step(x.shape[0])
            n += x.shape[0]
            nb += 1
            if args.sync_every and nb % args.sync_every == 0:
                losses.append(float(loss.mean().asscalar()))  # what a loop that logs its loss does
        sync()
        out[case] = [time.perf_counter() - t0]
        extra["final_loss"] = float(loss.mean().asscalar())
        extra["samples"] = n
    extra["peak_rss_mib"] = _peak_rss_mib()
    return {"times": out, "extra": {case: extra}, "info": info}


def worker_mx(args):
    import mx

    info = {}
    for key in ("version", "blas", "dnnl", "num_threads"):
        try:
            info[key] = bench_core._lib_info_raw(key)
        except Exception:  # noqa: BLE001 -- informational only
            pass
    return _gluon_worker(mx, args, info)


def worker_mxnet(args):
    import mxnet

    return _gluon_worker(mxnet, args, {"version": mxnet.__version__})


def worker_torch(args):
    import numpy as np
    import torch
    from torch import nn

    def cnn():
        return nn.Sequential(nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                             nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                             nn.Flatten(), nn.Linear(3136, 10))

    def mlp():
        return nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(),
                             nn.Linear(256, 10))

    if os.environ.get("OMP_NUM_THREADS"):
        torch.set_num_threads(int(os.environ["OMP_NUM_THREADS"]))
    torch.manual_seed(0)
    loss_fn = nn.CrossEntropyLoss()

    def make_step(net, x, y):
        opt = torch.optim.SGD(net.parameters(), lr=LR, momentum=MOMENTUM)

        def step():
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(net(x), y)
            loss.backward()
            opt.step()
        return step, opt

    nothing = lambda: None  # noqa: E731 -- torch CPU ops are synchronous
    out, extra = {}, {}
    rng = np.random.default_rng(0)
    case = args.cases[0]
    if case.startswith(("cnn_step", "mlp_step")):
        if case.startswith("cnn"):
            xn, yn = _synthetic(rng, CNN_BATCH, (1, 28, 28))
            net = cnn()
        else:
            xn, yn = _synthetic(rng, MLP_BATCH, (784,))
            net = mlp()
        x, y = torch.from_numpy(xn), torch.from_numpy(yn).long()
        step, _ = make_step(net, x, y)
        out[case] = bench_core._timeit(step, nothing, args.inner, args.repeats, 2)
    elif case == "mnist_epoch":
        images, labels = _mnist(args.data_root)
        net = cnn()
        opt = torch.optim.SGD(net.parameters(), lr=LR, momentum=MOMENTUM)
        extra["rss_before_mib"] = _peak_rss_mib()
        t0 = time.perf_counter()
        n, nb, losses = 0, 0, []
        for xn, yn in _batches(images, labels, EPOCH_BATCH, args.epoch_limit):
            x, y = torch.from_numpy(xn), torch.from_numpy(yn).long()
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(net(x), y)
            loss.backward()
            opt.step()
            n += x.shape[0]
            nb += 1
            if args.sync_every and nb % args.sync_every == 0:
                losses.append(float(loss.item()))
        out[case] = [time.perf_counter() - t0]
        extra["final_loss"] = float(loss.item())
        extra["samples"] = n
    extra["peak_rss_mib"] = _peak_rss_mib()
    return {"times": out, "extra": {case: extra},
            "info": {"version": torch.__version__, "num_threads": torch.get_num_threads()}}


WORKERS = {"mx": worker_mx, "torch": worker_torch, "mxnet": worker_mxnet}


# ----------------------------------------------------------------------------- driver
THREAD_VARS = ("OMP_NUM_THREADS", "MX_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")


def run_worker(name, case, args):
    env = dict(os.environ)
    if args.threads:
        for var in THREAD_VARS:
            env[var] = str(args.threads)
    if name == "mx":
        py = sys.executable
        probe = subprocess.run([py, "-c", "import mx"], env=env, cwd="/", capture_output=True)
        if probe.returncode != 0:
            pkg = os.path.join(bench_core.ROOT, "bindings", "python")
            env["PYTHONPATH"] = pkg + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    else:
        py = bench_core.venv_python(name)
        if not os.path.exists(py):
            return None, f"{bench_core.VENVS[name]} missing (run with --setup)"
        env.pop("PYTHONPATH", None)
    cmd = [py, os.path.abspath(__file__), "--worker", name, "--repeats", str(args.repeats),
           "--inner", str(args.inner), "--cases", case, "--data-root", os.path.abspath(args.data_root),
           "--epoch-limit", str(args.epoch_limit), "--sync-every", str(args.sync_every)]
    p = subprocess.run(cmd, env=env, cwd="/", capture_output=True, text=True, timeout=args.timeout)
    if p.returncode != 0:
        tail = (p.stderr or p.stdout).strip().splitlines()[-1:] or ["?"]
        return None, f"worker failed (exit {p.returncode}): {tail[0]}"
    return json.loads(p.stdout.strip().splitlines()[-1]), None


def report(results, notes, args):
    labels = bench_core.LABELS
    print()
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"threads: {args.threads or 'framework defaults'}")
    for name in results:
        info = ", ".join(f"{k}={v}" for k, v in results[name]["info"].items())
        print(f"  {labels[name]}: {info}")
    for key, note in notes.items():
        print(f"  {key}: skipped: {note}")
    print()
    names = [k for k in ("mx", "torch", "mxnet") if k in results]
    w = 22

    def row(title, vals, fmt):
        print(f"{title:<34}" + "".join(f"{vals[k]:>{w}{fmt}}" if vals.get(k) is not None else f"{'-':>{w}}"
                                      for k in names))

    def ratio(vals):
        print(f"{'    / MX':<34}" + "".join(f"{bench_core.fmt_ratio(vals.get(k), vals.get('mx')):>{w}}"
                                            for k in names))

    print(f"{'case (lower=better)':<34}" + "".join(f"{labels[k]:>{w}}" for k in names))
    for case in args.cases:
        if case == "mnist_epoch":
            continue
        med = {k: statistics.median(results[k]["times"][case]) * 1e3
               for k in names if case in results[k]["times"]}
        row(f"{case} (ms/step)", med, ".2f")
        ratio(med)
        rss = {k: results[k]["extra"].get(case, {}).get("peak_rss_mib") for k in names}
        row(f"{case} peak RSS (MiB)", rss, ".0f")
    if "mnist_epoch" in args.cases:
        med = {k: statistics.median(results[k]["times"]["mnist_epoch"])
               for k in names if "mnist_epoch" in results[k]["times"]}
        ex = {k: results[k]["extra"].get("mnist_epoch", {}) for k in names}
        samples = next((e["samples"] for e in ex.values() if e.get("samples")), 0)
        row(f"mnist_epoch ({samples} img) s", med, ".1f")
        ratio(med)
        row("    samples/s (higher=better)", {k: samples / v for k, v in med.items() if v}, ".0f")
        row("    peak RSS before epoch (MiB)", {k: e.get("rss_before_mib") for k, e in ex.items()}, ".0f")
        rss = {k: e.get("peak_rss_mib") for k, e in ex.items()}
        row("    peak RSS after epoch (MiB)", rss, ".0f")
        ratio(rss)
        row("    final batch loss", {k: e.get("final_loss") for k, e in ex.items()}, ".3f")
    print(f"\nsteps: medians of {args.rounds} interleaved rounds x {args.repeats} repeats x {args.inner} steps; "
          f"epoch: median of {min(args.rounds, args.epoch_rounds)} round(s); each case in its own process")


def main(argv=None):
    ap = argparse.ArgumentParser(description="MX vs PyTorch vs MXNet 1.9.1: training steps and an MNIST epoch")
    ap.add_argument("--setup", action="store_true", help="create the comparison venvs first")
    ap.add_argument("--only", choices=sorted(WORKERS), action="append", help="run only these frameworks")
    ap.add_argument("--cases", type=lambda s: [c for c in s.split(",") if c], default=list(CASES),
                    help="comma-separated subset of: " + ", ".join(CASES))
    ap.add_argument("--data-root", default=os.path.join(bench_core.ROOT, "data", "mnist"),
                    help="folder with the MNIST IDX files (mnist_epoch)")
    ap.add_argument("--threads", type=int, default=0,
                    help="threads per framework (sets %s; 0: each framework's default). On a "
                         "loaded machine 1 gives stable numbers: spinning thread pools that lose "
                         "their core wait a whole scheduler slice" % ", ".join(THREAD_VARS))
    ap.add_argument("--epoch-limit", type=int, default=0, help="stop the epoch after N batches (0: all)")
    ap.add_argument("--epoch-rounds", type=int, default=1, help="rounds that run the epoch (at most --rounds)")
    ap.add_argument("--sync-every", type=int, default=1,
                    help="read the loss back every N batches of the epoch, as a loop that logs its loss "
                         "does (0: never; MX then queues the whole epoch: use with --epoch-limit)")
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--inner", type=int, default=5, help="steps per timed repeat")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--timeout", type=int, default=900, help="seconds per framework, case and round")
    ap.add_argument("--worker", choices=sorted(WORKERS), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    bad = [c for c in args.cases if c not in CASES]
    if bad:
        ap.error(f"unknown case(s) {bad}; choose from {CASES}")

    if args.worker:
        print(json.dumps(WORKERS[args.worker](args)))
        return 0
    names = args.only or ["mx", "torch", "mxnet"]
    if args.setup:
        bench_core.setup([n for n in names if n != "mx"])
    if "mnist_epoch" in args.cases and not os.path.isfile(os.path.join(args.data_root, "train-images-idx3-ubyte")) \
            and not os.path.isfile(os.path.join(args.data_root, "train-images-idx3-ubyte.gz")):
        print(f"[bench] no MNIST in {args.data_root}: skipping mnist_epoch (python tools/fetch_mnist.py)")
        args.cases = [c for c in args.cases if c != "mnist_epoch"]
    results, notes = {}, {}
    for rnd in range(args.rounds):
        for case in args.cases:
            if case == "mnist_epoch" and rnd >= args.epoch_rounds:
                continue
            for name in names:
                key = f"{bench_core.LABELS[name]} {case}"
                if key in notes:
                    continue
                print(f"[bench] round {rnd + 1}/{args.rounds}: {bench_core.LABELS[name]} {case} ...", flush=True)
                try:
                    res, note = run_worker(name, case, args)
                except subprocess.TimeoutExpired:
                    res, note = None, f"timed out after {args.timeout} s"
                if note:
                    notes[key] = note
                    continue
                cur = results.setdefault(name, {"times": {}, "extra": {}, "info": res["info"]})
                cur["times"].setdefault(case, []).extend(res["times"][case])
                # keep the largest peak RSS seen over the rounds
                old = cur["extra"].get(case)
                new = res["extra"][case]
                if old is None or new.get("peak_rss_mib", 0) > old.get("peak_rss_mib", 0):
                    cur["extra"][case] = new
    if not results:
        print("[bench] nothing ran:", notes)
        return 1
    report(results, notes, args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
