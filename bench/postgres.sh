#!/usr/bin/env bash
# Issue 14's speed goals, in one interleaved run (each round: every target in turn, so all see the same machine):
#   sqlite      POST /predict/xgb-v2 on one instance on the SQLite store
#   postgres    the same on one instance of a PostgreSQL-backed cluster (scripts/cluster.sh: 3 instances, 1 database)
#   peer        the FastAPI peer (../shared/peers/fastapi, 1 uvicorn worker, as bench/compare-peer.sh starts it)
#   nginx-1     nginx in front of that ONE PostgreSQL instance (the proxy's own cost)
#   nginx-3     nginx round robin over the cluster's three instances (scripts/cluster.sh's nginx)
#   bench/postgres.sh      (env: XALORRA_BIN (release binary), DURATION 10s, ROUNDS 3, CONNS 64, THREADS 2)
# Goals: postgres >= 50 % of sqlite's req/s and >= 8x the peer's, p99 < 20 ms; nginx-3 loses no more than the
# proxy's own cost against postgres (nginx-3 >= nginx-1, both compared with postgres). Rate limiting off everywhere.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
resolve_bin
need curl wrk python3 jq
REPO="$REPO_ROOT"
SHARED="${SHARED:-$REPO/../shared}"
source "$SHARED/bench/lib.sh"   # run_wrk, check_settings, preflight (sets its own BENCH_DIR)
ENDPOINTS=predict
ROUNDS="${ROUNDS:-3}"
PAUSE="${PAUSE:-1}"
check_settings

PEER="$SHARED/peers/fastapi"
WORK="${WORK:-/tmp/xalorra-pgbench}"
VENV="${VENV:-/tmp/xalorra-compare/venv}"
mkdir -p "$WORK"
if [[ ! -x "$VENV/bin/uvicorn" ]]; then
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install -q -r "$PEER/requirements.txt"
fi
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

rm -rf "$WORK/sqlite" "$WORK/peer" "$WORK/nginx1"
mkdir -p "$WORK/sqlite" "$WORK/peer" "$WORK/nginx1/temp"
chmod 777 "$WORK/nginx1/temp"
pids=()
export XALORRA_CLUSTER_STATE="$WORK/cluster.state"
cleanup() {
    [[ -s "$WORK/nginx1/nginx.pid" ]] && kill "$(cat "$WORK/nginx1/nginx.pid")" 2>/dev/null || true
    "$REPO/scripts/cluster.sh" stop >/dev/null 2>&1 || true
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
}
trap cleanup EXIT

# The PostgreSQL cluster: 3 instances and nginx round robin.
XALORRA_BIN="$BIN" XALORRA_SERVE_ARGS="--rate-limit off" "$REPO/scripts/cluster.sh" >"$WORK/cluster.out" 2>&1 &
pids+=($!)
for _ in $(seq 600); do grep -q '^URL: ' "$WORK/cluster.out" && break; sleep 0.2; done
grep -q '^URL: ' "$WORK/cluster.out" || die "scripts/cluster.sh did not start: $(cat "$WORK/cluster.out")"
NGINX3_URL="$(sed -n 's/^URL: //p' "$WORK/cluster.out")"
PG_URL="$(sed -n 's/^  instances: *\(http:[^ ]*\).*/\1/p' "$WORK/cluster.out")"
PG_SECRET="$(sed -n "s/.*SECRET_KEY='\([^']*\)'.*/\1/p" "$WORK/cluster.out")"
PG_PORT="${PG_URL##*:}"

# nginx in front of the first instance only: the same configuration as scripts/cluster.sh's, one upstream.
NGINX1_PORT="$(free_port)"
user=""; [[ "$(id -u)" == 0 ]] && user="user www-data;"
cat >"$WORK/nginx1/nginx.conf" <<EOF
$user
worker_processes auto;
pid $WORK/nginx1/nginx.pid;
error_log $WORK/nginx1/error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    client_body_temp_path $WORK/nginx1/temp/body;
    proxy_temp_path $WORK/nginx1/temp/proxy;
    fastcgi_temp_path $WORK/nginx1/temp/fastcgi;
    uwsgi_temp_path $WORK/nginx1/temp/uwsgi;
    scgi_temp_path $WORK/nginx1/temp/scgi;
    upstream xalorra { server 127.0.0.1:$PG_PORT; keepalive 64; }
    server {
        listen 127.0.0.1:$NGINX1_PORT;
        location / {
            proxy_pass http://xalorra;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_buffering off;
            proxy_request_buffering off;
        }
    }
}
EOF
nginx -e "$WORK/nginx1/error.log" -c "$WORK/nginx1/nginx.conf" -p "$WORK/nginx1"
NGINX1_URL="http://127.0.0.1:$NGINX1_PORT"

# One SQLite-backed instance and the peer.
SQLITE_PORT="$(free_port)"
SQLITE_SECRET="pgbench-secret-pgbench-secret-pgbench!!"
XALORRA_HOME="$WORK/sqlite" SECRET_KEY="$SQLITE_SECRET" "$BIN" serve --port "$SQLITE_PORT" --rate-limit off \
    >"$WORK/sqlite.log" 2>&1 &
