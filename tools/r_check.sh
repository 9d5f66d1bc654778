#!/usr/bin/env bash
# The R package's tests: builds the source tarball of bindings/r, installs it into a library under
# the build dir, runs the testthat suites (exit non-zero on any failure, error or skip), then
# R CMD check --no-manual on the tarball (fails on any ERROR or WARNING). Needs R with testthat
# (Debian: r-base-core r-base-dev r-cran-testthat) and a built libmx in the Python package
# (bindings/python/mx/lib after the build) or an installed C/C++ package (pkg-config mx).
#
#   bash tools/r_check.sh          (tools/run_tests.sh calls it)
#
# Environment: MX_BUILD_DIR (default build), PYTHON (default .venv/bin/python, else python3),
# MX_FIXTURES_DIR (default ../shared/fixtures/mxnet-1.9.1 beside the repository),
# MX_R_SKIP_CHECK=1 to run only the testthat suites.
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="${MX_BUILD_DIR:-build}"
case "$BUILD_DIR" in /*) ;; *) BUILD_DIR="$ROOT/$BUILD_DIR" ;; esac
OUT="$BUILD_DIR/r"
log() { printf '[mx-r] %s\n' "$*" >&2; }

command -v R >/dev/null 2>&1 || { log "R not found (apt-get install r-base-core r-base-dev r-cran-testthat)"; exit 1; }
Rscript -e 'quit(status = if (requireNamespace("testthat", quietly = TRUE)) 0 else 1)' \
  || { log "the R package testthat is missing (apt-get install r-cran-testthat)"; exit 1; }

if [ -z "${PYTHON:-}" ]; then
  if [ -x "$ROOT/.venv/bin/python" ]; then PYTHON="$ROOT/.venv/bin/python"; else PYTHON=python3; fi
fi
export PYTHON
export PYTHONPATH="$ROOT/bindings/python${PYTHONPATH:+:$PYTHONPATH}"
if [ -z "${MX_FIXTURES_DIR:-}" ] && [ -d "$ROOT/../shared/fixtures/mxnet-1.9.1" ]; then
  MX_FIXTURES_DIR="$(cd "$ROOT/../shared/fixtures/mxnet-1.9.1" && pwd)"
fi
export MX_FIXTURES_DIR="${MX_FIXTURES_DIR:-}"

rm -rf "$OUT"
mkdir -p "$OUT/lib" "$OUT/check"
failed=()

log "R CMD build"
(cd "$OUT" && R CMD build --no-build-vignettes --no-manual "$ROOT/bindings/r" >build.log 2>&1) \
  || { cat "$OUT/build.log" >&2; log "R CMD build failed"; exit 1; }
TARBALL="$(ls "$OUT"/mx_*.tar.gz | head -n 1)"

log "R CMD INSTALL -> $OUT/lib"
R CMD INSTALL --library="$OUT/lib" "$TARBALL" >"$OUT/install.log" 2>&1 \
  || { cat "$OUT/install.log" >&2; log "R CMD INSTALL failed"; exit 1; }

log "testthat"
# A failure, an error, a warning-free skip: every one makes the exit status non-zero.
R_LIBS="$OUT/lib${R_LIBS:+:$R_LIBS}" Rscript -e '
  suppressPackageStartupMessages({ library(testthat); library(mx) })
  res <- tryCatch(
    testthat::test_dir(commandArgs(TRUE)[1], reporter = "summary", stop_on_failure = FALSE,
                       load_package = "none"),
    error = function(e) { message("testthat: ", conditionMessage(e)); NULL })
  if (is.null(res)) quit(status = 1)
  df <- as.data.frame(res)
  bad <- sum(df$failed) + sum(df$error) + sum(df$skipped)
  cat(sprintf("testthat: %d tests, %d expectations, %d failed, %d errors, %d skipped\n",
              nrow(df), sum(df$nb), sum(df$failed), sum(df$error), sum(df$skipped)))
  if (nrow(df) == 0 || bad > 0) quit(status = 1)
' "$ROOT/bindings/r/tests/testthat" || failed+=(testthat)

if [ "${MX_R_SKIP_CHECK:-0}" != "1" ]; then
  log "R CMD check --no-manual"
  (cd "$OUT/check" && _R_CHECK_FORCE_SUGGESTS_=false R_LIBS="$OUT/lib${R_LIBS:+:$R_LIBS}" \
    R CMD check --no-manual "$TARBALL" >check.log 2>&1)
  rc=$?
  status_line="$(grep -E '^Status:' "$OUT/check/mx.Rcheck/00check.log" 2>/dev/null | tail -n 1)"
  if [ $rc -ne 0 ] || [ -z "$status_line" ] || echo "$status_line" | grep -qE 'ERROR|WARNING'; then
    cat "$OUT/check/check.log" >&2
    for f in "$OUT"/check/mx.Rcheck/tests/*.Rout.fail; do [ -f "$f" ] && tail -n 60 "$f" >&2; done
    log "R CMD check: ${status_line:-no status (exit $rc)}"
    failed+=("R CMD check")
  else
    grep -E 'NOTE' -A4 "$OUT/check/mx.Rcheck/00check.log" >&2 || true
    log "R CMD check: $status_line"
  fi
fi

if [ ${#failed[@]} -ne 0 ]; then
  log "FAILED: ${failed[*]}"
  exit 1
fi
log "R: all passed"
