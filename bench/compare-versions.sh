#!/usr/bin/env bash
# Two builds of xalorra against each other on this machine, in one run: did a change slow anything down?
#   BEFORE_BIN=/path/old/xalorra AFTER_BIN=/path/new/xalorra bench/compare-versions.sh
# (AFTER_BIN defaults to XALORRA_BIN, else a fresh release build.) Measures, in this order:
#   1. one-shot `predict xgb-v2 1 2 3` of both binaries in one hyperfine run (each on its own store);
#   2. `serve` of both, rate limits off, interleaved by ../shared/bench/compare.sh (A = before, B = after) over
#      ENDPOINTS (default "root whoami predict echo"), ROUNDS (3), DURATION (10s), CONNS (64).
# Ratios within one run are what to read: the machine is shared and noisy, so absolute numbers drift.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
need curl wrk hyperfine python3

[[ -n "${BEFORE_BIN:-}" && -x "${BEFORE_BIN:-}" ]] || die "set BEFORE_BIN to the older xalorra binary"
XALORRA_BIN="${AFTER_BIN:-${XALORRA_BIN:-}}" resolve_bin
AFTER="$BIN"
BEFORE="$(cd "$(dirname "$BEFORE_BIN")" && pwd)/$(basename "$BEFORE_BIN")"
SHARED="${SHARED:-$REPO_ROOT/../shared}"
WORK="$(mktemp -d /tmp/xalorra-versions.XXXXXX)"
export SECRET_KEY="${SECRET_KEY:-versions-secret-versions-secret-versions!}"
export ROUNDS="${ROUNDS:-3}"
BEFORE_PORT="${BEFORE_PORT:-8011}"
AFTER_PORT="${AFTER_PORT:-8012}"
pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT

echo "== one-shot predict: before=$BEFORE after=$AFTER =="
mkdir -p "$WORK/one-before" "$WORK/one-after"
XALORRA_HOME="$WORK/one-before" "$BEFORE" predict xgb-v2 1 2 3 >/dev/null
XALORRA_HOME="$WORK/one-after" "$AFTER" predict xgb-v2 1 2 3 >/dev/null
q() { printf '%q' "$1"; }
hyperfine -N --style basic --warmup 20 --runs "${HYPERFINE_RUNS:-200}" --export-json "$WORK/oneshot.json" \
    -n before "env XALORRA_HOME=$(q "$WORK/one-before") $(q "$BEFORE") predict xgb-v2 1 2 3" \
    -n after "env XALORRA_HOME=$(q "$WORK/one-after") $(q "$AFTER") predict xgb-v2 1 2 3"
python3 - "$WORK/oneshot.json" <<'EOF'
import json, sys
results = {r["command"]: r for r in json.load(open(sys.argv[1]))["results"]}
before, after = results["before"], results["after"]
print(f"one-shot predict: before {before['mean']*1e3:.2f} ms, after {after['mean']*1e3:.2f} ms, "
      f"after/before {after['mean'] / before['mean']:.3f} (median {after['median'] / before['median']:.3f})")
EOF

echo "== serve: before on :$BEFORE_PORT, after on :$AFTER_PORT =="
mkdir -p "$WORK/before" "$WORK/after"
XALORRA_HOME="$WORK/before" "$BEFORE" serve --port "$BEFORE_PORT" --rate-limit off >"$WORK/before.log" 2>&1 &
pids+=($!)
XALORRA_HOME="$WORK/after" "$AFTER" serve --port "$AFTER_PORT" --rate-limit off >"$WORK/after.log" 2>&1 &
pids+=($!)
for port in "$BEFORE_PORT" "$AFTER_PORT"; do
    for _ in $(seq 100); do curl -fs -o /dev/null "http://127.0.0.1:$port/" && break; sleep 0.2; done
    curl -fs -o /dev/null "http://127.0.0.1:$port/" || die "the server on :$port did not come up"
done
before_token="$(XALORRA_HOME="$WORK/before" "$BEFORE" token --user bench --role admin --tenant t1 --ttl 1d)"
after_token="$(XALORRA_HOME="$WORK/after" "$AFTER" token --user bench --role admin --tenant t1 --ttl 1d)"
LABEL_A=before LABEL_B=after "$SHARED/bench/compare.sh" \
    "http://127.0.0.1:$BEFORE_PORT" "$before_token" "http://127.0.0.1:$AFTER_PORT" "$after_token"
