#!/usr/bin/env python3
"""rules-table.py — regenerate the analyzer table in docs/policy.md from src/engine/rules.def.

Run it after adding or changing a rule; tests/integration/policy_cli.sh fails when an id
in rules.def is missing from the docs."""
import re
import sys
from pathlib import Path

root = Path(__file__).resolve().parent.parent
defs = (root / "src/engine/rules.def").read_text()
sep = r'[\s\\]*'
rules = re.findall(r'RULE\(' + sep + r'\w+,' + sep + r'"([^"]+)",' + sep + r'LH_(\w+),' + sep +
                   r'LH_RISK_(\w+),' + sep + r'"((?:[^"\\]|\\.)*)"', defs)
fail_closed = {"shell.parse-error", "shell.too-complex", "shell.bad-bytes", "engine.error",
               "engine.budget"}
rows = ["| id | default | risk | what it finds |", "|---|---|---|---|"]
for rid, act, risk, reason in rules:
    text = reason
    action = "settings.unknown_tool" if rid == "tool.unknown" else act.lower()
    mark = " †" if rid in fail_closed else ""
    rows.append(f"| `{rid}`{mark} | {action} | {risk.lower()} | {text} |")

doc = root / "docs/policy.md"
lines = doc.read_text().split("\n")
marker = next(i for i, l in enumerate(lines) if l.startswith("<!-- generated from src/engine/rules.def"))
end = marker + 1
while end < len(lines) and lines[end].startswith("|"):
    end += 1
lines[marker + 1:end] = rows
doc.write_text("\n".join(lines))
print(f"docs/policy.md: {len(rules)} rules", file=sys.stderr)
