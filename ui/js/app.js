// app.js — the review console: sign-in, live decisions, pending escalations (allow or deny
// with a reason), the audit log, the SLA status and policy revisions with a diff.
// docs/review.md describes it; tests/ui/console.test.mjs drives it in headless Chromium.
import { api, ApiError, dropToken, getToken, readStream, setToken } from "./api.js";
import { $, clear, el, isoTime, setText, summary, timeLeft } from "./dom.js";
import { diffLines } from "./diff.js";

const LIVE_MAX = 200;        // rows kept in the live table
let session = null;          // {abort: AbortController} while signed in
let page = "live";
const decided = [];          // escalations decided while this page was open, newest first

// ---- sign-in ------------------------------------------------------------------------

const CAPS_KEY = "lighthouse.capabilities";
const HEARTBEAT_MS = 10000;  // the bridge's heartbeat interval is 15 s

// Register (again: a heartbeat) as an expert with the capabilities given at sign-in.
async function heartbeat(s) {
  const caps = JSON.parse(sessionStorage.getItem(CAPS_KEY) || "[]");
  if (!caps.length || session !== s) return;
  try {
    await api("/v1/experts/register", { method: "POST", body: { capabilities: caps }, signal: s.abort.signal });
  } catch (e) { reportError("esc-empty", e); }
}

async function signIn(token) {
  // /v1/status needs an expert or admin token: it tells a bad token (401) from a builder's (403).
  try {
    await api("/v1/status", { token });
  } catch (e) {
    if (e.status === 401) throw new Error(`The bridge refused this token: ${e.message}`);
    if (e.status === 403) throw new Error("This token's role may not use the console: sign in with an expert or admin token.");
    throw e;
  }
  setToken(token);
  const caps = $("caps").value.split(",").map((x) => x.trim()).filter(Boolean);
  sessionStorage.setItem(CAPS_KEY, JSON.stringify(caps));
  start();
}

function signOut() {
  dropToken();
  sessionStorage.removeItem(CAPS_KEY);
  if (session) { session.abort.abort(); clearInterval(session.timer); }
  session = null;
  for (const id of ["live-rows", "esc-list", "esc-done", "audit-rows", "status-list", "sla-list", "policy-rows", "diff-out"])
    clear($(id));
  decided.length = 0;
  $("nav").hidden = true;
  $("who").hidden = true;
  $("token").value = "";
  show("signin");
}

function start() {
  session = { abort: new AbortController() };
  $("nav").hidden = false;
  $("who").hidden = false;
  setText($("who-name"), "signed in");
  show(page === "signin" ? "live" : page);
  const s = session;
  heartbeat(s).then(() => refreshEscalations());
  s.timer = setInterval(() => heartbeat(s), HEARTBEAT_MS);
  runStream(s);
}

// ---- pages ----------------------------------------------------------------------------

function show(name) {
  page = name;
  for (const s of document.querySelectorAll(".page")) s.hidden = s.id !== `page-${name}`;
  for (const t of document.querySelectorAll(".tab")) {
    if (t.dataset.page === name) t.setAttribute("aria-current", "page");
    else t.removeAttribute("aria-current");
  }
  if (name === "escalations") refreshEscalations();
  if (name === "sla") refreshSla();
  if (name === "policy") refreshPolicy();
  if (name === "audit" && !$("audit-rows").firstChild) searchAudit(false);
}

function reportError(where, e) {
  if (e && e.name === "AbortError") return;
  if (e instanceof ApiError && e.status === 401) { signOut(); setText($("signin-error"), e.message); return; }
  setText($(where), e.message || String(e));
}

// ---- live decisions (the event stream) -----------------------------------------------

async function runStream(s) {
  let after = null;
  while (session === s) {
    setText($("stream-state"), "(connecting)");
    try {
      const q = after === null ? "" : `?after=${encodeURIComponent(after)}`;
      await readStream(`/v1/events/stream${q}`, (ev) => {
        if (ev.id !== null) after = ev.id;
        setText($("stream-state"), "(live)");
        onEvent(ev.event, ev.data);
      }, { signal: s.abort.signal, onOpen: () => setText($("stream-state"), "(live)") });
    } catch (e) {
      if (e.name === "AbortError" || session !== s) return;
      if (e instanceof ApiError && e.status === 401) { reportError("signin-error", e); return; }
      setText($("stream-state"), `(stream lost: ${e.message}; retrying)`);
    }
    if (session !== s) return;
    await new Promise((r) => setTimeout(r, 2000));
  }
}

