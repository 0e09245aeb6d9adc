#!/usr/bin/env python3
"""fake_llm.py — a local stand-in for a model API, for the tests of `lighthouse expert llm`
(tests/integration/expert_llm.sh). Python 3 standard library only; it listens on 127.0.0.1.

It speaks the two APIs the expert uses, whole and streamed (SSE):
  POST /v1/chat/completions   OpenAI-compatible chat completions
  POST /v1/messages           Anthropic Messages (x-api-key, anthropic-version)

Usage: fake_llm.py --scenarios FILE --port-file FILE --log FILE [--api-key KEY]

Each request it answers takes the next step of the scenarios FILE, a JSON array read again
at every request; when the file's content changes, the count starts again at its first
step. A step past the end of the array is answered 500 ("no scenario left"). A step:
  {"reply": "verdict", "decision": "allow", "reason": "..."}   a good verdict
  {"reply": "text", "text": "..."}                              any answer text (malformed)
  {"reply": "refusal", "text": "..."}                           OpenAI refusal / Anthropic stop_reason refusal
  {"reply": "status", "status": 429, "retry_after": "1"}        an error status (429, 500, ...)
  {"reply": "big", "bytes": N}                                  a 200 reply of N bytes (a JSON string)
and any step may add "sleep": SECONDS (wait before answering: a slow model).

A request that the real API would refuse (no model, no messages, a wrong or missing key
when --api-key is given, no anthropic-version, no max_tokens for Anthropic) is answered
400, so a client that sends it wrong fails its test. Every request is appended to the log
FILE as a JSON line: n, path, model, stream, step, prompt, the headers that matter (with
the key only as "key_ok"), and response_format.
"""
import argparse
import hashlib
import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MAX_BODY = 4 << 20

lock = threading.Lock()
state = {"hash": None, "count": 0, "n": 0}
args = None


def next_step():
    """The step for this request, from the scenarios file as it is now."""
    with open(args.scenarios, "rb") as f:
        raw = f.read()
    h = hashlib.sha256(raw).hexdigest()
    with lock:
        if h != state["hash"]:
            state["hash"], state["count"] = h, 0
        i = state["count"]
        state["count"] += 1
        state["n"] += 1
        n = state["n"]
    steps = json.loads(raw)
    return n, (steps[i] if i < len(steps) else None)


def log(entry):
    with lock:
        with open(args.log, "a") as f:
            f.write(json.dumps(entry) + "\n")


