// console.test.mjs — drives the review console (/ui/) in Debian's headless chromium with
// puppeteer-core, against a real bridge started by tests/integration/ui.sh, which passes:
//   LH_URL       the bridge (http://127.0.0.1:PORT)
//   LH_EXPERT    an expert token, LH_BUILDER a builder token, LH_ADMIN an admin token
//   LH_POLICY    the policy file the bridge runs (review.policy.yaml): pushed again, changed,
//                so there are two revisions to diff
//   LH_PROFILE   a fresh --user-data-dir
// Prints one line per check, "ok - what" or "not ok - what" (ui.sh numbers them), and
// "# ..." notes. Every wait is on an event in the page or a reply, bounded only by a hang
// guard (60 s), never by how fast the machine is.
import { readFileSync } from "node:fs";
import puppeteer from "puppeteer-core";

const URL = process.env.LH_URL, EXPERT = process.env.LH_EXPERT, BUILDER = process.env.LH_BUILDER;
const ADMIN = process.env.LH_ADMIN;
const HANG = 60000;
let failed = 0;

function check(name, cond, detail) {
  if (cond) console.log(`ok - ${name}`);
  else { failed++; console.log(`not ok - ${name}${detail ? ` (${String(detail).slice(0, 300)})` : ""}`); }
}

async function bridge(path, token, init = {}) {
  const res = await fetch(URL + path, { ...init, headers: { Authorization: `Bearer ${token}`, ...(init.headers || {}) } });
  const text = await res.text();
  let json = null;
  try { json = JSON.parse(text); } catch { /* not JSON */ }
  return { status: res.status, json, text };
}

const browser = await puppeteer.launch({
  executablePath: "/usr/bin/chromium",
  headless: true,
  pipe: true,
  userDataDir: process.env.LH_PROFILE,
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"],
});

