// api.js — the bridge's own API, called with the signed-in token. The token lives in this
// tab's sessionStorage and travels only in the Authorization header, never in a URL.

const KEY = "lighthouse.token";

export function getToken() { return sessionStorage.getItem(KEY); }
export function setToken(t) { sessionStorage.setItem(KEY, t); }
export function dropToken() { sessionStorage.removeItem(KEY); }

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

// fetch JSON from path (same origin). Throws ApiError with the bridge's error code and
// message for a non-2xx reply, or status 0 when the bridge cannot be reached.
export async function api(path, { method = "GET", body, token = getToken(), signal } = {}) {
  const headers = { Accept: "application/json" };
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let res;
  try {
    res = await fetch(path, {
      method, headers, signal, cache: "no-store", credentials: "omit", referrerPolicy: "no-referrer",
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (e) {
    if (e.name === "AbortError") throw e;
    throw new ApiError(0, "unreachable", `the bridge cannot be reached: ${e.message}`);
  }
  let j = null;
  try { j = await res.json(); } catch { /* not JSON */ }
  if (!res.ok) {
    const err = j && j.error ? j.error : {};
    throw new ApiError(res.status, err.code || `http_${res.status}`, err.message || `HTTP ${res.status}`);
  }
  return j;
}

// Read a Server-Sent Events stream with fetch, so the Authorization header is sent
// (EventSource cannot send it). onEvent({id, event, data}) for each event with its data
// parsed as JSON. Resolves when the stream ends; rejects on an HTTP error or abort.
export async function readStream(path, onEvent, { token = getToken(), signal, onOpen } = {}) {
  const res = await fetch(path, {
    headers: { Accept: "text/event-stream", Authorization: `Bearer ${token}` },
    signal, cache: "no-store", credentials: "omit", referrerPolicy: "no-referrer",
  });
  if (!res.ok || !res.body) {
    let msg = `HTTP ${res.status}`;
    try { const j = await res.json(); if (j.error) msg = j.error.message; } catch { /* not JSON */ }
    throw new ApiError(res.status, "stream", msg);
  }
  if (onOpen) onOpen();
  const reader = res.body.getReader();
  const dec = new TextDecoder();
  let buf = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buf += dec.decode(value, { stream: true });
    let cut;
    while ((cut = buf.indexOf("\n\n")) >= 0) {
      const block = buf.slice(0, cut);
      buf = buf.slice(cut + 2);
      const ev = { id: null, event: "message", data: "" };
      for (const line of block.split("\n")) {
        if (line.startsWith(":")) continue;
        const i = line.indexOf(":");
        const field = i < 0 ? line : line.slice(0, i);
        const val = i < 0 ? "" : line.slice(i + 1).replace(/^ /, "");
        if (field === "event") ev.event = val;
        else if (field === "data") ev.data += (ev.data ? "\n" : "") + val;
        else if (field === "id") ev.id = val;
      }
      if (!ev.data) continue;
      try { ev.data = JSON.parse(ev.data); } catch { /* keep the text */ }
      onEvent(ev);
    }
  }
}
