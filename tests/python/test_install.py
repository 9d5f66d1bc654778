"""The installed C/C++ package, used the way a program outside this repository uses it.

`cmake --install <build> --prefix <tmp>` lays out lib/libmx.so (+ the libraries it bundles),
include/mx/*.h(pp), lib/cmake/mx and lib/pkgconfig/mx.pc. A separate CMake project
(tests/install/find_package_test) then finds it with find_package(mx CONFIG) and links mx::mx: its C
program (MXNet's C prediction API) and its C++ program (mx/mx.hpp, when the C++ package is built)
predict the MXNet 1.9.1 fixtures and a model exported from MX's Python API; the outputs must equal
the stored ones within 1e-4. pkg-config builds the same C program, and the same CMake project builds
against the Python package's own copy of libmx (CMAKE_PREFIX_PATH=$(python -m mx.config --cmakedir)).

The build folder is $MX_BUILD_DIR (default "build", relative to the repository root); it must have
been built (tools/run_tests.sh does). The in-tree Python package needs a build with
MX_DEV_INPLACE=ON. A missing tool (cmake, a C compiler, pkg-config) fails the tests.
"""
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import mx
from mx import autograd, gluon, nd
from mx.gluon import nn

ROOT = Path(__file__).resolve().parents[2]
PROJECT = ROOT / "tests" / "install" / "find_package_test"
HAS_CPP = (ROOT / "bindings" / "cpp" / "CMakeLists.txt").is_file()
FIXTURE_MODELS = ("cnn", "mlp_bn")
MODELS = FIXTURE_MODELS + ("mx_export",)
PROGRAMS = ("predict_c", "predict_cpp") if HAS_CPP else ("predict_c",)
TOL = dict(rtol=1e-4, atol=1e-4)


# ------------------------------------------------------------------------------------------ helpers
def _build_dir():
    build = Path(os.environ.get("MX_BUILD_DIR", "build"))
    if not build.is_absolute():
        build = ROOT / build
    if not (build / "cmake_install.cmake").is_file() or not (build / "CMakeCache.txt").is_file():
        pytest.fail("no configured build in %s (build the project first, or point MX_BUILD_DIR at it)" % build)
    return build


def _cache_value(build, key):
    for line in (build / "CMakeCache.txt").read_text().splitlines():
        if line.startswith(key + ":"):
            return line.split("=", 1)[1]
    return None