try {
  // A second policy revision (the same rules and one more), so the diff has two to compare.
  const yaml = readFileSync(process.env.LH_POLICY, "utf8");
  const extra = "  - id: review.console-note\n    action: allow\n    reason: a harmless rule the console diff shows\n" +
                "    match: {program: console-note}\n";
  const push = await bridge("/v1/policy", ADMIN, { method: "POST", headers: { "Content-Type": "application/yaml" },
                                                  body: yaml + extra });
  check("a second policy revision is pushed", push.status === 200, push.text);

  const page = await browser.newPage();
  const requested = [];
  const pageErrors = [];
  page.on("request", (r) => requested.push(r.url()));
  page.on("pageerror", (e) => pageErrors.push(String(e)));
  page.setDefaultTimeout(HANG);

  const resp = await page.goto(`${URL}/ui/`, { waitUntil: "load" });
  const h = resp.headers();
  check("the console loads with a strict CSP, not cached",
    resp.status() === 200 && /default-src 'none'/.test(h["content-security-policy"] || "") &&
    /script-src 'self'/.test(h["content-security-policy"]) && h["cache-control"] === "no-store",
    JSON.stringify(h));
  await page.waitForSelector("#page-signin:not([hidden])");

  // A wrong token: an error, no sign-in.
  await page.type("#token", `${EXPERT}x`);
  await page.click("#signin");
  await page.waitForFunction(() => document.querySelector("#signin-error").textContent.length > 0);
  const wrong = await page.$eval("#signin-error", (e) => e.textContent);
  check("a wrong token shows the bridge's refusal", /refused this token/.test(wrong) &&
        await page.$eval("#nav", (e) => e.hidden), wrong);

  // A builder's token: refused too, with what to use instead.
  await page.$eval("#token", (e) => { e.value = ""; });
  await page.type("#token", BUILDER);
  await page.click("#signin");
  await page.waitForFunction(() => /expert or admin/.test(document.querySelector("#signin-error").textContent));
  check("a builder's token is refused: the console needs an expert or admin", true);

  // The expert signs in, registering the capability the policy's escalations need.
  await page.$eval("#token", (e) => { e.value = ""; });
  await page.type("#token", EXPERT);
  await page.type("#caps", "security");
  await page.click("#signin");
  await page.waitForSelector("#nav:not([hidden])");
  await page.waitForFunction(() => document.querySelector("#stream-state").textContent === "(live)");
  const stored = await page.evaluate(() => sessionStorage.getItem("lighthouse.token"));
  check("signed in: the token is in sessionStorage and the live stream is open", stored === EXPERT);

  await page.click('[data-page="escalations"]');
  await page.waitForSelector("#page-escalations:not([hidden])");

  // A builder's request that waits for the verdict; its escalation must arrive live.
  const cmd = "deploy-tool --env prod --note '<img src=x onerror=window.__pwned=1>'";
  const waiting = bridge("/v1/validate?wait=300", BUILDER, {
    method: "POST", headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ tool: "Bash", input: { command: cmd }, cwd: "/work/app", session: "ui-1" }),
  });
  const card = await page.waitForSelector(".escalation");
  const id = await card.evaluate((e) => e.dataset.id);
  const text = await card.evaluate((e) => e.textContent);
  check(`the escalation arrives live with its context (${id})`,
    /^esc-/.test(id) && text.includes(cmd) && text.includes("review.deploy") && text.includes("security") &&
    text.includes("builder-1") && /s left/.test(text), text);
  check("data is shown as text: the command's markup is not run",
    await page.evaluate(() => !document.querySelector(".escalation img") && window.__pwned === undefined));

  // Deny without a reason: refused in the page. Then with one.
  await card.$eval("button.deny", (b) => b.click());
  await page.waitForFunction((el) => /reason first/.test(el.querySelector(".result").textContent), {}, card);
  check("a verdict without a reason is refused in the page", true);
  await card.$eval("textarea.reason", (t) => t.focus());
  await page.keyboard.type("not on a Friday: the release freeze");
  await card.$eval("button.deny", (b) => b.click());
  const final = await waiting;
  check("the builder's waiting request gets deny from the expert tier",
    final.status === 200 && final.json && final.json.decision === "deny" && final.json.tier === "expert" &&
    final.json.escalation_id === id && /release freeze/.test(final.json.reason || ""), final.text);
  await page.waitForFunction((i) => !document.querySelector(`.escalation[data-id="${i}"]`), {}, id);
  await page.waitForFunction((i) => {
    const li = document.querySelector(`#esc-done li[data-id="${i}"]`);
    return li && /deny/.test(li.textContent);
  }, {}, id);
  check("the card leaves the pending list and the decision shows as decided", true);

  // Live decisions: the builder's decisions arrived over the stream.
  await page.click('[data-page="live"]');
  await page.waitForFunction(() => [...document.querySelectorAll("#live-rows tr")].some((r) => r.textContent.includes("builder-1")));
  check("live decisions show the builder's decision", true);

  // Audit log with a type filter.
  await page.click('[data-page="audit"]');
  await page.$eval("#f-type", (e) => { e.value = ""; });
  await page.type("#f-type", "escalation.decided");
  await page.click('#audit-form button[type="submit"]');
  // Opening the page lists every type first (escalation.created names the id too): wait
  // for the filtered answer, a list of that type only. A filter that does not filter
  // never gets there, and the check below fails with the types seen.
  const filtered = (i) => {
    const rows = [...document.querySelectorAll("#audit-rows tr")];
    return rows.some((r) => r.textContent.includes(i)) &&
      rows.every((r) => (r.querySelector("td:nth-child(3)") || {}).textContent === "escalation.decided");
  };
  await page.waitForFunction(filtered, { timeout: 20000 }, id).catch(() => {});
  const types = await page.$$eval("#audit-rows tr td:nth-child(3)", (t) => t.map((x) => x.textContent));
  check("the audit log filtered by type shows the escalation's decision, and only that type",
    types.length > 0 && types.every((t) => t === "escalation.decided"), types.join(","));

  // SLA status.
  await page.click('[data-page="sla"]');
  await page.waitForFunction(() => [...document.querySelectorAll("#status-list dt")].some((d) => d.textContent === "version") &&
                                   document.querySelectorAll("#sla-list dt").length > 0);
  check("the SLA page shows /v1/status and /v1/sla", true);

  // Policy revisions and their diff.
  await page.click('[data-page="policy"]');
  await page.waitForFunction(() => document.querySelectorAll("#policy-rows tr").length >= 2);
  await page.click('#policy-rows tr:last-child input[name="from"]');   // the revision the bridge started with
  await page.click('#policy-rows tr:first-child input[name="to"]');    // the one pushed above
  await page.click("#diff-btn");
  await page.waitForFunction(() => document.querySelectorAll("#diff-out .add").length > 0);
  const added = await page.$$eval("#diff-out .add", (a) => a.map((x) => x.textContent));
  check("the diff of the two revisions shows the added rule, and only it",
    added.some((l) => l.includes("review.console-note")) && added.length === 4, added.join(" | "));

  // Sign out: the token is gone.
  await page.click("#signout");
  await page.waitForSelector("#page-signin:not([hidden])");
  check("sign out clears the token", await page.evaluate(() => sessionStorage.length === 0));

  const leaked = requested.filter((u) => [EXPERT, BUILDER, `${EXPERT}x`].some((t) => u.includes(t)) ||
                                         /token/i.test(new globalThis.URL(u).search));
  check(`no token in any of the ${requested.length} URLs requested`, requested.length > 5 && leaked.length === 0,
        leaked.join(" "));
  check("no script errors in the page", pageErrors.length === 0, pageErrors.join(" | "));
} catch (e) {
  failed++;
  console.log(`not ok - the console test ran to its end (${String(e && e.stack || e).slice(0, 600)})`);
} finally {
  await browser.close();
}
process.exit(failed ? 1 : 0);
