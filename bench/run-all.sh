#!/usr/bin/env bash
# Run every benchmark once, in order, printing everything: this is the command
# bench/RESULTS.md cites. Keep a copy of the output with e.g.
#   bench/run-all.sh 2>&1 | tee bench/out/run-all.log
#
# Steps: install-tools, build-release (once, unless XALORRA_BIN is set), then
# startup, batch, tail-cpu, ws-latency, login-load, chat. A failing benchmark does not stop the others; the exit
# status is 1 if any of them failed.
set -euo pipefail

# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$REPO_ROOT"

"$BENCH_DIR/install-tools.sh"

# Build once and hand the binary to every benchmark.
resolve_bin
export XALORRA_BIN="$BIN"

echo "== environment =="
echo "date:      $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
commit="none"
if rev="$(git rev-parse --short HEAD 2>/dev/null)"; then
    commit="$rev"
    git diff --quiet HEAD -- || commit+=" (dirty)"
fi
echo "commit:    $commit"
echo "host:      $(uname -srm), $(nproc) CPU(s), $(awk '/MemTotal/ { printf "%.1f GiB RAM", $2 / 1048576 }' /proc/meminfo)"
echo "cpu:       $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)"
echo "swift:     $(swift --version 2>&1 | head -n 1)"
echo "tools:     $(hyperfine --version), sqlite3 $(sqlite3 --version | cut -d' ' -f1)"
echo "binary:    $BIN ($(du -h "$BIN" | cut -f1)), $("$BIN" --version 2>&1 | head -n 1)"

declare -a names=() results=()
for bench in startup batch tail-cpu ws-latency login-load chat; do
    echo
    echo "===================== $bench ====================="
    status=0
    "$BENCH_DIR/$bench.sh" || status=$?
    names+=("$bench")
    if ((status == 0)); then results+=("ok"); else results+=("FAILED (exit $status)"); fi
done

echo
echo "===================== run-all ====================="
failed=0
for i in "${!names[@]}"; do
    printf '%-9s %s\n' "${names[$i]}" "${results[$i]}"
    [[ "${results[$i]}" == ok ]] || failed=1
done
echo "(targets are reported as PASS/FAIL inside each section above)"
exit "$failed"
