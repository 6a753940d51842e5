#!/usr/bin/env bash
# Batch throughput: `xalorra predict xgb-v2 --file F > /dev/null` on ROWS rows,
# once for CSV (header a,b,c) and once for NDJSON ({"features":[a,b,c]} lines).
#
# Each format: BATCH_RUNS runs (default 3), each with a fresh XALORRA_HOME; the best
# (fastest) run is reported as rows/s (target >= 300000) with its peak RSS.
# Every run must leave exactly ROWS rows in the predictions table and ROWS lines
# in logs/predictions.log.
#
# Exit status: 1 if a run fails or a count is wrong (correctness); the throughput
# target is only reported as PASS/FAIL.
#
# Environment: XALORRA_BIN, ROWS (1000000), BATCH_RUNS (3), RATE_TARGET (300000),
# RUN_TIMEOUT seconds per run (600), GNU_TIME (/usr/bin/time).
set -euo pipefail

# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
need sqlite3 awk timeout

ROWS="${ROWS:-1000000}"
BATCH_RUNS="${BATCH_RUNS:-3}"
RATE_TARGET="${RATE_TARGET:-300000}"
RUN_TIMEOUT="${RUN_TIMEOUT:-600}"
[[ "$ROWS" =~ ^[1-9][0-9]*$ ]] || die "ROWS must be a positive integer, got '$ROWS'"

resolve_bin

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# --- input generators (small integers 0..9, deterministic) -----------------------
gen_csv() { # gen_csv ROWS FILE
    awk -v n="$1" 'BEGIN {
        print "a,b,c"
        for (i = 0; i < n; i++) print i % 10 "," (i * 7) % 10 "," (i * 3 + 1) % 10
    }' >"$2"
}
gen_ndjson() { # gen_ndjson ROWS FILE
    awk -v n="$1" 'BEGIN {
        for (i = 0; i < n; i++) print "{\"features\":[" i % 10 "," (i * 7) % 10 "," (i * 3 + 1) % 10 "]}"
    }' >"$2"
}

# GNU time (GNU_TIME, default /usr/bin/time) gives peak RSS; without it, RSS is reported as n/a.
# Wall time is always taken with nanosecond `date`, since %e only has 10 ms resolution.
GNU_TIME="${GNU_TIME:-/usr/bin/time}"
have_gnu_time=0
if [[ -x "$GNU_TIME" ]] && "$GNU_TIME" -f '%M' true >/dev/null 2>&1; then
    have_gnu_time=1
fi

failures=0
summary=()
best_by_format=() # NAME:BEST_NS, for the ratio to the sqlite3 floor

# bench_format NAME FILE: BATCH_RUNS timed runs, count checks, one summary line.
bench_format() {
    local name="$1" file="$2"
    local best_ns="" best_rss="n/a" run home start elapsed_ns rss status rows lines
    for ((run = 1; run <= BATCH_RUNS; run++)); do
        home="$work/home-$name-$run"
        mkdir -p "$home"
        rss="n/a"
        start=$(now_ns)
        status=0
        if ((have_gnu_time)); then
            XALORRA_HOME="$home" timeout "$RUN_TIMEOUT" "$GNU_TIME" -f '%M' -o "$work/time.txt" \
                "$BIN" predict xgb-v2 --file "$file" >/dev/null || status=$?
        else
            XALORRA_HOME="$home" timeout "$RUN_TIMEOUT" \
                "$BIN" predict xgb-v2 --file "$file" >/dev/null || status=$?
        fi
        elapsed_ns=$(($(now_ns) - start))
        if ((have_gnu_time)) && [[ -s "$work/time.txt" ]]; then
            rss="$(tail -n 1 "$work/time.txt")" # KiB; last line (time prepends a note on non-zero exit)
        fi
        if ((status != 0)); then
            echo "  $name run $run: FAILED (exit $status)" >&2
            failures=$((failures + 1))
            rm -rf "$home"
            continue
        fi

        # Correctness: one stored row and one log line per input row.
        rows="$(sqlite3 "$home/xalorra.db" 'select count(*) from predictions' 2>/dev/null || echo 'error')"
        if [[ -f "$home/logs/predictions.log" ]]; then
            lines="$(wc -l <"$home/logs/predictions.log")"
        else
            lines="missing"
        fi
        printf '  %s run %d: %.3f s, peak RSS %s, db rows %s, log lines %s\n' \
            "$name" "$run" "$(awk -v ns="$elapsed_ns" 'BEGIN { print ns / 1e9 }')" \
            "$([[ "$rss" == n/a ]] && echo n/a || echo "$rss KiB")" "$rows" "$lines"
        rm -rf "$home" # a 1M-row store is large; keep the temp dir small
        if [[ "$rows" != "$ROWS" || "$lines" != "$ROWS" ]]; then
            echo "  $name run $run: COUNT MISMATCH (expected $ROWS rows and $ROWS log lines)" >&2
            failures=$((failures + 1))
            continue # a wrong run does not get to be the "best" time
        fi

        if [[ -z "$best_ns" ]] || ((elapsed_ns < best_ns)); then
            best_ns=$elapsed_ns
            best_rss=$rss
        fi
    done

    [[ -n "$best_ns" ]] && best_by_format+=("$name:$best_ns")
    if [[ -z "$best_ns" ]]; then
        summary+=("$(printf '%-7s no correct run: FAIL' "$name")")
        return
    fi
    summary+=("$(awk -v name="$name" -v n="$ROWS" -v ns="$best_ns" -v rss="$best_rss" -v target="$RATE_TARGET" 'BEGIN {
        s = ns / 1e9; rate = n / s
        rss_mib = (rss == "n/a") ? "n/a" : sprintf("%.1f MiB", rss / 1024)
        printf "%-7s best %.3f s  %10.0f rows/s  peak RSS %s  (target >= %d rows/s): %s",
            name, s, rate, rss_mib, target, (rate >= target ? "PASS" : "FAIL")
    }')")
}

