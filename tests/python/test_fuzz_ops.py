"""Bad input never crashes libmx: random op calls in a subprocess, under each engine mode."""
import os
import subprocess
import sys

import pytest

FUZZ = os.path.join(os.path.dirname(__file__), "fuzz", "fuzz_ops.py")


@pytest.mark.parametrize("seed,env", [(11, {}), (12, {"MX_ENGINE_TYPE": "NaiveEngine"}),
                                      (13, {"MX_ENGINE_INLINE": "0"})])
def test_random_op_calls_never_crash(seed, env):
    e = dict(os.environ, **env)
    p = subprocess.run([sys.executable, FUZZ, str(seed), "1500"], env=e, capture_output=True, text=True,
                       timeout=600)
    assert p.returncode == 0, f"fuzz process died (exit {p.returncode}):\n{p.stderr[-3000:]}"
    line = p.stdout.strip().splitlines()[-1]
    assert line.startswith(f"ok {seed}"), p.stdout[-2000:]
    ok_calls = int(line.split()[4])
    assert ok_calls > 100, f"too few valid calls to mean anything: {line}"