def pieces(text, size=7):
    return [text[i:i + size] for i in range(0, len(text), size)] or [""]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"   # the body ends when the connection closes (streams too)

    def log_message(self, *a):
        pass

    def send_json(self, status, obj, extra=None):
        body = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def api_error(self, status, message, extra=None):
        if self.path.endswith("/messages"):
            obj = {"type": "error", "error": {"type": "api_error", "message": message}}
        else:
            obj = {"error": {"message": message, "type": "api_error", "code": status}}
        self.send_json(status, obj, extra)

    def sse(self, events):
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.end_headers()
        for name, data in events:
            out = ""
            if name:
                out += "event: %s\n" % name
            out += "data: %s\n\n" % (data if isinstance(data, str) else json.dumps(data))
            self.wfile.write(out.encode())
            self.wfile.flush()

    def do_POST(self):
        anthropic = self.path == "/v1/messages"
        if self.path not in ("/v1/chat/completions", "/v1/messages"):
            return self.send_json(404, {"error": {"message": "no route " + self.path}})
        length = int(self.headers.get("Content-Length") or 0)
        if length <= 0 or length > MAX_BODY:
            return self.api_error(400, "a body of 1..4 MiB is required")
        try:
            req = json.loads(self.rfile.read(length))
        except ValueError:
            return self.api_error(400, "the body is not JSON")
        if anthropic:
            key = self.headers.get("x-api-key")
            version_ok = bool(self.headers.get("anthropic-version"))
        else:
            auth = self.headers.get("Authorization") or ""
            key = auth[7:] if auth.startswith("Bearer ") else None
            version_ok = True
        key_ok = key == args.api_key if args.api_key else key is None
        msgs = req.get("messages")
        prompt = msgs[0].get("content") if isinstance(msgs, list) and msgs and isinstance(msgs[0], dict) else None
        stream = req.get("stream") is True
        entry = {"path": self.path, "model": req.get("model"), "stream": stream, "prompt": prompt,
                 "key_ok": key_ok, "anthropic_version": self.headers.get("anthropic-version"),
                 "response_format": req.get("response_format"), "max_tokens": req.get("max_tokens")}
        why = None
        if not key_ok:
            why = (401, "invalid API key")
        elif not version_ok:
            why = (400, "anthropic-version header is required")
        elif not isinstance(req.get("model"), str) or not req["model"]:
            why = (400, "model is required")
        elif not isinstance(prompt, str):
            why = (400, "messages[0].content must be a string")
        elif anthropic and not isinstance(req.get("max_tokens"), int):
            why = (400, "max_tokens is required")
        if why:
            entry["step"] = None
            entry["refused"] = why[1]
            log(entry)
            return self.api_error(why[0], why[1])
        n, step = next_step()
        entry["n"], entry["step"] = n, step
        log(entry)
        if step is None:
            return self.api_error(500, "fake_llm: no scenario left")
        if step.get("sleep"):
            time.sleep(float(step["sleep"]))
        try:
            self.answer(step, anthropic, stream, req["model"])
        except (BrokenPipeError, ConnectionResetError):
            pass   # the client gave up (a slow step): nothing to do

    def answer(self, step, anthropic, stream, model):
        kind = step.get("reply")
        if kind == "status":
            extra = {"Retry-After": str(step["retry_after"])} if "retry_after" in step else None
            return self.api_error(int(step["status"]), step.get("message", "fake_llm: status %s" % step["status"]), extra)
        if kind == "big":   # a reply body larger than any bound the client should accept
            n = int(step["bytes"])
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(n + 2))
            self.end_headers()
            self.wfile.write(b'"' + b"x" * n + b'"')
            return
        refusal = kind == "refusal"
        if kind == "verdict":
            text = json.dumps({"decision": step["decision"], "reason": step["reason"]})
        else:
            text = step.get("text", "")
        if anthropic:
            return self.anthropic(text, refusal, stream, model)
        return self.openai(text, refusal, stream, model)

    def openai(self, text, refusal, stream, model):
        if not stream:
            msg = {"role": "assistant", "content": None if refusal else text, "refusal": text if refusal else None}
            return self.send_json(200, {"id": "chatcmpl-fake", "object": "chat.completion", "created": 0,
                                        "model": model, "choices": [{"index": 0, "message": msg, "finish_reason": "stop"}],
                                        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}})
        def chunk(delta, finish=None):
            return (None, {"id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": 0, "model": model,
                           "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]})
        events = [chunk({"role": "assistant", "content": ""})]
        events += [chunk({"refusal" if refusal else "content": p}) for p in pieces(text)]
        events += [chunk({}, "stop"), (None, "[DONE]")]
        self.sse(events)

    def anthropic(self, text, refusal, stream, model):
        usage = {"input_tokens": 1, "output_tokens": 1}
        if not stream:
            content = [] if refusal else [{"type": "text", "text": text}]
            return self.send_json(200, {"id": "msg_fake", "type": "message", "role": "assistant", "model": model,
                                        "content": content, "stop_reason": "refusal" if refusal else "end_turn",
                                        "stop_sequence": None, "usage": usage})
        events = [("message_start", {"type": "message_start", "message": {
            "id": "msg_fake", "type": "message", "role": "assistant", "model": model, "content": [],
            "stop_reason": None, "stop_sequence": None, "usage": usage}})]
        if not refusal:
            events.append(("content_block_start", {"type": "content_block_start", "index": 0,
                                                   "content_block": {"type": "text", "text": ""}}))
            events.append(("ping", {"type": "ping"}))
            events += [("content_block_delta", {"type": "content_block_delta", "index": 0,
                                                "delta": {"type": "text_delta", "text": p}}) for p in pieces(text)]
            events.append(("content_block_stop", {"type": "content_block_stop", "index": 0}))
        events.append(("message_delta", {"type": "message_delta", "delta": {
            "stop_reason": "refusal" if refusal else "end_turn", "stop_sequence": None}, "usage": {"output_tokens": 1}}))
        events.append(("message_stop", {"type": "message_stop"}))
        self.sse(events)


def main():
    global args
    p = argparse.ArgumentParser()
    p.add_argument("--scenarios", required=True)
    p.add_argument("--port-file", required=True)
    p.add_argument("--log", required=True)
    p.add_argument("--api-key")
    args = p.parse_args()
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    tmp = args.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write(str(srv.server_address[1]))
    os.rename(tmp, args.port_file)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
