#!/usr/bin/env python3
"""Neural-network op benchmarks, side by side: MX vs PyTorch (CPU) vs Apache MXNet 1.9.1.

    python bench/bench_nn.py --setup     creates the comparison venvs (as bench_core.py --setup)
    python bench/bench_nn.py             runs every case and prints medians and ratios

Cases (float32):
  conv2d_fwd     Convolution forward, batch 32, 3 -> 64 channels, 3x3 kernel, 56x56, pad 1, bias
  conv2d_fwdbwd  the same convolution, forward + backward (data, weight and bias gradients)
  lstm_fwdbwd    one LSTM layer, seq 35, batch 32, input 128, hidden 256: forward + backward
                 (gradients of the input, the parameters and the initial states)

Each framework runs in its own subprocess under its own interpreter (see bench_core.py); the table
shows the median over every repeat of every round, in milliseconds, and each framework's time over
MX's. Nothing here is asserted.
"""
import argparse
import json
import os
import platform
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import bench_core  # noqa: E402  (shared venv setup and timing)

CASES = ("conv2d_fwd", "conv2d_fwdbwd", "lstm_fwdbwd")
CONV = dict(n=32, cin=3, cout=64, hw=56, k=3, pad=1)
LSTM = dict(t=35, n=32, inp=128, hid=256)


def _data(rng, *shape):
    return rng.standard_normal(shape).astype("float32")


# ----------------------------------------------------------------------------- workers
def worker_mx(args):
    import numpy as np

    import mx

    rng = np.random.default_rng(0)
    c = CONV
    x = mx.nd.array(_data(rng, c["n"], c["cin"], c["hw"], c["hw"]))
    w = mx.nd.array(_data(rng, c["cout"], c["cin"], c["k"], c["k"]) * 0.1)
    b = mx.nd.array(_data(rng, c["cout"]))
    conv_p = dict(kernel=(c["k"], c["k"]), pad=(c["pad"], c["pad"]), num_filter=c["cout"])
    st = {}

    def conv_fwd():
        st["y"] = mx.nd.Convolution(x, w, b, **conv_p)

    for a in (x, w, b):
        a.attach_grad()
    hg = mx.nd.ones((c["n"], c["cout"], c["hw"], c["hw"]))

    def conv_fwdbwd():
        with mx.autograd.record():
            y = mx.nd.Convolution(x, w, b, **conv_p)
        y.backward(hg)

    def sync_grads(*arrs):
        return lambda: [a.grad.wait_to_read() for a in arrs]

    s = LSTM
    nparam = 4 * s["hid"] * (s["inp"] + s["hid"] + 2)
    lx = mx.nd.array(_data(rng, s["t"], s["n"], s["inp"]))
    lp = mx.nd.array(_data(rng, nparam) * 0.05)
    h0 = mx.nd.zeros((1, s["n"], s["hid"]))
    c0 = mx.nd.zeros((1, s["n"], s["hid"]))
    for a in (lx, lp, h0, c0):
        a.attach_grad()
    lhg = mx.nd.ones((s["t"], s["n"], s["hid"]))

    def lstm_fwdbwd():
        with mx.autograd.record():
            out = mx.nd.RNN(lx, lp, h0, c0, mode="lstm", state_size=s["hid"], num_layers=1)
        out.backward(lhg)

    out = {}
    if "conv2d_fwd" in args.cases:
        out["conv2d_fwd"] = bench_core._timeit(conv_fwd, lambda: st["y"].wait_to_read(), args.inner, args.repeats, 2)
    if "conv2d_fwdbwd" in args.cases:
        out["conv2d_fwdbwd"] = bench_core._timeit(conv_fwdbwd, sync_grads(x, w, b), args.inner, args.repeats, 2)
    if "lstm_fwdbwd" in args.cases:
        out["lstm_fwdbwd"] = bench_core._timeit(lstm_fwdbwd, sync_grads(lx, lp, h0, c0), args.inner, args.repeats, 2)
    info = {}
    for key in ("version", "blas", "dnnl", "num_threads"):
        try:
            info[key] = bench_core._lib_info_raw(key)
        except Exception:  # noqa: BLE001 -- informational only
            pass
    return {"times": out, "info": info}


