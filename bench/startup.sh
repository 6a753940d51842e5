#!/usr/bin/env bash
# One-shot process benchmark: how much does one `xalorra predict` cost compared
# with one `sqlite3` insert into a WAL database (the floor for "start a process,
# open a database, write a row, exit")?
#
# One hyperfine run, no shell (-N), compares:
#   sqlite3-insert    sqlite3 $DB "INSERT INTO t(x) VALUES (1)"   (WAL database)
#   xalorra-version   $BIN --version                            (bare process start)
#   xalorra-predict   $BIN predict xgb-v2 1 2 3                 (store already created)
# Target: mean(xalorra-predict) / mean(sqlite3-insert) <= 3.0 (PASS/FAIL printed,
# exit status 0 either way; non-zero only if the benchmark itself cannot run).
#
# Environment: XALORRA_BIN (else bench/build-release.sh builds it), WARMUP (20),
# HYPERFINE_RUNS (200), RATIO_TARGET (3.0), STARTUP_TIMEOUT seconds (900), OUT_DIR (bench/out).
# Writes $OUT_DIR/startup.json (hyperfine export, overwritten each run).
set -euo pipefail

# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
need hyperfine sqlite3 python3 timeout

WARMUP="${WARMUP:-20}"
HYPERFINE_RUNS="${HYPERFINE_RUNS:-200}"
RATIO_TARGET="${RATIO_TARGET:-3.0}"
STARTUP_TIMEOUT="${STARTUP_TIMEOUT:-900}"

resolve_bin
mkdir -p "$OUT_DIR"
json="$OUT_DIR/startup.json"

# Scratch space: a fresh xalorra home and a separate sqlite3 WAL database.
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
export XALORRA_HOME="$work/home" # hyperfine -N passes the environment through
mkdir -p "$XALORRA_HOME"
db="$work/baseline.db"
sqlite3 "$db" 'PRAGMA journal_mode=WAL; CREATE TABLE t(x);' >/dev/null

# First prediction creates the store (schema, secret, log dir): not part of the measurement.
"$BIN" predict xgb-v2 1 2 3 >/dev/null || die "first 'xalorra predict' failed"

# hyperfine -N splits each command line itself (POSIX-like quoting): quote paths with %q.
q() { printf '%q' "$1"; }

echo "startup: hyperfine -N --warmup $WARMUP --runs $HYPERFINE_RUNS ($BIN)"
timeout "$STARTUP_TIMEOUT" hyperfine -N --style basic \
    --warmup "$WARMUP" --runs "$HYPERFINE_RUNS" \
    --export-json "$json" \
    -n sqlite3-insert "sqlite3 $(q "$db") 'INSERT INTO t(x) VALUES (1)'" \
    -n xalorra-version "$(q "$BIN") --version" \
    -n xalorra-predict "$(q "$BIN") predict xgb-v2 1 2 3"

echo
echo "== startup summary ($json) =="
python3 "$BENCH_DIR/hyperfine_summary.py" "$json" \
    --baseline sqlite3-insert --subject xalorra-predict --target "$RATIO_TARGET"

# Sanity check, informational only: every predict run should have stored one row
# (1 initial + warmup + runs).
expected=$((1 + WARMUP + HYPERFINE_RUNS))
stored="$(sqlite3 "$XALORRA_HOME/xalorra.db" 'select count(*) from predictions' 2>/dev/null || echo '?')"
echo "rows in predictions: $stored (expected $expected)"