function onEvent(type, ev) {
  if (!ev || typeof ev !== "object") return;
  if (type === "decision.made") addLive(ev);
  if (typeof type === "string" && type.startsWith("escalation.")) {
    if (type === "escalation.decided" || type === "escalation.expired") noteDecided(type, ev);
    refreshEscalations();
  }
}

function addLive(ev) {
  const d = ev.data || {};
  const dec = d.decision || {};
  const row = el("tr", { "data-seq": ev.seq },
    el("td", {}, ev.seq), el("td", {}, isoTime(ev.time_ns)), el("td", {}, ev.agent),
    el("td", { class: dec.decision }, dec.decision), el("td", {}, dec.rule), el("td", {}, dec.tier),
    el("td", { class: "req" }, summary(d)));
  const body = $("live-rows");
  body.insertBefore(row, body.firstChild);
  while (body.childNodes.length > LIVE_MAX) body.removeChild(body.lastChild);
}

function noteDecided(type, ev) {
  const d = ev.data || {};
  decided.unshift({ id: d.id || ev.aggregate, decision: d.decision || d.action || "", by: d.decided_by || "timeout",
                    reason: d.reason || "", time_ns: ev.time_ns });
  decided.length = Math.min(decided.length, 20);
  const ul = $("esc-done");
  clear(ul);
  for (const x of decided)
    ul.append(el("li", { "data-id": x.id }, `${isoTime(x.time_ns)} ${x.id}: `,
      el("span", { class: x.decision }, x.decision), ` by ${x.by}`, x.reason ? ` (${x.reason})` : ""));
}

// ---- escalations ------------------------------------------------------------------------

let escInFlight = null;
function refreshEscalations() {
  if (!session) return;
  if (escInFlight) { escInFlight.again = true; return; }
  const run = { again: false };
  escInFlight = run;
  api("/v1/escalations?state=pending", { signal: session.abort.signal })
    .then((j) => renderEscalations(j.escalations || []))
    .catch((e) => reportError("esc-empty", e))
    .finally(() => { escInFlight = null; if (run.again) refreshEscalations(); });
}

function renderEscalations(list) {
  setText($("pending-count"), list.length);
  $("esc-empty").hidden = list.length > 0;
  const caps = JSON.parse(sessionStorage.getItem(CAPS_KEY) || "[]");
  setText($("esc-empty"), caps.length ? `Nothing is waiting for a verdict that needs ${caps.join(", ")}.`
    : "Nothing is waiting for a verdict. (An expert sees only the escalations whose capabilities it named at sign-in.)");
  const box = $("esc-list");
  // Keep the cards being typed into; drop the ones no longer pending; add new ones.
  const want = new Set(list.map((x) => x.id));
  for (const card of [...box.children]) if (!want.has(card.dataset.id)) card.remove();
  for (const x of list) {
    const old = box.querySelector(`[data-id="${CSS.escape(x.id)}"]`);
    if (old) { updateCard(old, x); continue; }
    box.append(card(x));
  }
}

function field(name, value) {
  return [el("dt", {}, name), el("dd", {}, value == null ? "" : value)];
}

