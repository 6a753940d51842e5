"""The official openai SDK against xalorra's OpenAI-compatible routes (base_url URL/v1, api_key a xalorra token):
models.list() and retrieve(), chat.completions.create() whole and streamed, and a bad key raising AuthenticationError.

    python3 scripts/clients/openai_sdk.py URL TOKEN
"""
import sys

import openai

from xalorra_check import call_json, check

url, token = sys.argv[1], sys.argv[2]
client = openai.OpenAI(base_url=url + "/v1", api_key=token, max_retries=0, timeout=60)

models = client.models.list()
ids = [model.id for model in models.data]
check(len(ids) >= 1 and all(isinstance(i, str) and i for i in ids), f"models.list(): {ids}")
retrieved = client.models.retrieve(ids[0])
check(retrieved.id == ids[0] and retrieved.object == "model", f"models.retrieve(): {retrieved}")
try:
    client.models.retrieve("no-such-model")
    check(False, "models.retrieve() of an unknown name answered")
except openai.NotFoundError as error:
    check(error.code == "model_not_found", f"models.retrieve() of an unknown name: {error}")
model = ids[0]

messages = [{"role": "system", "content": "Answer briefly."}, {"role": "user", "content": "hello there"}]
whole = client.chat.completions.create(model=model, messages=messages)
check(whole.object == "chat.completion" and whole.model == model, f"completion: {whole}")
check(len(whole.choices) == 1 and whole.choices[0].message.role == "assistant", f"choices: {whole.choices}")
reply = whole.choices[0].message.content
check(isinstance(reply, str) and reply.strip(), f"empty reply: {whole}")
check(whole.choices[0].finish_reason == "stop", f"finish_reason {whole.choices[0].finish_reason}")
if whole.usage is not None:
    check(whole.usage.total_tokens == whole.usage.prompt_tokens + whole.usage.completion_tokens, f"usage {whole.usage}")

stream = client.chat.completions.create(model=model, messages=messages, stream=True,
                                        stream_options={"include_usage": True})
pieces, roles, finishes, usage, chunk_ids = [], [], [], None, set()
for chunk in stream:
    check(chunk.object == "chat.completion.chunk", f"chunk: {chunk}")
    chunk_ids.add(chunk.id)
    if chunk.usage is not None:
        usage = chunk.usage
    for choice in chunk.choices:
        if choice.delta.role:
            roles.append(choice.delta.role)
        if choice.delta.content:
            pieces.append(choice.delta.content)
        if choice.finish_reason:
            finishes.append(choice.finish_reason)
streamed = "".join(pieces)
check(roles[:1] == ["assistant"], f"the first delta carries no assistant role: {roles}")
check(finishes == ["stop"], f"finish reasons {finishes}")
check(len(chunk_ids) == 1, f"the chunks of one completion carry {len(chunk_ids)} ids")
check(streamed.strip(), "the streamed reply is empty")
# The builtin responder is deterministic: the same question streamed is the same answer.
check(streamed == reply, f"streamed {streamed!r}, whole {reply!r}")
check(usage is None or usage.completion_tokens > 0, f"usage {usage}")

# Each call is a conversation of the caller.
histories = call_json(url, "GET", "/chat/histories?limit=100", token)
check(len(histories["data"]) >= 2, f"/chat/histories after two completions: {histories}")

try:
    openai.OpenAI(base_url=url + "/v1", api_key="not-a-token", max_retries=0).models.list()
    check(False, "a bad key listed the models")
except openai.AuthenticationError as error:
    check(error.status_code == 401 and isinstance(error.body, dict) and error.body.get("message"),
          f"AuthenticationError without OpenAI's error object: {error.body}")
try:
    client.chat.completions.create(model="no-such-model", messages=messages)
    check(False, "an unknown model answered")
except openai.NotFoundError as error:
    check(error.code == "model_not_found", f"unknown model: {error}")
try:
    client.chat.completions.create(model=model, messages=[])
    check(False, "an empty messages list answered")
except openai.BadRequestError as error:
    check(error.status_code in (400, 422) and error.param == "messages", f"empty messages: {error}")
print("openai sdk: ok")
