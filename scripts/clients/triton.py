"""tritonclient[http] (NVIDIA's Open Inference Protocol client) against a live xalorra.

    python3 scripts/clients/triton.py URL TOKEN MODE      MODE: json | binary | binary-output | gzip

Every answer is held to xalorra's own /predict for the same rows:
  json           JSON tensors both ways (FP64 and FP32 in), server and model metadata, readiness, a missing model
  binary         binary FP32 and FP64 inputs (set_data_from_numpy's default), a NaN arriving as a missing value
  binary-output  binary outputs: per output (InferRequestedOutput(binary_data=True)) and for all (no outputs named)
  gzip           gzip and deflate compressed request bodies (request_compression_algorithm)
"""
import sys

import numpy as np
import tritonclient.http as httpclient
from tritonclient.utils import InferenceServerException

from xalorra_check import check, close, import_model, predict, rows

url, token, mode = sys.argv[1], sys.argv[2], sys.argv[3]
headers = {"Authorization": f"Bearer {token}"}
client = httpclient.InferenceServerClient(url=url.removeprefix("http://"), connection_timeout=30, network_timeout=60)
model = "triton"
import_model(url, token, model)
data = rows(8)


def infer(array, datatype, binary_input, binary_output=False, outputs="named", compression=None):
    tensor = httpclient.InferInput("input", list(array.shape), datatype)
    tensor.set_data_from_numpy(array, binary_data=binary_input)
    requested = None if outputs is None else [httpclient.InferRequestedOutput("predict", binary_data=binary_output)]
    result = client.infer(model, [tensor], outputs=requested, headers=headers,
                          request_compression_algorithm=compression)
    return result, result.as_numpy("predict")


def agree(got, instances, relative, what):
    want = predict(url, token, model, instances)
    check(got is not None and len(got) == len(want), f"{what}: {got} has not {len(want)} predictions")
    for index, (g, w) in enumerate(zip(got.tolist(), want)):
        check(close(g, w, relative), f"{what}: row {index} predicted {g}, /predict says {w}")


def as_float32(instances):
    """The rows as the server sees FP32 data: each value rounded to float32 and back."""
    return [[None if v is None else float(np.float32(v)) for v in row] for row in instances]


if mode == "json":
    check(client.is_server_live(headers=headers), "is_server_live is false")
    check(client.is_server_ready(headers=headers), "is_server_ready is false")
    server = client.get_server_metadata(headers=headers)
    check(server.get("name") == "xalorra" and isinstance(server.get("extensions"), list), f"server metadata {server}")
    metadata = client.get_model_metadata(model, headers=headers)
    check(metadata["name"] == model and metadata["outputs"][0]["name"] == "predict", f"model metadata {metadata}")
    check(client.is_model_ready(model, headers=headers), "is_model_ready is false for a stored model")
    # An unknown name is the baseline model (ready); a version that does not exist is not ready (a 404).
    check(not client.is_model_ready(model, model_version="99", headers=headers), "a missing version is ready")
    result, got = infer(np.array(data, dtype=np.float64), "FP64", binary_input=False)
    check(result.get_output("predict").get("data") is not None, "the JSON answer has no data")
    agree(got, data, 1e-12, "JSON FP64")
    _, got = infer(np.array(data, dtype=np.float32), "FP32", binary_input=False)
    agree(got, as_float32(data), 1e-6, "JSON FP32")
    try:
        tensor = httpclient.InferInput("input", [1, 3], "FP64")
        tensor.set_data_from_numpy(np.array([[1, 2, 3]], dtype=np.float64), binary_data=False)
        client.infer(model, [tensor], model_version="99", headers=headers)
        check(False, "inference with a missing version succeeded")
    except InferenceServerException as error:
        check(error.status() == "404" and "no version 99" in error.message(), f"missing version: {error}")
elif mode == "binary":
    server = client.get_server_metadata(headers=headers)
    check("binary_tensor_data" in server.get("extensions", []), f"/v2 does not advertise binary_tensor_data: {server}")
    _, got = infer(np.array(data, dtype=np.float32), "FP32", binary_input=True)
    agree(got, as_float32(data), 1e-6, "binary FP32")
    _, got = infer(np.array(data, dtype=np.float64), "FP64", binary_input=True)
    agree(got, data, 1e-12, "binary FP64")
    # NaN has no JSON form: in binary data it is a missing value, which each tree sends its default way.
    missing = [[None, 0.25, -0.5], [0.3, None, None], [None, None, None]]
    array = np.array([[np.nan if v is None else v for v in row] for row in missing], dtype=np.float32)
    _, got = infer(array, "FP32", binary_input=True)
    agree(got, as_float32(missing), 1e-6, "binary FP32 with NaN")
    integers = [[1, 0, -1], [0, 1, 1]]
    _, got = infer(np.array(integers, dtype=np.int32), "INT32", binary_input=True)
    agree(got, integers, 1e-12, "binary INT32")
    _, got = infer(np.array(integers, dtype=np.int64), "INT64", binary_input=True)
    agree(got, integers, 1e-12, "binary INT64")
elif mode == "binary-output":
    for outputs in ("named", None):
        result, got = infer(np.array(data, dtype=np.float64), "FP64", binary_input=False, binary_output=True,
                            outputs=outputs)
        output = result.get_output("predict")
        check("binary_data_size" in output.get("parameters", {}) and "data" not in output,
              f"asked for binary output ({'named' if outputs else 'binary_data_output'}), got {output}")
        agree(got, data, 1e-6 if output["datatype"] == "FP32" else 1e-12, "binary output")
    result, got = infer(np.array(data, dtype=np.float32), "FP32", binary_input=True, binary_output=True)
    agree(got, as_float32(data), 1e-6, "binary in and out")
elif mode == "gzip":
    for algorithm in ("gzip", "deflate"):
        _, got = infer(np.array(data, dtype=np.float64), "FP64", binary_input=False, compression=algorithm)
        agree(got, data, 1e-12, f"{algorithm} JSON request")
else:
    check(False, f"unknown mode {mode}")
print(f"triton {mode}: ok")
