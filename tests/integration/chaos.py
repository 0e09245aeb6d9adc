#!/usr/bin/env python3
"""chaos.py — load and socket helpers for tests/integration/chaos_*.sh (not a test itself).

  load URL_FILE TOKEN OUT STOP_FILE [CONNS]
      CONNS threads (default 4), each a keep-alive connection POSTing decisions to
      /v1/validate until STOP_FILE exists. URL_FILE holds the bridge's base URL and is
      re-read after every connection error (a restarted bridge may listen elsewhere). One
      JSON line per attempt goes to OUT:
        {"k":"reply","status":200,"seq":S,"id":I,"decision":D,"n":N}   a decision
        {"k":"reply","status":503,"code":C,"json":true,"n":N}          an error reply
        {"k":"conn","err":"...","n":N}                                 no reply
      "json" says whether the body parsed as the API's JSON error format.
  acked OUT EXPORT
      Every 200 reply of OUT (its seq, id and decision) must be an event of EXPORT (the
      JSON lines of `lighthouse events export`). Prints a JSON summary; exit 1 on a loss.
  slowloris HOST PORT N HOLD_FILE STATE_FILE
      N connections each sending a request's headers one byte at a time (a byte every
      0.2 s), never finishing, until HOLD_FILE is removed. STATE_FILE gets "open K" once
      K connections are open, then "closed C" when the bridge closed C of them.
  flood HOST PORT N HOLD_FILE STATE_FILE
      N idle connections (connected, nothing sent) held until HOLD_FILE is removed.
      STATE_FILE gets "open K" (connect() succeeded for K).
  excess HOST PORT OUT TOKEN
      One connection that sends a whole decision request at once, then waits (up to 120 s,
      a hang guard) for a reply or the close. OUT gets "reply STATUS", "closed" (EOF or
      reset without a reply) or "connect-error ERR".
  oneshot URL TOKEN
      One decision; prints the status and the body (for a normal client).
  burst URL TOKEN N
      N decisions back to back on one keep-alive connection; prints "OK THROTTLED OTHER"
      (counts of 200, 429 with the JSON error rate_limited, anything else).
"""
import http.client
import json
import os
import socket
import sys
import threading
import time
from urllib.parse import urlparse


def decision_body(i):
    return json.dumps({"tool": "Bash", "input": {"command": "ls -la /tmp/chaos-%d" % i},
                       "cwd": "/tmp", "session": "chaos-%d" % (i % 16)})


def read_url(path):
    try:
        with open(path) as f:
            return f.read().strip()
    except OSError:
        return ""


def load(url_file, token, out, stop, conns):
    lock = threading.Lock()
    outf = open(out, "a", buffering=1)
    counter = [0]

    def emit(rec):
        with lock:
            outf.write(json.dumps(rec) + "\n")

    def worker(w):
        conn = None
        while not os.path.exists(stop):
            with lock:
                counter[0] += 1
                i = counter[0]
            try:
                if conn is None:
                    u = urlparse(read_url(url_file))
                    if not u.hostname:
                        raise OSError("no url yet")
                    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
                conn.request("POST", "/v1/validate", body=decision_body(i),
                             headers={"Authorization": "Bearer " + token,
                                      "Content-Type": "application/json"})
                r = conn.getresponse()
                body = r.read()
                rec = {"k": "reply", "status": r.status, "n": i}
                try:
                    j = json.loads(body)
                except ValueError:
                    j = None
                if r.status == 200 and isinstance(j, dict):
                    rec.update(seq=j.get("seq"), id=j.get("id"), decision=j.get("decision"))
                else:
                    ok = (isinstance(j, dict) and isinstance(j.get("error"), dict)
                          and isinstance(j["error"].get("code"), str)
                          and isinstance(j["error"].get("message"), str))
                    rec.update(json=ok, code=j["error"]["code"] if ok else None,
                               body=body[:200].decode("utf-8", "replace"))
                emit(rec)
                if r.status == 429:
                    time.sleep(0.05)   # throttled: do not spin
                elif r.status == 503:
                    time.sleep(0.01)   # the store is away: do not spin either
                if r.will_close:
                    conn.close()
                    conn = None
            except (OSError, http.client.HTTPException) as e:
                emit({"k": "conn", "err": type(e).__name__ + ": " + str(e)[:100], "n": i})
                if conn is not None:
                    conn.close()
                conn = None
                time.sleep(0.02)

    ts = [threading.Thread(target=worker, args=(w,)) for w in range(conns)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    outf.close()


def acked(out, export):
    events = {}
    with open(export) as f:
        for line in f:
            line = line.strip()
            if line:
                e = json.loads(line)
                events[e["seq"]] = e
    replies = codes = conns = 0
    acks = []
    bad_json = []
    with open(out) as f:
        for line in f:
            r = json.loads(line)
            if r["k"] == "conn":
                conns += 1
                continue
            replies += 1
            if r["status"] == 200:
                acks.append(r)
            elif not r.get("json"):
                bad_json.append(r)
            codes += 1 if r["status"] != 200 else 0
    missing = []
    for a in acks:
        e = events.get(a["seq"])
        data = e.get("data") if e else None
        if isinstance(data, str):
            data = json.loads(data)
        got = None
        if isinstance(data, dict):
            d = data.get("decision")
            got = d.get("decision") if isinstance(d, dict) else d
        if (e is None or e.get("id") != a["id"] or e.get("type") != "decision.made"
                or got != a["decision"]):
            missing.append(a)
    status = {}
    for line in open(out):
        r = json.loads(line)
        k = str(r.get("status", "conn"))
        status[k] = status.get(k, 0) + 1
    print(json.dumps({"acked": len(acks), "missing": len(missing), "replies": replies,
                      "errors": codes, "conn_errors": conns, "non_json_errors": len(bad_json),
                      "status": status, "events": len(events),
                      "first_missing": missing[:3], "first_non_json": bad_json[:3]}))
    return 1 if missing else 0


def write_state(path, text):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text + "\n")
    os.rename(tmp, path)


