#!/usr/bin/env bash
# Sets up and runs every test: installs what is missing (Debian build tools, ./.venv with the build
# and test packages), builds libmx + the cffi module + the C tests, runs ctest (the C ABI tests
# under both engines and the exported-symbol check), the R package (tools/r_check.sh) and pytest. Exits non-zero on any failure,
# including a pytest run that collected no tests. Idempotent; fast when already set up.
#
#   bash tools/run_tests.sh            (README command (b); .ci/run calls exactly this)
#
# Environment: MX_BUILD_DIR (default build), PYTHON (interpreter for .venv, default python3),
# MX_PYTEST_ARGS (extra pytest arguments).
source "$(dirname "${BASH_SOURCE[0]}")/setup_env.sh"
cd "$MX_ROOT"
BUILD_DIR="${MX_BUILD_DIR:-build}"
start=$(date +%s)

ensure_system_deps
# Test-only Debian packages: real Fashion-MNIST (the dataset reader's test), GoogleTest (the C++
# package's tests), valgrind (the C++ examples run under it), pkg-config (the installed mx.pc), R
# with testthat (the R package).
test_pkgs=()
for p in dataset-fashion-mnist libgtest-dev valgrind pkg-config r-base-core r-base-dev r-cran-testthat; do
  dpkg -s "$p" >/dev/null 2>&1 || test_pkgs+=("$p")
done
if [ ${#test_pkgs[@]} -ne 0 ]; then
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
    log "installing Debian packages: ${test_pkgs[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${test_pkgs[@]}" >/dev/null \
      || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
           "${test_pkgs[@]}" >/dev/null; }
  else
    log "missing: ${test_pkgs[*]} -- install them (apt-get install ${test_pkgs[*]}) and run again"
    exit 1
  fi
fi
# Test-only references: OpenCV (image resizing), matplotlib (the example's plot); rpy2 (R inside
# Python for the cross-language tests; newer versions do not load against Debian's R 4.2).
ensure_venv tests "cffi>=1.16" pycparser "numpy>=1.23" "pytest>=7" scipy-openblas32 \
  opencv-python-headless matplotlib "rpy2==3.5.17"
# Real MXNet 1.9.1 (own venv): files MX writes must load there.
ensure_ref_mxnet

log "configuring ($BUILD_DIR)"
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release -DMX_BUILD_TESTS=ON -DMX_BUILD_PYTHON=ON \
  -DMX_DEV_INPLACE=ON -DPython3_EXECUTABLE="$VPY" >/dev/null
log "building"
with_build_lock ninja -C "$BUILD_DIR"

# Both suites run even when the first fails, so one CI log shows every failure.
failed=()
log "ctest"
(cd "$BUILD_DIR" && ctest --output-on-failure --timeout 900 -j2) || failed+=(ctest)

# The R package: installed into $BUILD_DIR/r/lib (the rpy2 tests of pytest load it from there),
# its testthat suites and R CMD check (exits non-zero on any failure).
log "R package"
MX_BUILD_DIR="$BUILD_DIR" PYTHON="$VPY" bash tools/r_check.sh || failed+=(R)

log "pytest"
dirs=()
for d in tests/python tests/compat tests/cross; do
  [ -d "$d" ] && dirs+=("$d")
done
rc=0
PYTHONPATH="$MX_ROOT/bindings/python${PYTHONPATH:+:$PYTHONPATH}" \
  MX_FORBID_SKIPS=1 "$VPY" -m pytest -q -rs "${dirs[@]}" ${MX_PYTEST_ARGS:-} || rc=$?
if [ "$rc" -eq 5 ]; then
  log "pytest collected no tests: that is a failure"
  failed+=(pytest)
elif [ "$rc" -ne 0 ]; then
  log "pytest failed (exit $rc)"
  failed+=(pytest)
fi
if [ ${#failed[@]} -ne 0 ]; then
  log "FAILED: ${failed[*]} ($(($(date +%s) - start)) s)"
  exit 1
fi
log "all tests passed in $(($(date +%s) - start)) s"