echo "batch: generating $ROWS rows (CSV and NDJSON) in $work"
gen_csv "$ROWS" "$work/rows.csv"
gen_ndjson "$ROWS" "$work/rows.ndjson"

echo "batch: $BATCH_RUNS runs per format, fresh XALORRA_HOME each ($BIN)"
bench_format csv "$work/rows.csv"
bench_format ndjson "$work/rows.ndjson"

# SQLite's own floor in the same run: the sqlite3 shell inserting the same ROWS rows, with the same values in
# every column, into a fresh store with xalorra's schema, in one transaction, with xalorra's pragmas. Absolute
# rows/s swing by a quarter between runs on a shared machine; the ratio to this floor does not.
floor_best_ns=""
floor_home="$work/floor"
mkdir -p "$floor_home"
XALORRA_HOME="$floor_home" "$BIN" predict xgb-v2 1 >/dev/null
schema="$(sqlite3 "$floor_home/xalorra.db" .schema)"
for ((run = 1; run <= BATCH_RUNS; run++)); do
    rm -f "$work/floor.db"*
    sqlite3 "$work/floor.db" "PRAGMA journal_mode=WAL;" >/dev/null
    sqlite3 "$work/floor.db" "$schema"
    start=$(date +%s%N)
    sqlite3 "$work/floor.db" "PRAGMA synchronous=NORMAL; PRAGMA cache_size=-65536; BEGIN IMMEDIATE;
        WITH RECURSIVE c(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM c WHERE i < $ROWS - 1)
        INSERT INTO predictions (timestamp, tenant, user_id, model, version, latency_us, input, prediction)
        SELECT 1795466766119266, 'default', 'bench', 'xgb-v2', 'baseline', 0,
               '[' || (i % 10) || ',' || (i * 7 % 10) || ',' || ((i * 3 + 1) % 10) || ']',
               (i % 10) + (i * 7 % 10) + ((i * 3 + 1) % 10)
        FROM c; COMMIT;"
    elapsed_ns=$(($(date +%s%N) - start))
    if [[ -z "$floor_best_ns" ]] || ((elapsed_ns < floor_best_ns)); then floor_best_ns=$elapsed_ns; fi
done
summary+=("$(awk -v n="$ROWS" -v ns="$floor_best_ns" 'BEGIN {
    printf "sqlite3 floor: best %.3f s  %10.0f rows/s (the shell inserting the same rows, no parsing, no text log)",
        ns / 1e9, n / (ns / 1e9) }')")
for entry in "${best_by_format[@]}"; do
    summary+=("$(awk -v entry="$entry" -v floor="$floor_best_ns" 'BEGIN {
        split(entry, f, ":"); printf "%-7s time / sqlite3 floor = %.2f", f[1], f[2] / floor }')")
done

echo
echo "== batch summary ($ROWS rows) =="
printf '%s\n' "${summary[@]}"
if ((failures > 0)); then
    echo "batch: $failures failed run(s) or count mismatch(es)"
    exit 1
fi
echo "batch: all counts correct"
