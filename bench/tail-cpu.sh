#!/usr/bin/env bash
# Idle cost and liveness of the log follower `xalorra logs --tail`.
#
#  1. fresh XALORRA_HOME, one prediction so the store exists;
#  2. start `xalorra logs --tail` in the background, stdout to a file;
#  3. after a short settle, measure its CPU time (utime+stime from /proc/PID/stat,
#     all threads) over IDLE_SECONDS of idling: target < 2 % of one core;
#  4. make one prediction from a second process and check the follower printed a
#     new line within 1 s (polling its output file);
#  5. send SIGINT and check it exits with status 0.
#
# Exit status: 1 if the follower dies, misses the prediction or exits non-zero on
# SIGINT; the CPU target is only reported as PASS/FAIL.
#
# Environment: XALORRA_BIN, IDLE_SECONDS (10), SETTLE_SECONDS (1),
# CPU_TARGET percent (2), FOLLOW_DEADLINE_MS (1000).
set -euo pipefail

# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
need getconf awk

IDLE_SECONDS="${IDLE_SECONDS:-10}"
SETTLE_SECONDS="${SETTLE_SECONDS:-1}"
CPU_TARGET="${CPU_TARGET:-2}"
FOLLOW_DEADLINE_MS="${FOLLOW_DEADLINE_MS:-1000}"
CLK_TCK="$(getconf CLK_TCK)"

resolve_bin

work="$(mktemp -d)"
follower_pid=""
# shellcheck disable=SC2317 # called from the EXIT trap
cleanup() {
    # Never leave the follower running (only the process this script started).
    if [[ -n "$follower_pid" ]] && kill -0 "$follower_pid" 2>/dev/null; then
        kill -KILL "$follower_pid" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT

export XALORRA_HOME="$work/home"
mkdir -p "$XALORRA_HOME"
out="$work/tail.out"
err="$work/tail.err"

# utime+stime (clock ticks) of a process. Fields 14 and 15 of /proc/PID/stat,
# counted after the ")" closing the command name (which may contain spaces).
cpu_ticks() {
    local stat rest
    stat="$(<"/proc/$1/stat")"
    rest="${stat##*) }"
    local -a f
    read -ra f <<<"$rest"
    echo $((f[11] + f[12]))
}

line_count() {
    wc -l <"$out"
}

"$BIN" predict xgb-v2 1 2 3 >/dev/null || die "first 'xalorra predict' failed"

# Job control on (set -m): otherwise bash starts background jobs with SIGINT
# ignored, and the SIGINT check below would test bash rather than xalorra.
set -m
"$BIN" logs --tail >"$out" 2>"$err" &
follower_pid=$!
set +m
echo "tail-cpu: follower pid $follower_pid ($BIN logs --tail)"

sleep "$SETTLE_SECONDS"
kill -0 "$follower_pid" 2>/dev/null || die "follower exited during start-up: $(cat "$err")"

# --- idle CPU ---------------------------------------------------------------------
t0_ticks="$(cpu_ticks "$follower_pid")"
t0_ns="$(now_ns)"
sleep "$IDLE_SECONDS"
kill -0 "$follower_pid" 2>/dev/null || die "follower exited while idle: $(cat "$err")"
t1_ticks="$(cpu_ticks "$follower_pid")"
t1_ns="$(now_ns)"
cpu_line="$(awk -v ticks=$((t1_ticks - t0_ticks)) -v hz="$CLK_TCK" -v ns=$((t1_ns - t0_ns)) -v target="$CPU_TARGET" 'BEGIN {
    cpu_s = ticks / hz; wall_s = ns / 1e9; pct = 100 * cpu_s / wall_s
    printf "idle CPU: %.3f s over %.2f s = %.2f %% of one core (target < %s %%): %s",
        cpu_s, wall_s, pct, target, (pct < target ? "PASS" : "FAIL")
}')"

failures=0

# --- a prediction from another process shows up within the deadline ------------------
before="$(line_count)"
"$BIN" predict xgb-v2 4 5 6 >/dev/null || die "second 'xalorra predict' failed"
p_ns="$(now_ns)"
deadline_ns=$((p_ns + FOLLOW_DEADLINE_MS * 1000000))
seen_ms=""
while (($(now_ns) <= deadline_ns)); do
    if (($(line_count) > before)); then
        seen_ms=$((($(now_ns) - p_ns) / 1000000))
        break
    fi
    sleep 0.02
done
if [[ -n "$seen_ms" ]]; then
    follow_line="follow: new prediction printed ${seen_ms} ms after predict exited (deadline ${FOLLOW_DEADLINE_MS} ms): PASS"
else
    follow_line="follow: nothing printed within ${FOLLOW_DEADLINE_MS} ms: FAIL"
    failures=$((failures + 1))
fi

# --- SIGINT -> clean exit 0 ----------------------------------------------------------
kill -INT "$follower_pid"
for ((i = 0; i < 100; i++)); do # up to 5 s
    kill -0 "$follower_pid" 2>/dev/null || break
    sleep 0.05
done
if kill -0 "$follower_pid" 2>/dev/null; then
    kill -KILL "$follower_pid" 2>/dev/null || true
    wait "$follower_pid" 2>/dev/null || true
    sigint_line="SIGINT: still running after 5 s (killed): FAIL"
    failures=$((failures + 1))
else
    status=0
    wait "$follower_pid" || status=$?
    if ((status == 0)); then
        sigint_line="SIGINT: exit status 0: PASS"
    else
        sigint_line="SIGINT: exit status $status (expected 0): FAIL"
        failures=$((failures + 1))
    fi
fi
follower_pid=""

echo
echo "== tail-cpu summary =="
echo "$cpu_line"
echo "$follow_line"
echo "$sigint_line"
if [[ -s "$err" ]]; then
    echo "follower stderr (first lines):"
    head -n 5 "$err" | sed 's/^/  /'
fi
exit $((failures > 0 ? 1 : 0))