def worker_torch(args):
    import numpy as np
    import torch

    rng = np.random.default_rng(0)
    c = CONV
    conv = torch.nn.Conv2d(c["cin"], c["cout"], c["k"], padding=c["pad"])
    x = torch.from_numpy(_data(rng, c["n"], c["cin"], c["hw"], c["hw"]))
    xg = x.clone().requires_grad_(True)
    hg = torch.ones(c["n"], c["cout"], c["hw"], c["hw"])

    def conv_fwd():
        with torch.no_grad():
            conv(x)

    def conv_fwdbwd():
        conv(xg).backward(hg)

    s = LSTM
    lstm = torch.nn.LSTM(s["inp"], s["hid"], 1)
    lx = torch.from_numpy(_data(rng, s["t"], s["n"], s["inp"])).requires_grad_(True)
    h0 = torch.zeros(1, s["n"], s["hid"], requires_grad=True)
    c0 = torch.zeros(1, s["n"], s["hid"], requires_grad=True)
    lhg = torch.ones(s["t"], s["n"], s["hid"])

    def lstm_fwdbwd():
        out, _ = lstm(lx, (h0, c0))
        out.backward(lhg)

    out = {}
    nothing = lambda: None  # noqa: E731 -- torch CPU ops are synchronous
    if "conv2d_fwd" in args.cases:
        out["conv2d_fwd"] = bench_core._timeit(conv_fwd, nothing, args.inner, args.repeats, 2)
    if "conv2d_fwdbwd" in args.cases:
        out["conv2d_fwdbwd"] = bench_core._timeit(conv_fwdbwd, nothing, args.inner, args.repeats, 2)
    if "lstm_fwdbwd" in args.cases:
        out["lstm_fwdbwd"] = bench_core._timeit(lstm_fwdbwd, nothing, args.inner, args.repeats, 2)
    return {"times": out, "info": {"version": torch.__version__, "num_threads": torch.get_num_threads()}}


def worker_mxnet(args):
    import mxnet
    import numpy as np

    nd, ag = mxnet.nd, mxnet.autograd
    rng = np.random.default_rng(0)
    c = CONV
    x = nd.array(_data(rng, c["n"], c["cin"], c["hw"], c["hw"]))
    w = nd.array(_data(rng, c["cout"], c["cin"], c["k"], c["k"]) * 0.1)
    b = nd.array(_data(rng, c["cout"]))
    conv_p = dict(kernel=(c["k"], c["k"]), pad=(c["pad"], c["pad"]), num_filter=c["cout"])
    st = {}

    def conv_fwd():
        st["y"] = nd.Convolution(x, w, b, **conv_p)

    for a in (x, w, b):
        a.attach_grad()
    hg = nd.ones((c["n"], c["cout"], c["hw"], c["hw"]))

    def conv_fwdbwd():
        with ag.record():
            y = nd.Convolution(x, w, b, **conv_p)
        y.backward(hg)

    def sync_grads(*arrs):
        return lambda: [a.grad.wait_to_read() for a in arrs]

    s = LSTM
    nparam = 4 * s["hid"] * (s["inp"] + s["hid"] + 2)
    lx = nd.array(_data(rng, s["t"], s["n"], s["inp"]))
    lp = nd.array(_data(rng, nparam) * 0.05)
    h0 = nd.zeros((1, s["n"], s["hid"]))
    c0 = nd.zeros((1, s["n"], s["hid"]))
    for a in (lx, lp, h0, c0):
        a.attach_grad()
    lhg = nd.ones((s["t"], s["n"], s["hid"]))

    def lstm_fwdbwd():
        with ag.record():
            out = nd.RNN(lx, lp, h0, c0, mode="lstm", state_size=s["hid"], num_layers=1)
        out.backward(lhg)

    out = {}
    if "conv2d_fwd" in args.cases:
        out["conv2d_fwd"] = bench_core._timeit(conv_fwd, lambda: st["y"].wait_to_read(), args.inner, args.repeats, 2)
    if "conv2d_fwdbwd" in args.cases:
        out["conv2d_fwdbwd"] = bench_core._timeit(conv_fwdbwd, sync_grads(x, w, b), args.inner, args.repeats, 2)
    if "lstm_fwdbwd" in args.cases:
        out["lstm_fwdbwd"] = bench_core._timeit(lstm_fwdbwd, sync_grads(lx, lp, h0, c0), args.inner, args.repeats, 2)
    return {"times": out, "info": {"version": mxnet.__version__}}


