"""A real Prometheus (Debian's `prometheus`) scrapes xalorra's /metrics with a bearer token, as an operator would
configure it: the target must be up with no scrape error, and the counters it stored must say what happened
(the predictions made here, by model; the requests, by route and status).

    python3 scripts/clients/prometheus_scrape.py URL TOKEN WORKDIR
"""
import json
import os
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request

from xalorra_check import call_json, check

url, token, workdir = sys.argv[1], sys.argv[2], sys.argv[3]
target = urllib.parse.urlsplit(url).netloc
opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

# xalorra registers the model, so its predictions have their own series (not model="_other").
call_json(url, "POST", "/models/scraped/import", token, {
    "format": "xalorra-model", "kind": "gbdt", "features": ["a"],
    "model": {"type": "trees", "objective": "regression", "base_margin": 0, "feature_count": 1, "float32": False,
              "trees": [{"feature": [0, -1, -1], "threshold": [0.5, 0, 0], "left": [1, 0, 0], "right": [2, 0, 0],
                         "default_left": [1, 1, 1], "value": [0, 1, 2]}]}}, expect=201)
for value in (0.1, 0.9, 0.3):
    call_json(url, "POST", "/predict/scraped", token, {"features": [value]})

with socket.socket() as probe:
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
config = os.path.join(workdir, "prometheus.yml")
with open(config, "w") as file:
    file.write(f"""global:
  scrape_interval: 1s
scrape_configs:
  - job_name: xalorra
    authorization:
      credentials: {token}
    static_configs:
      - targets: ["{target}"]
""")
server = subprocess.Popen(
    ["prometheus", f"--config.file={config}", f"--storage.tsdb.path={os.path.join(workdir, 'data')}",
     f"--web.listen-address=127.0.0.1:{port}"],
    stdout=subprocess.DEVNULL, stderr=open(os.path.join(workdir, "prometheus.log"), "w"))


def api(path):
    try:
        with opener.open(f"http://127.0.0.1:{port}/api/v1/{path}", timeout=5) as response:
            return json.loads(response.read())["data"]
    except OSError:
        return None


try:
    health, deadline = None, time.time() + 60
    while time.time() < deadline:
        targets = api("targets")
        active = (targets or {}).get("activeTargets", [])
        if active and active[0]["health"] != "unknown":
            health = active[0]
            break
        time.sleep(0.5)
    check(health is not None, "prometheus never scraped the target")
    check(health["health"] == "up" and not health["lastError"], f"the scrape failed: {health}")
    query = urllib.parse.quote('xalorra_predictions_total{model="scraped"}')
    result = None
    while time.time() < deadline:
        result = api(f"query?query={query}")
        if result and result["result"]:
            break
        time.sleep(0.5)
    check(result and result["result"], f"no xalorra_predictions_total series for the model: {result}")
    check(float(result["result"][0]["value"][1]) == 3, f"prometheus stored {result['result']}, 3 predictions made")
    query = urllib.parse.quote('xalorra_http_requests_total{route="POST /predict/{model}",status="200"}')
    result = api(f"query?query={query}")
    check(result and float(result["result"][0]["value"][1]) == 3, f"requests by route: {result}")
finally:
    server.terminate()
    server.wait(timeout=30)
print("prometheus scrape: ok")
