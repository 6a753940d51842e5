#!/usr/bin/env bash
# The Open Inference Protocol's binary tensors against the same batch as JSON tensors (issue 15).
#   bench/oip-binary.sh     (env: DURATION 6s, ROUNDS 3, CONNECTIONS 1, ROWS 1000, XALORRA_BIN, PORT 8015)
# A gbdt of 100 trees, depth 6, on 20 features is trained offline into a fresh home; one release server then answers
# POST /v2/models/gbm/infer with the same ROWS × 20 FP32 batch three ways, alternately, ROUNDS times:
#   json    JSON tensors in, JSON out (what every OIP client can send);
#   binary  binary tensors in (Inference-Header-Content-Length + raw little-endian float32), binary out;
#   gzip    the binary request gzip-compressed (Content-Encoding: gzip), as tritonclient's compression sends it.
# Every answer is checked once before timing (the three agree to float32 precision) and every request logs its ROWS
# rows, as any prediction does. Target (issue 15): binary at least 3× faster end to end than JSON (req/s ratio).
# The server inherits the environment: XALORRA_PREDICTION_LOG=off measures without the text log (the store's rows
# are always written). PERF=json|binary records the server under that kind's load with `perf record -g` (into PERF_OUT, default a temp
# file) and prints where the time goes.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
resolve_bin
need curl wrk python3

DURATION="${DURATION:-6s}"
ROUNDS="${ROUNDS:-3}"
CONNECTIONS="${CONNECTIONS:-1}"
ROWS="${ROWS:-1000}"
WORK="$(mktemp -d)"
PORT="${PORT:-8015}"
URL="http://127.0.0.1:$PORT"
export SECRET_KEY="${SECRET_KEY:-oip-bench-secret-oip-bench-secret-oip!}"
export XALORRA_HOME="$WORK"
trap 'kill ${pid:-0} 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$WORK"' EXIT

python3 - "$WORK" "$ROWS" "$BENCH_DIR" <<'PY'
import gzip, json, random, struct, sys
work, rows = sys.argv[1], int(sys.argv[2])
sys.path.insert(0, sys.argv[3])
import gbm_data
gbm_data.training(work)
# float32 values written as JSON the way numpy's tolist() does for a float32 array (shortest repr of the double).
batch = [struct.unpack("<f", struct.pack("<f", random.uniform(-3, 3)))[0] for _ in range(rows * 20)]
with open(f"{work}/json.body", "w") as f:
    json.dump({"inputs": [{"name": "x", "shape": [rows, 20], "datatype": "FP32", "data": batch}]}, f)
header = json.dumps({
    "inputs": [{"name": "x", "shape": [rows, 20], "datatype": "FP32", "parameters": {"binary_data_size": rows * 80}}],
    "outputs": [{"name": "predict", "parameters": {"binary_data": True}}],
}).encode()
body = header + struct.pack(f"<{rows * 20}f", *batch)
open(f"{work}/binary.body", "wb").write(body)
open(f"{work}/gzip.body", "wb").write(gzip.compress(body))
open(f"{work}/header.length", "w").write(str(len(header)))
PY
"$BIN" train gbm --data "$WORK/train.csv" --target y --trees 100 --max-depth 6 >/dev/null
length="$(cat "$WORK/header.length")"
echo "bodies: json $(wc -c <"$WORK/json.body") B, binary $(wc -c <"$WORK/binary.body") B (header $length B)," \
    "gzip $(wc -c <"$WORK/gzip.body") B; $ROWS rows × 20 FP32"


"$BIN" serve --port "$PORT" --rate-limit off >"$WORK/serve.log" 2>&1 &
pid=$!
for _ in $(seq 100); do curl -fs -o /dev/null "$URL/" && break; sleep 0.1; done
token="$("$BIN" token --user bench --ttl 1h)"