def _env(**extra):
    """The environment of a program built outside the tree: nothing points at MX's build."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("LD_LIBRARY_PATH", "PKG_CONFIG_PATH", "CMAKE_PREFIX_PATH", "mx_DIR", "CPATH",
                        "LIBRARY_PATH", "C_INCLUDE_PATH", "CPLUS_INCLUDE_PATH")}
    env.update(extra)
    return env


def _tool(name):
    path = shutil.which(name)
    if path is None:
        pytest.fail("%s is not installed (tools/run_tests.sh installs it)" % name)
    return path


def _run(cmd, timeout=600, env=None, check=True, cwd=None):
    res = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, timeout=timeout,
                         env=env if env is not None else _env(), cwd=cwd)
    if check and res.returncode != 0:
        pytest.fail("command failed (exit %d): %s\n--- stdout\n%s\n--- stderr\n%s"
                    % (res.returncode, " ".join(str(c) for c in cmd), res.stdout[-4000:], res.stderr[-4000:]))
    return res


def _cpp_expected(build):
    return HAS_CPP and (_cache_value(build, "MX_BUILD_CPP") or "ON").upper() in ("ON", "1", "TRUE", "YES")


def _configure_and_build(bdir, prefix_path, build):
    gen = ["-G", "Ninja"] if shutil.which("ninja") else []
    _run([_tool("cmake"), "-S", PROJECT, "-B", bdir, *gen, "-DCMAKE_BUILD_TYPE=Release",
          "-DCMAKE_PREFIX_PATH=%s" % prefix_path, "-DCMAKE_FIND_PACKAGE_NO_PACKAGE_REGISTRY=ON",
          "-DMX_TEST_REQUIRE_CPP=%s" % ("ON" if _cpp_expected(build) else "OFF")])
    _run([_tool("cmake"), "--build", bdir, "-j", "2"], timeout=900)
    return Path(bdir)


def _npy_model(d, name):
    """(symbol file, params file, input .npy, expected output) of a fixture or an export."""
    return (d / ("%s-symbol.json" % name), d / ("%s-0000.params" % name), d / ("%s_input.npy" % name),
            np.load(str(d / ("%s_output.npy" % name))))


def _predict(program, model, tmp_path, env=None):
    sym, params, inp, expected = model
    out = tmp_path / ("%s.f32" % Path(program).name)
    res = _run([program, sym, params, inp, out], env=env)
    shape_line = [l for l in res.stdout.splitlines() if l.startswith("shape")]
    assert shape_line == ["shape " + " ".join(str(s) for s in expected.shape)], res.stdout
    got = np.fromfile(str(out), dtype="<f4")
    assert got.size == expected.size, (got.size, expected.shape)
    return got.reshape(expected.shape), expected


def _needed_and_runpath(lib):
    out = _run([_tool("readelf"), "-d", lib]).stdout
    needed = re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", out)
    runpath = re.findall(r"\((?:RUNPATH|RPATH)\)\s+Library r(?:un)?path: \[([^\]]*)\]", out)
    return needed, runpath


# ------------------------------------------------------------------------------------------ fixtures
@pytest.fixture(scope="module")
def build():
    return _build_dir()


@pytest.fixture(scope="module")
def prefix(build, tmp_path_factory):
    """The package installed into a fresh prefix."""
    p = tmp_path_factory.mktemp("install") / "prefix"
    _run([_tool("cmake"), "--install", build, "--prefix", p])
    return p


@pytest.fixture(scope="module")
def installed_project(build, prefix, tmp_path_factory):
    bdir = _configure_and_build(tmp_path_factory.mktemp("fp_installed") / "b", prefix, build)
    # The project found the installed package, not the build tree.
    assert Path(_cache_value(bdir, "mx_DIR")).resolve() == (prefix / "lib" / "cmake" / "mx").resolve()
    return bdir


@pytest.fixture(scope="module")
def models(mxnet_fixtures_dir, mx_export):
    m = {name: _npy_model(mxnet_fixtures_dir, name) for name in FIXTURE_MODELS}
    m["mx_export"] = mx_export
    return m


@pytest.fixture(scope="module")
def mxnet_fixtures_dir():
    """The files written by real MXNet 1.9.1 (as conftest's mxnet_fixtures, module-scoped)."""
    cands = [Path(os.environ["MX_FIXTURES_DIR"])] if os.environ.get("MX_FIXTURES_DIR") else []
    cands += [ROOT.parent / "shared" / "fixtures" / "mxnet-1.9.1", ROOT / "shared" / "fixtures" / "mxnet-1.9.1"]
    for d in cands:
        if (d / "manifest.json").is_file():
            return d
    pytest.fail("MXNet 1.9.1 fixture files not found: keep shared/fixtures/mxnet-1.9.1 beside the "
                "checkout or set MX_FIXTURES_DIR")


@pytest.fixture(scope="module")
def mx_export(tmp_path_factory):
    """A conv net with BatchNorm trained a few steps in MX's Python API, hybridized and exported;
    the reference output is the Python net's own inference output."""
    d = tmp_path_factory.mktemp("mx_export")
    mx.random.seed(11)
    rng = np.random.RandomState(3)
    net = nn.HybridSequential(prefix="inst_")
    with net.name_scope():
        net.add(nn.Conv2D(6, 3, padding=1), nn.BatchNorm(), nn.Activation("relu"), nn.MaxPool2D(2),
                nn.Flatten(), nn.Dense(16, activation="tanh"), nn.Dropout(0.3), nn.Dense(5))
    net.initialize(mx.init.Xavier())
    net.hybridize()
    trainer = gluon.Trainer(net.collect_params(), "sgd", {"learning_rate": 0.1, "momentum": 0.9})
    loss_fn = gluon.loss.SoftmaxCrossEntropyLoss()
    x_train = nd.array(rng.uniform(-1, 1, (16, 2, 8, 8)).astype(np.float32))
    y_train = nd.array(rng.randint(0, 5, 16).astype(np.float32))
    for _ in range(3):
        with autograd.record():
            loss = loss_fn(net(x_train), y_train)
        loss.backward()
        trainer.step(16)
    x = rng.uniform(-1, 1, (7, 2, 8, 8)).astype(np.float32)
    expected = net(nd.array(x)).asnumpy()
    prefix = d / "mx_export"
    net.export(str(prefix), epoch=0)
    np.save(str(d / "mx_export_input.npy"), x)
    np.save(str(d / "mx_export_output.npy"), expected)
    # BatchNorm's running statistics moved: the export carries trained aux states.
    assert not np.allclose(net[1].running_mean.data().asnumpy(), 0)
    return _npy_model(d, "mx_export")


@pytest.fixture(scope="module")
def python_pkg_env():
    """The environment in which `python -m mx.config` imports the mx under test."""
    pkg_parent = str(Path(mx.__file__).resolve().parents[1])
    pp = os.environ.get("PYTHONPATH")
    return _env(PYTHONPATH=pkg_parent + (os.pathsep + pp if pp else ""))


def _config(env, *flags, check=True):
    return _run([sys.executable, "-m", "mx.config", *flags], env=env, check=check)


@pytest.fixture(scope="module")
def python_project(build, python_pkg_env, tmp_path_factory):
    cmakedir = _config(python_pkg_env, "--cmakedir").stdout.strip()
    bdir = _configure_and_build(tmp_path_factory.mktemp("fp_python") / "b", cmakedir, build)
    assert Path(_cache_value(bdir, "mx_DIR")).resolve() == Path(cmakedir).resolve()
    return bdir


# ------------------------------------------------------------------------------------------ tests
def test_install_layout(build, prefix):
    lib = prefix / "lib"
    for rel in ("lib/libmx.so", "include/mx/c_api.h", "include/mx/c_predict_api.h",
                "include/mx/dlpack/dlpack.h", "lib/cmake/mx/mxConfig.cmake",
                "lib/cmake/mx/mxConfigVersion.cmake", "lib/pkgconfig/mx.pc"):
        assert (prefix / rel).is_file(), rel
    for h in ("c_api.h", "c_predict_api.h"):
        assert (prefix / "include" / "mx" / h).read_bytes() == (ROOT / "include" / "mx" / h).read_bytes()
    if _cpp_expected(build):
        src = ROOT / "bindings" / "cpp" / "include" / "mx"
        for hpp in src.rglob("*.hpp"):
            rel = hpp.relative_to(src)
            assert (prefix / "include" / "mx" / rel).read_bytes() == hpp.read_bytes(), rel
        assert (prefix / "include" / "mx" / "mx.hpp").is_file()
        assert "namespace op" in (prefix / "include" / "mx" / "ops.hpp").read_text()
    # libmx finds what it bundles beside itself ($ORIGIN); nothing it needs is missing.
    needed, runpath = _needed_and_runpath(lib / "libmx.so")
    assert runpath == ["$ORIGIN"], runpath
    ldd = _run([_tool("ldd"), lib / "libmx.so"]).stdout
    assert "not found" not in ldd, ldd
    for so in needed:
        if (lib / so).exists():
            assert re.search(r"%s => %s" % (re.escape(so), re.escape(str(lib / so))), ldd), (so, ldd)
    blas = _cache_value(build, "MX_OPENBLAS_LIB")
    if "libscipy_openblas.so" in needed:
        assert (lib / "libscipy_openblas.so").is_file(), "the pip OpenBLAS is not bundled (%s)" % blas


def test_cmake_package_version(prefix, tmp_path):
    """mxConfigVersion.cmake: 0.1 and 0.1.0 are accepted, another minor or major version is not."""
    (tmp_path / "CMakeLists.txt").write_text(
        "cmake_minimum_required(VERSION 3.18)\nproject(v NONE)\n"
        "foreach(want 0.1 0.1.0 0.2 1.0)\n"
        "  unset(mx_FOUND)\n  unset(mx_DIR CACHE)\n"
        "  find_package(mx ${want} CONFIG QUIET)\n"
        "  message(STATUS \"want ${want} found ${mx_FOUND} version ${mx_VERSION}\")\n"
        "endforeach()\n")
    res = _run([_tool("cmake"), "-S", tmp_path, "-B", tmp_path / "b", "-DCMAKE_PREFIX_PATH=%s" % prefix,
                "-DCMAKE_FIND_PACKAGE_NO_PACKAGE_REGISTRY=ON"])
    found = dict(re.findall(r"want (\S+) found (\S*) ", res.stdout))
    assert found == {"0.1": "1", "0.1.0": "1", "0.2": "0", "1.0": "0"}, res.stdout
    assert "version %s" % mx.__version__ in res.stdout


@pytest.mark.parametrize("program", PROGRAMS)
@pytest.mark.parametrize("model", MODELS)
def test_predict_installed(installed_project, models, program, model, tmp_path):
    got, expected = _predict(installed_project / program, models[model], tmp_path)
    np.testing.assert_allclose(got, expected, **TOL)


@pytest.mark.parametrize("program", PROGRAMS)
def test_errors_reach_the_program(installed_project, models, program, tmp_path):
    """Failures end the program with status 1 and libmx's own message (through MXGetLastError, or
    mx::Error in C++), never a crash."""
    exe = installed_project / program
    sym, params, _, _ = models["cnn"]
    _, other_params, other_input, _ = models["mlp_bn"]
    out = tmp_path / "o.f32"
    # A 2-d input for a conv net: libmx's shape inference names the node and the shapes.
    res = _run([exe, sym, params, other_input, out], check=False)
    assert res.returncode == 1, (res.returncode, res.stdout, res.stderr)
    assert "cnn_conv0_fwd" in res.stderr and "expects 4-d data" in res.stderr, res.stderr
    if program == "predict_cpp":
        assert "mx::Error (status 2)" in res.stderr, res.stderr  # MX_ERR_SHAPE
    # A missing file: the message names it.
    res = _run([exe, sym, tmp_path / "nonexistent.params", other_input, out], check=False)
    assert res.returncode == 1 and "nonexistent.params" in res.stderr, res.stderr
    # Parameters of another model: the missing argument is named.
    res = _run([exe, sym, other_params, models["cnn"][2], out], check=False)
    assert res.returncode == 1 and "cnn_conv0_weight" in res.stderr, res.stderr


def test_pkg_config(prefix, models, tmp_path):
    pc_env = _env(PKG_CONFIG_PATH=str(prefix / "lib" / "pkgconfig"))
    pkgconf = _tool("pkg-config")
    assert _run([pkgconf, "--modversion", "mx"], env=pc_env).stdout.strip() == mx.__version__
    flags = _run([pkgconf, "--cflags", "--libs", "mx"], env=pc_env).stdout.split()
    assert "-lmx" in flags
    libdir = Path(_run([pkgconf, "--variable=libdir", "mx"], env=pc_env).stdout.strip())
    assert libdir.resolve() == (prefix / "lib").resolve()
    exe = tmp_path / "predict_c_pc"
    _run([_tool("cc"), "-std=c99", "-Wall", "-Wextra", "-Werror", PROJECT / "predict_c.c", *flags,
          '-DMX_PKG_VERSION="%s"' % mx.__version__, "-Wl,-rpath,%s" % libdir, "-o", exe])
    for model in ("mlp_bn", "mx_export"):
        got, expected = _predict(exe, models[model], tmp_path)
        np.testing.assert_allclose(got, expected, **TOL)
    if HAS_CPP:
        exe = tmp_path / "predict_cpp_pc"
        _run([_tool("c++"), "-std=c++17", "-Wall", "-Wextra", PROJECT / "predict_cpp.cpp", *flags,
              "-Wl,-rpath,%s" % libdir, "-o", exe], timeout=900)
        got, expected = _predict(exe, models["cnn"], tmp_path)
        np.testing.assert_allclose(got, expected, **TOL)


def test_python_config(python_pkg_env):
    pkg = Path(mx.__file__).resolve().parent
    out = _config(python_pkg_env, "--includedir", "--libdir", "--cmakedir", "--pkgconfigdir",
                  "--prefix", "--cflags", "--libs").stdout.splitlines()
    inc, lib, cmakedir, pcdir, root, cflags, libs = out
    assert Path(root).resolve() == pkg
    assert Path(inc).resolve() == pkg / "include" and (Path(inc) / "mx" / "c_api.h").is_file()
    assert (Path(inc) / "mx" / "c_predict_api.h").is_file()
    assert Path(lib).resolve() == pkg / "lib" and (Path(lib) / "libmx.so").is_file()
    assert Path(cmakedir).resolve() == pkg / "lib" / "cmake" / "mx"
    assert (Path(cmakedir) / "mxConfig.cmake").is_file()
    assert (Path(pcdir) / "mx.pc").is_file()
    assert cflags == "-I" + inc
    assert libs == "-L%s -lmx -Wl,-rpath,%s" % (lib, lib)
    if HAS_CPP:
        assert (Path(inc) / "mx" / "mx.hpp").is_file() and (Path(inc) / "mx" / "ops.hpp").is_file()
    # The package's libmx is the one Python loaded.
    loaded = [l.split()[-1] for l in Path("/proc/self/maps").read_text().splitlines() if l.endswith("/libmx.so")]
    assert loaded and all(Path(p).resolve() == (pkg / "lib" / "libmx.so").resolve() for p in loaded), loaded
    # No option: usage, exit status 2; an unknown one: argparse's error.
    assert _config(python_pkg_env, check=False).returncode == 2
    res = _config(python_pkg_env, "--bogus", check=False)
    assert res.returncode == 2 and "--bogus" in res.stderr


@pytest.mark.parametrize("program", PROGRAMS)
def test_predict_python_layout(python_project, python_pkg_env, models, program, tmp_path):
    """find_package(mx) with CMAKE_PREFIX_PATH=$(python -m mx.config --cmakedir): the program runs
    on the Python package's own libmx."""
    exe = python_project / program
    ldd = _run([_tool("ldd"), exe]).stdout
    pkg_lib = (Path(mx.__file__).resolve().parent / "lib" / "libmx.so").resolve()
    m = re.search(r"libmx\.so => (\S+)", ldd)
    assert m and Path(m.group(1)).resolve() == pkg_lib, ldd
    for model in ("mlp_bn", "mx_export"):
        got, expected = _predict(exe, models[model], tmp_path)
        np.testing.assert_allclose(got, expected, **TOL)


def test_python_config_flags_link(python_pkg_env, models, tmp_path):
    """cc $(python -m mx.config --cflags --libs): runs without LD_LIBRARY_PATH (the rpath)."""
    flags = _config(python_pkg_env, "--cflags", "--libs").stdout.split()
    exe = tmp_path / "predict_c_cfg"
    _run([_tool("cc"), "-std=c99", "-Wall", "-Wextra", "-Werror", PROJECT / "predict_c.c", *flags,
          '-DMX_PKG_VERSION="%s"' % mx.__version__, "-o", exe])
    got, expected = _predict(exe, models["cnn"], tmp_path)
    np.testing.assert_allclose(got, expected, **TOL)
