#!/usr/bin/env bash
# Batch scoring over HTTP against Seldon's MLServer (issue 19): the same XGBoost model in both, interleaved rounds.
#   bench/mlserver.sh   (env: XALORRA_BIN, BEFORE_BIN, VENV, DURATION 6s, ROUNDS 3, THREADS 2, CONNECTIONS 32, KINDS)
# MLServer (PyPI mlserver + mlserver-xgboost 1.7.1) is started by ../shared/peers/mlserver/run.sh on the 100-tree,
# depth-6 friedman1 model of ../shared/peers/mlserver/make_model.py; xalorra serves the same file after
# `models import fried`. BEFORE_BIN, when set, is an older xalorra measured in the same rounds (its own store).
# For each request kind, every server that speaks it gets one wrk run per round, servers interleaved:
#   v2-1, v2-100, v2-1000      OIP JSON tensors (FP32, shape [N, 10]) on /v2/models/fried/infer   (all servers)
#   bin-100, bin-1000          OIP binary tensors, binary FP32 answer (xalorra; MLServer's REST has no binary data)
#   inst-100, inst-1000        {"instances": …} on /predict/fried                                  (xalorra)
#   seed                       the seed's POST /predict/xgb-v2 {"features":[1,2,3]}                 (xalorra)
# Prints rows/s per run, then medians with the ratio to MLServer's JSON rows/s at the same batch size (targets: ≥ 3×
# at 100 and 1,000 rows, ≥ 20× for one row), the largest serve RSS seen under the 1,000-row loads, the peak-memory
# growth of 10,000-row requests, and checks that every acknowledged row is in each xalorra's log (`logs export`).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
resolve_bin
need curl wrk python3

DURATION="${DURATION:-6s}"
ROUNDS="${ROUNDS:-3}"
THREADS="${THREADS:-2}"
CONNECTIONS="${CONNECTIONS:-32}"
KINDS="${KINDS:-v2-1 v2-100 v2-1000 bin-100 bin-1000 inst-100 inst-1000 seed}"
VENV="${VENV:-/tmp/mlserver-venv}"
SHARED="${SHARED:-$REPO_ROOT/../shared}"
WORK="$(mktemp -d /tmp/xalorra-mlserver.XXXXXX)"
ML_PORT="${ML_PORT:-8090}" # MLServer also takes the next two ports (gRPC, metrics)
export SECRET_KEY="${SECRET_KEY:-mlserver-bench-secret-mlserver-bench!!}"
# A 10,000-row JSON body is about 2 MB: over the default 1 MiB body limit, as a team scoring such batches would set.
export XALORRA_MAX_BODY="${XALORRA_MAX_BODY:-16777216}"
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT

# MLServer's venv (run.sh makes it when missing) also makes the model: it has xgboost; scikit-learn is added.
if [[ ! -x "$VENV/bin/mlserver" ]]; then
    python3 -m venv "$VENV" && "$VENV/bin/pip" install -q "mlserver==1.7.1" "mlserver-xgboost==1.7.1" >&2
fi
"$VENV/bin/python" -c "import sklearn" 2>/dev/null || "$VENV/bin/pip" install -q scikit-learn >&2
"$VENV/bin/python" "$SHARED/peers/mlserver/make_model.py" "$WORK/model" >/dev/null
VENV="$VENV" "$SHARED/peers/mlserver/run.sh" "$WORK/model/model.json" "$ML_PORT" >"$WORK/mlserver.log" 2>&1 &
pids+=($!)

# The servers: name → binary and port. MLServer answers without a token; xalorra's take one each.
declare -A bin=([xalorra]="$BIN") port=([mlserver]="$ML_PORT" [xalorra]=8095) token=()
servers=(mlserver xalorra)
if [[ -n "${BEFORE_BIN:-}" ]]; then
    bin[before]="$(cd "$(dirname "$BEFORE_BIN")" && pwd)/$(basename "$BEFORE_BIN")"
    port[before]=8096
    servers+=(before)
fi
for name in "${servers[@]}"; do
    [[ $name == mlserver ]] && continue
    mkdir -p "$WORK/$name"
    XALORRA_HOME="$WORK/$name" "${bin[$name]}" models import fried "$WORK/model/model.json" >/dev/null
    XALORRA_HOME="$WORK/$name" "${bin[$name]}" serve --port "${port[$name]}" --rate-limit off \
        >"$WORK/$name.log" 2>&1 &
    pids+=($!)
    declare "pid_$name=$!"
    token[$name]="$(XALORRA_HOME="$WORK/$name" "${bin[$name]}" token --user bench --ttl 2h)"
done
ready() { curl -fs -o /dev/null ${token[$1]:+-H "Authorization: Bearer ${token[$1]}"} "http://127.0.0.1:${port[$1]}/v2/models/fried/ready"; }
for name in "${servers[@]}"; do
    for _ in $(seq 600); do ready "$name" && break; sleep 0.1; done
    ready "$name" || die "$name did not become ready (log: $(tail -5 "$WORK/$name.log" 2>/dev/null))"
