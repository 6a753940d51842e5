"""Regenerates the softmax-training fixture beside this file (see README.md).

Writes:

    train.csv          the training rows: 8 features and a `target` of 4 classes (a header row)
    test.csv           rows to score, the same columns, with values the training rows never have (between theirs)
    margins.txt        LightGBM's raw class margins (`predict(raw_score=True)`) of the training rows then the test
                       rows, one row a line, `repr`s separated by spaces
    params.json        the hyperparameters LightGBM was trained with (xalorra's test uses the same)

The features are chosen to exercise LightGBM's training rules: small whole numbers with many zeros and rare values
(min_data_in_bin, equal-gain splits, cuts over empty bins), a feature too sparse to split (feature_pre_filter), and
continuous features with negative and positive values and no zero (the zero bin, most_freq_bin). Seeded, one thread.
"""

import json
import os

import lightgbm as lgb
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
PARAMS = {"objective": "multiclass", "num_class": 4, "num_leaves": 16, "max_depth": 4, "learning_rate": 0.3,
          "min_data_in_leaf": 10, "lambda_l2": 1.0, "max_bin": 255, "num_threads": 1, "deterministic": True,
          "verbose": -1}
ROUNDS = 12


def make_rows(rng, rows):
    counts = np.minimum(rng.poisson(1.2, size=(rows, 5)) * rng.integers(0, 2, size=(rows, 5)) * 3, 16)
    sparse = np.where(rng.random(rows) < 0.015, rng.integers(1, 5, size=rows), 0)
    continuous = np.round(rng.normal(size=(rows, 2)), 2)
    continuous[continuous == 0] = 0.01
    x = np.column_stack([counts, sparse, continuous]).astype(float)
    score = x[:, 0] - 0.5 * x[:, 1] + 0.3 * x[:, 2] * (x[:, 3] > 2) + 2 * x[:, 6] - x[:, 7] + rng.normal(size=rows)
    cuts = np.quantile(score, [0.25, 0.5, 0.75])
    return x, np.searchsorted(cuts, score).astype(float)


def write_csv(path, x, y):
    with open(path, "w") as out:
        out.write(",".join([f"f{i}" for i in range(x.shape[1])] + ["target"]) + "\n")
        for row, label in zip(x, y):
            out.write(",".join(repr(float(v)) for v in row) + f",{int(label)}\n")


def main():
    rng = np.random.default_rng(16)
    x, y = make_rows(rng, 400)
    test, test_y = make_rows(rng, 40)
    test[:, :5] += rng.choice([0.0, 0.5, 1.5], size=(40, 5))  # values between the training values
    booster = lgb.train(PARAMS, lgb.Dataset(x, y), num_boost_round=ROUNDS)
    write_csv(os.path.join(HERE, "train.csv"), x, y)
    write_csv(os.path.join(HERE, "test.csv"), test, test_y)
    margins = np.vstack([booster.predict(x, raw_score=True, num_threads=1),
                         booster.predict(test, raw_score=True, num_threads=1)])
    with open(os.path.join(HERE, "margins.txt"), "w") as out:
        for row in margins:
            out.write(" ".join(repr(float(v)) for v in row) + "\n")
    with open(os.path.join(HERE, "params.json"), "w") as out:
        json.dump({**PARAMS, "rounds": ROUNDS}, out, indent=1)
        out.write("\n")


if __name__ == "__main__":
    main()
