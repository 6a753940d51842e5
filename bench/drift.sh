#!/usr/bin/env bash
# Drift over a million logged predictions (issue 16: under 2 s). A gbdt model (100 trees, depth 6) on 10 features,
# 1,000,000 rows logged for it (ten batch files of 100,000, as `predict --file` logs them: 1,024-row blocks), then
# `models drift` timed three times: the whole command, process start and store opening included.
# Usage: bench/drift.sh [path/to/release/xalorra]   (build: swift build -c release)
set -euo pipefail
BIN=$(realpath "${1:-.build/release/xalorra}")
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
export XALORRA_HOME="$WORK/home" XALORRA_PREDICTION_LOG=off
python3 - "$WORK" <<'PY'
import random, sys
work = sys.argv[1]
random.seed(16)
names = [f"f{i}" for i in range(10)]
with open(f"{work}/train.csv", "w") as out:
    out.write(",".join(names + ["y"]) + "\n")
    for _ in range(100_000):
        row = [random.gauss(0, 1) for _ in names]
        out.write(",".join(f"{v:.6g}" for v in row) + f",{2 * row[0] - row[1] * row[2] + random.gauss(0, 0.1):.6g}\n")
for part in range(10):
    with open(f"{work}/rows-{part}.csv", "w") as out:
        out.write(",".join(names) + "\n")
        for _ in range(100_000):
            # Live data drifted in f0 (its mean moved by half a standard deviation), a missing f9 now and then.
            row = [random.gauss(0.5 if i == 0 else 0, 1) for i in range(10)]
            cells = [f"{v:.6g}" for v in row]
            if random.random() < 0.05:
                cells[9] = ""
            out.write(",".join(cells) + "\n")
PY
"$BIN" train bench --data "$WORK/train.csv" --target y --trees 100 --max-depth 6 --valid-fraction 0 > /dev/null
for part in "$WORK"/rows-*.csv; do "$BIN" predict bench --file "$part" > /dev/null; done
echo "logged rows: $("$BIN" logs --model bench --limit 1 --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["pagination"]["total"])')"
"$BIN" models drift bench --since 1h
for run in 1 2 3; do
    /usr/bin/time -f "models drift over 1,000,000 rows: %e s wall, %U s user, %M KB max RSS" \
        "$BIN" models drift bench --since 1h > /dev/null
done
