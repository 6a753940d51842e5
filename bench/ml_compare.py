#!/usr/bin/env python3
"""Compares xalorra's gbdt with LightGBM, XGBoost and scikit-learn's HistGradientBoosting.

    ml_compare.py --bin PATH/xalorra-mlbench [--data-dir DIR] [--repeat 2]

Writes the datasets (fixed seeds, fixed 80/20 train/test split) as CSV to DIR, trains every library with the same
hyperparameters (100 trees, depth 6, learning rate 0.1, min 20 rows per leaf, L2 1, 255 bins; LightGBM
num_leaves=64) on one thread, and prints a markdown table: test RMSE or log-loss per library with the ratio
ours/LightGBM, training time on the 200k x 20 set, and batch inference rows/s against XGBoost's inplace_predict
and predict (DMatrix) for the same 100 depth-6 trees. Run by bench/ml.sh, which sets up the venv and builds the
binary.
"""

import argparse
import json
import os
import subprocess
import sys
import time

# One thread everywhere (scikit-learn's OpenMP, XGBoost and LightGBM also get explicit parameters below).
os.environ.setdefault("OMP_NUM_THREADS", "1")

import lightgbm as lgb  # noqa: E402
import numpy as np  # noqa: E402
import xgboost as xgb  # noqa: E402
from sklearn.datasets import load_breast_cancer, load_diabetes, make_friedman1  # noqa: E402
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor  # noqa: E402
from sklearn.metrics import log_loss, mean_squared_error  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402

TREES, DEPTH, RATE, MIN_LEAF, L2, BINS = 100, 6, 0.1, 20, 1.0, 255
PREDICT_ROWS = 1_000_000


def datasets():
    """(name, X, y, binary) for each benchmark dataset."""
    x, y = make_friedman1(n_samples=20_000, noise=1.0, random_state=0)
    yield "friedman1-20k", x, y, False
    data = load_diabetes()
    yield "diabetes", data.data, data.target, False
    data = load_breast_cancer()
    yield "breast-cancer", data.data, data.target.astype(float), True
    x, y = make_friedman1(n_samples=250_000, n_features=20, noise=1.0, random_state=1)
    yield "synthetic-200k", x, y, False


def write_csv(path, x, y):
    header = ",".join([f"f{i}" for i in range(x.shape[1])] + ["target"])
    np.savetxt(path, np.column_stack([x, y]), delimiter=",", header=header, comments="", fmt="%.17g")


def metric(binary, y, prediction):
    if binary:
        return log_loss(y, np.clip(prediction, 1e-15, 1 - 1e-15))
    return float(np.sqrt(mean_squared_error(y, prediction)))


def timed(function, repeat):
    """(best seconds, last result) of `repeat` calls."""
    best, result = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        result = function()
        best = min(best, time.perf_counter() - start)
    return best, result