function card(x) {
  const ctx = x.context || {};
  const cmd = ctx.command || summary(x.request) || "";
  const c = el("article", { class: "card escalation", "data-id": x.id });
  const verdicts = el("ul", { class: "verdicts" });
  const left = el("span", { class: "left" });
  c.append(
    el("h3", {}, el("span", { class: x.risk || "" }, `${x.rule || "(no rule)"} `), el("code", {}, x.id)),
    el("pre", { class: "command" }, cmd),
    el("dl", {},
      field("agent", `${x.agent || ""}${x.session ? ` (session ${x.session})` : ""}`),
      field("tool", x.tool || (x.request && x.request.tool)),
      field("cwd", x.request && x.request.cwd),
      field("reason", x.reason), field("risk", x.risk),
      field("capabilities", (x.capabilities || []).join(", ") || "none"),
      field("quorum", `${x.quorum || 1} (on timeout: ${x.on_timeout || "deny"})`),
      [el("dt", {}, "deadline"), el("dd", {}, left)]),
    el("h4", {}, "Verdicts so far"), verdicts);
  if (Array.isArray(ctx.commands) && ctx.commands.length)
    c.append(el("h4", {}, "Commands"), el("ul", {}, ctx.commands.map((k) =>
      el("li", {}, el("code", {}, [k.program, ...(k.args || [])].join(" "))))));
  if (Array.isArray(ctx.paths) && ctx.paths.length)
    c.append(el("h4", {}, "Paths"), el("ul", {}, ctx.paths.map((p) => el("li", {}, `${p.path} (${p.class})`))));
  if (Array.isArray(ctx.findings) && ctx.findings.length)
    c.append(el("h4", {}, "Findings"), el("ul", {}, ctx.findings.map((f) =>
      el("li", {}, el("span", { class: f.decision }, f.decision), ` ${f.rule} (${f.risk}): ${f.reason}`))));
  if (Array.isArray(ctx.recent) && ctx.recent.length)
    c.append(el("h4", {}, "The agent's recent decisions"), el("ul", {}, ctx.recent.map((r) =>
      el("li", {}, `#${r.seq} `, el("span", { class: r.decision }, r.decision), ` ${r.rule || ""}: ${r.summary || ""}`))));
  const reason = el("textarea", { class: "reason", placeholder: "Your reason (required; the builder sees it)", maxlength: 2000 });
  const msg = el("p", { class: "result", role: "status" });
  const allow = el("button", { type: "button", class: "allow" }, "Allow");
  const deny = el("button", { type: "button", class: "deny" }, "Deny");
  allow.addEventListener("click", () => decide(x.id, "allow", reason, msg, [allow, deny]));
  deny.addEventListener("click", () => decide(x.id, "deny", reason, msg, [allow, deny]));
  c.append(el("label", {}, "Reason", reason), el("div", { class: "actions" }, allow, deny), msg);
  c._verdicts = verdicts;
  c._left = left;
  updateCard(c, x);
  return c;
}

function updateCard(c, x) {
  c._deadline = x.deadline_ns;
  setText(c._left, timeLeft(x.deadline_ns));
  clear(c._verdicts);
  for (const v of x.verdicts || [])
    c._verdicts.append(el("li", {}, `${v.expert}: `, el("span", { class: v.decision }, v.decision), ` (${v.reason})`));
  if (!(x.verdicts || []).length) c._verdicts.append(el("li", { class: "muted" }, "none yet"));
}

async function decide(id, decision, reasonBox, msg, buttons) {
  const reason = reasonBox.value.trim();
  if (!reason) { setText(msg, "Write a reason first: the builder and the audit log get it."); msg.className = "result error"; return; }
  buttons.forEach((b) => { b.disabled = true; });
  try {
    const j = await api(`/v1/escalations/${encodeURIComponent(id)}/verdict`, { method: "POST", body: { decision, reason } });
    msg.className = "result";
    setText(msg, j.state === "pending" ? `Your ${decision} is recorded; waiting for the quorum.`
                                       : `Decided: ${j.decision}.`);
    refreshEscalations();
  } catch (e) {
    msg.className = "result error";
    setText(msg, e.message);
    if (e.status === 401) reportError("signin-error", e);
  } finally {
    buttons.forEach((b) => { b.disabled = false; });
  }
}

// ---- audit log ----------------------------------------------------------------------

let auditNext = 0, auditGen = 0;
async function searchAudit(more) {
  const gen = ++auditGen;   // a reply to an older search (other filters) is dropped
  const q = new URLSearchParams();
  const type = $("f-type").value.trim(), agent = $("f-agent").value.trim();
  if (type) q.set("type", type);
  if (agent) q.set("agent", agent);
  q.set("after", more ? String(auditNext) : String(Number($("f-after").value) || 0));
  q.set("limit", "100");
  setText($("audit-error"), "");
  try {
    const j = await api(`/v1/events?${q}`, { signal: session && session.abort.signal });
    if (gen !== auditGen) return;
    const body = $("audit-rows");
    if (!more) clear(body);
    for (const e of j.events || [])
      body.append(el("tr", { "data-seq": e.seq }, el("td", {}, e.seq), el("td", {}, isoTime(e.time_ns)),
        el("td", {}, e.type), el("td", {}, e.agent), el("td", {}, e.aggregate),
        el("td", { class: "data" }, JSON.stringify(e.data))));
    auditNext = j.next_after || 0;
    $("audit-more").hidden = (j.events || []).length < 100;
  } catch (e) { reportError("audit-error", e); }
}

