#!/usr/bin/env bash
# Explained batches over HTTP: POST /predict/gbm {"instances": ROWS rows, "explain": true} on a 100-tree, depth-6
# gbdt of 20 features, against a build before it (BEFORE_BIN) in interleaved rounds, each server on its own copy of
# the same home (same model, same rows). Shows what `serve` keeping each version's TreeSHAP tables saves: a batch
# of 16 rows or more built them for every request before.
#   bench/explain-http.sh   (env: XALORRA_BIN, BEFORE_BIN, ROWS "1 32 256", DURATION 5s, ROUNDS 3, CONNECTIONS 4)
# Prints requests/s and p50 per server, rows and round, then medians and the ratio now / before.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
resolve_bin
need curl wrk python3
[[ -n "${BEFORE_BIN:-}" && -x "$BEFORE_BIN" ]] || die "BEFORE_BIN (an older release xalorra) is required"

ROWS="${ROWS:-1 32 256}"
DURATION="${DURATION:-5s}"
ROUNDS="${ROUNDS:-3}"
CONNECTIONS="${CONNECTIONS:-4}"
WORK="$(mktemp -d)"
export SECRET_KEY="${SECRET_KEY:-explain-bench-secret-explain-bench-secret!}"
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$WORK"' EXIT

python3 "$BENCH_DIR/gbm_data.py" "$WORK" $ROWS
mkdir -p "$WORK/now" "$WORK/before"
XALORRA_HOME="$WORK/now" "$BIN" train gbm --data "$WORK/train.csv" --target y --trees 100 --max-depth 6 >/dev/null
cp -r "$WORK/now/." "$WORK/before/"
declare -A port=([now]=8031 [before]=8032) bin=([now]="$BIN" [before]="$BEFORE_BIN") token=()
for name in now before; do
    XALORRA_HOME="$WORK/$name" XALORRA_PREDICTION_LOG=off "${bin[$name]}" serve --port "${port[$name]}" \
        --rate-limit off >"$WORK/$name.log" 2>&1 &
    pids+=($!)
    token[$name]="$(XALORRA_HOME="$WORK/$name" "${bin[$name]}" token --user bench --ttl 2h)"
    for _ in $(seq 100); do curl -fs -o /dev/null "http://127.0.0.1:${port[$name]}/" && break; sleep 0.1; done
done
# The same answers from both before timing (the values are bit for bit those of an unprepared explainer).
for n in $ROWS; do
    a="$(curl -fs -H "Authorization: Bearer ${token[now]}" -H 'Content-Type: application/json' \
        --data @"$WORK/rows-$n.json" "http://127.0.0.1:${port[now]}/predict/gbm")"
    b="$(curl -fs -H "Authorization: Bearer ${token[before]}" -H 'Content-Type: application/json' \
        --data @"$WORK/rows-$n.json" "http://127.0.0.1:${port[before]}/predict/gbm")"
    [[ "$a" == "$b" ]] || die "the two servers explain $n rows differently"
done
echo "answers identical on both servers ($ROWS rows)"
printf '%-6s %-6s %-7s %10s %9s %7s\n' round rows server 'req/s' 'p50 µs' non2xx
results="$WORK/results.tsv"
for ((round = 1; round <= ROUNDS; round++)); do
    for n in $ROWS; do
        for name in now before; do
            read -r rps p50 bad < <(wrk -t 1 -c "$CONNECTIONS" -d "$DURATION" -s "$BENCH_DIR/post-file.lua" \
                "http://127.0.0.1:${port[$name]}/predict/gbm" -- "$WORK/rows-$n.json" "${token[$name]}" \
                Content-Type application/json \
                | awk -F'\t' '/^RESULT/ { print $2, $3, $5 }')
            printf '%-6s %-6s %-7s %10s %9s %7s\n' "$round" "$n" "$name" "$rps" "$p50" "$bad"
            printf '%s\t%s\t%s\t%s\n' "$n" "$name" "$rps" "$p50" >>"$results"
        done
    done
done
echo
python3 - "$results" <<'PY'
import statistics, sys
runs = {}
for line in open(sys.argv[1]):
    n, name, rps, p50 = line.split("\t")
    runs.setdefault((int(n), name), []).append((float(rps), float(p50)))
print(f"{'rows':>6} {'before req/s':>13} {'now req/s':>10} {'now/before':>11} {'before p50 µs':>14} {'now p50 µs':>11}")
for n in sorted({k[0] for k in runs}):
    b, a = runs[(n, "before")], runs[(n, "now")]
    rb, ra = statistics.median(r for r, _ in b), statistics.median(r for r, _ in a)
    pb, pa = statistics.median(p for _, p in b), statistics.median(p for _, p in a)
    print(f"{n:>6} {rb:>13.1f} {ra:>10.1f} {ra / rb:>10.2f}x {pb:>14.0f} {pa:>11.0f}")
PY
