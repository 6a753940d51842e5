"""Subscriber for bench/pg-realtime.sh: reads GET /logs/stream for a while and prints the delay from each row's
timestamp to its arrival (p50/p99/max in ms), the rows received, and how many came out of id order or twice."""
import datetime
import json
import sys
import time
import urllib.request

url, token, seconds = sys.argv[1], sys.argv[2], float(sys.argv[3])
request = urllib.request.Request(url, headers={"Authorization": "Bearer " + token})
delays, ids = [], []
deadline = time.time() + seconds
with urllib.request.urlopen(request, timeout=seconds + 5) as response:
    for raw in response:
        if time.time() > deadline:
            break
        line = raw.decode().strip()
        if not line.startswith("data: "):
            continue
        arrived = time.time()
        record = json.loads(line[6:])
        stamp = datetime.datetime.fromisoformat(record["timestamp"].replace("Z", "+00:00")).timestamp()
        delays.append((arrived - stamp) * 1000)
        ids.append(record["id"])
if not delays:
    print("no rows received")
    sys.exit(1)
delays.sort()
pick = lambda q: delays[min(len(delays) - 1, int(q * len(delays)))]
out_of_order = sum(1 for a, b in zip(ids, ids[1:]) if b <= a)
gaps = (max(ids) - min(ids) + 1) - len(set(ids))
print(f"rows {len(ids)}  delay ms p50 {pick(0.5):.1f}  p99 {pick(0.99):.1f}  max {delays[-1]:.1f}"
      f"  out-of-order {out_of_order}  missing-ids {gaps}")
