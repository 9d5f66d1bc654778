"""Imperative backward without retain_graph, when the caller has already dropped the input arrays:
the walk must keep the variable nodes alive until their gradients are written (it once read a
freed node). Run under valgrind, with the naive engine so every access is on the main thread; the
check is that no valgrind error record involves libmx (the dynamic loader's own rpath reads are
known valgrind noise and are not counted).
"""
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = r"""
import mx
from mx import nd, autograd

def make_var(v):
    x = nd.array(v)
    x.attach_grad()
    return x

with autograd.record():
    y = nd.exp(make_var([1.0, 2.0]))      # the only reference to x is the graph
y.backward()
with autograd.record():
    z = nd.sum(make_var([0.5, -1.0, 3.0]) * 2.0)
z.backward()
nd.waitall()
print("done")
"""


def test_backward_after_inputs_dropped_is_clean_under_valgrind():
    if shutil.which("valgrind") is None:
        pytest.fail("valgrind is not installed (apt-get install valgrind; tools/run_tests.sh installs it)")
    root = Path(__file__).resolve().parents[2]
    env = dict(os.environ, MX_ENGINE_TYPE="NaiveEngine", OMP_NUM_THREADS="1", MX_NUM_THREADS="1")
    env["PYTHONPATH"] = str(root / "bindings" / "python") + os.pathsep + env.get("PYTHONPATH", "")
    py = os.path.realpath(sys.executable)  # valgrind must run the interpreter itself, not a wrapper
    p = subprocess.run(["valgrind", "--num-callers=30", py, "-c", SCRIPT], env=env, capture_output=True,
                       text=True, timeout=600)
    assert p.returncode == 0 and "done" in p.stdout, p.stderr[-3000:]
    records = re.split(r"==\d+== \n", p.stderr)
    bad = [r for r in records if re.search(r"Invalid (read|write)|uninitialised|Mismatched free", r)
           and re.search(r"libmx|mx::", r)]
    assert not bad, "valgrind errors in libmx:\n" + "\n".join(bad)[:4000]
