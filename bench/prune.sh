#!/usr/bin/env bash
# Pruning 10 million prediction rows under a predict load (issue 18: "prune of 10 million rows under a predict load
# keeps the predict p99 within 2x of its unloaded value"; "no request waits longer than 50 ms on a prune").
#   bench/prune.sh     (env: ROWS 10000000, DURATION 10s, CONNECTIONS 8, XALORRA_BIN, PORT 8016)
# Fill: ROWS rows through offline `predict --file` of 100,000-row CSV batches (each 98 records of up to 1,024 rows,
# as a server stores batches), text log off. Then a server (rate limits off), and wrk POST /predict/m at CONNECTIONS
# connections for DURATION twice: unloaded, then with `logs prune --older-than` (the fill's rows) started with it.
# Prints p50/p99/max of both runs, the ratio of the p99s, the prune's time and what it deleted.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
resolve_bin
need curl wrk python3

ROWS="${ROWS:-10000000}"
BATCH=100000
DURATION="${DURATION:-10s}"
CONNECTIONS="${CONNECTIONS:-8}"
SHARED="${SHARED:-$REPO_ROOT/../shared}"
LUA="$SHARED/bench/request.lua"
WORK="$(mktemp -d)"
PORT="${PORT:-8016}"
URL="http://127.0.0.1:$PORT"
export SECRET_KEY="${SECRET_KEY:-prune-bench-secret-prune-bench-secret!}"
export XALORRA_HOME="$WORK"
export XALORRA_PREDICTION_LOG=off
trap 'kill ${pid:-0} ${prune_pid:-0} 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$WORK"' EXIT

python3 -c "
import random
random.seed(1)
with open('$WORK/rows.csv', 'w') as f:
    f.write('a,b,c,d\n')
    for i in range($BATCH):
        f.write(','.join(str(round(random.uniform(-100, 100), 3)) for _ in range(4)) + '\n')
"
start="$(now_ns)"
for _ in $(seq $((ROWS / BATCH))); do "$BIN" predict m --file "$WORK/rows.csv" >/dev/null; done
fill_end="$(date +%s)"
stored="$("$BIN" logs --json -n 1 | python3 -c 'import json,sys; print(json.load(sys.stdin)["pagination"]["total"])' \
    2>/dev/null || echo '?')"
printf 'fill: %s rows in %.1f s (store %s MB), logs total %s\n' "$ROWS" \
    "$(python3 -c "print(($(now_ns) - $start) / 1e9)")" "$(( $(stat -c %s "$WORK/xalorra.db") / 1000000 ))" "$stored"
sleep 2

"$BIN" serve --port "$PORT" --rate-limit off >"$WORK/serve.log" 2>&1 &
pid=$!
for _ in $(seq 100); do curl -fs -o /dev/null "$URL/" && break; sleep 0.1; done
token="$("$BIN" token --role user)"
printf '{"features":[1,2,3,4]}' >"$WORK/row.json"

# One wrk run; prints "req/s p50_us p99_us max_us non2xx".
run() {
    wrk -t 1 -c "$CONNECTIONS" -d "$DURATION" --latency -s "$LUA" "$URL/predict/m" -- POST "$WORK/row.json" "$token" \
        | awk -F'\t' '/^RESULT/ { print $2, $3, $4, $8, $5 }'
}
wrk -t 1 -c "$CONNECTIONS" -d 2s -s "$LUA" "$URL/predict/m" -- POST "$WORK/row.json" "$token" >/dev/null # warm-up
read -r r0 p50_0 p99_0 max0 e0 < <(run)

age=$(( $(date +%s) - fill_end - 1 ))
prune_start="$(now_ns)"
# The prune's own duration, written by the subshell when it ends (not when the loaded run ends).
( "$BIN" logs prune --older-than "${age}s" --json >"$WORK/prune.json" 2>"$WORK/prune.err"
  python3 -c "print(f'{($(now_ns) - $prune_start) / 1e9:.1f}')" >"$WORK/prune.seconds" ) &
prune_pid=$!
read -r r1 p50_1 p99_1 max1 e1 < <(run)
running_at_end=no
kill -0 "$prune_pid" 2>/dev/null && running_at_end=yes
wait "$prune_pid"
prune_s="$(cat "$WORK/prune.seconds")"

printf '%-10s %10s %9s %9s %9s %7s\n' run 'req/s' 'p50 µs' 'p99 µs' 'max µs' non2xx
printf '%-10s %10s %9s %9s %9s %7s\n' unloaded "$r0" "$p50_0" "$p99_0" "$max0" "$e0"
printf '%-10s %10s %9s %9s %9s %7s\n' pruning "$r1" "$p50_1" "$p99_1" "$max1" "$e1"
echo "prune: $(cat "$WORK/prune.json") in $prune_s s (still running when the loaded run ended: $running_at_end)"
python3 -c "print(f'p99 ratio (pruning / unloaded): {$p99_1 / max($p99_0, 1):.2f}  (goal: <= 2)')"
