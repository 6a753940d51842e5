#!/usr/bin/env bash
# LightGBM-imported inference, one thread: xalorra's TreeEnsemble loaded from a LightGBM text model by the importer
# (LightGBMModel) against LightGBM 4.6's own Booster.predict(num_threads=1), in the same run, on the same model
# and rows. The model: 100 trees, 63 leaves, learning rate 0.1, trained by LightGBM on a 50,000 x 20 synthetic
# regression set with 10 % missing values; 20,000 test rows (also with missing values) are predicted, repeated to
# 1,000,000 rows, best of 3. Both sides' predictions are compared (max relative difference). Issue 16's target:
# at least LightGBM's throughput.
#
#   bench/lightgbm.sh [--scratch-path DIR]
#
# xalorra's side is built in a throwaway package (under bench/out/lightgbm/pkg) holding XalorraML and the
# importer's three files from this repository plus bench/lightgbm/ (main.swift, and Shims.swift for the two
# XalorraCore types they touch), so the bench needs no store, server or package network access.
# Environment: ML_VENV (default /tmp/xalorra-ml-venv, pins installed when missing). Results: one JSON line per
# library on stdout, and bench/out/lightgbm.json.
set -euo pipefail
# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

scratch=""
while [[ $# -gt 0 ]]; do
    case "$1" in
        --scratch-path) scratch="$2"; shift 2 ;;
        *) die "unknown option $1" ;;
    esac
done
need swift

venv="${ML_VENV:-/tmp/xalorra-ml-venv}"
[[ -x "$venv/bin/python" ]] || python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check lightgbm==4.6.0 numpy==2.4.6 >&2

work="$OUT_DIR/lightgbm"
pkg="$work/pkg"
mkdir -p "$work" "$pkg/Sources/lgbbench"
scratch="${scratch:-$work/build}"

# The throwaway package: XalorraML as it is, the importer's files and the bench's own.
ln -sfn "$REPO_ROOT/Sources/XalorraML" "$pkg/Sources/XalorraML"
for file in LightGBMModel.swift LightGBMModel+Reading.swift LightGBMModel+Trees.swift ModelLimits.swift \
    ModelFormatError.swift; do
    ln -sf "$REPO_ROOT/Sources/XalorraCore/Models/$file" "$pkg/Sources/lgbbench/$file"
done
ln -sf "$BENCH_DIR/lightgbm/main.swift" "$pkg/Sources/lgbbench/main.swift"
ln -sf "$BENCH_DIR/lightgbm/Shims.swift" "$pkg/Sources/lgbbench/Shims.swift"
cat >"$pkg/Package.swift" <<'SWIFT'
// swift-tools-version: 6.2
import PackageDescription

let package = Package(
    name: "lgbbench",
    targets: [
        .target(name: "XalorraML"),
        .executableTarget(name: "lgbbench", dependencies: ["XalorraML"]),
    ]
)
SWIFT
(cd "$pkg" && swift build -c release --scratch-path "$scratch" >&2)
bench_bin="$(cd "$pkg" && swift build -c release --scratch-path "$scratch" --show-bin-path)/lgbbench"
[[ -x "$bench_bin" ]] || die "the bench binary '$bench_bin' is missing"

"$venv/bin/python" - "$work" <<'PY' >"$work/lightgbm-side.json"
import json, os, sys, time
import lightgbm as lgb
import numpy as np

out = sys.argv[1]
rng = np.random.default_rng(16)
def make(rows):
    x = rng.normal(size=(rows, 20))
    y = x[:, 0] * 2 - x[:, 1] * x[:, 2] + np.sin(x[:, 3] * 3) + (x[:, 4] > 0.5) + 0.1 * rng.normal(size=rows)
    x[rng.random(size=x.shape) < 0.1] = np.nan
    return x, y
train, test = make(50_000), make(20_000)
params = {"objective": "regression", "num_leaves": 63, "learning_rate": 0.1, "max_bin": 255, "num_threads": 1,
          "min_data_in_leaf": 20, "seed": 16, "deterministic": True, "verbose": -1}
booster = lgb.train(params, lgb.Dataset(train[0], train[1], params={"verbose": -1}), 100)
booster.save_model(os.path.join(out, "model.txt"))
x = np.ascontiguousarray(test[0], dtype=np.float64)
x.tofile(os.path.join(out, "rows.f64"))
expected = booster.predict(x, num_threads=1)
expected.astype(np.float64).tofile(os.path.join(out, "expected.f64"))
repeats = (1_000_000 + len(x) - 1) // len(x)
best = float("inf")
for _ in range(3):
    start = time.perf_counter()
    for _ in range(repeats):
        booster.predict(x, num_threads=1)
    best = min(best, time.perf_counter() - start)
single = x[:2000]
start = time.perf_counter()
for row in single:
    booster.predict(row.reshape(1, -1), num_threads=1)
single_ns = (time.perf_counter() - start) / len(single) * 1e9
print(json.dumps({"library": f"lightgbm {lgb.__version__}", "trees": booster.num_trees(), "rows": len(x),
                  "predict_rows_per_second": repeats * len(x) / best, "single_row_predict_ns": single_ns}))
PY
cat "$work/lightgbm-side.json"
"$bench_bin" "$work/model.txt" "$work/rows.f64" 20 "$work/expected.f64" 1000000 | tee "$work/xalorra-side.json"
cat "$work/lightgbm-side.json" "$work/xalorra-side.json" >"$OUT_DIR/lightgbm.json"
