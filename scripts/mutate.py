#!/usr/bin/env python3
"""mutate.py — mutation check: do the tests notice when the code that guards us breaks?

Each mutant is a list of (file, exact text, replacement) edits plus the fastest tests that
should kill it. For each mutant the edits are applied in a scratch copy of the tree
(cp -a into a mktemp -d: the real files are never edited), only the needed targets are
rebuilt (with -Wno-error: a dropped call may leave a variable unused), the tests are run,
and the mutant is recorded as killed (a test failed), survived (all passed) or
build-error (the mutant does not compile: not counted). A table and the kill rate follow.

Mutants:
  emit.<rule>@<file>   every lh_emit/lh_emit_full call for LH_RULE(<rule>) in src/engine/<file>
                       replaced by ((void)0) (found automatically)
  chain.*              the chain comparisons in store.c (verify and the start-up tail check)
  sync.*               each fsync call, and SQLite's synchronous=FULL set to OFF
  auth.*               the token checks (signature, expiry, revocation, role) inverted
  rate.*               the rate limiter disabled
EQUIVALENT lists the mutants that cannot change behaviour, with the reason; they are not run.

  scripts/mutate.py [--build BUILD] [--only REGEX] [--limit N] [--list] [--keep]
Needs a built tree (make all and the unit tests) in BUILD (default: build). `make mutation`.
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# test_engine holds the engine's own rules (shell.bad-bytes cannot be carried in a JSON
# corpus line) and test_policy the packs that are off by default (pack.brokers.*)
ENGINE_TESTS = ["unit:test_corpus", "unit:test_analyzers", "unit:test_engine", "unit:test_policy"]
CHAIN_TESTS = ["unit:test_store", "unit:test_store_cut", "sh:store_tamper.sh", "sh:store_cut.sh"]
# the power-loss tests first: a kill (store_crash.sh) keeps the page cache, so a missing
# fsync that it "kills" is the crash test's flakiness, not a finding
SYNC_TESTS = ["unit:test_store", "sh:store_powerloss.sh", "sh:store_powerloss_pg.sh", "sh:store_crash.sh"]
AUTH_TESTS = ["unit:test_bridge", "sh:bridge_auth.sh"]
RATE_TESTS = ["unit:test_bridge", "sh:bridge_auth.sh"]

# Mutants that cannot change what a user or a test can observe, each with the reason. They
# are listed and not run, and the kill rate leaves them out.
EQUIVALENT = {
    "sync.sqlite-full-off":
        "synchronous=FULL on the chain-head and snapshot connections: the genesis head is "
        "committed before any append, and the first append's COMMIT (synchronous=FULL on the "
        "writer) fsyncs the same WAL file before it is acknowledged; a snapshot is a cache "
        "whose loss (or a torn one, which fails its MAC) is replayed from the events",
}

EMIT_RE = re.compile(r"\blh_emit(?:_full)?\s*\(")


def call_end(src, start):
    """Index just past the ')' closing the call whose '(' is the last char of src[:start]."""
    depth, i, n = 1, start, len(src)
    while i < n and depth:
        c = src[i]
        if c == '"':
            i += 1
            while i < n and src[i] != '"':
                i += 2 if src[i] == "\\" else 1
        elif c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
        i += 1
    return i


def emit_mutants():
    """One mutant per (engine file, rule id): every call emitting that rule dropped."""
    out = []
    d = os.path.join(ROOT, "src/engine")
    for name in sorted(os.listdir(d)):
        if not name.endswith(".c"):
            continue
        rel = "src/engine/" + name
        with open(os.path.join(d, name)) as f:
            src = f.read()
        by_rule = {}
        for m in EMIT_RE.finditer(src):
            end = call_end(src, m.end())
            text = src[m.start():end]
            rules = re.findall(r"LH_RULE\((\w+)\)", text)
            if not rules:
                continue
            by_rule.setdefault(rules[0], []).append(text)
        for rule, texts in sorted(by_rule.items()):
            edits = [(rel, t, "((void)0)") for t in dict.fromkeys(texts)]
            out.append(("emit.%s@%s" % (rule, name[:-2]), edits, ENGINE_TESTS))
    return out


def fixed_mutants():
    S, K, W, Q = "src/store/store.c", "src/store/keyring.c", "src/store/witness.c", "src/store/sqlite.c"
    A, V, R = "src/bridge/auth.c", "src/bridge/server.c", "src/bridge/ratelimit.c"
    m = [
        # the chain
        ("chain.verify-seq-flip", [(S, "if (ev->seq != expect) {", "if (ev->seq == expect) {")], CHAIN_TESTS),
        ("chain.verify-seq-skip", [(S, "if (ev->seq != expect) {", "if (0) {")], CHAIN_TESTS),
        ("chain.verify-mac-skip", [(S, "|| memcmp(mac, ev->mac, LH_STORE_MAC_LEN)) {", ") {")], CHAIN_TESTS),
        ("chain.verify-head-gt", [(S, "if (h.seq > last) {", "if (h.seq > last + 1000000) {")], CHAIN_TESTS),
        ("chain.verify-head-lt", [(S, "} else if (h.seq < last) {", "} else if (h.seq < last - 1000000) {")],
         CHAIN_TESTS),
        ("chain.verify-head-mac", [(S, "} else if (memcmp(h.mac, prev, LH_STORE_MAC_LEN)) {", "} else if (0) {")],
         CHAIN_TESTS),
        ("chain.verify-head-key", [(S, "} else if (strcmp(h.key_fp, key->fp)) {", "} else if (0) {")], CHAIN_TESTS),
        ("chain.verify-witness", [(S, "if (v.cut && (r->ok", "if (0 && (r->ok")], CHAIN_TESTS),
        ("chain.tail-seq-flip", [(S, "l.events[0].seq != h->seq", "l.events[0].seq == h->seq")], CHAIN_TESTS),
        ("chain.tail-head-mac", [(S, "|| memcmp(l.events[0].mac, h->mac, LH_STORE_MAC_LEN)) {", ") {")],
         CHAIN_TESTS),
        ("chain.tail-last-mac", [(S, "== 0 && memcmp(mac, last->mac, LH_STORE_MAC_LEN))", "== 0 && 0)")],
         CHAIN_TESTS),
        # durability
        ("sync.sqlite-open-off", [(Q, '"PRAGMA synchronous = FULL; ', '"PRAGMA synchronous = OFF; ')], SYNC_TESTS),
        ("sync.sqlite-full-off", [(Q, '"PRAGMA synchronous = FULL", NULL', '"PRAGMA synchronous = OFF", NULL')],
         SYNC_TESTS),
        ("sync.keyring-dir", [(K, "if (fd >= 0) { fsync(fd); close(fd); }", "if (fd >= 0) { close(fd); }")],
         SYNC_TESTS),
        ("sync.keyring-key1", [(K, "int ok = w == 65 && fsync(fd) == 0;", "int ok = w == 65;")], SYNC_TESTS),
        ("sync.keyring-key2", [(K, "write(fd, key, 65) == 65 && fsync(fd) == 0;", "write(fd, key, 65) == 65;")], SYNC_TESTS),
        ("sync.store-mkdir", [(S, "if (fd >= 0) { fsync(fd); close(fd); }", "if (fd >= 0) { close(fd); }")],
         SYNC_TESTS),
        ("sync.witness-line", [(W, "== n && fsync(fd) == 0;", "== n;")], SYNC_TESTS),
        ("sync.witness-dir", [(W, "if (dfd >= 0) { fsync(dfd); close(dfd); }", "if (dfd >= 0) { close(dfd); }")],
         SYNC_TESTS),
        # auth
        ("auth.signature", [(A, "if (CRYPTO_memcmp(given, want, 32) != 0) return LH_AUTH_FORGED;", "")], AUTH_TESTS),
        ("auth.expiry", [(A, "r = out->exp <= now ? LH_AUTH_EXPIRED : LH_AUTH_OK;", "r = LH_AUTH_OK;")], AUTH_TESTS),
        ("auth.expiry-cached", [(V, "return out->exp <= now ? LH_AUTH_EXPIRED : LH_AUTH_OK;", "return LH_AUTH_OK;")],
         AUTH_TESTS),
        ("auth.revoked", [(V, "if (ar == LH_AUTH_OK && lh_revoked_has(", "if (0 && lh_revoked_has(")], AUTH_TESTS),
        ("auth.revoked-set", [(A, "return s->n && bsearch(", "return 0 && bsearch(")], AUTH_TESTS),
        ("auth.reject", [(V, "if (ar != LH_AUTH_OK) return lh_http_error", "if (0) return lh_http_error")],
         AUTH_TESTS),
        ("auth.role", [(V, "if (!(r->claims.role & roles))", "if (0)")], AUTH_TESTS),
        ("auth.role-flip", [(V, "if (!(r->claims.role & roles))", "if ((r->claims.role & roles))")], AUTH_TESTS),
        ("auth.malformed", [(A, 'len < 8 || memcmp(tok, "lh1.", 4)) return', 'len < 8 || 0) return')], AUTH_TESTS),
        # the rate limiter
        ("rate.off", [(R, "if (rl->rate <= 0) return 0;", "return 0;")], RATE_TESTS),
        ("rate.never-limited", [(R, "    return limited;\n", "    return 0;\n")], RATE_TESTS),
        ("rate.caller", [(V, "if (lh_ratelimit_take(b->rl,", "if (0 && lh_ratelimit_take(b->rl,")], RATE_TESTS),
        ("rate.no-spend", [(R, "if (b->tokens >= 1) b->tokens -= 1;", "if (b->tokens >= 1) b->tokens -= 0;")],
         RATE_TESTS),
    ]
    return m


def targets_for(tests, build):
    t = set()
    for x in tests:
        kind, name = x.split(":", 1)
        if kind == "unit":
            t.add("%s/tests/%s" % (build, name))
        else:
            t.update(["%s/lighthouse" % build, "%s/lighthouse-hook" % build, "%s/tests/powercut.so" % build,
                      "%s/tests/cutfs" % build])
    return sorted(t)


def run_tests(tree, build, tests, log):
    env = dict(os.environ, LH_BUILD=os.path.join(tree, build), LH_ROOT=tree, CMOCKA_MESSAGE_OUTPUT="stdout")
    env.setdefault("ASAN_OPTIONS", "detect_leaks=1:abort_on_error=0:quarantine_size_mb=16")
    for x in tests:
        kind, name = x.split(":", 1)
        cmd = [os.path.join(tree, build, "tests", name)] if kind == "unit" else ["bash", "tests/integration/" + name]
        try:
            p = subprocess.run(["nice"] + cmd, cwd=tree, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, timeout=900)
            out, rc = p.stdout.decode("utf-8", "replace"), p.returncode
        except subprocess.TimeoutExpired:
            out, rc = "timeout", 124
        failed = rc != 0 or re.search(r"^(not ok|\[  FAILED  \])", out, re.M)
        log.write("== %s rc=%d\n%s\n" % (x, rc, out[-3000:]))
        if failed:
            return name  # the first test that kills it; the rest need not run
    return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--only", default="")
    ap.add_argument("--limit", type=int, default=0)
    ap.add_argument("--list", action="store_true")
    ap.add_argument("--keep", action="store_true", help="keep the scratch tree and logs")
    ap.add_argument("--unit-only", action="store_true", help="skip the integration scripts (fast, weaker)")
    a = ap.parse_args()
    mutants = fixed_mutants() + emit_mutants()
    if a.unit_only:
        mutants = [(n, e, [t for t in ts if t.startswith("unit:")]) for n, e, ts in mutants]
    if a.only:
        mutants = [m for m in mutants if re.search(a.only, m[0])]
    if a.limit:
        mutants = mutants[:a.limit]
    if a.list:
        for name, edits, tests in mutants:
            print("%-40s %d edit(s)  %s" % (name, len(edits), " ".join(tests)))
        print("%d mutants" % len(mutants))
        return 0
    if not os.path.exists(os.path.join(ROOT, a.build, "lighthouse")):
        sys.exit("mutate.py: build the tree first (make all and the unit tests in %s)" % a.build)

    scratch = tempfile.mkdtemp(prefix="lh-mutate.")
    tree = os.path.join(scratch, "tree")
    shutil.copytree(ROOT, tree, symlinks=True, ignore=shutil.ignore_patterns(".git", "build-san"))
    logs = open(os.path.join(scratch, "log.txt"), "w")
    results = []
    try:
        # Baseline: a test that fails on the unmutated tree would "kill" every mutant, so it
        # is reported and left out (it says nothing about the mutants).
        broken = []
        need = sorted({t for _, _, ts in mutants for t in targets_for(ts, a.build)})
        if need and subprocess.run(["nice", "make", "-j2", "--no-print-directory", "BUILD=" + a.build] + need,
                                   cwd=tree, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT).returncode:
            sys.exit("mutate.py: the unmutated tree does not build: %s" % " ".join(need))
        for x in sorted({t for _, _, ts in mutants for t in ts}):
            logs.write("\n######## baseline\n")
            if run_tests(tree, a.build, [x], logs):
                broken.append(x)
                print("baseline: %s fails on the unmutated tree; left out" % x, flush=True)
        mutants = [(n, e, [t for t in ts if t not in broken]) for n, e, ts in mutants]
        for name, edits, tests in mutants:
            t0 = time.time()
            originals = {}
            ok = True
            for f, old, new in edits:
                path = os.path.join(tree, f)
                if f not in originals:
                    with open(path) as fh:
                        originals[f] = fh.read()
                with open(path) as fh:
                    cur = fh.read()
                if old not in cur:
                    ok = False
                    break
                with open(path, "w") as fh:
                    fh.write(cur.replace(old, new))
            if not ok:
                status, by = "no-match", "the text is not in the file"
            elif name in EQUIVALENT:
                status, by = "equivalent", "not run: " + EQUIVALENT[name]
            elif not tests:
                status, by = "no-test", "every test for it fails on the baseline"
            else:
                logs.write("\n######## %s\n" % name)
                logs.flush()
                b = subprocess.run(["nice", "make", "-j2", "--no-print-directory", "BUILD=" + a.build,
                                    "CFLAGS=-Wno-error"] + targets_for(tests, a.build),
                                   cwd=tree, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
                if b.returncode != 0:
                    status, by = "build-error", ""
                    logs.write(b.stdout.decode("utf-8", "replace")[-3000:])
                else:
                    killer = run_tests(tree, a.build, tests, logs)
                    status, by = ("killed", killer) if killer else ("SURVIVED", "")
            for f, text in originals.items():  # restore: a fresh mtime makes make rebuild it
                with open(os.path.join(tree, f), "w") as fh:
                    fh.write(text)
            results.append((name, status, by))
            print("%-44s %-11s %-24s %5.0fs" % (name, status, by, time.time() - t0), flush=True)
    finally:
        logs.close()
        if a.keep:
            print("scratch tree and log: %s" % scratch)
        else:
            shutil.rmtree(scratch, ignore_errors=True)
    counted = [r for r in results if r[1] in ("killed", "SURVIVED")]
    killed = sum(1 for r in counted if r[1] == "killed")
    survivors = [r[0] for r in counted if r[1] == "SURVIVED"]
    equivalent = sum(1 for r in results if r[1] == "equivalent")
    other = len(results) - len(counted) - equivalent
    print("\n%d mutants: %d killed, %d survived, %d equivalent, %d not counted (build-error/no-match); "
          "kill rate %.1f%%" % (len(results), killed, len(survivors), equivalent, other,
                                100.0 * killed / len(counted) if counted else 0.0))
    if survivors:
        print("survivors: " + " ".join(survivors))
    return 1 if survivors or other else 0


if __name__ == "__main__":
    sys.exit(main())
