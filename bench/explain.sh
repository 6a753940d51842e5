#!/usr/bin/env bash
# Explanations of a 100-tree, depth-6 model, one thread: xalorra's exact TreeSHAP (xalorra-mlbench --explain-rows)
# against XGBoost 3.2's Booster.predict(pred_contribs=True), in the same run, on the same data (a 50,000 x 20
# synthetic regression set with 10 % missing values; 10,000 rows explained). Each library trains its own model with
# the same hyperparameters (100 trees, max depth 6, learning rate 0.1, 255 bins); TreeSHAP's cost grows with the
# leaves per tree, which both print. Issue 16's target: at most 50 µs a row.
#
#   bench/explain.sh [--scratch-path DIR]
#
# Environment: ML_VENV (default /tmp/xalorra-ml-venv, pins installed when missing), MLBENCH_BIN (use this
# xalorra-mlbench instead of building). Results: one JSON line per library on stdout, and bench/out/explain.json.
set -euo pipefail
# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

scratch=.build
while [[ $# -gt 0 ]]; do
    case "$1" in
        --scratch-path) scratch="$2"; shift 2 ;;
        *) die "unknown option $1" ;;
    esac
done

venv="${ML_VENV:-/tmp/xalorra-ml-venv}"
[[ -x "$venv/bin/python" ]] || python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check xgboost-cpu==3.2.0 numpy==2.4.6 >&2

if [[ -z "${MLBENCH_BIN:-}" ]]; then
    need swift
    (cd "$REPO_ROOT" && swift build -c release --product xalorra-mlbench --scratch-path "$scratch" >&2)
    MLBENCH_BIN="$(cd "$REPO_ROOT" && swift build -c release --scratch-path "$scratch" --show-bin-path)/xalorra-mlbench"
fi
[[ -x "$MLBENCH_BIN" ]] || die "xalorra-mlbench '$MLBENCH_BIN' is missing"

data="$OUT_DIR/explain"
mkdir -p "$data"
"$venv/bin/python" - "$data" <<'PY' | tee "$OUT_DIR/explain.json"
import json, os, sys, time
import numpy as np
import xgboost as xgb

out = sys.argv[1]
rng = np.random.default_rng(16)
def make(rows):
    x = rng.normal(size=(rows, 20))
    y = x[:, 0] * 2 - x[:, 1] * x[:, 2] + np.sin(x[:, 3] * 3) + (x[:, 4] > 0.5) + 0.1 * rng.normal(size=rows)
    x[rng.random(size=x.shape) < 0.1] = np.nan
    return x, y
train, test = make(50_000), make(10_000)
names = [f"x{i}" for i in range(20)]
for name, (x, y) in (("train", train), ("test", test)):
    with open(os.path.join(out, f"{name}.csv"), "w") as f:
        f.write(",".join(names + ["target"]) + "\n")
        for row, target in zip(x, y):
            f.write(",".join("" if np.isnan(v) else f"{v:.6g}" for v in row) + f",{target:.6g}\n")
params = {"max_depth": 6, "eta": 0.1, "tree_method": "hist", "max_bin": 255, "nthread": 1,
          "objective": "reg:squarederror", "min_child_weight": 20}
booster = xgb.train(params, xgb.DMatrix(train[0], train[1], missing=np.nan), 100)
matrix = xgb.DMatrix(test[0], missing=np.nan)
best = float("inf")
for _ in range(3):
    begin = time.perf_counter()
    booster.predict(matrix, pred_contribs=True)
    best = min(best, time.perf_counter() - begin)
leaves = sum(d.count("leaf=") for d in booster.get_dump()) / 100
print(json.dumps({"library": "xgboost " + xgb.__version__, "explain_us_per_row": best / len(test[1]) * 1e6,
                  "leaves_per_tree": leaves}))
PY
"$MLBENCH_BIN" --train "$data/train.csv" --test "$data/test.csv" --trees 100 --max-depth 6 --learning-rate 0.1 \
    --min-samples-leaf 20 --bins 255 --threads 1 --predict-rows 10000 --explain-rows 10000 \
    | sed 's/^{/{"library": "xalorra", /' | tee -a "$OUT_DIR/explain.json"
