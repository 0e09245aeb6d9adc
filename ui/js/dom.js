// dom.js — building the page from data as text only. Nothing here (or anywhere in the
// console) parses data as HTML: every value from the bridge becomes a text node, so a command
// such as `<img onerror=...>` is shown, never run.

// el("td", {class: "deny"}, "text", otherNode, ...): attributes by setAttribute, children
// strings as text nodes; null and undefined children are skipped.
export function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    e.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children.flat()) {
    if (c === undefined || c === null) continue;
    e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return e;
}

export function $(id) { return document.getElementById(id); }

export function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); }

export function setText(node, text) { node.textContent = text == null ? "" : String(text); }

// Nanoseconds since the epoch as an ISO time (ms precision is enough to read).
export function isoTime(ns) {
  if (typeof ns !== "number" || !isFinite(ns) || ns <= 0) return "";
  return new Date(Math.floor(ns / 1e6)).toISOString().replace("T", " ").replace("Z", "");
}

// A short "in 12 s" / "2 s ago" for a deadline in ns since the epoch.
export function timeLeft(ns) {
  if (typeof ns !== "number" || ns <= 0) return "";
  const s = Math.round(ns / 1e6 - Date.now()) / 1000;
  return s >= 0 ? `${Math.ceil(s)} s left` : `passed ${Math.floor(-s)} s ago`;
}

// One-line summary of a request or a decision.made event's data.
export function summary(d) {
  if (!d || typeof d !== "object") return "";
  if (typeof d.command === "string") return d.command;
  const input = d.input && typeof d.input === "object" ? d.input : d;
  for (const k of ["command", "file_path", "notebook_path", "path", "url", "pattern"])
    if (typeof input[k] === "string") return `${d.tool || ""} ${input[k]}`.trim();
  return d.tool || "";
}