def rows_per_second(predict, x):
    """Batch prediction throughput on `x` repeated to at least PREDICT_ROWS rows, best of 3."""
    big = np.ascontiguousarray(np.tile(x, (-(-PREDICT_ROWS // len(x)), 1)))
    seconds, _ = timed(lambda: predict(big), 3)
    return len(big) / seconds


def run_lightgbm(binary, xtr, ytr, xte, yte, repeat):
    params = {
        "objective": "binary" if binary else "regression", "num_leaves": 64, "max_depth": DEPTH,
        "learning_rate": RATE, "min_data_in_leaf": MIN_LEAF, "lambda_l2": L2, "max_bin": BINS,
        "num_threads": 1, "verbose": -1, "deterministic": True,
    }
    seconds, model = timed(lambda: lgb.train(params, lgb.Dataset(xtr, ytr), num_boost_round=TREES), repeat)
    return {"seconds": seconds, "metric": metric(binary, yte, model.predict(xte, num_threads=1))}


def run_xgboost(binary, xtr, ytr, xte, yte, repeat):
    params = {
        "objective": "binary:logistic" if binary else "reg:squarederror", "tree_method": "hist",
        "max_depth": DEPTH, "eta": RATE, "lambda": L2, "max_bin": BINS, "nthread": 1,
        # Regression hessians are 1, so this is "20 rows per leaf"; log-loss hessians are p(1-p) <= 1/4, where the
        # default keeps leaves of at least about 4 rows.
        "min_child_weight": 1 if binary else MIN_LEAF,
    }
    seconds, model = timed(lambda: xgb.train(params, xgb.DMatrix(xtr, ytr, nthread=1), TREES), repeat)
    return {
        "seconds": seconds,
        "metric": metric(binary, yte, model.inplace_predict(xte)),
        "inplace_rows_per_second": rows_per_second(lambda x: model.inplace_predict(x), xte),
        "dmatrix_rows_per_second": rows_per_second(lambda x: model.predict(xgb.DMatrix(x, nthread=1)), xte),
    }


def run_sklearn(binary, xtr, ytr, xte, yte, repeat):
    kind = HistGradientBoostingClassifier if binary else HistGradientBoostingRegressor
    model = kind(max_iter=TREES, max_depth=DEPTH, learning_rate=RATE, min_samples_leaf=MIN_LEAF,
                 l2_regularization=L2, max_bins=BINS, max_leaf_nodes=64, early_stopping=False)
    seconds, model = timed(lambda: model.fit(xtr, ytr), repeat)
    prediction = model.predict_proba(xte)[:, 1] if binary else model.predict(xte)
    return {"seconds": seconds, "metric": metric(binary, yte, prediction)}


def run_ours(binary_path, train_csv, test_csv, binary, repeat):
    command = [binary_path, "--train", train_csv, "--test", test_csv, "--objective",
               "binary" if binary else "regression", "--trees", str(TREES), "--max-depth", str(DEPTH),
               "--learning-rate", str(RATE), "--min-samples-leaf", str(MIN_LEAF), "--l2", str(L2),
               "--bins", str(BINS), "--threads", "1", "--valid-fraction", "0"]
    best = None
    for _ in range(repeat):
        result = json.loads(subprocess.run(command, check=True, capture_output=True, text=True).stdout)
        if best is None or result["train_seconds"] < best["train_seconds"]:
            best = result
    best["metric"] = best["logloss"] if binary else best["rmse"]
    best["seconds"] = best["train_seconds"]
    return best


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bin", required=True, help="the xalorra-mlbench executable")
    parser.add_argument("--data-dir", default="bench/out/ml", help="where the CSV files go")
    parser.add_argument("--repeat", type=int, default=2, help="training runs per library (best time is kept)")
    parser.add_argument("--json", help="also write every number to this file")
    args = parser.parse_args()
    os.makedirs(args.data_dir, exist_ok=True)

    results = {}
    for name, x, y, binary in datasets():
        xtr, xte, ytr, yte = train_test_split(x, y, test_size=0.2, random_state=42)
        train_csv = os.path.join(args.data_dir, f"{name}-train.csv")
        test_csv = os.path.join(args.data_dir, f"{name}-test.csv")
        write_csv(train_csv, xtr, ytr)
        write_csv(test_csv, xte, yte)
        print(f"{name}: {len(xtr)} train / {len(xte)} test rows x {x.shape[1]} features", file=sys.stderr)
        results[name] = {
            "binary": binary,
            "lightgbm": run_lightgbm(binary, xtr, ytr, xte, yte, args.repeat),
            "xgboost": run_xgboost(binary, xtr, ytr, xte, yte, args.repeat),
            "sklearn": run_sklearn(binary, xtr, ytr, xte, yte, args.repeat),
            "xalorra": run_ours(args.bin, train_csv, test_csv, binary, args.repeat),
        }

    print(f"lightgbm {lgb.__version__}, xgboost {xgb.__version__}, one thread; "
          f"{TREES} trees, depth {DEPTH}, rate {RATE}, min leaf {MIN_LEAF}, L2 {L2}, {BINS} bins\n")
    print("| dataset | metric | xalorra | LightGBM | XGBoost | sklearn HGB | xalorra / LightGBM |")
    print("|---|---|---|---|---|---|---|")
    for name, result in results.items():
        ours, ref = result["xalorra"]["metric"], result["lightgbm"]["metric"]
        print(f"| {name} | {'log-loss' if result['binary'] else 'RMSE'} | {ours:.4f} | {ref:.4f} | "
              f"{result['xgboost']['metric']:.4f} | {result['sklearn']['metric']:.4f} | {ours / ref:.3f} |")
    print("\n| dataset | train s xalorra | LightGBM | XGBoost | sklearn HGB | xalorra / LightGBM |")
    print("|---|---|---|---|---|---|")
    for name, result in results.items():
        ours, ref = result["xalorra"]["seconds"], result["lightgbm"]["seconds"]
        print(f"| {name} | {ours:.3f} | {ref:.3f} | {result['xgboost']['seconds']:.3f} | "
              f"{result['sklearn']['seconds']:.3f} | {ours / ref:.2f} |")
    print("\n| dataset | predict rows/s xalorra | XGBoost inplace_predict | XGBoost predict | "
          "xalorra / inplace | single-row ns |")
    print("|---|---|---|---|---|---|")
    for name, result in results.items():
        ours, xg = result["xalorra"], result["xgboost"]
        print(f"| {name} | {ours['predict_rows_per_second']:,.0f} | {xg['inplace_rows_per_second']:,.0f} | "
              f"{xg['dmatrix_rows_per_second']:,.0f} | "
              f"{ours['predict_rows_per_second'] / xg['inplace_rows_per_second']:.2f} | "
              f"{ours['single_row_predict_ns']:,.0f} |")
    if args.json:
        with open(args.json, "w") as file:
            json.dump(results, file, indent=2)


if __name__ == "__main__":
    main()
