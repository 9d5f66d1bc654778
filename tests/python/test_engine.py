"""The dependency engine seen from Python: same results under the naive and threaded engines,
concurrent use from Python threads, and asynchronous errors raised at the next wait."""
import os
import subprocess
import sys
import threading

import numpy as np
import pytest

import mx

_SCRIPT = r"""
import hashlib, sys
import numpy as np
import mx
assert mx.base.lib_info("engine") == sys.argv[1], mx.base.lib_info("engine")
mx.random.seed(11)
rng = np.random.default_rng(0)
a = mx.nd.array(rng.uniform(-1, 1, size=(64, 32)))
b = mx.nd.array(rng.uniform(-1, 1, size=(32,)))
outs = []
x = a
for i in range(30):
    x = (x * 1.01 + b) / 1.5 - x[0]
    if i % 7 == 0:
        x[i % 64] = 0.25
        x += a
outs.append(x)
outs.append(mx.nd.random.uniform(0, 1, shape=(100,)))
outs.append(mx.nd.random.normal(0, 1, shape=(10, 10)))
outs.append(a[[3, 1, 2]] * 2)
c = mx.nd.zeros((5, 5))
for i in range(5):
    c[i] = i
    c[:, i] += 1
outs.append(c)
h = hashlib.sha256()
for o in outs:
    h.update(o.asnumpy().tobytes())
mx.nd.waitall()
print(h.hexdigest())
"""


