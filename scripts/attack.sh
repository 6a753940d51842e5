#!/usr/bin/env bash
# The attacker's replay of issue 12 ("Security and robustness"): starts `xalorra serve` itself (temporary homes,
# free loopback ports, a known SECRET_KEY so tokens can be forged, rate limits on, default limits except where an
# attack needs a small one) and runs scripts/attack.py, which prints one line per attack
#   REFUSED   <item> <what>: <evidence>      the specific safe outcome was observed
#   VULNERABLE <item> <what>: <evidence>     it was not
# then `attacks: N passed, M failed`. Exit status 1 when any attack is VULNERABLE, 0 otherwise.
#   scripts/attack.sh [path/to/xalorra]      (default: the debug binary, `swift build --show-bin-path`)
# Needs python3 (standard library only). Loopback only; about two minutes on two cores. Everything it starts is
# stopped on exit, however it exits.
set -euo pipefail
cd "$(dirname "$0")/.."
bin="${1:-}"
if [[ -z "$bin" ]]; then
    bin="$(swift build --show-bin-path)/xalorra"
fi
[[ -x "$bin" ]] || { echo "attack: no binary at $bin (build first: swift build)" >&2; exit 2; }
command -v python3 >/dev/null || { echo "attack: python3 is needed" >&2; exit 2; }

work="$(mktemp -d "${TMPDIR:-/tmp}/xalorra-attack.XXXXXX")"
py=""
cleanup() {
    local status=$?
    set +e
    trap - EXIT INT TERM
    [[ -n "$py" ]] && kill "$py" 2>/dev/null || true
    # Only the processes attack.py started that still run this binary (a recorded id may since belong to another).
    local pid exe
    exe="$(readlink -f "$bin")"
    if [[ -f "$work/pids" ]]; then
        for signal in TERM KILL; do
            while read -r pid; do
                [[ "$(readlink -f "/proc/$pid/exe" 2>/dev/null)" == "$exe" ]] && kill -"$signal" "$pid" 2>/dev/null
            done <"$work/pids"
            [[ "$signal" == TERM ]] && sleep 0.5
        done
    fi
    wait 2>/dev/null || true
    rm -rf "$work"
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

python3 scripts/attack.py "$bin" "$work" &
py=$!
wait "$py"
