"""Every event of the three event streams, read by sseclient-py, is valid against the schema /openapi.json declares
for it, checked with the jsonschema library (each event as OpenAPI 3.1 readers take it: `{data, event, id?}`, its
`data` parsed as JSON when it declares `contentMediaType: application/json` and checked against `contentSchema`,
as schemathesis checks it): POST /chat/message and POST /v1/chat/completions with "stream": true (the latter ending
with data: [DONE]), and GET /logs/stream.

    python3 scripts/clients/stream_schemas.py URL TOKEN
"""
import http.client
import json
import sys
import urllib.parse

import jsonschema
import sseclient
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from xalorra_check import call, call_json, check

url, token = sys.argv[1], sys.argv[2]
address = urllib.parse.urlsplit(url)
status, _, text = call(url, "GET", "/openapi.json")
check(status == 200, f"/openapi.json answered {status}")
document = json.loads(text)
registry = Registry().with_resource("urn:xalorra", Resource.from_contents(document, default_specification=DRAFT202012))


def content_schema(validator, schema, instance, parent):
    """`contentSchema` asserted: the string parsed as its `contentMediaType` (JSON) and validated."""
    if parent.get("contentMediaType") != "application/json" or not isinstance(instance, str):
        return
    try:
        value = json.loads(instance)
    except ValueError as error:
        yield jsonschema.ValidationError(f"data is not JSON: {error}: {instance[:100]!r}")
        return
    yield from validator.descend(value, schema)


Validator = jsonschema.validators.extend(jsonschema.Draft202012Validator, {"contentSchema": content_schema})


def events(method, path, body=None, count=None):
    connection = http.client.HTTPConnection(address.hostname, address.port, timeout=30)
    headers = {"Authorization": f"Bearer {token}", "Accept": "text/event-stream"}
    if body is not None:
        headers["Content-Type"] = "application/json"
    connection.request(method, path, body=json.dumps(body) if body is not None else None, headers=headers)
    response = connection.getresponse()
    if response.status != 200:
        check(False, f"{method} {path} answered {response.status}: {response.read()[:300]}")

    def lines():
        while line := response.readline():
            yield line

    out = []
    for event in sseclient.SSEClient(lines()).events():
        if not event.data:
            continue
        item = {"data": event.data, "event": event.event}
        if event.id is not None:
            item["id"] = event.id
        out.append(item)
        if count is not None and len(out) == count:
            break
    connection.close()
    return out


def check_stream(method, path, items):
    pointer = "/paths/" + path.replace("~", "~0").replace("/", "~1") + f"/{method.lower()}/responses/200/content/"
    pointer += "text~1event-stream/schema"
    validator = Validator({"$ref": f"urn:xalorra#{pointer}"}, registry=registry)
    check(items, f"{method} {path}: no events")
    for index, item in enumerate(items):
        problems = [error.message for error in validator.iter_errors(item)]
        check(not problems, f"{method} {path} event #{index} {item} is not what the document declares: {problems}")


chat = events("POST", "/chat/message", {"message": "hello", "stream": True})
check(json.loads(chat[-1]["data"]).get("done") is True, f"the chat stream did not end with done: {chat[-1]}")
check_stream("POST", "/chat/message", chat)

model = call_json(url, "GET", "/v1/models", token)["data"][0]["id"]
completion = events("POST", "/v1/chat/completions", {
    "model": model, "messages": [{"role": "user", "content": "hi"}], "stream": True,
    "stream_options": {"include_usage": True}})
check(completion[-1]["data"] == "[DONE]", f"the completion stream did not end with [DONE]: {completion[-1]}")
check_stream("POST", "/v1/chat/completions", completion)

call_json(url, "POST", "/predict/stream-schema", token, {"features": [1.0, 2.0]})
logged = events("GET", "/logs/stream?model=stream-schema&after=0", count=1)
check_stream("GET", "/logs/stream", logged)
print("stream schemas: ok")
