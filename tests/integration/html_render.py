#!/usr/bin/env python3
"""html_render.py REPORT.html SCREENSHOT.png — render a `lighthouse load` HTML report in
headless Chromium over the DevTools protocol (--remote-debugging-pipe: no port, no
network) and check it as a reader would see it. Prints one JSON object:

  console_errors   console errors, exceptions and log entries of level error
  charts           per chart id: polyline points and rects drawn
  clipped          text elements that stick out of their chart
  screenshot_bytes the size of the PNG written, and its width and height

Exit 0 when the page loaded (the checks are the caller's), 2 when Chromium could not be
driven. Used by tests/integration/load_html.sh."""
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile

CHARTS = ["latency", "histogram", "outcomes", "throughput", "tiers", "resources-cpu", "resources-memory"]

MEASURE = r"""
(() => {
  const out = {charts: {}, clipped: [], links: []};
  for (const svg of document.querySelectorAll('svg.chart')) {
    let points = 0;
    for (const p of svg.querySelectorAll('polyline'))
      points += (p.getAttribute('points') || '').trim().split(/\s+/).filter(Boolean).length;
    out.charts[svg.id] = {points, rects: svg.querySelectorAll('rect').length,
                          texts: svg.querySelectorAll('text').length};
    const box = svg.getBoundingClientRect();
    for (const t of svg.querySelectorAll('text')) {
      const r = t.getBoundingClientRect();
      if (r.width === 0) continue;
      if (r.left < box.left - 0.5 || r.right > box.right + 0.5 || r.top < box.top - 0.5 || r.bottom > box.bottom + 0.5)
        out.clipped.push(svg.id + ': ' + t.textContent);
    }
  }
  for (const a of document.querySelectorAll('a[href^="#"]'))
    out.links.push({text: a.textContent, target: a.getAttribute('href').slice(1),
                    exists: !!document.getElementById(a.getAttribute('href').slice(1))});
  out.height = document.documentElement.scrollHeight;
  return JSON.stringify(out);
})()
"""


class Pipe:
    """The DevTools protocol over Chromium's fds 3 (its input) and 4 (its output)."""

    def __init__(self, argv):
        to_r, self.to_w = os.pipe()
        self.from_r, from_w = os.pipe()

        def child():
            os.dup2(to_r, 3)
            os.dup2(from_w, 4)

        self.proc = subprocess.Popen(argv, pass_fds=(3, 4), preexec_fn=child,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(to_r)
        os.close(from_w)
        self.buf = b""
        self.next_id = 0
        self.events = []

    def send(self, method, params=None, session=None):
        self.next_id += 1
        msg = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        os.write(self.to_w, json.dumps(msg).encode() + b"\0")
        return self.next_id

    def read(self):
        while b"\0" not in self.buf:
            chunk = os.read(self.from_r, 1 << 16)
            if not chunk:
                raise RuntimeError("chromium closed the DevTools pipe")
            self.buf += chunk
        msg, self.buf = self.buf.split(b"\0", 1)
        return json.loads(msg)

    def call(self, method, params=None, session=None):
        want = self.send(method, params, session)
        while True:
            m = self.read()
            if m.get("id") == want:
                if "error" in m:
                    raise RuntimeError(f"{method}: {m['error']}")
                return m.get("result", {})
            self.events.append(m)

    def wait_event(self, name):
        for i, m in enumerate(self.events):
            if m.get("method") == name:
                del self.events[i]
                return m
        while True:
            m = self.read()
            if m.get("method") == name:
                return m
            self.events.append(m)


def png_size(data):
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        return 0, 0
    return struct.unpack(">II", data[16:24])


def main():
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    report, shot = os.path.abspath(sys.argv[1]), sys.argv[2]
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if not exe:
        print(json.dumps({"error": "chromium is not installed (scripts/deps.sh installs it)"}))
        return 2
    profile = tempfile.mkdtemp(prefix="lh-chromium-")
    argv = [exe, "--headless=new", "--remote-debugging-pipe", "--no-sandbox", "--disable-gpu",
            "--no-first-run", "--no-default-browser-check", "--disable-extensions",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--disable-dev-shm-usage", "--proxy-server=127.0.0.1:9", "--user-data-dir=" + profile, "about:blank"]
    cdp = Pipe(argv)
    try:
        target = cdp.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = cdp.call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        for domain in ("Page", "Runtime", "Log"):
            cdp.call(domain + ".enable", session=session)
        cdp.call("Emulation.setDeviceMetricsOverride",
                 {"width": 900, "height": 1200, "deviceScaleFactor": 1, "mobile": False}, session)
        cdp.call("Page.navigate", {"url": "file://" + report}, session)
        cdp.wait_event("Page.loadEventFired")
        res = cdp.call("Runtime.evaluate", {"expression": MEASURE, "returnByValue": True}, session)
        page = json.loads(res["result"]["value"])
        cdp.call("Emulation.setDeviceMetricsOverride",
                 {"width": 900, "height": min(int(page["height"]), 16000), "deviceScaleFactor": 1, "mobile": False},
                 session)
        img = cdp.call("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True}, session)
        import base64
        data = base64.b64decode(img["data"])
        with open(shot, "wb") as f:
            f.write(data)
        errors = []
        for m in cdp.events:
            meth, p = m.get("method"), m.get("params", {})
            if meth == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert"):
                errors.append("console: " + " ".join(str(a.get("value", a.get("description", ""))) for a in p.get("args", [])))
            elif meth == "Runtime.exceptionThrown":
                errors.append("exception: " + p.get("exceptionDetails", {}).get("text", ""))
            elif meth == "Log.entryAdded" and p.get("entry", {}).get("level") == "error":
                errors.append("log: " + p["entry"].get("text", ""))
        w, h = png_size(data)
        print(json.dumps({"console_errors": errors, "charts": page["charts"], "clipped": page["clipped"],
                          "links": page["links"], "screenshot_bytes": len(data), "width": w, "height": h}))
        try:
            cdp.call("Browser.close")
        except RuntimeError:
            pass
        return 0
    except (RuntimeError, KeyError, ValueError, OSError) as e:
        print(json.dumps({"error": f"could not drive chromium: {e}"}))
        return 2
    finally:
        try:
            cdp.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            cdp.proc.kill()
            cdp.proc.wait()
        shutil.rmtree(profile, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