def hold_conns(host, port, n, hold, state, trickle):
    socks = []
    for _ in range(n):
        s = socket.socket()
        s.settimeout(2)
        try:
            s.connect((host, port))
        except OSError:
            s.close()
            break
        s.setblocking(False)
        socks.append(s)
    write_state(state, "open %d" % len(socks))
    head = (b"POST /v1/validate HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: "
            + b"a" * 100000)
    pos = [0] * len(socks)
    closed = set()
    while os.path.exists(hold):
        for k, s in enumerate(socks):
            if k in closed:
                continue
            try:
                if trickle:
                    s.send(head[pos[k]:pos[k] + 1])
                    pos[k] += 1
                got = s.recv(4096)
                if got == b"":
                    closed.add(k)
            except BlockingIOError:
                pass
            except OSError:
                closed.add(k)
        write_state(state, "open %d closed %d" % (len(socks), len(closed)))
        time.sleep(0.2)
    for s in socks:
        s.close()


def excess(host, port, out, token):
    s = socket.socket()
    s.settimeout(120)
    try:
        s.connect((host, port))
    except OSError as e:
        write_state(out, "connect-error " + str(e))
        return
    body = decision_body(0).encode()
    req = (b"POST /v1/validate HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer "
           + token.encode() + b"\r\nContent-Type: application/json\r\nContent-Length: "
           + str(len(body)).encode() + b"\r\nConnection: close\r\n\r\n" + body)
    try:
        s.sendall(req)
        got = s.recv(65536)
    except OSError as e:
        write_state(out, "closed " + type(e).__name__)
        return
    if got.startswith(b"HTTP/1.1 "):
        write_state(out, "reply " + got[9:12].decode())
    else:
        write_state(out, "closed")


def oneshot(url, token):
    u = urlparse(url)
    c = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
    c.request("POST", "/v1/validate", body=decision_body(1),
              headers={"Authorization": "Bearer " + token, "Content-Type": "application/json"})
    r = c.getresponse()
    print(r.status, r.read().decode("utf-8", "replace"))


def burst(url, token, n):
    u = urlparse(url)
    c = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
    ok = throttled = other = 0
    for i in range(n):
        c.request("POST", "/v1/validate", body=decision_body(i),
                  headers={"Authorization": "Bearer " + token, "Content-Type": "application/json"})
        r = c.getresponse()
        body = r.read()
        if r.status == 200:
            ok += 1
        elif r.status == 429 and b'"rate_limited"' in body:
            throttled += 1
        else:
            other += 1
        if r.will_close:
            c.close()
            c = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
    print(ok, throttled, other)


def main(a):
    if a[0] == "load":
        load(a[1], a[2], a[3], a[4], int(a[5]) if len(a) > 5 else 4)
    elif a[0] == "acked":
        return acked(a[1], a[2])
    elif a[0] in ("slowloris", "flood"):
        hold_conns(a[1], int(a[2]), int(a[3]), a[4], a[5], a[0] == "slowloris")
    elif a[0] == "excess":
        excess(a[1], int(a[2]), a[3], a[4])
    elif a[0] == "burst":
        burst(a[1], a[2], int(a[3]))
    elif a[0] == "oneshot":
        oneshot(a[1], a[2])
    else:
        print(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
