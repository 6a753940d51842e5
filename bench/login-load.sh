#!/usr/bin/env bash
# Logins are bounded by bcrypt by design; the rest of the API must not be. Measures, on one release server:
#   A. GET /whoami alone (wrk, 32 connections)
#   B. POST /users/login alone (wrk, 4 connections): logins/s at the configured bcrypt cost
#   C. A and B at the same time
#   bench/login-load.sh     (env: DURATION 8s, ROUNDS 3, COST 12, XALORRA_BIN)
# Target (issue 4): GET /whoami under the login load keeps >= 80 % of its unloaded requests/s.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
resolve_bin
need curl wrk

DURATION="${DURATION:-8s}"
SHARED="${SHARED:-$REPO_ROOT/../shared}"
LUA="$SHARED/bench/request.lua"
WORK="$(mktemp -d)"
PORT="${PORT:-8013}"
URL="http://127.0.0.1:$PORT"
export SECRET_KEY="${SECRET_KEY:-login-bench-secret-login-bench-secret!}"
XALORRA_HOME="$WORK" XALORRA_BCRYPT_COST="${COST:-12}" "$BIN" serve --port "$PORT" --rate-limit off \
    >"$WORK/serve.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$WORK"' EXIT
for _ in $(seq 100); do curl -fs -o /dev/null "$URL/" && break; sleep 0.1; done

curl -fs -o /dev/null -X POST "$URL/users/register" \
    -d '{"username":"bench","email":"bench@x.io","nama_lengkap":"Bench","password":"bench-password"}'
printf '{"username":"bench","password":"bench-password"}' >"$WORK/login.json"
token="$(XALORRA_HOME="$WORK" "$BIN" token --user bench --ttl 1h)"

# One wrk run; prints "req/s p99_ms non2xx" from request.lua's RESULT line.
run() {
    local connections=$1 path=$2 method=$3 body=$4 auth=$5
    wrk -t 1 -c "$connections" -d "$DURATION" --timeout 30s -s "$LUA" "$URL$path" -- "$method" "$body" "$auth" \
        | awk -F'\t' '/^RESULT/ { printf "%.1f %.2f %d\n", $2, $4 / 1000, $5 }'
}

# A and C alternate ROUNDS times so that both see the same machine; the medians are compared.
alone=() loaded=() logins=()
for round in $(seq "${ROUNDS:-3}"); do
    read -r rps p99 err < <(run 32 /whoami GET - "$token")
    alone+=("$rps")
    printf '%-6s %-34s %10s req/s  p99 %8s ms  non2xx %s\n' "$round" "A  GET /whoami alone" "$rps" "$p99" "$err"
    run 4 /users/login POST "$WORK/login.json" - >"$WORK/login-under-load.txt" &
    login_pid=$!
    sleep 0.5
    read -r rps p99 err < <(run 32 /whoami GET - "$token")
    loaded+=("$rps")
    printf '%-6s %-34s %10s req/s  p99 %8s ms  non2xx %s\n' "$round" "C  GET /whoami during logins" "$rps" "$p99" "$err"
    wait "$login_pid"
    read -r rps p99 err <"$WORK/login-under-load.txt"
    logins+=("$rps")
    printf '%-6s %-34s %10s req/s  p99 %8s ms  non2xx %s\n' "$round" "C  POST /users/login meanwhile" "$rps" "$p99" "$err"
done
read -r rps p99 err < <(run 4 /users/login POST "$WORK/login.json" -)
printf '%-6s %-34s %10s req/s  p99 %8s ms  non2xx %s\n' "-" "B  POST /users/login alone" "$rps" "$p99" "$err"

median() { printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
a="$(median "${alone[@]}")"
c="$(median "${loaded[@]}")"
awk -v a="$a" -v c="$c" -v l="$(median "${logins[@]}")" -v b="$rps" 'BEGIN {
    ratio = c / a
    printf "medians: whoami alone %.0f, during logins %.0f req/s; logins alone %.1f/s, during whoami load %.1f/s\n", a, c, b, l
    printf "whoami under login load: %.0f %% of unloaded (target >= 80 %%): %s\n", ratio * 100, (ratio >= 0.8 ? "PASS" : "FAIL") }'
echo "server threads by nice value (bcrypt's run at 19): $(for t in /proc/$pid/task/*; do awk '{print $19}' "$t/stat"; done \
    | sort -n | uniq -c | awk '{printf "%s at %s, ", $1, $2}')"
