# Shared setup for tools/run_main.sh and tools/run_tests.sh (sourced, not run).
#
# ensure_system_deps     installs missing Debian packages (cmake, ninja-build, g++, python3-venv,
#                        python3-dev) with apt-get when running as root; otherwise says what to install
# ensure_venv NAME PKG.. creates ./.venv when missing and pip-installs PKG.. (plus the oneDNN wheels,
#                        MX_DNNL_PACKAGES) once; a stamp file remembers each NAME's package list so
#                        later runs skip pip entirely
# ensure_ref_mxnet       creates ./.venv-mxnet with real MXNet 1.9.1 (test reference), exports MX_REF_MXNET_PYTHON
# source_hash            a hash of everything that goes into the Python package (to skip rebuilds)
#
# Environment: PYTHON (default python3) picks the interpreter the venv is made from.

set -euo pipefail

MX_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PYTHON="${PYTHON:-python3}"
VENV="$MX_ROOT/.venv"
VPY="$VENV/bin/python"
export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1

log() { printf '[mx] %s\n' "$*" >&2; }

cmake_new_enough() {
  command -v cmake >/dev/null 2>&1 || return 1
  local v
  v="$(cmake --version | head -n1 | sed 's/[^0-9.]*\([0-9]*\.[0-9]*\).*/\1/')"
  [ "$(printf '%s\n3.18\n' "$v" | sort -V | head -n1)" = "3.18" ]
}

ensure_system_deps() {
  local missing=()
  cmake_new_enough || missing+=(cmake)
  command -v ninja >/dev/null 2>&1 || missing+=(ninja-build)
  command -v g++ >/dev/null 2>&1 || missing+=(g++)
  command -v gcc >/dev/null 2>&1 || missing+=(gcc)
  if ! command -v "$PYTHON" >/dev/null 2>&1; then
    missing+=(python3 python3-venv python3-dev)
  else
    "$PYTHON" -c 'import ensurepip, venv' >/dev/null 2>&1 || missing+=(python3-venv)
    "$PYTHON" -c 'import os, sysconfig, sys; sys.exit(not os.path.exists(os.path.join(sysconfig.get_paths()["include"], "Python.h")))' \
      >/dev/null 2>&1 || missing+=(python3-dev)
  fi
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
    log "installing Debian packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    log "missing: ${missing[*]} -- install them (apt-get install ${missing[*]}) and run again"
    return 1
  fi
}

# oneDNN for the conv/pooling kernels: the GNU-OpenMP build (it shares libmx's libgomp thread pool;
# the plain `onednn` wheel is a SYCL/TBB build that needs the oneAPI runtimes). x86-64 Linux only;
# the build finds it under the venv's prefix (CMake option MX_DNNL=auto) and bundles it in the wheel.
MX_DNNL_PACKAGES=()
if [ "$(uname -s)" = Linux ] && [ "$(uname -m)" = x86_64 ]; then
  MX_DNNL_PACKAGES=(onednn-cpu-gomp==2023.2.0 onednn-devel-cpu-gomp==2023.2.0)
fi

ensure_venv() {
  local name="$1"
  shift
  set -- "$@" ${MX_DNNL_PACKAGES[@]+"${MX_DNNL_PACKAGES[@]}"}
  if [ ! -x "$VPY" ] || ! "$VPY" -c 'import sys' >/dev/null 2>&1; then
    log "creating $VENV"
    rm -rf "$VENV"
    "$PYTHON" -m venv "$VENV"
  fi
  local stamp="$VENV/.mx-$name.stamp" want
  want="$(printf '%s\n' "$@" | sort)"
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
    return 0
  fi
  log "installing into .venv: $*"
  "$VPY" -m pip install -q "$@"
  printf '%s' "$want" >"$stamp"
}

# Real MXNet 1.9.1 in its own venv (./.venv-mxnet), a test-only reference: the interop tests load
# what MX writes into it. Exports MX_REF_MXNET_PYTHON. Never a runtime dependency of MX.
ensure_ref_mxnet() {
  local venv="$MX_ROOT/.venv-mxnet" want="mxnet==1.9.1 numpy==1.23.5"
  if [ ! -x "$venv/bin/python" ] || [ "$(cat "$venv/.mx-ref.stamp" 2>/dev/null)" != "$want" ]; then
    log "creating $venv (real MXNet, a test reference)"
    rm -rf "$venv"
    "$PYTHON" -m venv "$venv"
    # shellcheck disable=SC2086
    "$venv/bin/python" -m pip install -q $want
    printf '%s' "$want" >"$venv/.mx-ref.stamp"
  fi
  export MX_REF_MXNET_PYTHON="$venv/bin/python"
}

source_hash() {
  (cd "$MX_ROOT" &&
    find CMakeLists.txt pyproject.toml cmake include libmx bindings/python bindings/cpp -type f \
      \( -name '*.cc' -o -name '*.h' -o -name '*.hpp' -o -name '*.c' -o -name '*.py' -o -name '*.txt' -o -name '*.map' \
         -o -name '*.toml' -o -name '*.cmake' -o -name '*.in' \) \
      -not -path '*/__pycache__/*' -not -path 'bindings/python/mx/lib/*' -print0 |
    LC_ALL=C sort -z | xargs -0 sha256sum | sha256sum | cut -c1-16)
}

# Serialises builds with other users of this checkout where flock exists (a no-op in CI).
with_build_lock() {
  if command -v flock >/dev/null 2>&1; then
    flock /tmp/mx-build.lock "$@"
  else
    "$@"
  fi
}
