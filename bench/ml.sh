#!/usr/bin/env bash
# Compares xalorra's gbdt with LightGBM 4.7, XGBoost 3.2 and scikit-learn's HistGradientBoosting: test RMSE or
# log-loss on friedman1 (20k), diabetes, breast-cancer and a 200k x 20 synthetic set, single-thread training time,
# and batch/single-row inference speed (bench/ml_compare.py prints the markdown table).
#
#   bench/ml.sh [--scratch-path DIR] [ml_compare.py options, e.g. --repeat 3]
#
# --scratch-path: SwiftPM's build directory for the release xalorra-mlbench (default .build).
# Environment: ML_VENV (the Python venv, default /tmp/xalorra-ml-venv, created with pinned packages when missing),
# MLBENCH_BIN (use this xalorra-mlbench instead of building), ML_DATA (CSV directory, default bench/out/ml).
# Results: the table on stdout, every number in bench/out/ml.json.
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
# A no-op when the pins are already installed.
"$venv/bin/pip" install --quiet --disable-pip-version-check \
    lightgbm==4.7.0 xgboost-cpu==3.2.0 scikit-learn==1.9.1 numpy==2.4.6 >&2

if [[ -z "${MLBENCH_BIN:-}" ]]; then
    need swift
    (cd "$REPO_ROOT" && swift build -c release --product xalorra-mlbench --scratch-path "$scratch" >&2)
    MLBENCH_BIN="$(cd "$REPO_ROOT" && swift build -c release --scratch-path "$scratch" --show-bin-path)/xalorra-mlbench"
fi
[[ -x "$MLBENCH_BIN" ]] || die "xalorra-mlbench '$MLBENCH_BIN' is missing"

mkdir -p "$OUT_DIR"
"$venv/bin/python" "$BENCH_DIR/ml_compare.py" --bin "$MLBENCH_BIN" --data-dir "${ML_DATA:-$OUT_DIR/ml}" \
    --json "$OUT_DIR/ml.json" "${passthrough[@]}"
