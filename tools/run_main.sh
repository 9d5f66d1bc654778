#!/usr/bin/env bash
# Sets up and runs the main job: installs what is missing (Debian build tools, ./.venv with the
# package's build requirements and matplotlib), builds and installs the `mx` package into ./.venv
# (pip, scikit-build-core; rebuilt only when the sources changed), fetches real MNIST into
# data/mnist (tools/fetch_mnist.py; skipped when present), trains the seed CNN
# (examples/mnist_cnn.py: 2 epochs, progress bar, test accuracy, mnist_out/mnist_cnn.params and
# mnist_out/mnist_cnn_training.png), then shows the cross-language round trip: the C program
# examples/c/predict_mnist.c, built against the installed libmx, predicts test images from the
# parameters Python saved, and the predictions are compared with Python's. Idempotent.
#
#   bash tools/run_main.sh             (README command (a); extra arguments go to the example)
source "$(dirname "${BASH_SOURCE[0]}")/setup_env.sh"
cd "$MX_ROOT"

ensure_system_deps
# The build requirements of pyproject.toml, so the package builds without isolation (and keeps its
# build directory, build-wheel/, between runs), plus matplotlib for the example's plot.
ensure_venv main "numpy>=1.23" "cffi>=1.16" pycparser "scikit-build-core>=0.10" scipy-openblas32 matplotlib

stamp="$VENV/.mx-installed"
hash="$(source_hash)"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$hash" ] && (cd / && "$VPY" -c 'import mx') >/dev/null 2>&1; then
  log "mx is installed and current"
else
  log "building and installing mx into .venv"
  with_build_lock "$VPY" -m pip install -q --no-build-isolation --no-deps .
  printf '%s' "$hash" >"$stamp"
fi

log "fetching MNIST into data/mnist"
"$VPY" tools/fetch_mnist.py --data-root data/mnist

log "training examples/mnist_cnn.py"
"$VPY" examples/mnist_cnn.py --data-root data/mnist --out-dir mnist_out "$@"

log "cross-language round trip: Python trained, C predicts"
exec "$VPY" examples/c/roundtrip.py --params mnist_out/mnist_cnn.params --data-root data/mnist