pids+=($!)
PEER_PORT="$(free_port)"
SECRET_KEY="$SQLITE_SECRET" RATE_LIMIT=off VENV="$VENV" DB_PATH="$WORK/peer/peer.db" PREDICTION_LOG="$WORK/peer/predictions.log" \
    "$PEER/run.sh" "$PEER_PORT" 1 >"$WORK/peer.log" 2>&1 &
pids+=($!)
for url in "http://127.0.0.1:$SQLITE_PORT/" "http://127.0.0.1:$PEER_PORT/" "$NGINX1_URL/" "$NGINX3_URL/"; do
    for _ in $(seq 100); do curl -fs -o /dev/null "$url" && break; sleep 0.2; done
    curl -fs -o /dev/null "$url" || die "$url did not come up (logs in $WORK)"
done

SQLITE_TOKEN="$(XALORRA_HOME="$WORK/sqlite" SECRET_KEY="$SQLITE_SECRET" "$BIN" token --user bench --role admin --tenant t1 --ttl 1d)"
PG_TOKEN="$(XALORRA_HOME="$WORK/sqlite" SECRET_KEY="$PG_SECRET" "$BIN" token --user bench --role admin --tenant t1 --ttl 1d)"
PEER_TOKEN="$(cd "$PEER" && SECRET_KEY="$SQLITE_SECRET" "$VENV/bin/python" mint_token.py --user bench --role admin --tenant t1)"

targets="sqlite postgres peer nginx-1 nginx-3"
url_of() { case "$1" in sqlite) echo "http://127.0.0.1:$SQLITE_PORT" ;; postgres) echo "$PG_URL" ;;
    peer) echo "http://127.0.0.1:$PEER_PORT" ;; nginx-1) echo "$NGINX1_URL" ;; nginx-3) echo "$NGINX3_URL" ;; esac; }
token_of() { case "$1" in sqlite) echo "$SQLITE_TOKEN" ;; peer) echo "$PEER_TOKEN" ;; *) echo "$PG_TOKEN" ;; esac; }
for target in $targets; do preflight "$target" "$(url_of "$target")" "$(token_of "$target")"; done

LOG_DIR="$WORK/wrk"; rm -rf "$LOG_DIR"; mkdir -p "$LOG_DIR"
RUNS="$LOG_DIR/runs.tsv"; : >"$RUNS"
echo "# bench/postgres.sh: POST /predict/xgb-v2, rounds=$ROUNDS, binary $BIN"
machine_line
printf '%-5s %-9s %10s %9s %9s %7s %8s %6s\n' round target "req/s" "p50(ms)" "p99(ms)" non2xx sockerr load1
for ((round = 1; round <= ROUNDS; round++)); do
    for target in $targets; do
        out="$(run_wrk "$(url_of "$target")" "$(token_of "$target")" predict "$LOG_DIR/r${round}_$target.log")"
        read -r rps p50 p99 bad sockerr reqs maxus load1 <<<"$out"
        printf '%-5s %-9s %10s %9s %9s %7s %8s %6s\n' "$round" "$target" "$rps" "$(fmt_us "$p50")" "$(fmt_us "$p99")" \
            "$bad" "$sockerr" "$load1"
        printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$round" "$target" "$rps" "$p50" "$p99" "$bad" "$sockerr" >>"$RUNS"
        sleep "$PAUSE"
    done
done

echo
echo "# means over $ROUNDS round(s)"
awk -F'\t' '
    { n[$2]++; rps[$2] += $3; p50[$2] += $4; p99[$2] += $5; bad[$2] += $6 + $7 }
    END {
        split("sqlite postgres peer nginx-1 nginx-3", order, " ")
        printf "%-9s %10s %9s %9s %7s\n", "target", "req/s", "p50(ms)", "p99(ms)", "errors"
        for (i = 1; i <= 5; i++) { t = order[i]; if (!n[t]) continue
            r[t] = rps[t] / n[t]; q[t] = p99[t] / n[t] / 1000
            printf "%-9s %10.1f %9.2f %9.2f %7d\n", t, r[t], p50[t] / n[t] / 1000, q[t], bad[t] }
        printf "postgres / sqlite   = %.2f  (goal >= 0.50)\n", r["postgres"] / r["sqlite"]
        printf "postgres / peer     = %.1fx (goal >= 8x)\n", r["postgres"] / r["peer"]
        printf "postgres p99        = %.2f ms (goal < 20 ms)\n", q["postgres"]
        printf "nginx-1 / postgres  = %.2f  (the proxy'\''s own cost)\n", r["nginx-1"] / r["postgres"]
        printf "nginx-3 / postgres  = %.2f\n", r["nginx-3"] / r["postgres"]
        printf "nginx-3 / nginx-1   = %.2f  (goal >= 1: three instances lose nothing beyond the proxy)\n", r["nginx-3"] / r["nginx-1"]
    }' "$RUNS"
echo "# raw wrk output: $LOG_DIR"
