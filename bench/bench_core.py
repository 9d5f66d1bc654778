#!/usr/bin/env python3
"""Core benchmarks, side by side: MX vs PyTorch (CPU) vs Apache MXNet 1.9.1.

    python bench/bench_core.py --setup     creates bench/.venv-torch (torch==2.13.0, CPU) and
                                           bench/.venv-mxnet (mxnet==1.9.1, numpy==1.23.5)
    python bench/bench_core.py             runs every benchmark and prints medians and ratios

Benchmarks:
  dispatch  per-op cost of a tiny `a + b` (two float32 arrays of 4 elements) issued from Python,
            including the final synchronisation, in microseconds per op
  gemm      float32 1024x1024 @ 1024x1024 (mx.nd.dot, torch.matmul, mxnet.nd.dot), in GFLOP/s

Each framework runs in its own subprocess (this script with --worker NAME) under its own Python:
MX under the interpreter that runs this script (it must `import mx`: an installed package or
PYTHONPATH=bindings/python), the others under bench/.venv-torch and bench/.venv-mxnet. A worker
reports every repeat; the table shows medians. A framework whose venv is missing is skipped with a
note. PyTorch and MXNet are benchmark-only: never dependencies of MX. Nothing here is asserted.
"""
import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
VENVS = {"torch": os.path.join(HERE, ".venv-torch"), "mxnet": os.path.join(HERE, ".venv-mxnet")}
REQUIREMENTS = {
    "torch": ["torch==2.13.0", "numpy"],
    "mxnet": ["mxnet==1.9.1", "numpy==1.23.5"],
}
LABELS = {"mx": "MX", "torch": "PyTorch 2.13 (CPU)", "mxnet": "MXNet 1.9.1"}


# ----------------------------------------------------------------------------- workers
def _timeit(fn, sync, inner, repeats, warmup=1):
    """Seconds per call of fn, one value per repeat (inner calls each, then sync)."""
    for _ in range(warmup):
        for _ in range(inner):
            fn()
        sync()
    out = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(inner):
            fn()
        sync()
        out.append((time.perf_counter() - t0) / inner)
    return out


def worker_mx(args):
    import numpy as np

    import mx

    a = mx.nd.array(np.arange(4, dtype=np.float32))
    b = mx.nd.array(np.ones(4, dtype=np.float32))
    state = {}

    def add():
        state["c"] = a + b

    dispatch = _timeit(add, lambda: state["c"].wait_to_read(), args.dispatch_ops, args.repeats)
    n = args.gemm_n
    rng = np.random.default_rng(0)
    x = mx.nd.array(rng.standard_normal((n, n), dtype=np.float32))
    y = mx.nd.array(rng.standard_normal((n, n), dtype=np.float32))

    def gemm():
        state["z"] = mx.nd.dot(x, y)

    gemm_t = _timeit(gemm, lambda: state["z"].wait_to_read(), 1, args.repeats, warmup=2)
    info = {}
    for key in ("version", "blas", "engine", "num_threads"):
        try:
            info[key] = mx.base.lib_info(key) if hasattr(mx.base, "lib_info") else _lib_info_raw(key)
        except Exception:  # noqa: BLE001 -- informational only
            pass
    return {"dispatch_s": dispatch, "gemm_s": gemm_t, "info": info}


def _lib_info_raw(key):
    from mx._api import ffi, lib

    val = ffi.new("const char**")
    if lib.mx_lib_info(key.encode(), val) != 0:
        return "?"
    return ffi.string(val[0]).decode()


def worker_torch(args):
    import torch

    a = torch.arange(4, dtype=torch.float32)
    b = torch.ones(4, dtype=torch.float32)
    state = {}

    def add():
        state["c"] = a + b

    dispatch = _timeit(add, lambda: None, args.dispatch_ops, args.repeats)
    n = args.gemm_n
    g = torch.Generator().manual_seed(0)
    x = torch.randn(n, n, generator=g, dtype=torch.float32)
    y = torch.randn(n, n, generator=g, dtype=torch.float32)

    def gemm():
        state["z"] = torch.matmul(x, y)

    gemm_t = _timeit(gemm, lambda: None, 1, args.repeats, warmup=2)
    return {"dispatch_s": dispatch, "gemm_s": gemm_t,
            "info": {"version": torch.__version__, "num_threads": torch.get_num_threads()}}


def worker_mxnet(args):
    import mxnet
    import numpy as np

    nd = mxnet.nd
    a = nd.array(np.arange(4, dtype=np.float32))
    b = nd.array(np.ones(4, dtype=np.float32))
    state = {}

    def add():
        state["c"] = a + b

    dispatch = _timeit(add, lambda: state["c"].wait_to_read(), args.dispatch_ops, args.repeats)
    n = args.gemm_n
    rng = np.random.default_rng(0)
    x = nd.array(rng.standard_normal((n, n), dtype=np.float32))
    y = nd.array(rng.standard_normal((n, n), dtype=np.float32))

    def gemm():
        state["z"] = nd.dot(x, y)

    gemm_t = _timeit(gemm, lambda: state["z"].wait_to_read(), 1, args.repeats, warmup=2)
    return {"dispatch_s": dispatch, "gemm_s": gemm_t, "info": {"version": mxnet.__version__}}


WORKERS = {"mx": worker_mx, "torch": worker_torch, "mxnet": worker_mxnet}


# ----------------------------------------------------------------------------- setup
def venv_python(name):
    return os.path.join(VENVS[name], "bin", "python")


