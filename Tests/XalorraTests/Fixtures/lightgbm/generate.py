"""Regenerates the LightGBM import fixtures beside this file (see README.md).

Writes, for each model xalorra must import:

    NAME.txt            the model, as `Booster.save_model("NAME.txt")` writes it
    NAME.input.csv      the rows to predict: a header row, an empty cell for a missing value
    NAME.expected.txt   LightGBM's own `Booster.predict` of those rows, one `repr` per line
    NAME.contrib.txt    for some, `Booster.predict(pred_contrib=True)`: each feature's SHAP value, then the bias

plus models xalorra must refuse (`refuse-*.txt`, no inputs). Everything is seeded and trained on one thread, so a
rerun with the same versions gives the same files.
"""

import os
import sys

import lightgbm as lgb
import numpy as np
import sklearn

HERE = os.path.dirname(os.path.abspath(__file__))
FEATURES = 5
# LightGBM's kZeroThreshold (1e-35f): a value at most this far from 0 is 0 to LightGBM.
ZERO = float(np.float32(1e-35))


def make_data(rng, rows, missing=0.1, zeros=0.0):
    """Features rounded to 3 decimals, about `missing` of them NaN and `zeros` of them exactly 0."""
    x = np.round(rng.normal(size=(rows, FEATURES)), 3)
    x[rng.random(size=x.shape) < zeros] = 0.0
    x[rng.random(size=x.shape) < missing] = np.nan
    return x


def signal(x):
    """A target with interactions, computed as if missing values were 0."""
    z = np.nan_to_num(x)
    return 1.5 * z[:, 0] - z[:, 1] * z[:, 2] + np.where(z[:, 3] > 0.2, 1.0, -0.5) + 0.3 * z[:, 4] ** 2


def thresholds(booster):
    """Every numerical split of the model: (feature, threshold)."""
    splits = set()
    for tree in booster.dump_model()["tree_info"]:
        stack = [tree["tree_structure"]]
        while stack:
            node = stack.pop()
            if "split_feature" in node:
                splits.add((node["split_feature"], float(node["threshold"])))
                stack += [node["left_child"], node["right_child"]]
    return sorted(splits)