done

# The request bodies: the same FP32 rows for every kind (float32 values written as numpy's tolist() does).
python3 - "$WORK" <<'PY'
import json, random, struct, sys
work = sys.argv[1]
random.seed(19)
rows = [[struct.unpack("<f", struct.pack("<f", random.uniform(0, 1)))[0] for _ in range(10)] for _ in range(10000)]
def oip(n):
    return {"inputs": [{"name": "input-0", "shape": [n, 10], "datatype": "FP32", "data": [v for r in rows[:n] for v in r]}]}
for n in (1, 100, 1000, 10000):
    json.dump(oip(n), open(f"{work}/v2-{n}.body", "w"))
    json.dump({"instances": rows[:n]}, open(f"{work}/inst-{n}.body", "w"))
    header = json.dumps({
        "inputs": [{"name": "input-0", "shape": [n, 10], "datatype": "FP32", "parameters": {"binary_data_size": n * 40}}],
        "outputs": [{"name": "predict", "parameters": {"binary_data": True}}]}).encode()
    open(f"{work}/bin-{n}.body", "wb").write(header + struct.pack(f"<{n * 10}f", *[v for r in rows[:n] for v in r]))
    open(f"{work}/bin-{n}.length", "w").write(str(len(header)))
json.dump({"features": [1, 2, 3]}, open(f"{work}/seed.body", "w"))
PY

# What each kind sends: path, rows per request, extra header fields; which servers speak it.
path_of() { case $1 in v2-* | bin-*) echo /v2/models/fried/infer ;; inst-*) echo /predict/fried ;; seed) echo /predict/xgb-v2 ;; esac; }
rows_of() { case $1 in seed) echo 1 ;; *) echo "${1#*-}" ;; esac; }
fields_of() {
    case $1 in
        bin-*) echo "Inference-Header-Content-Length $(cat "$WORK/$1.length") Content-Type application/octet-stream" ;;
        *) echo "Content-Type application/json" ;;
    esac
}
speaks() { [[ $1 != mlserver || $2 == v2-* ]]; }

# Every answer is checked once before timing: the same predictions from every server, to float32 precision.
python3 - "$WORK" "$ML_PORT" "${port[xalorra]}" "${token[xalorra]}" <<'PY'
import json, struct, sys, urllib.request
work, ml, xa, token = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
def post(port, path, body, headers):
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=body, headers=headers)
    with urllib.request.urlopen(req) as r:
        return r.read(), r.headers
body = open(f"{work}/v2-1000.body", "rb").read()
reference = json.loads(post(ml, "/v2/models/fried/infer", body, {"Content-Type": "application/json"})[0])
expected = reference["outputs"][0]["data"]
auth = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
ours = json.loads(post(xa, "/v2/models/fried/infer", body, auth)[0])["outputs"][0]["data"]
inst = json.loads(post(xa, "/predict/fried", open(f"{work}/inst-1000.body", "rb").read(), auth)[0])
binary, head = post(xa, "/v2/models/fried/infer", open(f"{work}/bin-1000.body", "rb").read(),
                    {"Authorization": f"Bearer {token}",
                     "Inference-Header-Content-Length": open(f"{work}/bin-1000.length").read()})
length = int(head["Inference-Header-Content-Length"])
values = struct.unpack("<1000f", binary[length:])
preds = inst["predictions"]
for name, got in (("v2 json", ours), ("binary", values), ("instances", preds)):
    worst = max(abs(a - b) / max(1, abs(b)) for a, b in zip(got, expected))
    assert len(got) == 1000 and worst < 1e-5, (name, worst)
print("answers agree with MLServer's (1,000 rows, float32 precision)")
PY
# The answered requests so far, to check the logs against at the end (1,000 + 1,000 + 1,000 rows).
declare -A acknowledged=([xalorra]=3000)
[[ -n "${bin[before]:-}" ]] && acknowledged[before]=0


