#!/usr/bin/env python3
"""perfgate_client.py — the fixed client batch of scripts/perfgate.sh's bridge figure.

    perfgate_client.py HOST PORT TOKEN MIX.jsonl WARMUP N PID

On one keep-alive connection it posts the requests of MIX (bench/perf-mix.jsonl) to
POST /v1/validate round-robin, one at a time (each reply read before the next request is
sent, so the bridge does the same work in the same order every run): WARMUP requests,
then `callgrind_control -z PID` (zero the counters of the bridge running under callgrind),
then N requests, then `callgrind_control -d PID` (dump them). Each request goes out in a
single send, headers and body together. Any reply but 200 with a decision fails the run.
"""
import json
import socket
import subprocess
import sys


def read_reply(sock, buf):
    """Read one HTTP/1.1 reply with a Content-Length; returns (status, body, rest)."""
    while b"\r\n\r\n" not in buf:
        chunk = sock.recv(65536)
        if not chunk:
            raise RuntimeError("the bridge closed the connection")
        buf += chunk
    head, _, rest = buf.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    length = 0
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-length":
            length = int(value.strip())
    while len(rest) < length:
        chunk = sock.recv(65536)
        if not chunk:
            raise RuntimeError("the bridge closed the connection mid-reply")
        rest += chunk
    return status, rest[:length], rest[length:]


def post_many(sock, requests, count, token, host, port):
    buf = b""
    for i in range(count):
        body = requests[i % len(requests)]
        head = (f"POST /v1/validate HTTP/1.1\r\nHost: {host}:{port}\r\n"
                f"Authorization: Bearer {token}\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(body)}\r\n\r\n").encode()
        sock.sendall(head + body)
        status, reply, buf = read_reply(sock, buf)
        if status != 200 or "decision" not in json.loads(reply):
            raise RuntimeError(f"request {i}: HTTP {status}: {reply[:200]!r}")


def callgrind(op, pid):
    subprocess.run(["callgrind_control", op, str(pid)], check=True, stdout=subprocess.DEVNULL)


def main():
    if len(sys.argv) != 8:
        sys.exit(__doc__)
    host, port, token, mix, warmup, n, pid = sys.argv[1:]
    with open(mix, "rb") as f:
        requests = [line.rstrip(b"\n") for line in f if line.strip()]
    sock = socket.create_connection((host, int(port)))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    post_many(sock, requests, int(warmup), token, host, port)
    callgrind("-z", pid)
    post_many(sock, requests, int(n), token, host, port)
    callgrind("-d", pid)
    sock.close()


if __name__ == "__main__":
    try:
        main()
    except (OSError, RuntimeError, ValueError, subprocess.CalledProcessError) as e:
        sys.exit(f"perfgate_client: {e}")
