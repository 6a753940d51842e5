#!/usr/bin/env python3
"""WebSocket push latency of `xalorra serve` (issue 3: p99 <= 10 ms at 1,000 predictions/s).

One process subscribes to GET /ws/predictions; another sends POST /predict/{model} at a fixed rate over keep-alive
connections, each with a unique sequence number as its first feature. Latency is the time from the moment the
request was written to the socket until the subscriber held the pushed message: an upper bound of the push delay,
as it includes the request's own handling and commit. Both processes read CLOCK_MONOTONIC, which is system-wide.

Standard library only (a minimal RFC 6455 client), so that the bench needs nothing installed.

    bench/ws_latency.py --url http://127.0.0.1:8001 --token T [--rate 1000] [--seconds 10] [--connections 8]
"""
import argparse
import asyncio
import base64
import json
import multiprocessing
import os
import socket
import struct
import time
import urllib.parse


def ws_connect(host, port, path, token):
    sock = socket.create_connection((host, port))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    key = base64.b64encode(os.urandom(16)).decode()
    request = (
        f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\nAuthorization: Bearer {token}\r\n\r\n"
    )
    sock.sendall(request.encode())
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = sock.recv(4096)
        if not chunk:
            raise SystemExit("the server closed the connection during the WebSocket handshake")
        head += chunk
    status_line = head.split(b"\r\n", 1)[0]
    if b" 101 " not in status_line:
        raise SystemExit(f"upgrade refused: {head.decode(errors='replace')}")
    return sock, head.split(b"\r\n\r\n", 1)[1]


def subscriber(host, port, path, token, ready, results, stop_after):
    """Reads text frames until `stop_after` seconds pass with nothing new; answers pings."""
    sock, buffered = ws_connect(host, port, path, token)
    ready.set()
    received = []
    data = bytearray(buffered)
    sock.settimeout(stop_after)

    def need(count):
        while len(data) < count:
            chunk = sock.recv(65536)
            if not chunk:
                raise EOFError
            data.extend(chunk)

    try:
        while True:
            need(2)
            opcode = data[0] & 0x0F
            length = data[1] & 0x7F
            offset = 2
            if length == 126:
                need(4)
                length = struct.unpack(">H", data[2:4])[0]
                offset = 4
            elif length == 127:
                need(10)
                length = struct.unpack(">Q", data[2:10])[0]
                offset = 10
            need(offset + length)
            payload = bytes(data[offset:offset + length])
            del data[:offset + length]
            now = time.monotonic_ns()
            if opcode == 0x1:
                received.append((now, payload))
            elif opcode == 0x9:  # ping: answer with a masked pong carrying the same payload
                mask = os.urandom(4)
                masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
                sock.sendall(bytes([0x8A, 0x80 | len(payload)]) + mask + masked)
            elif opcode == 0x8:
                break
    except (socket.timeout, EOFError):
        pass
    results.put([(t, json.loads(p)["input"][0]) for t, p in received])


async def load(host, port, model, token, rate, seconds, connections):
    """Sends rate*seconds predictions on a fixed schedule; returns {seq: send time} and the error count."""
    sent, answered, errors, lags = {}, {}, [0], []
    idle = asyncio.Queue()
    for _ in range(connections):
        reader, writer = await asyncio.open_connection(host, port)
        writer.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        idle.put_nowait((reader, writer))

    async def one(seq, conn):
        reader, writer = conn
        body = json.dumps({"features": [seq, 1.5, 2.5]}).encode()
        writer.write(
            f"POST /predict/{model} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n".encode() + body)
        sent[seq] = time.monotonic_ns()
        head = await reader.readuntil(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n"):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":")[1])
        await reader.readexactly(length)
        answered[seq] = time.monotonic_ns()
        if b" 200 " not in head.split(b"\r\n", 1)[0]:
            errors[0] += 1
        idle.put_nowait(conn)

    total = int(rate * seconds)
    start = time.monotonic()
    tasks = []
    for seq in range(total):
        target = start + seq / rate
        delay = target - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        conn = await idle.get()
        lags.append(time.monotonic() - target)
        tasks.append(asyncio.create_task(one(seq, conn)))
    await asyncio.gather(*tasks)
    elapsed = time.monotonic() - start
    responses = sorted((answered[seq] - sent[seq]) / 1e6 for seq in answered)
    return sent, responses, errors[0], total / elapsed, sorted(lags)


def percentile(values, q):
    return values[min(len(values) - 1, int(q * len(values)))]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--model", default="ws-bench")
    parser.add_argument("--rate", type=float, default=1000)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--connections", type=int, default=8)
    args = parser.parse_args()
    url = urllib.parse.urlparse(args.url)
    host, port = url.hostname, url.port or 80

    ready, results = multiprocessing.Event(), multiprocessing.Queue()
    sub = multiprocessing.Process(
        target=subscriber, args=(host, port, f"/ws/predictions?model={args.model}", args.token, ready, results, 2.0))
    sub.start()
    if not ready.wait(10):
        raise SystemExit("the subscriber did not connect")
    time.sleep(0.3)  # the server subscribes to its feed as the socket's handler starts
    sent, responses, errors, achieved, lags = asyncio.run(
        load(host, port, args.model, args.token, args.rate, args.seconds, args.connections))
    received = results.get(timeout=60)
    sub.join()

    latencies = sorted((t - sent[seq]) / 1e6 for t, seq in received if seq in sent)
    missing = len(sent) - len(latencies)
    if not latencies:
        raise SystemExit("no prediction reached the subscriber")
    print(f"sent {len(sent)} predictions at {achieved:.0f}/s (target {args.rate:.0f}/s, {args.connections} connections,"
          f" schedule lag p99 {percentile(lags, 0.99) * 1e3:.2f} ms), {errors} non-200 answers")
    print(f"pushed to the WebSocket subscriber: {len(latencies)}, missing {missing}")
    print("latency from request written to message received (ms): "
          f"p50 {percentile(latencies, 0.5):.2f}  p90 {percentile(latencies, 0.9):.2f}  "
          f"p99 {percentile(latencies, 0.99):.2f}  max {latencies[-1]:.2f}  (target p99 <= 10 ms)")
    print("for comparison, the HTTP answer to the same requests (ms): "
          f"p50 {percentile(responses, 0.5):.2f}  p90 {percentile(responses, 0.9):.2f}  "
          f"p99 {percentile(responses, 0.99):.2f}  max {responses[-1]:.2f}")
    if missing or errors:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
