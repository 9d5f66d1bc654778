"""pytest setup: import the in-tree package (bindings/python) only when ``mx`` is not installed."""
import importlib.util
import os
import sys

_HERE = os.path.dirname(os.path.abspath(__file__))

if importlib.util.find_spec("mx") is None:
    sys.path.insert(0, os.path.normpath(os.path.join(_HERE, "..", "..", "bindings", "python")))
# Spec modules (specs/, opspec.py) import each other by plain name.
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)


def pytest_sessionfinish(session, exitstatus):
    """With MX_FORBID_SKIPS=1 (the test command sets it) a skipped test fails the run: every test
    must run where the suite runs, a skip is never counted as a pass."""
    if os.environ.get("MX_FORBID_SKIPS") != "1":
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = len(reporter.stats.get("skipped", [])) if reporter else 0
    if skipped and exitstatus == 0:
        reporter.write_line(f"MX_FORBID_SKIPS: {skipped} test(s) skipped: failing the run", red=True)
        session.exitstatus = 1


import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def _no_async_error_from_earlier_tests():
    """waitall() reports the first asynchronous error since the previous waitall, even one a test
    already saw at a read (documented engine behaviour). A test that provokes such an error on
    purpose must not hand it to the next test's waitall: drain it before each test."""
    import mx
    try:
        mx.nd.waitall()
    except mx.MXNetError:
        pass
    yield


def _mxnet_fixture_dir():
    import os
    from pathlib import Path
    cands = []
    if os.environ.get("MX_FIXTURES_DIR"):
        cands.append(Path(os.environ["MX_FIXTURES_DIR"]))
    root = Path(__file__).resolve().parents[2]
    cands += [root.parent / "shared" / "fixtures" / "mxnet-1.9.1", root / "shared" / "fixtures" / "mxnet-1.9.1"]
    for c in cands:
        if (c / "manifest.json").is_file():
            return c
    return None


@pytest.fixture
def mxnet_fixtures():
    """The directory of files written by real MXNet 1.9.1 (a missing one fails: never a skip)."""
    d = _mxnet_fixture_dir()
    if d is None:
        pytest.fail("MXNet 1.9.1 fixture files not found: keep shared/fixtures/mxnet-1.9.1 beside the "
                    "checkout or set MX_FIXTURES_DIR")
    return d


@pytest.fixture(scope="session")
def mxnet_python():
    """Interpreter of real MXNet 1.9.1 ($MX_REF_MXNET_PYTHON; tools/run_tests.sh creates .venv-mxnet).
    A missing one fails the test: never a skip."""
    py = os.environ.get("MX_REF_MXNET_PYTHON")
    if not py or not os.path.exists(py):
        pytest.fail("real MXNet 1.9.1 is needed: run tools/run_tests.sh (it creates .venv-mxnet) or set "
                    "MX_REF_MXNET_PYTHON to a python with mxnet==1.9.1")
    return py


def run_mxnet(py, script, cwd):
    """Runs a (dedented) script under real MXNet in cwd, without this checkout on the path; returns
    its stdout, failing the test with MXNet's output when it exits non-zero."""
    import subprocess
    import textwrap
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["MXNET_ENFORCE_DETERMINISM"] = "1"
    p = subprocess.run([py, "-c", textwrap.dedent(script)], cwd=str(cwd), env=env, capture_output=True,
                       text=True, timeout=300)
    assert p.returncode == 0, "MXNet failed:\n" + p.stdout[-2000:] + p.stderr[-4000:]
    return p.stdout