WORKERS = {"mx": worker_mx, "torch": worker_torch, "mxnet": worker_mxnet}


# ----------------------------------------------------------------------------- driver
def run_worker(name, args):
    env = dict(os.environ)
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
           "--inner", str(args.inner), "--cases", ",".join(args.cases)]
    p = subprocess.run(cmd, env=env, cwd="/", capture_output=True, text=True, timeout=args.timeout)
    if p.returncode != 0:
        tail = (p.stderr or p.stdout).strip().splitlines()[-1:] or ["?"]
        return None, f"worker failed (exit {p.returncode}): {tail[0]}"
    return json.loads(p.stdout.strip().splitlines()[-1]), None


def report(results, notes, args):
    labels = bench_core.LABELS
    print()
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    for name, res in results.items():
        info = ", ".join(f"{k}={v}" for k, v in res.get("info", {}).items())
        print(f"  {labels[name]}: {info}")
    for name, note in notes.items():
        print(f"  {labels[name]}: skipped: {note}")
    print()
    names = [k for k in ("mx", "torch", "mxnet") if k in results]
    w = 22
    print(f"{'case (ms, lower=better)':<30}" + "".join(f"{labels[k]:>{w}}" for k in names))
    for case in args.cases:
        med = {k: statistics.median(results[k]["times"][case]) * 1e3 for k in names if case in results[k]["times"]}
        print(f"{case:<30}" + "".join(f"{med[k]:>{w}.3f}" if k in med else f"{'-':>{w}}" for k in names))
        print(f"{'    time / MX time':<30}"
              + "".join(f"{bench_core.fmt_ratio(med.get(k), med.get('mx')):>{w}}" for k in names))
    print(f"\nmedians of {args.rounds} interleaved rounds x {args.repeats} repeats x {args.inner} calls")


def main(argv=None):
    ap = argparse.ArgumentParser(description="MX vs PyTorch vs MXNet 1.9.1: NN ops")
    ap.add_argument("--setup", action="store_true", help="create the comparison venvs first")
    ap.add_argument("--only", choices=sorted(WORKERS), action="append", help="run only these frameworks")
    ap.add_argument("--cases", type=lambda s: [c for c in s.split(",") if c], default=list(CASES),
                    help="comma-separated subset of: " + ", ".join(CASES))
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--inner", type=int, default=5, help="calls per timed repeat")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--timeout", type=int, default=600, help="seconds per framework and round")
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
    results, notes = {}, {}
    for rnd in range(args.rounds):
        for name in names:
            if name in notes:
                continue
            print(f"[bench] round {rnd + 1}/{args.rounds}: {bench_core.LABELS[name]} ...", flush=True)
            try:
                res, note = run_worker(name, args)
            except subprocess.TimeoutExpired:
                res, note = None, f"timed out after {args.timeout} s"
            if note:
                notes[name] = note
                results.pop(name, None)
                continue
            if name in results:
                for case, ts in res["times"].items():
                    results[name]["times"][case] += ts
            else:
                results[name] = res
    if not results:
        print("[bench] nothing ran:", notes)
        return 1
    report(results, notes, args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
