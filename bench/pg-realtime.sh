#!/usr/bin/env bash
# Realtime across instances on PostgreSQL (issue 14): two `xalorra serve` instances on one database, a load of
# RATE predictions/s on A (wrk, constant pacing), a subscriber on B's `GET /logs/stream`; prints the delay from each
# row's timestamp (taken when A received the request, so it includes A's own answer time and group commit) to its
# arrival on B: p50 / p99 / max, and how many rows arrived out of id order or were missing.
#
#   XALORRA_BIN=.build/release/xalorra bench/pg-realtime.sh [SECONDS] [RATE]
#   PG_URL=postgres://…  to use an existing (empty) database instead of a throwaway cluster.
#   SUBSCRIBE_ON=a       subscribes on A itself instead (the same-instance baseline: the difference is what crossing
#                        instances costs).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
need wrk python3
resolve_bin
SECONDS_RUN="${1:-10}"
RATE="${2:-1000}"
WORK="$(mktemp -d /tmp/xalorra-pg-realtime-XXXXXX)"
PIDS=()
PG_BIN="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)"
cleanup() {
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    if [[ -f "$WORK/pg/PG_VERSION" ]]; then runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$WORK/pg" -m immediate -w stop >/dev/null 2>&1 || true; fi
    rm -rf "$WORK"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

if [[ -z "${PG_URL:-}" ]]; then
    [[ -n "$PG_BIN" ]] || die "PostgreSQL is not installed (apt-get install postgresql) and PG_URL is not set"
    PORT="$(free_port)"
    echo bench >"$WORK/pw"
    chown -R postgres:postgres "$WORK" 2>/dev/null || true
    as_pg() { if [[ "$(id -u)" == 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi; }
    as_pg "$PG_BIN/initdb" -D "$WORK/pg" -U postgres --pwfile "$WORK/pw" -A scram-sha-256 >/dev/null
    as_pg "$PG_BIN/pg_ctl" -D "$WORK/pg" -l "$WORK/pg.log" -w -o "-p $PORT -k $WORK -c listen_addresses=127.0.0.1 -c fsync=off" start >/dev/null
    PG_URL="postgres://postgres:bench@127.0.0.1:$PORT/postgres?sslmode=disable"
fi

export XALORRA_DATABASE_URL="$PG_URL" SECRET_KEY="bench-secret-bench-secret-bench-secret"
start_instance() { # name -> prints the URL
    local home="$WORK/$1" port
    port="$(free_port)"
    mkdir -p "$home"
    XALORRA_HOME="$home" "$BIN" serve --port "$port" --rate-limit off >"$home/log" 2>&1 &
    PIDS+=($!)
    for _ in $(seq 100); do curl -fs "http://127.0.0.1:$port/health" >/dev/null 2>&1 && break; sleep 0.1; done
    echo "http://127.0.0.1:$port"
}
A="$(start_instance a)"
B="$(start_instance b)"
TOKEN="$(XALORRA_HOME="$WORK/a" "$BIN" token --user bench --role admin)"

SUBSCRIBER="$B"
[[ "${SUBSCRIBE_ON:-b}" == a ]] && SUBSCRIBER="$A"
python3 "$BENCH_DIR/pg_realtime_sub.py" "$SUBSCRIBER/logs/stream" "$TOKEN" "$((SECONDS_RUN + 3))" >"$WORK/delays.txt" &
SUB=$!
sleep 1
# Each connection waits DELAY_MS before each request and an answer takes ~6 ms: 16 connections per 1,000/s.
DELAY_MS=10
CONNECTIONS=$(((RATE * 16 + 999) / 1000))
cat >"$WORK/paced.lua" <<LUA
wrk.method = "POST"
wrk.body = '{"features":[1,2,3]}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer $TOKEN"
function delay() return $DELAY_MS end
LUA
wrk -t2 -c"$CONNECTIONS" -d"${SECONDS_RUN}s" -s "$WORK/paced.lua" "$A/predict/xgb-v2" | grep -E "Requests/sec|Latency" || true
wait "$SUB" || true
cat "$WORK/delays.txt"