rss_kib() { awk '/^VmRSS/ { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0; }
declare -A rates=() rss_max=()
run() { # run SERVER KIND: writes "rows/s p99_us" to $WORK/run.result; adds the answered rows to acknowledged[SERVER]
    local server=$1 kind=$2 fields result rows pid sampler
    read -r -a fields <<<"$(fields_of "$kind")"
    rows="$(rows_of "$kind")"
    pid_var="pid_$server"
    pid="${!pid_var:-}"
    if [[ -n $pid && $kind == *-1000 ]]; then
        (while sleep 0.5; do rss_kib "$pid"; done) >"$WORK/rss.$server" &
        sampler=$!
    fi
    wrk -t "$THREADS" -c "$CONNECTIONS" -d "$DURATION" -s "$BENCH_DIR/post-file.lua" \
        "http://127.0.0.1:${port[$server]}$(path_of "$kind")" -- "$WORK/$kind.body" "${token[$server]:--}" "${fields[@]}" \
        >"$WORK/wrk.out"
    if [[ -n ${sampler:-} ]]; then
        kill "$sampler" 2>/dev/null || true
        wait "$sampler" 2>/dev/null || true
        local peak
        peak="$(sort -n "$WORK/rss.$server" | tail -1)"
        (( ${peak:-0} > ${rss_max[$server]:-0} )) && rss_max[$server]=$peak
    fi
    result="$(awk -F'\t' '/^RESULT/ { print $2, $4, $6, $5 }' "$WORK/wrk.out")"
    if [[ -z $result ]]; then
        local alive="of unknown state"
        [[ -n $pid ]] && { kill -0 "$pid" 2>/dev/null && alive=running || alive="not running"; }
        die "$server $kind: wrk gave no result (the server is $alive). wrk: $(tail -5 "$WORK/wrk.out")" \
            "server log: $(tail -20 "$WORK/$server.log" 2>/dev/null)"
    fi
    read -r rps p99 requests errors <<<"$result"
    (( errors == 0 )) || die "$server $kind: $errors answers were not 2xx"
    [[ -n ${acknowledged[$server]+x} ]] && acknowledged[$server]=$(( ${acknowledged[$server]} + requests * rows ))
    python3 -c "print(f'{$rps * $rows:.0f} $p99')" >"$WORK/run.result"
}

# Peak memory of 10,000-row requests on a server that has answered only the checks above: the high-water mark's
# growth over 5 of them, against the body's size (a loaded server's high-water mark hides it).
hwm_kib() { awk '/^VmHWM/ { print $2 }' "/proc/$1/status"; }
for server in "${servers[@]}"; do
    [[ $server == mlserver ]] && continue
    pid_var="pid_$server"
    before_hwm="$(hwm_kib "${!pid_var}")"
    for _ in 1 2 3 4 5; do
        curl -fsS -o /dev/null -X POST "http://127.0.0.1:${port[$server]}/v2/models/fried/infer" \
            -H "Authorization: Bearer ${token[$server]}" -H 'Content-Type: application/json' \
            --data-binary @"$WORK/v2-10000.body"
    done
    acknowledged[$server]=$(( ${acknowledged[$server]} + 50000 ))
    after_hwm="$(hwm_kib "${!pid_var}")"
    echo "$server: 10,000-row request ($(( $(wc -c <"$WORK/v2-10000.body") / 1024 )) KiB body): peak RSS" \
        "grew $(( after_hwm - before_hwm )) KiB (VmHWM $before_hwm → $after_hwm KiB)"
done

printf '%-6s %-10s %-9s %12s %10s\n' round kind server 'rows/s' 'p99 µs'
for round in $(seq "$ROUNDS"); do
    for kind in $KINDS; do
        for server in "${servers[@]}"; do
            speaks "$server" "$kind" || continue
            run "$server" "$kind"
            read -r r q <"$WORK/run.result"
            rates[$server.$kind]+="$r "
            printf '%-6s %-10s %-9s %12s %10s\n' "$round" "$kind" "$server" "$r" "$q"
        done
    done
done

median() { tr ' ' '\n' | awk 'NF' | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
echo
printf '%-10s %12s %12s %12s %8s\n' kind MLServer xalorra before ratio
for kind in $KINDS; do
    rows="$(rows_of "$kind")"
    ml="$(echo "${rates[mlserver.v2-$rows]:-}" | median)"
    ours="$(echo "${rates[xalorra.$kind]:-}" | median)"
    old="$(echo "${rates[before.$kind]:-}" | median)"
    ratio="$( [[ -n $ml && $kind != seed ]] && python3 -c "print(f'{$ours / $ml:.2f}x')" || echo -)"
    printf '%-10s %12s %12s %12s %8s\n' "$kind" "${ml:--}" "$ours" "${old:--}" "$ratio"
done
for server in "${servers[@]}"; do
    [[ -n ${rss_max[$server]:-} ]] && echo "$server: largest RSS under the 1,000-row loads $(( ${rss_max[$server]} / 1024 )) MiB"
done

# Every acknowledged row is in the log: stop each server, export its whole log offline, count the rows.
for server in "${servers[@]}"; do
    [[ $server == mlserver ]] && continue
    pid_var="pid_$server"
    kill "${!pid_var}" && wait "${!pid_var}" 2>/dev/null || true
    read -r logged seeds < <(XALORRA_HOME="$WORK/$server" "${bin[$server]}" logs export --format ndjson \
        | awk '{ n++ } /"model":"xgb-v2"/ { s++ } END { print n + 0, s + 0 }')
    # wrk stops with requests in flight: the server may have answered (and logged) up to one batch per connection more.
    verdict="$( (( logged >= ${acknowledged[$server]} )) && echo "every acknowledged row present" || echo "ROWS MISSING")"
    echo "$server: $logged rows logged ($seeds seed predictions), ${acknowledged[$server]} acknowledged: $verdict"
    [[ $verdict == ROWS* ]] && exit 1
done
exit 0
