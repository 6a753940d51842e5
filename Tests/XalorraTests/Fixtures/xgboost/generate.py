"""Regenerates the XGBoost import fixtures beside this file (see README.md).

Run with each of two interpreters: one with xgboost 3.x (writes the current format, `base_score` "[5E-1]") and one
with xgboost 1.7.x (the older format, `base_score` "5E-1"). Each run writes only the files of its own version:

    NAME.json           the model, as `Booster.save_model("NAME.json")` writes it
    NAME.input.csv      the rows to predict: a header row, an empty cell for a missing value
    NAME.expected.txt   XGBoost's own `Booster.predict` of those rows, one `repr` per line

plus, with 3.x, a few models xalorra must refuse (`refuse-*.json`, no inputs). Everything is seeded, so a rerun with
the same versions gives the same files.
"""

import json
import os
import sys

import numpy as np
import xgboost as xgb

HERE = os.path.dirname(os.path.abspath(__file__))
MAJOR = int(xgb.__version__.split(".")[0])
FEATURES = 5


def make_data(rng, rows, missing=0.1):
    """Features rounded to 3 decimals (short CSV cells), about `missing` of them NaN."""
    x = np.round(rng.normal(size=(rows, FEATURES)), 3)
    x[rng.random(size=x.shape) < missing] = np.nan
    return x


def signal(x):
    """A target with interactions, computed as if missing values were 0."""
    z = np.nan_to_num(x)
    return 1.5 * z[:, 0] - z[:, 1] * z[:, 2] + np.where(z[:, 3] > 0.2, 1.0, -0.5) + 0.3 * z[:, 4] ** 2


def thresholds(booster, limit=6):
    """Some split thresholds of the first tree, so inputs land exactly on `x < threshold` boundaries."""
    model = json.loads(booster.save_raw(raw_format="json"))["learner"]["gradient_booster"]
    tree = model.get("gbtree", model)["model"]["trees"][0]
    nodes = zip(tree["split_indices"], tree["split_conditions"], tree["left_children"])
    splits = [(feature, threshold) for feature, threshold, left in nodes if left != -1]
    return splits[:limit]


def test_rows(rng, booster):
    """Fresh rows with missing values, plus rows whose values sit on split thresholds: exactly on one (goes right),
    and on the largest double below it, which XGBoost's float32 rounds up onto the threshold (so it goes right too)."""
    x = make_data(rng, 40, missing=0.15)
    edges = []
    for feature, split in thresholds(booster):
        exact = float(np.float32(split))
        for value in (exact, np.nextafter(exact, -np.inf)):
            row = np.round(rng.normal(size=FEATURES), 3)
            row[feature] = value
            edges.append(row)
    return np.vstack([x, np.array(edges)]) if edges else x


def cell(value):
    return "" if np.isnan(value) else repr(float(value))


def write(name, booster, x):
    booster.save_model(os.path.join(HERE, f"{name}.json"))
    names = booster.feature_names or [f"f{i}" for i in range(x.shape[1])]
    with open(os.path.join(HERE, f"{name}.input.csv"), "w") as out:
        out.write(",".join(names) + "\n")
        for row in x:
            out.write(",".join(cell(v) for v in row) + "\n")
    predictions = booster.predict(xgb.DMatrix(x, missing=np.nan, feature_names=booster.feature_names))
    with open(os.path.join(HERE, f"{name}.expected.txt"), "w") as out:
        for value in predictions:
            out.write(repr(float(value)) + "\n")
    print(f"{name}: {booster.num_boosted_rounds()} rounds, {len(x)} rows")


def train(params, x, y, rounds=10, names=None):
    matrix = xgb.DMatrix(x, label=y, missing=np.nan, feature_names=names)
    base = {"max_depth": 3, "eta": 0.3, "seed": 7, "tree_method": "hist", "nthread": 1}
    return xgb.train({**base, **params}, matrix, num_boost_round=rounds)


def models(prefix):
    rng = np.random.default_rng(20240611)
    x = make_data(rng, 300)
    y = signal(x) + rng.normal(scale=0.1, size=len(x))
    labels = (y > np.quantile(y, 0.65)).astype(float)  # unbalanced, so base_score is not 0.5
    share = 1.0 / (1.0 + np.exp(-y))  # a target in [0, 1] for reg:logistic

    regression = train({"objective": "reg:squarederror"}, x, y)
    write(f"{prefix}regression", regression, test_rows(rng, regression))

    # XGBoost 1.x does not estimate base_score: give it one, so its logit is not 0.
    binary = train({"objective": "binary:logistic", **({"base_score": 0.35} if prefix else {})}, x, labels)
    write(f"{prefix}binary-logistic", binary, test_rows(rng, binary))

    if prefix:  # the older version: two models are enough
        return

    logistic = train({"objective": "reg:logistic"}, x, share)
    write("reg-logistic", logistic, test_rows(rng, logistic))

    raw = train({"objective": "binary:logitraw"}, x, labels)
    write("logitraw", raw, test_rows(rng, raw))

    names = ["age", "income", "tenure_months", "score", "visits"]
    named = train({"objective": "reg:squarederror", "max_depth": 4}, x, y, rounds=8, names=names)
    write("named", named, test_rows(rng, named))

    dart = train({"booster": "dart", "objective": "reg:squarederror", "rate_drop": 0.3, "skip_drop": 0.0}, x, y)
    write("dart", dart, test_rows(rng, dart))

    # Models xalorra refuses: just the JSON, small.
    classes = np.digitize(np.nan_to_num(y), [-0.5, 0.8])
    multi = train({"objective": "multi:softprob", "num_class": 3, "max_depth": 2}, x, classes, rounds=2)
    multi.save_model(os.path.join(HERE, "refuse-multiclass.json"))
    linear = train({"booster": "gblinear", "objective": "reg:squarederror"}, x, y, rounds=2)
    linear.save_model(os.path.join(HERE, "refuse-gblinear.json"))
    category = np.floor(np.abs(np.nan_to_num(x[:, :2])) * 2) % 4
    matrix = xgb.DMatrix(category, label=y, feature_types=["c", "c"], enable_categorical=True)
    categorical = xgb.train({"max_depth": 2, "seed": 7, "tree_method": "hist", "nthread": 1}, matrix, 2)
    categorical.save_model(os.path.join(HERE, "refuse-categorical.json"))


if __name__ == "__main__":
    print(f"xgboost {xgb.__version__}, numpy {np.__version__}, python {sys.version.split()[0]}")
    models("" if MAJOR >= 3 else f"v{xgb.__version__.replace('.', '')[:2]}-")
