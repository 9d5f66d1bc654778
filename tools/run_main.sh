#!/usr/bin/env bash
# Sets up and runs the main job: installs what is missing (Debian build tools, ./.venv), builds and
# installs the `mx` package into ./.venv (pip, scikit-build-core; rebuilt only when the sources
# changed), then runs examples/ndarray_demo.py with it. Idempotent; fast when already set up.
#
#   bash tools/run_main.sh             (README command (a))
source "$(dirname "${BASH_SOURCE[0]}")/setup_env.sh"
cd "$MX_ROOT"

ensure_system_deps
# The build requirements of pyproject.toml, so the package builds without isolation (and keeps its
# build directory, build-wheel/, between runs).
ensure_venv main "numpy>=1.23" "cffi>=1.16" pycparser "scikit-build-core>=0.10" scipy-openblas32

stamp="$VENV/.mx-installed"
hash="$(source_hash)"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$hash" ] && (cd / && "$VPY" -c 'import mx') >/dev/null 2>&1; then
  log "mx is installed and current"
else
  log "building and installing mx into .venv"
  with_build_lock "$VPY" -m pip install -q --no-build-isolation --no-deps .
  printf '%s' "$hash" >"$stamp"
fi

log "running examples/ndarray_demo.py"
exec "$VPY" examples/ndarray_demo.py "$@"