def _run(engine):
    env = dict(os.environ, MX_ENGINE_TYPE=engine)
    env["PYTHONPATH"] = os.pathsep.join(p for p in [os.path.dirname(os.path.dirname(mx.__file__)),
                                                    env.get("PYTHONPATH", "")] if p)
    r = subprocess.run([sys.executable, "-c", _SCRIPT, engine], env=env, capture_output=True,
                       text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    return r.stdout.strip()


def test_naive_and_threaded_engines_agree_bit_for_bit():
    naive = _run("NaiveEngine")
    threaded = _run("ThreadedEngine")
    assert len(naive) == 64
    assert naive == threaded


def _worker(seed, results, errors):
    try:
        rng = np.random.default_rng(seed)
        a = rng.uniform(-1, 1, size=(16, 8)).astype(np.float32)
        b = rng.uniform(-1, 1, size=(8,)).astype(np.float32)
        x, y = mx.nd.array(a), mx.nd.array(b)
        ref = a.copy()
        for _ in range(50):
            x = x * 0.5 + y
            ref = ref * np.float32(0.5) + b
        x[0] = -1.0
        ref[0] = -1.0
        x += 1
        ref += 1
        results[seed] = (x.asnumpy(), ref)
    except Exception as e:  # reported by the main thread
        errors.append(e)


def test_ops_from_many_python_threads():
    results, errors = {}, []
    threads = [threading.Thread(target=_worker, args=(s, results, errors)) for s in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert len(results) == 8
    for got, ref in results.values():
        np.testing.assert_allclose(got, ref, rtol=1e-5, atol=1e-6)


def test_shared_array_updated_from_threads():
    acc = mx.nd.zeros((4,))
    lock = threading.Lock()

    def add_many():
        for _ in range(100):
            with lock:  # += must not interleave its read of acc with another thread's
                acc.__iadd__(1.0)

    threads = [threading.Thread(target=add_many) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    np.testing.assert_array_equal(acc.asnumpy(), np.full(4, 400.0))


ENGINE = mx.base.lib_info("engine")
threaded_only = pytest.mark.skipif(ENGINE == "NaiveEngine",
                                   reason="NaiveEngine raises at the call (test_naive_engine_raises_at_call)")


def _drain():
    """Clears the error a test raised on purpose from mx_wait_all's report."""
    try:
        mx.nd.waitall()
    except mx.base.MXNetError:
        pass


def _failing():
    x = mx.nd.ones((3, 4))
    return mx.nd.take(x, mx.nd.array([0, 9], dtype="int64"), mode="raise")


@threaded_only
def test_async_error_at_wait_to_read_then_recovery():
    bad = _failing()
    with pytest.raises(mx.base.MXIndexError, match="take"):
        bad.wait_to_read()
    good = mx.nd.ones((2,)) * 3
    np.testing.assert_array_equal(good.asnumpy(), [3, 3])
    _drain()


@threaded_only
def test_async_error_at_asnumpy():
    bad = _failing()
    with pytest.raises(IndexError, match="out of bounds"):
        bad.asnumpy()
    _drain()


@threaded_only
def test_async_error_at_waitall_then_later_ops_work():
    _drain()  # start clean
    _failing()
    with pytest.raises(mx.base.MXNetError, match="take"):
        mx.nd.waitall()
    mx.nd.waitall()  # the error was reported once
    x = mx.nd.arange(4)
    np.testing.assert_array_equal((x + x).asnumpy(), [0, 2, 4, 6])


@threaded_only
def test_async_error_propagates_to_dependents():
    bad = _failing()
    later = bad + 1
    with pytest.raises(mx.base.MXNetError):
        later.asnumpy()
    _drain()


_NAIVE_SCRIPT = r"""
import mx
x = mx.nd.ones((3, 4))
try:
    mx.nd.take(x, mx.nd.array([0, 9], dtype="int64"), mode="raise")
except mx.base.MXIndexError as e:
    assert "out of bounds" in str(e), e
else:
    raise SystemExit("NaiveEngine did not raise at the call")
mx.nd.waitall()
assert (x + 1).asnumpy().sum() == 24
print("ok")
"""


def test_naive_engine_raises_at_call():
    env = dict(os.environ, MX_ENGINE_TYPE="NaiveEngine")
    env["PYTHONPATH"] = os.pathsep.join(p for p in [os.path.dirname(os.path.dirname(mx.__file__)),
                                                    env.get("PYTHONPATH", "")] if p)
    r = subprocess.run([sys.executable, "-c", _NAIVE_SCRIPT], env=env, capture_output=True,
                       text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.strip() == "ok"


_FORK_SCRIPT = r"""
import os, mx
a = mx.nd.ones((512, 512))
b = mx.nd.dot(a, a)          # large enough to run on an engine worker in the parent
b.wait_to_read()
pid = os.fork()
if pid == 0:
    c = mx.nd.dot(a, a) + 1  # the child needs workers of its own
    os._exit(0 if float(c.asnumpy()[0, 0]) == 513.0 else 3)
_, st = os.waitpid(pid, 0)
assert os.waitstatus_to_exitcode(st) == 0, st
assert float((b + 1).asnumpy()[0, 0]) == 513.0
print("fork ok")
"""


def test_engine_works_in_a_forked_child():
    import subprocess
    import sys
    p = subprocess.run([sys.executable, "-c", _FORK_SCRIPT], capture_output=True, text=True, timeout=120,
                       env=dict(os.environ, MX_ENGINE_TYPE="ThreadedEngine"))
    assert p.returncode == 0 and "fork ok" in p.stdout, p.stderr[-2000:]


def test_training_mode_is_per_thread_and_scoped():
    import threading
    assert not mx.autograd.is_training()
    with mx.autograd.train_mode():
        assert mx.autograd.is_training()
        seen = []
        t = threading.Thread(target=lambda: seen.append(mx.autograd.is_training()))
        t.start()
        t.join()
        assert seen == [False]  # another thread keeps its own mode
        with mx.autograd.predict_mode():
            assert not mx.autograd.is_training()
        assert mx.autograd.is_training()
    assert not mx.autograd.is_training()
    assert mx.autograd.set_training(True) is False
    assert mx.autograd.set_training(False) is True


_QUEUE_SCRIPT = r"""
import mx
ctx = mx.cpu()
x = mx.nd.ones((64 * 1024, 16))           # 4 MiB
w = mx.nd.ones((16, 16))
peak = 0
for i in range(120):                      # never reads a result back while queueing
    y = mx.nd.exp(mx.nd.dot(x, w))        # two fresh 4 MiB outputs per step
    peak = max(peak, ctx.memory_stats()[0])
mx.nd.waitall()
print(peak)
"""


def test_queued_work_holds_bounded_memory():
    """A loop that never reads back cannot queue unbounded memory: pushing waits once the queued
    ops' fresh outputs pass MX_ENGINE_MAX_PENDING_MB (here 16 MiB; 120 steps x 8 MiB unbounded)."""
    env = dict(os.environ, MX_ENGINE_MAX_PENDING_MB="16", MX_ENGINE_TYPE="ThreadedEngine")
    out = subprocess.run([sys.executable, "-c", _QUEUE_SCRIPT], env=env, capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stderr
    peak = int(out.stdout.split()[-1])
    assert peak < 64 * 2**20, f"peak in-use {peak / 2**20:.0f} MiB with a 16 MiB queue bound"
