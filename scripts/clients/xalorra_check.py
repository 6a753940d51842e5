"""Shared by the real-client programs: plain HTTP calls to xalorra (standard library only, no proxy), the
checks that end a program with a message on stderr and exit status 1, and a model to predict with.

The programs are run by Tests/XalorraTests/ThirdPartyClientTests.swift as `python3 scripts/clients/X.py URL TOKEN`.
Each third-party client must agree with what xalorra itself answers (its own /predict, its own log), so a
program's assertions are about behaviour, not about the client library.
"""
import json
import math
import random
import sys
import urllib.error
import urllib.request

_opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def fail(message):
    print(f"FAIL: {message}", file=sys.stderr)
    sys.exit(1)


def check(condition, message):
    if not condition:
        fail(message)


def call(url, method, path, token=None, body=None, headers=None, raw=None):
    """One request; returns (status, headers, body text). `body` is sent as JSON, `raw` as bytes."""
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    request = urllib.request.Request(url + path, data=data, method=method)
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    if body is not None:
        request.add_header("Content-Type", "application/json")
    for name, value in (headers or {}).items():
        request.add_header(name, value)
    try:
        with _opener.open(request, timeout=60) as response:
            return response.status, response.headers, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read().decode()


def call_json(url, method, path, token=None, body=None, expect=200):
    status, _, text = call(url, method, path, token, body)
    check(status == expect, f"{method} {path}: expected {expect}, got {status}: {text[:500]}")
    return json.loads(text) if text else None


FEATURES = ["a", "b", "c"]


def model_document(trees=20, seed=15):
    """A gbdt on a, b, c: `trees` stumps with fractional leaves, each sending missing values one way or the other,
    so that a client's rounding or a lost missing value shows in the predictions."""
    rng = random.Random(seed)
    stumps = []
    for _ in range(trees):
        stumps.append({
            "feature": [rng.randrange(3), -1, -1],
            "threshold": [round(rng.uniform(-1, 1), 6), 0, 0],
            "left": [1, 0, 0], "right": [2, 0, 0],
            "default_left": [rng.randrange(2), 1, 1],
            "value": [0, round(rng.uniform(-2, 2), 6), round(rng.uniform(-2, 2), 6)],
        })
    return {
        "format": "xalorra-model", "kind": "gbdt", "features": FEATURES,
        "model": {"type": "trees", "objective": "regression", "base_margin": 0.5, "feature_count": 3,
                  "float32": False, "trees": stumps},
    }


def import_model(url, token, name):
    """Stores the model as `name` (a new version); returns the version."""
    answer = call_json(url, "POST", f"/models/{name}/import", token, model_document(), expect=201)
    return answer["data"]["version"]


def rows(count, seed=7):
    rng = random.Random(seed)
    return [[round(rng.uniform(-1.5, 1.5), 3) for _ in FEATURES] for _ in range(count)]


def predict(url, token, name, instances):
    """xalorra's own answer for `instances` (None: a missing value): the reference every client is held to."""
    answer = call_json(url, "POST", f"/predict/{name}", token, {"instances": instances})
    return answer["predictions"]


def close(a, b, relative):
    return math.isclose(a, b, rel_tol=relative, abs_tol=relative)
