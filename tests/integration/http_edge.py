#!/usr/bin/env python3
"""http_edge.py HOST PORT EVENTS_TOKEN CASE — one hostile-client case against a running bridge.

Used by bridge_http_edge.sh. Speaks raw HTTP/1.1 over sockets and prints one line,
`status=<code> heads=<n> json=<0|1> closed=<0|1>` for single-request cases, or
`answered=<k> of <n>` for the half-close cases. Waits for events (a reply, a close),
never for a clock except a generous overall timeout per socket (10 s).
"""
import json
import socket
import sys
import time

HOST, PORT, TOKEN, CASE = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
TIMEOUT = 10.0


def conn():
    s = socket.create_connection((HOST, PORT), timeout=TIMEOUT)
    return s


def read_all(s):
    """Everything the server sends until it closes, or until the overall timeout."""
    buf = b""
    try:
        while True:
            d = s.recv(65536)
            if not d:
                return buf, 1
            buf += d
    except socket.timeout:
        return buf, 0
    except ConnectionResetError:
        return buf, 1


def read_reply(s):
    """One reply: its header block and Content-Length bytes of body (or until close)."""
    buf = b""
    closed = 0
    try:
        while b"\r\n\r\n" not in buf:
            d = s.recv(65536)
            if not d:
                closed = 1
                break
            buf += d
        if b"\r\n\r\n" in buf:
            head, _, body = buf.partition(b"\r\n\r\n")
            cl = None
            for line in head.split(b"\r\n")[1:]:
                k, _, v = line.partition(b":")
                if k.strip().lower() == b"content-length":
                    cl = int(v.strip())
            while cl is not None and len(body) < cl and not closed:
                d = s.recv(65536)
                if not d:
                    closed = 1
                    break
                buf += d
                body += d
    except socket.timeout:
        pass
    except ConnectionResetError:
        closed = 1
    return buf, closed


def summary(buf, closed):
    status = 0
    heads = buf.count(b"HTTP/1.")
    json_ok = 0
    if buf.startswith(b"HTTP/1."):
        status = int(buf.split(b" ", 2)[1])
        head, _, body = buf.partition(b"\r\n\r\n")
        try:
            doc = json.loads(body.decode("utf-8"))
            e = doc.get("error", {})
            json_ok = int(isinstance(e.get("code"), str) and isinstance(e.get("message"), str)
                          and b"application/json" in head.lower())
        except (ValueError, AttributeError, UnicodeDecodeError):
            json_ok = 0
    print("status=%d heads=%d json=%d closed=%d" % (status, heads, json_ok, closed))


def single(raw):
    s = conn()
    s.sendall(raw)
    buf, closed = read_all(s)
    s.close()
    summary(buf, closed)


def halfclose_rounds(n):
    """n requests, each sent whole and then shutdown(SHUT_WR); count the ones answered."""
    answered = 0
    for _ in range(n):
        s = conn()
        s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        s.shutdown(socket.SHUT_WR)
        # The reply, not the close: MHD may keep a half-closed connection until its timeout.
        buf, _ = read_reply(s)
        s.close()
        if buf.startswith(b"HTTP/1.1 200"):
            answered += 1
    print("answered=%d of %d" % (answered, n))


case = CASE
if case == "halfclose-stuck":
    stuck = []
    for _ in range(10):
        s = conn()
        s.sendall(b"POST /v1/validate HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        stuck.append(s)
    halfclose_rounds(50)
    for s in stuck:
        s.close()
elif case == "halfclose-stream":
    st = conn()
    st.sendall(("GET /v1/events/stream HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n\r\n" % TOKEN).encode())
    first = st.recv(4096)  # the stream's header block: it is open
    if not first.startswith(b"HTTP/1.1 200"):
        print("stream did not open: %r" % first[:80])
        sys.exit(0)
    halfclose_rounds(30)
    st.close()
elif case == "halfclose-plain":
    halfclose_rounds(20)
elif case == "headers-7000":
    single(b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\nX-Pad: " + b"a" * 7000 + b"\r\n\r\n")
elif case == "headers-8200":
    single(b"GET /health HTTP/1.1\r\nHost: x\r\nX-Pad: " + b"a" * 8200 + b"\r\n\r\n")
elif case == "chunkext":
    single(b"POST /v1/validate HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + TOKEN.encode() +
           b"\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
           b"2;ext=" + b"a" * 100000 + b"\r\n{}\r\n0\r\n\r\n")
elif case == "cl-minus-one":
    single(b"POST /v1/validate HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + TOKEN.encode() +
           b"\r\nContent-Type: application/json\r\nContent-Length: -1\r\n\r\n{}")
elif case == "chunk-huge":
    single(b"POST /v1/validate HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + TOKEN.encode() +
           b"\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
           b"ffffffffffffffff\r\n{}")
elif case == "te-gzip-chunked":
    single(b"POST /v1/validate HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + TOKEN.encode() +
           b"\r\nContent-Type: application/json\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"
           b"2\r\n{}\r\n0\r\n\r\n")
elif case == "te-identity":
    single(b"POST /v1/validate HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + TOKEN.encode() +
           b"\r\nContent-Type: application/json\r\nTransfer-Encoding: identity\r\n\r\n{}")
elif case == "te-identity-get":
    single(b"GET /health HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: identity\r\n\r\n")
else:
    print("unknown case %s" % case)
    sys.exit(2)
