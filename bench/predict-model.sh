#!/usr/bin/env bash
# What serving a trained model adds to a single-row HTTP prediction, next to the baseline model (the seed's sum).
#   bench/predict-model.sh     (env: DURATION 8s, ROUNDS 3, XALORRA_BIN)
# A gbdt of 100 trees, depth 6, on 20 features is trained offline into a fresh home, then one release server answers
# POST /predict/gbm (the trained model) and POST /predict/base (no version: the baseline) with the same 20
# features, alternately, ROUNDS times: at 1 connection (latency; p50 and mean) and at 32 (throughput).
# Target (issue 6): the trained model adds under 20 µs to the baseline's single-request latency.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
resolve_bin
need curl wrk python3

DURATION="${DURATION:-8s}"
SHARED="${SHARED:-$REPO_ROOT/../shared}"
LUA="$SHARED/bench/request.lua"
WORK="$(mktemp -d)"
PORT="${PORT:-8014}"
URL="http://127.0.0.1:$PORT"
export SECRET_KEY="${SECRET_KEY:-model-bench-secret-model-bench-secret!}"
export XALORRA_HOME="$WORK"
trap 'kill ${pid:-0} 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$WORK"' EXIT

python3 "$BENCH_DIR/gbm_data.py" "$WORK"
"$BIN" train gbm --data "$WORK/train.csv" --target y --trees 100 --max-depth 6 >/dev/null
"$BIN" models show gbm | sed 's/^/  /'

"$BIN" serve --port "$PORT" --rate-limit off >"$WORK/serve.log" 2>&1 &
pid=$!
for _ in $(seq 100); do curl -fs -o /dev/null "$URL/" && break; sleep 0.1; done
token="$("$BIN" token --user bench --ttl 1h)"
curl -fs -X POST "$URL/predict/gbm" -H "Authorization: Bearer $token" -d @"$WORK/row.json" | sed 's/^/  gbm:  /'
echo
curl -fs -X POST "$URL/predict/base" -H "Authorization: Bearer $token" -d @"$WORK/row.json" | sed 's/^/  base: /'
echo

# One wrk run; prints "req/s p50_us p99_us non2xx".
run() {
    local connections=$1 model=$2
    wrk -t 1 -c "$connections" -d "$DURATION" --latency -s "$LUA" "$URL/predict/$model" -- POST "$WORK/row.json" "$token" \
        | awk -F'\t' '/^RESULT/ { printf "%.1f %d %d %d\n", $2, $3, $4, $5 }'
}

printf '%-6s %-6s %-5s %12s %9s %9s %7s\n' round model conns 'req/s' 'p50 µs' 'p99 µs' non2xx
declare -A p50 rps
for round in $(seq "${ROUNDS:-3}"); do
    for model in base gbm; do
        read -r r p q e < <(run 1 "$model")
        p50[$model]+="$p "
        printf '%-6s %-6s %-5s %12s %9s %9s %7s\n' "$round" "$model" 1 "$r" "$p" "$q" "$e"
        read -r r p q e < <(run 32 "$model")
        rps[$model]+="$r "
        printf '%-6s %-6s %-5s %12s %9s %9s %7s\n' "$round" "$model" 32 "$r" "$p" "$q" "$e"
    done
done
median() { tr ' ' '\n' | grep -v '^$' | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
base_p50="$(echo "${p50[base]}" | median)"
gbm_p50="$(echo "${p50[gbm]}" | median)"
base_rps="$(echo "${rps[base]}" | median)"
gbm_rps="$(echo "${rps[gbm]}" | median)"
echo "median p50 at 1 connection: baseline ${base_p50} µs, gbdt ${gbm_p50} µs: adds $((gbm_p50 - base_p50)) µs (target < 20)"
python3 -c "print(f'median req/s at 32 connections: baseline $base_rps, gbdt $gbm_rps ({$gbm_rps / $base_rps:.1%})')"
