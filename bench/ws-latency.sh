#!/usr/bin/env bash
# WebSocket push latency: a subscriber on GET /ws/predictions while predictions arrive at a fixed rate.
#   bench/ws-latency.sh        (env: RATE 1000, DURATION 10, CONNECTIONS 8, XALORRA_BIN)
# Target (issue 3): each prediction reaches the subscriber within 10 ms (p99) at 1,000 predictions/s.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
resolve_bin
need curl python3

WORK="$(mktemp -d)"
PORT="${PORT:-8011}"
export SECRET_KEY="${SECRET_KEY:-ws-bench-secret-ws-bench-secret-ws!!}"
XALORRA_HOME="$WORK" "$BIN" serve --port "$PORT" --rate-limit off >"$WORK/serve.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$WORK"' EXIT
for _ in $(seq 100); do curl -fs -o /dev/null "http://127.0.0.1:$PORT/" && break; sleep 0.1; done
token="$(XALORRA_HOME="$WORK" "$BIN" token --user bench --tenant t1 --ttl 1h)"
python3 "$BENCH_DIR/ws_latency.py" --url "http://127.0.0.1:$PORT" --token "$token" \
    --rate "${RATE:-1000}" --seconds "${DURATION:-10}" --connections "${CONNECTIONS:-8}"
