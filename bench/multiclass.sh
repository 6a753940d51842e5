#!/usr/bin/env bash
# Multi-class quality and training speed against LightGBM (issue 16): test multi-class log-loss and accuracy on
# scikit-learn's digits and a 100,000 x 20, 5-class make_classification set, and single-thread training time,
# interleaved run by run (bench/multiclass_compare.py prints the markdown table).
#
#   bench/multiclass.sh [--scratch-path DIR] [multiclass_compare.py options, e.g. --repeat 3]
#
# --scratch-path: SwiftPM's build directory for the release xalorra-mlbench (default .build).
# Environment: ML_VENV (the Python venv, default /tmp/xalorra-ml-venv, created with pinned packages when missing),
# MLBENCH_BIN (use this xalorra-mlbench instead of building), XALORRA_BIN (the xalorra that trains the model whose
# quality is measured; default .build/debug/xalorra, built when missing: training is deterministic, so a debug
# build gives the release build's model). Results: the table on stdout, every number in bench/out/multiclass.json.
set -euo pipefail
# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

scratch=.build
passthrough=()
while [[ $# -gt 0 ]]; do
    case "$1" in
        --scratch-path) scratch="$2"; shift 2 ;;
        *) passthrough+=("$1"); shift ;;
    esac
done

venv="${ML_VENV:-/tmp/xalorra-ml-venv}"
[[ -x "$venv/bin/python" ]] || python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check \
    lightgbm==4.7.0 scikit-learn==1.9.1 numpy==2.4.6 >&2

if [[ -z "${MLBENCH_BIN:-}" ]]; then
    need swift
    (cd "$REPO_ROOT" && swift build -c release --product xalorra-mlbench --scratch-path "$scratch" >&2)
    MLBENCH_BIN="$(cd "$REPO_ROOT" && swift build -c release --scratch-path "$scratch" --show-bin-path)/xalorra-mlbench"
fi
[[ -x "$MLBENCH_BIN" ]] || die "xalorra-mlbench '$MLBENCH_BIN' is missing"
xalorra="${XALORRA_BIN:-$REPO_ROOT/.build/debug/xalorra}"
if [[ ! -x "$xalorra" ]]; then
    (cd "$REPO_ROOT" && swift build --product xalorra >&2)
fi

mkdir -p "$OUT_DIR"
"$venv/bin/python" "$BENCH_DIR/multiclass_compare.py" --mlbench "$MLBENCH_BIN" --xalorra "$xalorra" \
    --data-dir "$OUT_DIR/multiclass" --json "$OUT_DIR/multiclass.json" "${passthrough[@]}"