// ---- SLA --------------------------------------------------------------------------------

function fillDl(dl, obj, prefix = "") {
  for (const [k, v] of Object.entries(obj || {})) {
    if (v && typeof v === "object" && !Array.isArray(v) && prefix.split(".").length < 3) fillDl(dl, v, `${prefix}${k}.`);
    else dl.append(el("dt", {}, prefix + k), el("dd", {}, typeof v === "string" ? v : JSON.stringify(v)));
  }
}

async function refreshSla() {
  setText($("sla-error"), "");
  try {
    const [st, sla] = await Promise.all([api("/v1/status"), api("/v1/sla")]);
    clear($("status-list"));
    clear($("sla-list"));
    fillDl($("status-list"), st);
    fillDl($("sla-list"), sla);
  } catch (e) { reportError("sla-error", e); }
}

// ---- policy revisions -------------------------------------------------------------------

async function refreshPolicy() {
  setText($("policy-error"), "");
  try {
    const j = await api("/v1/policy/history");
    setText($("policy-active"), j.active);
    const body = $("policy-rows");
    clear(body);
    (j.history || []).forEach((h, i) => {
      const rev = h.revision || "";
      body.append(el("tr", { "data-revision": rev }, el("td", {}, h.seq), el("td", {}, isoTime(h.time_ns)),
        el("td", {}, h.type), el("td", {}, el("code", {}, rev)), el("td", {}, h.source), el("td", {}, h.agent),
        el("td", {}, el("input", { type: "radio", name: "from", value: rev, checked: i === 1 || (j.history.length === 1) })),
        el("td", {}, el("input", { type: "radio", name: "to", value: rev, checked: i === 0 }))));
    });
  } catch (e) { reportError("policy-error", e); }
}

async function showDiff() {
  const from = document.querySelector('input[name="from"]:checked');
  const to = document.querySelector('input[name="to"]:checked');
  const out = $("diff-out");
  clear(out);
  setText($("policy-error"), "");
  if (!from || !to) { setText($("policy-error"), "Pick a revision to diff from and one to diff to."); return; }
  try {
    const [a, b] = await Promise.all([from.value, to.value].map((r) => api(`/v1/policy/revisions/${encodeURIComponent(r)}`)));
    setText($("diff-title"), `${from.value} → ${to.value}`);
    const d = diffLines(a.policy, b.policy);
    if (!d) { setText($("policy-error"), "These revisions are too long to diff here."); return; }
    let changes = 0;
    for (const x of d) {
      if (x.op !== " ") changes++;
      out.append(el("span", { class: x.op === "+" ? "add" : x.op === "-" ? "del" : "same" }, `${x.op} ${x.line}`));
    }
    if (!changes) out.prepend(el("span", { class: "same" }, "(the two revisions have the same text)"));
  } catch (e) { reportError("policy-error", e); }
}

// ---- wiring -------------------------------------------------------------------------------

function init() {
  $("signin-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    setText($("signin-error"), "");
    const t = $("token").value.trim();
    if (!t) return;
    signIn(t).catch((e) => setText($("signin-error"), e.message));
  });
  $("signout").addEventListener("click", signOut);
  for (const t of document.querySelectorAll(".tab")) t.addEventListener("click", () => show(t.dataset.page));
  $("audit-form").addEventListener("submit", (ev) => { ev.preventDefault(); searchAudit(false); });
  $("audit-more").addEventListener("click", () => searchAudit(true));
  $("sla-refresh").addEventListener("click", refreshSla);
  $("diff-btn").addEventListener("click", showDiff);
  setInterval(() => {
    for (const c of document.querySelectorAll(".escalation")) if (c._left) setText(c._left, timeLeft(c._deadline));
  }, 1000);
  if (getToken()) start();
  else show("signin");
}

init();
