"""websockets (the PyPI library) on GET /ws/predictions: live predictions as text messages, a resume with
?after=, and a refused upgrade (a bad token: 401 with the error envelope, not a bare 400).

    python3 scripts/clients/ws_feed.py URL TOKEN
"""
import json
import sys

from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from xalorra_check import call_json, check

url, token = sys.argv[1], sys.argv[2]
model = "ws-feed"
socket_url = "ws://" + url.removeprefix("http://") + f"/ws/predictions?model={model}"
auth = {"Authorization": f"Bearer {token}"}


def predict(value):
    answer = call_json(url, "POST", f"/predict/{model}", token, {"features": [value, 2.0]})
    return value, answer["prediction"]


def receive(socket, count, sent, what):
    items = [json.loads(socket.recv(timeout=30)) for _ in range(count)]
    check([item["input"][0] for item in items] == [value for value, _ in sent],
          f"{what}: inputs {[item['input'] for item in items]}, sent {sent}")
    check([item["prediction"] for item in items] == [p for _, p in sent], f"{what}: predictions differ from /predict")
    ids = [item["id"] for item in items]
    check(ids == sorted(ids) and len(set(ids)) == len(ids), f"{what}: ids not increasing: {ids}")
    return ids


with connect(socket_url, additional_headers=auth, proxy=None, open_timeout=30) as socket:
    first = [predict(v) for v in (1.0, 2.0, 3.0)]
    ids = receive(socket, 3, first, "live")

missed = [predict(v) for v in (4.0, 5.0)]
with connect(socket_url + f"&after={ids[-1]}", additional_headers=auth, proxy=None, open_timeout=30) as socket:
    receive(socket, 2, missed, "?after= replay")
    later = [predict(6.0)]
    receive(socket, 1, later, "live after the replay")

# The token in the query, as a browser's WebSocket must send it.
with connect(socket_url + f"&after={ids[0]}&access_token={token}", proxy=None, open_timeout=30) as socket:
    receive(socket, 5, first[1:] + missed + later, "?access_token= and ?after=")

try:
    connect(socket_url, additional_headers={"Authorization": "Bearer not-a-token"}, proxy=None, open_timeout=30)
    check(False, "a bad token's upgrade was accepted")
except InvalidStatus as refusal:
    response = refusal.response
    check(response.status_code == 401, f"a bad token's upgrade answered {response.status_code}, not 401")
    body = json.loads(response.body or b"{}")
    check(isinstance(body.get("error"), dict) and body["error"].get("code") and body.get("timestamp"),
          f"the refusal is not the error envelope: {response.body!r}")
    check(response.headers.get("Content-Type", "").startswith("application/json"), "the refusal is not JSON")
print("websocket feed: ok")