declare -A extra=(
    [json]="Content-Type application/json"
    [binary]="Inference-Header-Content-Length $length"
    [gzip]="Inference-Header-Content-Length $length Content-Encoding gzip"
)
# The three answers agree: JSON's FP64 numbers and the binary answers' float32s, to float32 precision.
for kind in json binary gzip; do
    read -r -a fields <<<"${extra[$kind]}"
    curl_headers=()
    for ((i = 0; i < ${#fields[@]}; i += 2)); do curl_headers+=(-H "${fields[i]}: ${fields[i + 1]}"); done
    curl -fsS -D "$WORK/$kind.head" -o "$WORK/$kind.answer" -X POST "$URL/v2/models/gbm/infer" \
        -H "Authorization: Bearer $token" "${curl_headers[@]}" --data-binary @"$WORK/$kind.body"
done
python3 - "$WORK" "$ROWS" <<'PY'
import json, re, struct, sys
work, rows = sys.argv[1], int(sys.argv[2])
expected = json.load(open(f"{work}/json.answer"))["outputs"][0]["data"]
for kind in ("binary", "gzip"):
    head = open(f"{work}/{kind}.head").read()
    length = int(re.search(r"(?i)inference-header-content-length: (\d+)", head).group(1))
    body = open(f"{work}/{kind}.answer", "rb").read()
    output = json.loads(body[:length])["outputs"][0]
    assert output["datatype"] == "FP32" and output["parameters"]["binary_data_size"] == rows * 4, output
    values = struct.unpack(f"<{rows}f", body[length:])
    worst = max(abs(a - b) / max(1, abs(b)) for a, b in zip(values, expected))
    assert len(expected) == rows and worst < 1e-6, (kind, worst)
print(f"answers agree ({rows} predictions, float32 precision)")
PY

# The server's CPU time so far (user + system), in clock ticks.
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$pid/stat"; }
TICK_MS="$(awk -v hz="$(getconf CLK_TCK)" 'BEGIN { print 1000 / hz }')"
run() { # run KIND -> "req/s p50 p99 non2xx cpu_ms_per_request"
    read -r -a fields <<<"${extra[$1]}"
    local before after
    before="$(cpu_ticks)"
    wrk -t 1 -c "$CONNECTIONS" -d "$DURATION" --latency -s "$BENCH_DIR/post-file.lua" "$URL/v2/models/gbm/infer" \
        -- "$WORK/$1.body" "$token" "${fields[@]}" >"$WORK/wrk.out"
    after="$(cpu_ticks)"
    awk -F'\t' -v ticks="$((after - before))" -v ms="$TICK_MS" \
        '/^RESULT/ { printf "%.1f %d %d %d %.2f\n", $2, $3, $4, $5, ($6 > 0 ? ticks * ms / $6 : 0) }' "$WORK/wrk.out"
}
if [[ -n "${PERF:-}" ]]; then
    need perf
    data="${PERF_OUT:-$WORK/perf.data}"
    perf record -g -o "$data" -p "$pid" -- sleep 4 >/dev/null 2>&1 &
    perf_pid=$!
    run "$PERF" >/dev/null
    wait "$perf_pid" || true
    perf report -i "$data" --no-children --percent-limit 1.5 --stdio 2>/dev/null | grep -v '^$' | head -80
    exit 0
fi

printf '%-6s %-7s %10s %9s %9s %7s %12s\n' round kind 'req/s' 'p50 µs' 'p99 µs' non2xx 'CPU ms/req'
declare -A rps p50 cpu
for round in $(seq "$ROUNDS"); do
    for kind in json binary gzip; do
        read -r r p q e c < <(run "$kind")
        rps[$kind]+="$r "
        p50[$kind]+="$p "
        cpu[$kind]+="$c "
        printf '%-6s %-7s %10s %9s %9s %7s %12s\n' "$round" "$kind" "$r" "$p" "$q" "$e" "$c"
    done
done
median() { tr ' ' '\n' | grep -v '^$' | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
for kind in json binary gzip; do
    printf '%-7s median %8s req/s, p50 %6s µs, server CPU %6s ms/request\n' "$kind" "$(echo "${rps[$kind]}" | median)" \
        "$(echo "${p50[$kind]}" | median)" "$(echo "${cpu[$kind]}" | median)"
done
python3 -c "
j, b, g = $(echo "${rps[json]}" | median), $(echo "${rps[binary]}" | median), $(echo "${rps[gzip]}" | median)
cj, cb, cg = $(echo "${cpu[json]}" | median), $(echo "${cpu[binary]}" | median), $(echo "${cpu[gzip]}" | median)
print(f'req/s binary / json: {b / j:.2f}x, gzip / json: {g / j:.2f}x; CPU per request json / binary: {cj / cb:.2f}x, '
      f'json / gzip: {cj / cg:.2f}x   (target: binary >= 3x)')"
rows="$(sqlite3 "$WORK/xalorra.db" 'select count(*) from predictions' 2>/dev/null || echo '?')"
echo "rows logged: $rows"
