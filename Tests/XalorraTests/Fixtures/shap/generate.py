"""Regenerates the TreeSHAP fixtures beside this file: XGBoost models, rows with missing values, and XGBoost's own
`Booster.predict(pred_contribs=True)` of them, which `ExplanationTests` compares xalorra's explanations with (1e-5).

    NAME.json            the model, as `Booster.save_model("NAME.json")` writes it (with `sum_hessian`, the covers)
    NAME.input.csv       the rows: a header row, an empty cell for a missing value
    NAME.expected.csv    one row of contributions per input row: each feature's, then the bias (`repr`s)

Each model's contributions are also checked against shap's `TreeExplainer` (an independent implementation) before
anything is written. Seeded: the same versions give the same files.

    python3 -m venv /tmp/shapenv && /tmp/shapenv/bin/pip install xgboost-cpu==3.2.0 numpy==2.4.6 shap==0.51.0
    /tmp/shapenv/bin/python generate.py
"""

import os

import numpy as np
import shap
import xgboost as xgb

HERE = os.path.dirname(os.path.abspath(__file__))
FEATURES = 6


def make_data(rng, rows, missing=0.15):
    """Features rounded to 3 decimals, about `missing` of them NaN (split directions learned from them)."""
    x = np.round(rng.normal(size=(rows, FEATURES)), 3)
    x[rng.random(size=x.shape) < missing] = np.nan
    return x


def signal(x):
    z = np.nan_to_num(x)
    return 1.5 * z[:, 0] - z[:, 1] * z[:, 2] + np.where(z[:, 3] > 0.2, 1.0, -0.5) + 0.3 * z[:, 4] ** 2 + 0.1 * z[:, 5]


def write(name, booster, rows):
    names = [f"f{i}" for i in range(FEATURES)]
    booster.save_model(os.path.join(HERE, f"{name}.json"))
    matrix = xgb.DMatrix(rows, missing=np.nan)
    contributions = booster.predict(matrix, pred_contribs=True)
    margins = booster.predict(matrix, output_margin=True)
    assert np.allclose(contributions.sum(axis=1), margins, rtol=1e-5, atol=1e-5), "contributions do not sum to margins"
    reference = shap.TreeExplainer(booster).shap_values(rows)
    assert np.allclose(contributions[:, :-1], reference, rtol=1e-4, atol=1e-5), "xgboost and shap disagree"
    with open(os.path.join(HERE, f"{name}.input.csv"), "w") as out:
        out.write(",".join(names) + "\n")
        for row in rows:
            out.write(",".join("" if np.isnan(v) else repr(float(v)) for v in row) + "\n")
    with open(os.path.join(HERE, f"{name}.expected.csv"), "w") as out:
        out.write(",".join(names + ["bias"]) + "\n")
        for row in contributions:
            out.write(",".join(repr(float(v)) for v in row) + "\n")


def main():
    rng = np.random.default_rng(16)
    x = make_data(rng, 2000)
    y = signal(x) + rng.normal(scale=0.3, size=len(x))
    test = make_data(rng, 60, missing=0.25)
    test[:5] = np.nan  # every feature missing: every split's default direction
    params = {"max_depth": 6, "eta": 0.3, "tree_method": "hist", "nthread": 1, "seed": 1}
    regression = xgb.train({**params, "objective": "reg:squarederror"}, xgb.DMatrix(x, y, missing=np.nan), 20)
    write("regression", regression, test)
    labels = (signal(x) + rng.normal(scale=0.5, size=len(x)) > 0.5).astype(float)
    binary = xgb.train({**params, "objective": "binary:logistic", "max_depth": 4},
                       xgb.DMatrix(x, labels, missing=np.nan), 15)
    write("binary-logistic", binary, test)


if __name__ == "__main__":
    main()
