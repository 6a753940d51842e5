#!/usr/bin/env bash
# Soak: a steady mixed load (predict, whoami, logs) on one release server for several minutes, loopback only,
# sampling the server's memory and open file descriptors.
#   bench/soak.sh     (env: DURATION 600 (seconds), WARMUP 180, CONNECTIONS 4, DELAY_MS 8 (per connection:
#                      4 x 1000 / 8 = 500 requests/s), XALORRA_BIN)
# Targets (issue 7): after warm-up, resident memory grows by at most 10 %, the descriptor count is stable, and no
# response is an error. Samples go to bench/out/soak.csv.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
resolve_bin
need curl wrk

DURATION="${DURATION:-600}"
WARMUP="${WARMUP:-180}"
WORK="$(mktemp -d)"
PORT="${PORT:-8015}"
URL="http://127.0.0.1:$PORT"
mkdir -p "$OUT_DIR"
SAMPLES="$OUT_DIR/soak.csv"
export SECRET_KEY="${SECRET_KEY:-soak-bench-secret-soak-bench-secret!!}" XALORRA_HOME="$WORK"
"$BIN" serve --port "$PORT" --rate-limit off >"$WORK/serve.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$WORK"' EXIT
for _ in $(seq 100); do curl -fs -o /dev/null "$URL/" && break; sleep 0.1; done
token="$("$BIN" token --user soak --ttl 2h)"

wrk -t 1 -c "${CONNECTIONS:-4}" -d "${DURATION}s" --timeout 10s -s "$BENCH_DIR/soak.lua" "$URL" -- \
    "$token" "${DELAY_MS:-8}" >"$WORK/wrk.txt" &
load=$!
echo "second,rss_kib,fds" >"$SAMPLES"
start=$(date +%s)
while kill -0 "$load" 2>/dev/null; do
    rss=$(awk '/^VmRSS/ { print $2 }' "/proc/$pid/status")
    fds=$(find "/proc/$pid/fd" -mindepth 1 -maxdepth 1 | wc -l)
    echo "$(( $(date +%s) - start )),$rss,$fds" >>"$SAMPLES"
    sleep 5
done
wait "$load"
read -r _ requests non2xx socket_errors rps p99 < <(grep '^RESULT' "$WORK/wrk.txt")
failures=$(grep -cE ' 5[0-9][0-9] ms=|request failed' "$WORK/serve.log" || true)
stored=$(sqlite3 "$WORK/xalorra.db" 'SELECT count(*) FROM predictions' 2>/dev/null || echo '?')

awk -F, -v warmup="$WARMUP" -v requests="$requests" -v non2xx="$non2xx" -v errors="$socket_errors" \
    -v rps="$rps" -v p99="$p99" -v failures="$failures" -v stored="$stored" '
    NR == 1 { next }
    $1 >= warmup && first == "" { first = $2; fdmin = $3; fdmax = $3 }
    $1 >= warmup { last = $2; if ($2 > peak) peak = $2; if ($3 < fdmin) fdmin = $3; if ($3 > fdmax) fdmax = $3 }
    END {
        growth = (last - first) / first * 100
        printf "requests %d (%.0f/s), non-2xx %d, socket errors %d, server 5xx lines %d, p99 %.1f ms, predictions stored %s\n",
            requests, rps, non2xx, errors, failures, p99 / 1000, stored
        printf "RSS after %ds warm-up %.1f MiB, at the end %.1f MiB (%+.1f %%), peak %.1f MiB; fds %d..%d\n",
            warmup, first / 1024, last / 1024, growth, peak / 1024, fdmin, fdmax
        ok = growth <= 10 && non2xx == 0 && errors == 0 && failures == 0 && fdmax - fdmin <= 4
        print ok ? "targets met" : "TARGETS MISSED"
    }' "$SAMPLES"
