"""sseclient-py on GET /logs/stream: read live predictions, disconnect, miss some, reconnect with Last-Event-ID
(and with ?after=) and get exactly the missed ones, in id order, then the live ones again.

    python3 scripts/clients/sse_resume.py URL TOKEN
"""
import http.client
import json
import sys
import urllib.parse

import sseclient

from xalorra_check import call_json, check

url, token = sys.argv[1], sys.argv[2]
model = "sse-resume"
address = urllib.parse.urlsplit(url)


class Stream:
    """One /logs/stream connection, read by sseclient-py."""

    def __init__(self, query="", last_event_id=None):
        self.connection = http.client.HTTPConnection(address.hostname, address.port, timeout=30)
        headers = {"Authorization": f"Bearer {token}", "Accept": "text/event-stream"}
        if last_event_id is not None:
            headers["Last-Event-ID"] = last_event_id
        self.connection.request("GET", f"/logs/stream?model={model}{query}", headers=headers)
        response = self.connection.getresponse()
        if response.status != 200:
            check(False, f"/logs/stream answered {response.status}: {response.read()[:300]}")
        check(response.getheader("Content-Type", "").startswith("text/event-stream"), "not text/event-stream")
        self.events = sseclient.SSEClient(self._lines(response)).events()

    @staticmethod
    def _lines(response):
        while True:
            line = response.readline()
            if not line:
                return
            yield line

    def take(self, count):
        """The next `count` prediction events as (event id, item)."""
        out = []
        for event in self.events:
            if not event.data:
                continue
            item = json.loads(event.data)
            check(event.id is not None and event.id == str(item["id"]), f"event id {event.id!r} for item {item}")
            out.append((event.id, item))
            if len(out) == count:
                return out
        check(False, f"the stream ended after {len(out)} of {count} events")

    def close(self):
        self.connection.close()


def predict(value):
    answer = call_json(url, "POST", f"/predict/{model}", token, {"features": [value, 1.0]})
    return value, answer["prediction"]


def expect(got, sent, what):
    check([item["input"][0] for _, item in got] == [value for value, _ in sent],
          f"{what}: inputs {[item['input'] for _, item in got]}, sent {sent}")
    check([item["prediction"] for _, item in got] == [prediction for _, prediction in sent],
          f"{what}: predictions differ from what /predict answered")
    ids = [int(event_id) for event_id, _ in got]
    check(ids == sorted(ids) and len(set(ids)) == len(ids), f"{what}: ids not increasing: {ids}")
    return ids


live = Stream()
first = [predict(v) for v in (1.0, 2.0, 3.0)]
ids = expect(live.take(3), first, "live")
live.close()

missed = [predict(v) for v in (4.0, 5.0)]
resumed = Stream(last_event_id=str(ids[-1]))
resumed_ids = expect(resumed.take(2), missed, "Last-Event-ID replay")
check(resumed_ids[0] > ids[-1], f"the replay starts at {resumed_ids[0]}, not after {ids[-1]}")
# Then the live feed goes on from there: the next event is the next prediction (no repeat, nothing skipped).
later = [predict(6.0)]
expect(resumed.take(1), later, "live after the replay")
resumed.close()

# ?after= (for clients that cannot set a header) replays from an earlier point: everything after the first id.
after = Stream(query=f"&after={ids[0]}")
expect(after.take(5), first[1:] + missed + later, "?after= replay")
after.close()
print("sse resume: ok")
