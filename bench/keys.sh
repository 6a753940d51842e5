#!/usr/bin/env bash
# What authenticating by API key costs next to a JWT (issue 18: "a request authenticated by key costs no more than
# one by JWT, same run").
#   bench/keys.sh     (env: DURATION 8s, ROUNDS 3, XALORRA_BIN, PORT 8015)
# One server, rate limits off; an account `bench` (role user) with a JWT from `users login` and an API key
# (`keys create --scopes predict`) of the same account. Alternately, ROUNDS times, with each credential:
# GET /whoami (authentication and nothing else) and POST /predict/xgb-v2 (the baseline model, logged), at 1
# connection (p50/p99 latency) and at 32 (throughput), with the server's CPU time per request (user + system, from
# /proc: on a shared host the one number the neighbours do not move much). The key goes as `Authorization: Bearer`.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
resolve_bin
need curl wrk python3

DURATION="${DURATION:-8s}"
SHARED="${SHARED:-$REPO_ROOT/../shared}"
LUA="$SHARED/bench/request.lua"
WORK="$(mktemp -d)"
PORT="${PORT:-8015}"
URL="http://127.0.0.1:$PORT"
export SECRET_KEY="${SECRET_KEY:-keys-bench-secret-keys-bench-secret!}"
export XALORRA_HOME="$WORK"
export XALORRA_BCRYPT_COST=10
trap 'kill ${pid:-0} 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$WORK"' EXIT

echo 'bench-password' | "$BIN" users add bench --email bench@x.io --name Bench --password-stdin >/dev/null
key="$("$BIN" keys create bench-key --user bench --scopes predict 2>/dev/null)"
printf '{"features":[1,2,3]}' >"$WORK/row.json"

"$BIN" serve --port "$PORT" --rate-limit off >"$WORK/serve.log" 2>&1 &
pid=$!
for _ in $(seq 100); do curl -fs -o /dev/null "$URL/" && break; sleep 0.1; done
jwt="$(echo 'bench-password' | "$BIN" users login bench --url "$URL" --password-stdin --json \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["data"]["access_token"])')"
rm -f "$WORK/credentials.json"
for name in jwt key; do
    credential="${!name}"
    printf '  %-4s whoami: %s\n' "$name" "$(curl -fs "$URL/whoami" -H "Authorization: Bearer $credential")"
done

# The server's CPU time so far (user + system), in clock ticks: per request, it does not depend on how busy the
# machine is, where wall-clock numbers on a shared host do.
ticks() { awk '{ print $14 + $15 }' "/proc/$pid/stat"; }
hz="$(getconf CLK_TCK)"

# One wrk run; prints "req/s p50_us p99_us non2xx cpu_us_per_request".
run() {
    local connections=$1 method=$2 path=$3 body=$4 credential=$5 before after result r p q e n
    before="$(ticks)"
    result="$(wrk -t 1 -c "$connections" -d "$DURATION" --latency -s "$LUA" "$URL$path" -- "$method" "$body" \
        "$credential" | awk -F'\t' '/^RESULT/ { print $2, $3, $4, $5, $7 }')"
    after="$(ticks)"
    read -r r p q e n <<<"$result"
    python3 -c "print(f'{$r:.1f} $p $q $e {($after - $before) * 1e6 / $hz / max($n, 1):.1f}')"
}

printf '%-6s %-8s %-4s %-5s %12s %9s %9s %7s %10s\n' round route auth conns 'req/s' 'p50 µs' 'p99 µs' non2xx \
    'cpu µs/req'
declare -A p50 rps cpu
for round in $(seq "${ROUNDS:-3}"); do
    for target in "whoami GET /whoami -" "predict POST /predict/xgb-v2 $WORK/row.json"; do
        read -r label method path body <<<"$target"
        for name in jwt key; do
            credential="${!name}"
            for connections in 1 32; do
                read -r r p q e c < <(run "$connections" "$method" "$path" "$body" "$credential")
                if [[ $connections == 1 ]]; then p50[$label-$name]+="$p "; else rps[$label-$name]+="$r "; fi
                cpu[$label-$name]+="$c "
                printf '%-6s %-8s %-4s %-5s %12s %9s %9s %7s %10s\n' "$round" "$label" "$name" "$connections" "$r" "$p" \
                    "$q" "$e" "$c"
            done
        done
    done
done
median() { tr ' ' '\n' | grep -v '^$' | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
for label in whoami predict; do
    jp="$(echo "${p50[$label-jwt]}" | median)"
    kp="$(echo "${p50[$label-key]}" | median)"
    jr="$(echo "${rps[$label-jwt]}" | median)"
    kr="$(echo "${rps[$label-key]}" | median)"
    jc="$(echo "${cpu[$label-jwt]}" | median)"
    kc="$(echo "${cpu[$label-key]}" | median)"
    python3 -c "print(f'$label: median p50 at 1 connection: jwt $jp µs, key $kp µs; median req/s at 32: jwt $jr, ' \\
        f'key $kr (key/jwt {$kr / $jr:.1%}); median server CPU per request: jwt $jc µs, key $kc µs ' \\
        f'(key/jwt {$kc / $jc:.1%})')"
done
if grep -q "xal_[0-9a-f]\{16\}_[0-9A-Za-z]" "$WORK/serve.log"; then
    echo "FAIL: the server's log holds a key" >&2
    exit 1
fi
