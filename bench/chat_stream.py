#!/usr/bin/env python3
"""Added latency of a streamed chat reply: backend chunk sent -> text printed by `xalorra chat`.

Starts a stub OpenAI-compatible server (standard library) that streams CHUNKS words, one every INTERVAL ms, and
records when it wrote each; runs `xalorra chat --url SERVER` (the server's XALORRA_CHAT_URL points at the stub) with
stdout on a pipe, and records when each word arrives. Both clocks are CLOCK_MONOTONIC in this process.

    bench/chat_stream.py --bin XALORRA --url http://127.0.0.1:PORT --token T --stub-port P [--chunks 50] [--interval 20]
"""
import argparse
import http.server
import json
import os
import select
import subprocess
import threading
import time

sent = {}


def make_handler(chunks, interval):
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def do_GET(self):
            body = b'{"data":[]}'
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self):
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Connection", "close")
            self.end_headers()
            for i in range(chunks):
                time.sleep(interval / 1000)
                word = f"w{i} "
                chunk = {"choices": [{"delta": {"content": word}}]}
                self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                self.wfile.flush()
                sent[f"w{i}"] = time.monotonic_ns()
            self.wfile.write(b"data: [DONE]\n\n")
            self.wfile.flush()
            self.close_connection = True

    return Handler


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bin", required=True)
    parser.add_argument("--url", required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--stub-port", type=int, required=True)
    parser.add_argument("--chunks", type=int, default=50)
    parser.add_argument("--interval", type=float, default=20)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    stub = http.server.ThreadingHTTPServer(("127.0.0.1", args.stub_port), make_handler(args.chunks, args.interval))
    threading.Thread(target=stub.serve_forever, daemon=True).start()
    if args.stub_port == 0:
        raise SystemExit("give a fixed --stub-port: the server must be told where the stub is before it starts")

    delays = []
    for _ in range(args.rounds):
        sent.clear()
        arrived = {}
        process = subprocess.Popen(
            [args.bin, "chat", "--url", args.url, "--token", args.token, "stream please"],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        buffer = b""
        fd = process.stdout.fileno()
        while True:
            ready, _, _ = select.select([fd], [], [], 10)
            if not ready:
                break
            data = os.read(fd, 65536)
            if not data:
                break
            now = time.monotonic_ns()
            buffer += data
            for word in buffer.decode(errors="replace").split():
                arrived.setdefault(word, now)
        process.wait()
        for word, at in arrived.items():
            if word in sent:
                delays.append((at - sent[word]) / 1e6)
    delays.sort()
    if not delays:
        raise SystemExit("no chunk reached the CLI")
    pick = lambda q: delays[min(len(delays) - 1, int(q * len(delays)))]
    print(f"{len(delays)} chunks over {args.rounds} replies ({args.chunks} chunks, one every {args.interval:.0f} ms)")
    print(f"added latency backend -> server -> CLI stdout (ms): p50 {pick(0.5):.2f}  p90 {pick(0.9):.2f}  "
          f"p99 {pick(0.99):.2f}  max {delays[-1]:.2f}  (target < 5 ms per chunk)")
    stub.shutdown()


if __name__ == "__main__":
    main()
