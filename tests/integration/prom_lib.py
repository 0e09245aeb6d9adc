#!/usr/bin/env python3
"""prom_lib.py — helpers of tests/integration/prometheus.sh (not a test itself).

  config  RULES PROM_YML TARGETS OUT_DIR  write OUT_DIR/prometheus.yml (the committed scrape
          job, 1 s intervals, TARGETS: host:port,host:port) and OUT_DIR/rules.yml (the
          committed rules; only the two store alerts made short: for 3s, and
          LighthouseEventStoreFailure's window 20s)
  names   RULES DASHBOARD METRICS          print one line per metric name that the rules or the
          dashboard use, "ok NAME" when a real scrape (METRICS) has it, "cond NAME" when it is
          one of the series the bridge prints only in some setups (CONDITIONAL), "missing NAME"
          otherwise; recording-rule names must be recorded by RULES
  queries DASHBOARD                        print "panel<TAB>expr" for every panel target
  history RANGE_JSON                       print the alert states of an ALERTS range query in
          the order they first appeared ("pending firing")
"""
import json
import re
import sys

import yaml

# Printed only where the bridge has them: the PostgreSQL store's connection gauge (not with
# SQLite), one series per `lighthouse mount` seen. Each must still be a name the bridge's
# sources print (checked by the test against src/).
CONDITIONAL = {"lighthouse_bridge_postgres_connection_status", "lighthouse_bridge_fuse_mount_status"}
NAME = re.compile(r"\b(lighthouse_bridge_[a-z0-9_]+|process_[a-z0-9_]+|lighthouse:[a-z0-9_:]+)")


def load_rules(path):
    with open(path) as f:
        return yaml.safe_load(f)


def rule_exprs(rules):
    return [r["expr"] for g in rules["groups"] for r in g["rules"]]


def panel_targets(path):
    with open(path) as f:
        d = json.load(f)
    return [(p["title"], t["expr"]) for p in d["panels"] for t in p.get("targets", [])]


def config(rules_path, prom_path, targets, out):
    rules = load_rules(rules_path)
    for g in rules["groups"]:
        for r in g["rules"]:
            if r.get("alert") == "LighthouseEventStoreFailure":
                r["for"] = "3s"
                r["expr"] = r["expr"].replace("[5m]", "[20s]")
            if r.get("alert") == "LighthouseStoreConnectionDown":
                r["for"] = "3s"
    with open(out + "/rules.yml", "w") as f:
        yaml.safe_dump(rules, f)
    with open(prom_path) as f:
        prom = yaml.safe_load(f)
    prom["global"] = {"scrape_interval": "1s", "evaluation_interval": "1s"}
    prom["rule_files"] = [out + "/rules.yml"]
    job = prom["scrape_configs"][0]
    job["scrape_timeout"] = "1s"
    job["static_configs"] = [{"targets": targets.split(",")}]
    with open(out + "/prometheus.yml", "w") as f:
        yaml.safe_dump(prom, f)


def names(rules_path, dash_path, metrics_path):
    rules = load_rules(rules_path)
    recorded = {r["record"] for g in rules["groups"] for r in g["rules"] if "record" in r}
    scraped = set()
    with open(metrics_path) as f:
        for line in f:
            if line.startswith("#") or not line.strip():
                continue
            scraped.add(re.split(r"[{ ]", line, 1)[0])
    used = set()
    for e in rule_exprs(rules) + [e for _, e in panel_targets(dash_path)]:
        used.update(NAME.findall(e))
    for n in sorted(used):
        if ":" in n:
            print(("ok " if n in recorded else "missing ") + n)
        elif n in scraped:
            print("ok " + n)
        elif n in CONDITIONAL:
            print("cond " + n)
        else:
            print("missing " + n)


def queries(dash_path):
    for title, e in panel_targets(dash_path):
        print(title + "\t" + " ".join(e.split()))


def history(range_path):
    """The alertstates of an ALERTS{alertname=...} range query, in the order they first
    appeared: Prometheus writes the series at each evaluation, so this is the order of the
    states however slowly the test polled."""
    with open(range_path) as f:
        d = json.load(f)
    first = {}
    for r in d["data"]["result"]:
        st = r["metric"].get("alertstate")
        if r["values"]:
            t = min(float(v[0]) for v in r["values"])
            first[st] = min(t, first.get(st, t))
    print(" ".join(sorted(first, key=lambda k: first[k])))


if __name__ == "__main__":
    cmd, args = sys.argv[1], sys.argv[2:]
    {"config": config, "names": names, "queries": queries, "history": history}[cmd](*args)
