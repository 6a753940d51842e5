"""The data of the bench scripts that train a 20-feature gbdt (predict-model.sh, explain-http.sh, oip-binary.sh).

    python3 bench/gbm_data.py WORK [N ...]

Writes WORK/train.csv (20,000 rows: x0..x19 uniform in [-3, 3], y a linear mix plus x0*x1 plus noise),
WORK/row.json (one more row as the seed's {"features": [...]}), and for each N WORK/rows-N.json ({"instances": N
rows, "explain": true}), all from Python's random stream seeded 7. A script that needs other request bodies imports
``training`` and goes on drawing from the same stream.
"""
import json
import random
import sys


def training(work):
    """Seeds the random stream with 7 and writes WORK/train.csv from it."""
    random.seed(7)
    with open(f"{work}/train.csv", "w") as f:
        f.write(",".join(f"x{i}" for i in range(20)) + ",y\n")
        for _ in range(20000):
            x = [random.uniform(-3, 3) for _ in range(20)]
            y = sum(v * (i % 5 - 2) for i, v in enumerate(x)) + (x[0] * x[1]) + random.gauss(0, 1)
            f.write(",".join(f"{v:.5f}" for v in x) + f",{y:.5f}\n")


if __name__ == "__main__":
    work, counts = sys.argv[1], [int(n) for n in sys.argv[2:]]
    training(work)
    row = [round(random.uniform(-3, 3), 5) for _ in range(20)]
    with open(f"{work}/row.json", "w") as f:
        f.write('{"features":[' + ",".join(str(v) for v in row) + "]}")
    for n in counts:
        rows = [[round(random.uniform(-3, 3), 5) for _ in range(20)] for _ in range(n)]
        with open(f"{work}/rows-{n}.json", "w") as f:
            json.dump({"instances": rows, "explain": True}, f)
