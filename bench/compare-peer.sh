#!/usr/bin/env bash
# xalorra serve vs the FastAPI peer (../shared/peers/fastapi), interleaved in one run by ../shared/bench/compare.sh.
#   bench/compare-peer.sh            (env: DURATION 10s, ROUNDS 2, CONNS 64, ENDPOINTS "root whoami predict echo")
# Both run on loopback with rate limiting off; the peer with 1 uvicorn worker, its venv and data under $WORK
# (shared/ is read-only). Also samples xalorra's resident memory every second while under load.
# Targets (issue 3): predict >= 15x the peer's req/s with p99 <= 1/10 of the peer's; xalorra predict >= 50 % of its
# own GET /; RSS <= 64 MiB under load.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
resolve_bin
need curl wrk python3

SHARED="${SHARED:-$REPO_ROOT/../shared}"
PEER="$SHARED/peers/fastapi"
WORK="${WORK:-/tmp/xalorra-compare}"
mkdir -p "$WORK"
export SECRET_KEY="${SECRET_KEY:-compare-secret-compare-secret-compare!!}"
VENV="${VENV:-$WORK/venv}"
if [[ ! -x "$VENV/bin/uvicorn" ]]; then
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install -q -r "$PEER/requirements.txt"
fi

PEER_PORT="${PEER_PORT:-8000}"
XAL_PORT="${XAL_PORT:-8001}"
rm -rf "$WORK/peer" "$WORK/xalorra"
mkdir -p "$WORK/peer" "$WORK/xalorra"
pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT

RATE_LIMIT=off VENV="$VENV" DB_PATH="$WORK/peer/peer.db" PREDICTION_LOG="$WORK/peer/predictions.log" \
    "$PEER/run.sh" "$PEER_PORT" 1 >"$WORK/peer.log" 2>&1 &
pids+=($!)
XALORRA_HOME="$WORK/xalorra" "$BIN" serve --port "$XAL_PORT" --rate-limit off >"$WORK/xalorra.log" 2>&1 &
xal_pid=$!
pids+=($xal_pid)
for url in "http://127.0.0.1:$PEER_PORT/" "http://127.0.0.1:$XAL_PORT/"; do
    for _ in $(seq 100); do curl -fs -o /dev/null "$url" && break; sleep 0.2; done
    curl -fs -o /dev/null "$url" || die "$url did not come up (logs in $WORK)"
done

peer_token="$(cd "$PEER" && "$VENV/bin/python" mint_token.py --user bench --role admin --tenant t1)"
xal_token="$(XALORRA_HOME="$WORK/xalorra" "$BIN" token --user bench --role admin --tenant t1 --ttl 1d)"

# Resident memory of xalorra while the comparison runs.
(while kill -0 "$xal_pid" 2>/dev/null; do awk '/VmRSS/ {print $2}' "/proc/$xal_pid/status"; sleep 1; done) \
    >"$WORK/xalorra-rss.txt" 2>/dev/null &
pids+=($!)

LABEL_A=fastapi LABEL_B=xalorra "$SHARED/bench/compare.sh" \
    "http://127.0.0.1:$PEER_PORT" "$peer_token" "http://127.0.0.1:$XAL_PORT" "$xal_token"

sort -n "$WORK/xalorra-rss.txt" | awk '{ rss[NR] = $1 } END {
    if (NR) printf "xalorra RSS under load: max %.1f MiB, median %.1f MiB (%d samples; target <= 64 MiB)\n",
        rss[NR] / 1024, rss[int((NR + 1) / 2)] / 1024, NR }'
echo "rows: peer $(sqlite3 "$WORK/peer/peer.db" 'select count(*) from predictions' 2>/dev/null || echo ?)," \
    "xalorra $(sqlite3 "$WORK/xalorra/xalorra.db" 'select count(*) from predictions')," \
    "xalorra log lines $(wc -l <"$WORK/xalorra/logs/predictions.log")"
