#!/usr/bin/env python3
"""Compares xalorra's multi-class gbdt (softmax, K trees a round) with LightGBM's `multiclass`.

    multiclass_compare.py --mlbench PATH/xalorra-mlbench --xalorra PATH/xalorra [--data-dir DIR] [--repeat 3]

Datasets (fixed seeds, fixed 80/20 train/test split, random_state 0): scikit-learn's `digits` (1,797 x 64, 10
classes) and `make_classification` with 100,000 rows, 20 features (10 informative), 5 classes. Both libraries get
the same hyperparameters (100 rounds, depth 6, learning rate 0.1, min 20 rows per leaf, L2 1, 255 bins, LightGBM
num_leaves=64) and one thread.

Quality: the test multi-class log-loss and accuracy. xalorra's model is trained by `xalorra train` (no validation
split), exported with `models export`, and its trees are evaluated here (x < threshold goes left, softmax of the K
class margins); a training run is deterministic, so a debug binary gives the release binary's model. Tree by tree,
the count of xalorra's trees whose value on every training and test row equals LightGBM's tree (its leaf outputs
through `pred_leaf`, the first round's less LightGBM's starting margins, which it folds into them) to 1e-12: xalorra
trains LightGBM's trees, so all of them should. Speed: the
training time of the release `xalorra-mlbench` (its `train_seconds`, CSV parsing excluded) against `lgb.train`
(Dataset construction included), interleaved run by run on the same machine, best of `--repeat`.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")

import lightgbm as lgb  # noqa: E402
import numpy as np  # noqa: E402
import sklearn  # noqa: E402
from sklearn.datasets import load_digits, make_classification  # noqa: E402
from sklearn.metrics import accuracy_score, log_loss  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402

TREES, DEPTH, RATE, MIN_LEAF, L2, BINS = 100, 6, 0.1, 20, 1.0, 255


def datasets():
    data = load_digits()
    yield "digits", data.data.astype(float), data.target.astype(float)
    x, y = make_classification(n_samples=100_000, n_features=20, n_informative=10, n_redundant=5, n_classes=5,
                               n_clusters_per_class=2, random_state=0)
    yield "classification-100k-5", x, y.astype(float)


def write_csv(path, x, y):
    header = ",".join([f"f{i}" for i in range(x.shape[1])] + ["target"])
    np.savetxt(path, np.column_stack([x, y]), delimiter=",", header=header, comments="", fmt="%.17g")


def lightgbm_train(xtr, ytr, classes):
    params = {
        "objective": "multiclass", "num_class": classes, "num_leaves": 64, "max_depth": DEPTH,
        "learning_rate": RATE, "min_data_in_leaf": MIN_LEAF, "lambda_l2": L2, "max_bin": BINS,
        "num_threads": 1, "verbose": -1, "deterministic": True,
    }
    start = time.perf_counter()
    model = lgb.train(params, lgb.Dataset(xtr, ytr), num_boost_round=TREES)
    return time.perf_counter() - start, model


def mlbench_train(binary, train_csv, test_csv):
    command = [binary, "--train", train_csv, "--test", test_csv, "--objective", "multiclass", "--trees", str(TREES),
               "--max-depth", str(DEPTH), "--learning-rate", str(RATE), "--min-samples-leaf", str(MIN_LEAF),
               "--l2", str(L2), "--bins", str(BINS), "--threads", "1", "--valid-fraction", "0",
               "--predict-rows", "1000"]
    result = json.loads(subprocess.run(command, check=True, capture_output=True, text=True).stdout)
    return result["train_seconds"], result


def xalorra_model(binary, train_csv, home):
    """Trains with the CLI and returns the exported model document (the `model` member)."""
    env = dict(os.environ, XALORRA_HOME=home)
    subprocess.run([binary, "train", "m", "--data", train_csv, "--target", "target", "--objective", "multiclass",
                    "--trees", str(TREES), "--max-depth", str(DEPTH), "--learning-rate", str(RATE),
                    "--min-samples-leaf", str(MIN_LEAF), "--l2", str(L2), "--bins", str(BINS),
                    "--valid-fraction", "0", "--threads", "1"], check=True, env=env, capture_output=True)
    path = os.path.join(home, "m.json")
    subprocess.run([binary, "models", "export", "m", path], check=True, env=env, capture_output=True)
    with open(path) as file:
        return json.load(file)["model"]


def tree_values(tree, x):
    feature = np.array(tree["feature"])
    threshold = np.array(tree["threshold"])
    left, right = np.array(tree["left"]), np.array(tree["right"])
    default_left = np.array(tree["default_left"], dtype=bool)
    node = np.zeros(len(x), dtype=np.int64)
    rows = np.arange(len(x))
    while True:
        split = feature[node] >= 0
        if not split.any():
            return np.array(tree["value"])[node]
        values = x[rows, np.where(split, feature[node], 0)]
        go_left = np.where(np.isnan(values), default_left[node], values < threshold[node])
        node = np.where(split, np.where(go_left, left[node], right[node]), node)


def equal_trees(model, booster, x):
    """How many of `model`'s trees give every row of `x` the value LightGBM's tree of the same index gives."""
    k = len(model["class_labels"])
    leaves = booster.predict(x, pred_leaf=True, num_threads=1)
    equal = 0
    for index, tree in enumerate(model["trees"]):
        used, where = np.unique(leaves[:, index], return_inverse=True)
        theirs = np.array([booster.get_leaf_output(index, int(leaf)) for leaf in used])[where]
        ours = tree_values(tree, x) + (model["class_margins"][index % k] if index < k else 0.0)
        equal += bool(np.all(np.abs(ours - theirs) <= 1e-12 * np.maximum(1.0, np.abs(theirs))))
    return equal


def xalorra_probabilities(model, x):
    labels = model["class_labels"]
    k = len(labels)
    margins = np.tile(np.array(model["class_margins"]), (len(x), 1))
    for index, tree in enumerate(model["trees"]):
        margins[:, index % k] += tree_values(tree, x)
    shifted = np.exp(margins - margins.max(axis=1, keepdims=True))
    return labels, shifted / shifted.sum(axis=1, keepdims=True)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--mlbench", required=True, help="the release xalorra-mlbench executable")
    parser.add_argument("--xalorra", required=True, help="an xalorra executable (debug is fine: quality only)")
    parser.add_argument("--data-dir", help="keep the generated CSV files here (default: a temporary directory)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json")
    args = parser.parse_args()
    # The CSV files (unless --data-dir keeps them) and xalorra's homes, removed when the script ends.
    scratch = tempfile.TemporaryDirectory(prefix="xalorra-multiclass-")
    data_dir = args.data_dir or scratch.name
    os.makedirs(data_dir, exist_ok=True)
    results = []
    for name, x, y in datasets():
        xtr, xte, ytr, yte = train_test_split(x, y, test_size=0.2, random_state=0)
        classes = len(np.unique(y))
        train_csv = os.path.join(data_dir, f"{name}-train.csv")
        test_csv = os.path.join(data_dir, f"{name}-test.csv")
        write_csv(train_csv, xtr, ytr)
        write_csv(test_csv, xte, yte)
        ours, theirs, model = [], [], None
        for _ in range(args.repeat):  # interleaved, so both see the same machine load
            seconds, _ = mlbench_train(args.mlbench, train_csv, test_csv)
            ours.append(seconds)
            seconds, model = lightgbm_train(xtr, ytr, classes)
            theirs.append(seconds)
        lgb_probabilities = model.predict(xte, num_threads=1)
        home = tempfile.mkdtemp(prefix=f"home-{name}-", dir=scratch.name)
        exported = xalorra_model(args.xalorra, train_csv, home)
        labels, our_probabilities = xalorra_probabilities(exported, xte)
        assert labels == list(range(classes)), labels
        row = {
            "dataset": name, "rows": len(x), "features": x.shape[1], "classes": classes,
            "lightgbm_logloss": log_loss(yte, lgb_probabilities, labels=list(range(classes))),
            "xalorra_logloss": log_loss(yte, our_probabilities, labels=list(range(classes))),
            "lightgbm_accuracy": accuracy_score(yte, lgb_probabilities.argmax(axis=1)),
            "xalorra_accuracy": accuracy_score(yte, our_probabilities.argmax(axis=1)),
            "lightgbm_train_seconds": min(theirs), "xalorra_train_seconds": min(ours),
            "lightgbm_runs": theirs, "xalorra_runs": ours,
            "trees": len(exported["trees"]),
            "trees_equal_to_lightgbm": equal_trees(exported, model, np.vstack([xtr, xte])),
        }
        results.append(row)
        print(json.dumps(row), file=sys.stderr)
    print(f"lightgbm {lgb.__version__}, scikit-learn {sklearn.__version__}, one thread; {TREES} rounds, depth {DEPTH}, "
          f"rate {RATE}, min leaf {MIN_LEAF}, L2 {L2}, {BINS} bins; best of {args.repeat} interleaved runs\n")
    print("| dataset | log-loss xalorra | log-loss LightGBM | ratio | accuracy xalorra / LightGBM "
          "| train s xalorra | train s LightGBM | ratio |")
    print("|---|---|---|---|---|---|---|---|")
    for r in results:
        print(f"| {r['dataset']} ({r['rows']:,} x {r['features']}, {r['classes']} classes) "
              f"| {r['xalorra_logloss']:.5f} | {r['lightgbm_logloss']:.5f} "
              f"| {r['xalorra_logloss'] / r['lightgbm_logloss']:.4f} "
              f"| {r['xalorra_accuracy']:.4f} / {r['lightgbm_accuracy']:.4f} "
              f"| {r['xalorra_train_seconds']:.3f} | {r['lightgbm_train_seconds']:.3f} "
              f"| {r['xalorra_train_seconds'] / r['lightgbm_train_seconds']:.3f} |")
    print()
    for r in results:
        print(f"{r['dataset']}: {r['trees_equal_to_lightgbm']} of {r['trees']} trees equal to LightGBM's on every row")
    if args.json:
        with open(args.json, "w") as file:
            json.dump(results, file, indent=2)


if __name__ == "__main__":
    main()
