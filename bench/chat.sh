#!/usr/bin/env bash
# Chat at scale (issue 5):
#   1. GET /chat/histories for a user with 10,000 conversations and 100,000 messages: p99 < 20 ms at limit 20
#      (wrk, 16 connections; also with sort=updated_at and with a title search).
#   2. A streamed reply: added latency per chunk from the backend to `xalorra chat`'s stdout < 5 ms.
#   bench/chat.sh      (env: DURATION 10s, XALORRA_BIN)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
resolve_bin
need curl wrk sqlite3 python3

DURATION="${DURATION:-10s}"
SHARED="${SHARED:-$REPO_ROOT/../shared}"
WORK="$(mktemp -d)"
PORT="${PORT:-8015}"
STUB_PORT="${STUB_PORT:-8016}"
URL="http://127.0.0.1:$PORT"
export SECRET_KEY="${SECRET_KEY:-chat-bench-secret-chat-bench-secret!!}"
export XALORRA_HOME="$WORK"
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$WORK"' EXIT

"$BIN" chat list >/dev/null 2>&1   # creates the store at the current schema
start=$(date +%s%N)
sqlite3 "$WORK/xalorra.db" <<'SQL'
BEGIN;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 10000)
INSERT INTO conversations (owner, title, created_at, updated_at)
SELECT 'bench', 'conversation ' || i || CASE i % 7 WHEN 0 THEN ' about pricing' ELSE '' END,
    1700000000000000 + i * 1000000, 1700000000000000 + ((i * 7919) % 10000) * 1000000 FROM n;
WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 99999)
INSERT INTO messages (conversation_id, sender, content, created_at)
SELECT i / 10 + 1, CASE i % 2 WHEN 0 THEN 'user' ELSE 'ai' END, 'message number ' || i || ' of the bench',
    1700000000000000 + i * 100000 FROM n;
COMMIT;
SQL
echo "seeded $(sqlite3 "$WORK/xalorra.db" 'select count(*) from conversations') conversations," \
    "$(sqlite3 "$WORK/xalorra.db" 'select count(*) from messages') messages in $(( ($(date +%s%N) - start) / 1000000 )) ms"

XALORRA_CHAT_URL="http://127.0.0.1:$STUB_PORT" "$BIN" serve --port "$PORT" --rate-limit off >"$WORK/serve.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do curl -fs -o /dev/null "$URL/" && break; sleep 0.1; done
token="$("$BIN" token --user bench --ttl 1h)"

printf '%-52s %10s %9s %9s %7s\n' "GET /chat/histories…" "req/s" "p50 ms" "p99 ms" "non2xx"
for query in "limit=20" "limit=20&sort=updated_at" "limit=20&offset=5000" "limit=20&search=pricing"; do
    wrk -t 1 -c 16 -d "$DURATION" -s "$SHARED/bench/request.lua" "$URL/chat/histories?$query" -- GET - "$token" \
        | awk -F'\t' -v q="?$query" '/^RESULT/ {
            printf "%-52s %10.1f %9.2f %9.2f %7d  %s\n", q, $2, $3 / 1000, $4 / 1000, $5, ($4 / 1000 < 20 ? "PASS" : "FAIL") }'
done
curl -fs "$URL/chat/histories?limit=1" -H "Authorization: Bearer $token" | head -c 300; echo

python3 "$BENCH_DIR/chat_stream.py" --bin "$BIN" --url "$URL" --token "$token" --stub-port "$STUB_PORT"