def test_rows(rng, booster, limit=12):
    """Fresh rows with missing values and zeros, rows holding LightGBM's "zero" values (±1e-36, ±1e-35f), and rows
    whose values sit exactly on split thresholds (`x <= threshold` goes left) and on the doubles either side."""
    x = make_data(rng, 40, missing=0.15, zeros=0.1)
    edges = []
    for feature in range(FEATURES):
        for value in (0.0, -0.0, 1e-36, -1e-36, ZERO, -ZERO, np.nextafter(ZERO, 1), np.nan):
            row = np.round(rng.normal(size=FEATURES), 3)
            row[feature] = value
            edges.append(row)
    # A threshold of inf (NaN apart from every number) has no double beside it that xalorra's inputs can carry.
    splits = [(feature, split) for feature, split in thresholds(booster) if np.isfinite(split)]
    step = max(1, len(splits) // limit)
    for feature, split in splits[::step]:
        for value in (split, np.nextafter(split, -np.inf), np.nextafter(split, np.inf)):
            row = np.round(rng.normal(size=FEATURES), 3)
            row[feature] = value
            edges.append(row)
    return np.vstack([x, np.array(edges)])


def cell(value):
    return "" if np.isnan(value) else repr(float(value))


def write(name, booster, x, contributions=False):
    booster.save_model(os.path.join(HERE, f"{name}.txt"))
    with open(os.path.join(HERE, f"{name}.input.csv"), "w") as out:
        out.write(",".join(booster.feature_name()) + "\n")
        for row in x:
            out.write(",".join(cell(v) for v in row) + "\n")
    with open(os.path.join(HERE, f"{name}.expected.txt"), "w") as out:
        for value in booster.predict(x, num_threads=1):
            out.write(repr(float(value)) + "\n")
    if contributions:
        with open(os.path.join(HERE, f"{name}.contrib.txt"), "w") as out:
            for row in booster.predict(x, num_threads=1, pred_contrib=True):
                out.write(" ".join(repr(float(value)) for value in row) + "\n")
    print(f"{name}: {booster.num_trees()} trees, {len(x)} rows")


def train(params, x, y, rounds=12, names=None, categorical="auto"):
    base = {"num_leaves": 8, "learning_rate": 0.2, "min_data_in_leaf": 5, "seed": 7, "num_threads": 1,
            "deterministic": True, "verbose": -1}
    data = lgb.Dataset(x, label=y, feature_name=names or "auto", categorical_feature=categorical,
                       params={"verbose": -1})
    return lgb.train({**base, **params}, data, num_boost_round=rounds)


def models():
    rng = np.random.default_rng(20261201)
    x = make_data(rng, 400)
    y = signal(x) + rng.normal(scale=0.1, size=len(x))
    labels = (y > np.quantile(y, 0.65)).astype(float)

    names = ["age", "income", "tenure_months", "score", "visits"]
    regression = train({"objective": "regression"}, x, y, names=names)  # NaN in training: missing type NaN
    write("regression", regression, test_rows(rng, regression), contributions=True)

    l1 = train({"objective": "regression_l1"}, x, y)
    write("regression-l1", l1, test_rows(rng, l1))

    binary = train({"objective": "binary", "sigmoid": 0.7}, x, labels)
    write("binary", binary, test_rows(rng, binary))

    complete = np.nan_to_num(x)  # no NaN in training: missing type None, NaN predicts as 0
    plain = train({"objective": "regression", "use_missing": False}, complete, y)
    write("no-missing", plain, test_rows(rng, plain), contributions=True)

    sparse = make_data(rng, 400, missing=0.0, zeros=0.35)
    zero = train({"objective": "regression", "zero_as_missing": True}, sparse, signal(sparse))
    write("zero-as-missing", zero, test_rows(rng, zero), contributions=True)

    holes = x.copy()  # a feature whose missing values matter: LightGBM splits NaN from every number (threshold inf)
    holes[rng.random(size=len(x)) < 0.3, 0] = np.nan
    target = np.where(np.isnan(holes[:, 0]), 3.0, 0.0) + np.nan_to_num(x[:, 1])
    nan_split = train({"objective": "regression"}, holes, target)
    write("nan-split", nan_split, test_rows(rng, nan_split), contributions=True)

    forest = train({"objective": "binary", "boosting": "rf", "bagging_freq": 1, "bagging_fraction": 0.7}, x,
                   labels, rounds=6)
    write("random-forest", forest, test_rows(rng, forest))

    # Models xalorra refuses: just the text, small.
    classes = np.digitize(np.nan_to_num(y), [-0.5, 0.8])
    multi = train({"objective": "multiclass", "num_class": 3, "num_leaves": 4}, x, classes, rounds=2)
    multi.save_model(os.path.join(HERE, "refuse-multiclass.txt"))
    linear = train({"objective": "regression", "linear_tree": True, "num_leaves": 4}, np.nan_to_num(x), y, rounds=2)
    linear.save_model(os.path.join(HERE, "refuse-linear.txt"))
    category = x.copy()
    category[:, 2] = rng.integers(0, 6, size=len(x))
    categorical = train({"objective": "regression", "num_leaves": 4, "min_data_per_group": 5, "cat_smooth": 1},
                        category, signal(category) + 5 * np.isin(category[:, 2], [1, 4]), rounds=3, names=names,
                        categorical=["tenure_months"])
    categorical.save_model(os.path.join(HERE, "refuse-categorical.txt"))


if __name__ == "__main__":
    print(f"lightgbm {lgb.__version__}, numpy {np.__version__}, scikit-learn {sklearn.__version__}, "
          f"python {sys.version.split()[0]}")
    models()
