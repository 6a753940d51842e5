"""Regenerates the multi-class import fixtures beside this file (see README.md).

Writes, for each model xalorra must import:

    NAME.json / NAME.txt   the model, as XGBoost's `save_model("NAME.json")` or LightGBM's `save_model("NAME.txt")`
    NAME.input.csv         the rows to predict: a header row, an empty cell for a missing value
    NAME.expected.txt      the library's class probabilities of those rows, one row a line, `repr`s separated by spaces
                           (multi:softmax, whose `predict` answers the class, gets the softmax of its margins)
    NAME.labels.txt        the class the library predicts for each row (`multi:softmax`'s `predict`, else the argmax)
    NAME.contribs.txt      (xgboost-softprob, lightgbm-multiclass) the library's exact TreeSHAP contributions of those
                           rows (`pred_contribs=True` / `pred_contrib=True`): one row a line, for each class in turn
                           every feature's contribution then the bias, K x (features + 1) `repr`s separated by spaces

plus `refuse-multiclassova.txt` (LightGBM one-vs-all), which xalorra refuses. Everything is seeded and trained on
one thread, so a rerun with the same versions gives the same files.
"""

import os

import lightgbm as lgb
import numpy as np
import xgboost as xgb

HERE = os.path.dirname(os.path.abspath(__file__))
FEATURES = 5


def make_data(rng, rows, missing=0.1):
    """Features rounded to 3 decimals, about `missing` of them NaN, and a class from their interactions."""
    x = np.round(rng.normal(size=(rows, FEATURES)), 3)
    z = x.copy()
    x[rng.random(size=x.shape) < missing] = np.nan
    return x, z


def classes(z, count):
    """Whole-number labels 0..count-1 from a score with interactions."""
    score = 1.5 * z[:, 0] - z[:, 1] * z[:, 2] + np.where(z[:, 3] > 0.2, 1.0, -0.5) + 0.3 * z[:, 4] ** 2
    cuts = np.quantile(score, np.linspace(0, 1, count + 1)[1:-1])
    return np.searchsorted(cuts, score).astype(float)


def cell(value):
    return "" if np.isnan(value) else repr(float(value))


def write_rows(name, x, probabilities, labels, columns):
    with open(os.path.join(HERE, f"{name}.input.csv"), "w") as out:
        out.write(",".join(columns) + "\n")
        for row in x:
            out.write(",".join(cell(v) for v in row) + "\n")
    with open(os.path.join(HERE, f"{name}.expected.txt"), "w") as out:
        for row in probabilities:
            out.write(" ".join(repr(float(v)) for v in row) + "\n")
    with open(os.path.join(HERE, f"{name}.labels.txt"), "w") as out:
        for label in labels:
            out.write(f"{int(label)}\n")


def write_contribs(name, contribs):
    """Per row, class by class: the features' contributions then the bias (XGBoost's [n, K, F+1] flattened, as
    LightGBM's [n, K * (F+1)] already is)."""
    contribs = np.asarray(contribs, dtype=np.float64).reshape(len(contribs), -1)
    with open(os.path.join(HERE, f"{name}.contribs.txt"), "w") as out:
        for row in contribs:
            out.write(" ".join(repr(float(v)) for v in row) + "\n")


def softmax(margins):
    shifted = np.exp(margins - margins.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)


def main():
    rng = np.random.default_rng(16)
    x, z = make_data(rng, 1500)
    test, _ = make_data(rng, 60, missing=0.2)

    y3 = classes(z, 3)
    params = {"objective": "multiclass", "num_class": 3, "num_leaves": 15, "learning_rate": 0.2,
              "min_data_in_leaf": 10, "num_threads": 1, "deterministic": True, "verbose": -1, "seed": 1}
    booster = lgb.train(params, lgb.Dataset(x, y3), num_boost_round=25)
    booster.save_model(os.path.join(HERE, "lightgbm-multiclass.txt"))
    probabilities = booster.predict(test, num_threads=1)
    write_rows("lightgbm-multiclass", test, probabilities, probabilities.argmax(axis=1), booster.feature_name())
    write_contribs("lightgbm-multiclass", booster.predict(test, pred_contrib=True, num_threads=1))

    params = dict(params, objective="multiclassova")
    lgb.train(params, lgb.Dataset(x, y3), num_boost_round=2).save_model(
        os.path.join(HERE, "refuse-multiclassova.txt"))

    y4 = classes(z, 4)
    for objective in ("multi:softprob", "multi:softmax"):
        params = {"objective": objective, "num_class": 4, "max_depth": 4, "eta": 0.3, "nthread": 1, "seed": 1,
                  "tree_method": "hist"}
        booster = xgb.train(params, xgb.DMatrix(x, y4, nthread=1), 15)
        name = "xgboost-" + objective.split(":")[1]
        booster.save_model(os.path.join(HERE, f"{name}.json"))
        matrix = xgb.DMatrix(test, nthread=1)
        if objective == "multi:softprob":
            probabilities = booster.predict(matrix)
            labels = probabilities.argmax(axis=1)
            write_contribs(name, booster.predict(matrix, pred_contribs=True))
        else:
            probabilities = softmax(booster.predict(matrix, output_margin=True).astype(np.float64))
            labels = booster.predict(matrix)
        write_rows(name, test, probabilities, labels, [f"f{i}" for i in range(FEATURES)])


if __name__ == "__main__":
    main()