def setup(names):
    for name in names:
        py = venv_python(name)
        if not os.path.exists(py):
            print(f"[bench] creating {VENVS[name]}", flush=True)
            subprocess.run([sys.executable, "-m", "venv", VENVS[name]], check=True)
        print(f"[bench] installing {' '.join(REQUIREMENTS[name])} into {VENVS[name]}", flush=True)
        rc = subprocess.run([py, "-m", "pip", "install", "-q", "--disable-pip-version-check",
                             *REQUIREMENTS[name]]).returncode
        if rc != 0:
            print(f"[bench] {name}: pip failed (exit {rc}); it will be skipped", flush=True)


# ----------------------------------------------------------------------------- driver
def run_worker(name, args):
    if name == "mx":
        py = sys.executable
        env = dict(os.environ)
        # The mx this interpreter imports (installed, or via PYTHONPATH); else the in-tree build.
        probe = subprocess.run([py, "-c", "import mx"], env=env, cwd="/", capture_output=True)
        if probe.returncode != 0:
            pkg = os.path.join(ROOT, "bindings", "python")
            env["PYTHONPATH"] = pkg + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    else:
        py = venv_python(name)
        if not os.path.exists(py):
            return None, f"{VENVS[name]} missing (run with --setup)"
        env = dict(os.environ)
        env.pop("PYTHONPATH", None)
    cmd = [py, os.path.abspath(__file__), "--worker", name, "--repeats", str(args.repeats),
           "--dispatch-ops", str(args.dispatch_ops), "--gemm-n", str(args.gemm_n)]
    # Run from outside the repository so that `import mx` never picks up a stray directory.
    p = subprocess.run(cmd, env=env, cwd="/", capture_output=True, text=True,
                       timeout=args.timeout)
    if p.returncode != 0:
        tail = (p.stderr or p.stdout).strip().splitlines()[-1:] or ["?"]
        return None, f"worker failed (exit {p.returncode}): {tail[0]}"
    return json.loads(p.stdout.strip().splitlines()[-1]), None


def fmt_ratio(x, base):
    if x is None or base is None or base == 0:
        return "-"
    return f"{x / base:.2f}x"


def report(results, notes, args):
    n = args.gemm_n
    flops = 2.0 * n * n * n
    print()
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    for env_key in ("OPENBLAS_CORETYPE", "MX_NUM_THREADS", "OMP_NUM_THREADS", "MX_ENGINE_TYPE"):
        if os.environ.get(env_key):
            print(f"  {env_key}={os.environ[env_key]}")
    for name, res in results.items():
        if res:
            info = ", ".join(f"{k}={v}" for k, v in res.get("info", {}).items())
            print(f"  {LABELS[name]}: {info}")
    for name, note in notes.items():
        print(f"  {LABELS[name]}: skipped: {note}")
    print()
    disp = {k: statistics.median(v["dispatch_s"]) * 1e6 for k, v in results.items() if v}
    gfl = {k: flops / statistics.median(v["gemm_s"]) / 1e9 for k, v in results.items() if v}
    names = [k for k in ("mx", "torch", "mxnet") if k in disp]
    w = 22
    print(f"{'benchmark':<34}" + "".join(f"{LABELS[k]:>{w}}" for k in names))
    print(f"{'(a) tiny a + b, us/op (lower=better)':<34}" + "".join(f"{disp[k]:>{w}.2f}" for k in names))
    print(f"{'    time / MX time':<34}" + "".join(f"{fmt_ratio(disp[k], disp.get('mx')):>{w}}" for k in names))
    print(f"{f'(b) GEMM f32 {n}^3, GFLOP/s':<34}" + "".join(f"{gfl[k]:>{w}.1f}" for k in names))
    print(f"{'    GFLOP/s / MX GFLOP/s':<34}" + "".join(f"{fmt_ratio(gfl[k], gfl.get('mx')):>{w}}" for k in names))
    print(f"\nmedians of {args.rounds} interleaved rounds x {args.repeats} repeats ({args.dispatch_ops} ops per dispatch repeat, "
          f"one GEMM per repeat after 2 warm-ups)")


def main(argv=None):
    ap = argparse.ArgumentParser(description="MX vs PyTorch vs MXNet 1.9.1: dispatch and GEMM")
    ap.add_argument("--setup", action="store_true", help="create bench/.venv-torch and bench/.venv-mxnet first")
    ap.add_argument("--only", choices=sorted(WORKERS), action="append", help="run only these frameworks")
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--rounds", type=int, default=3,
                    help="run the frameworks in turn this many times (a noisy machine then affects all alike)")
    ap.add_argument("--dispatch-ops", type=int, default=2000)
    ap.add_argument("--gemm-n", type=int, default=1024)
    ap.add_argument("--timeout", type=int, default=300, help="seconds per framework")
    ap.add_argument("--worker", choices=sorted(WORKERS), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)

    if args.worker:
        print(json.dumps(WORKERS[args.worker](args)))
        return 0
    names = args.only or ["mx", "torch", "mxnet"]
    if args.setup:
        setup([n for n in names if n != "mx"])
    results, notes = {}, {}
    for rnd in range(args.rounds):
        for name in names:
            if name in notes:
                continue
            print(f"[bench] round {rnd + 1}/{args.rounds}: {LABELS[name]} ...", flush=True)
            try:
                res, note = run_worker(name, args)
            except subprocess.TimeoutExpired:
                res, note = None, f"timed out after {args.timeout} s"
            if note:
                notes[name] = note
                results.pop(name, None)
                continue
            if name in results:  # pool the repeats of every round
                for key in ("dispatch_s", "gemm_s"):
                    results[name][key] += res[key]
            else:
                results[name] = res
    results = {k: v for k, v in results.items() if v}
    if not results:
        print("[bench] nothing ran:", notes)
        return 1
    report(results, notes, args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
