# shellcheck shell=bash
# Shared helpers for the bench/*.sh scripts. Sourced, never executed.
#
#   BENCH_DIR   absolute path of bench/
#   REPO_ROOT   absolute path of the repository root
#   OUT_DIR     where machine-readable results go (default bench/out, git-ignored)

BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck disable=SC2034 # used by the scripts that source this file
REPO_ROOT="$(cd "$BENCH_DIR/.." && pwd)"
OUT_DIR="${OUT_DIR:-$BENCH_DIR/out}"

# Print a message to stderr and exit 1.
die() {
    echo "error: $*" >&2
    exit 1
}

# Fail early, with a hint, when a required tool is missing.
need() {
    local tool
    for tool in "$@"; do
        command -v "$tool" >/dev/null 2>&1 \
            || die "'$tool' not found (run bench/install-tools.sh)"
    done
}

# Set BIN to the xalorra binary: $XALORRA_BIN when set, else build it with
# bench/build-release.sh (whose stdout is just the binary path).
resolve_bin() {
    if [[ -n "${XALORRA_BIN:-}" ]]; then
        BIN="$XALORRA_BIN"
    else
        echo "XALORRA_BIN not set: building a release binary (bench/build-release.sh)..." >&2
        BIN="$("$BENCH_DIR/build-release.sh")"
    fi
    [[ -x "$BIN" ]] || die "xalorra binary '$BIN' is missing or not executable"
    # Absolute path: the scripts cd around and hyperfine -N does no PATH lookup for ./paths.
    BIN="$(cd "$(dirname "$BIN")" && pwd)/$(basename "$BIN")"
}

# Monotonic-enough wall clock in nanoseconds (GNU date).
now_ns() {
    date +%s%N
}
