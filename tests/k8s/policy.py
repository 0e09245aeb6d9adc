#!/usr/bin/env python3
"""policy.py OVERLAY RENDERED.yaml OUT.json — what deploy/k8s promises, checked on the
objects `kubectl kustomize` rendered for OVERLAY (dev or prod). Writes them as a JSON
array to OUT.json (for validate.mjs) and prints one line per problem; exit 1 if any.

The schemas (validate.mjs) say an object is well formed; this says it is the object
docs/operations.md ("Deployment") describes: probes on /health and /ready, resources,
the restricted security context, no Secret in the repository, the overlay's replicas
and store."""
import json
import sys

import yaml

overlay, src, out = sys.argv[1:4]
docs = [d for d in yaml.safe_load_all(open(src)) if d]
json.dump(docs, open(out, "w"))
problems = []


def need(cond, what):
    if not cond:
        problems.append(what)


by_kind = {}
for d in docs:
    by_kind.setdefault(d.get("kind"), []).append(d)
want = {"ConfigMap", "Deployment", "Service", "PodDisruptionBudget",
        "HorizontalPodAutoscaler", "ServiceMonitor"}
if overlay == "dev":
    want.add("PersistentVolumeClaim")
for k in sorted(want):
    need(len(by_kind.get(k, [])) == 1, f"one {k} (got {len(by_kind.get(k, []))})")
need("Secret" not in by_kind, "no Secret object: secrets are referred to, never shipped")
for k in sorted(set(by_kind) - want - {"Secret"}):
    problems.append(f"unexpected kind {k}")

dep = (by_kind.get("Deployment") or [{}])[0]
spec = dep.get("spec", {})
pod = spec.get("template", {}).get("spec", {})
ctrs = pod.get("containers", [])
need(len(ctrs) == 1, "one container")
c = ctrs[0] if ctrs else {}
psc, csc = pod.get("securityContext", {}), c.get("securityContext", {})
for ic in pod.get("initContainers", []):  # held to the same security context
    isc = ic.get("securityContext", {})
    for k in ("allowPrivilegeEscalation", "readOnlyRootFilesystem", "capabilities", "seccompProfile"):
        need(isc.get(k) == csc.get(k), f"init container {ic.get('name')}: {k} as the bridge's")
    need(isc.get("privileged") in (None, False), f"init container {ic.get('name')}: not privileged")
    need("limits" in ic.get("resources", {}), f"init container {ic.get('name')}: resources.limits")
need(psc.get("runAsNonRoot") is True, "pod runAsNonRoot: true")
need(isinstance(psc.get("runAsUser"), int) and psc["runAsUser"] > 0, "pod runAsUser > 0")
for sc, where in ((psc, "pod"), (csc, "container")):
    need(sc.get("seccompProfile", {}).get("type") == "RuntimeDefault", f"{where} seccompProfile RuntimeDefault")
need(csc.get("allowPrivilegeEscalation") is False, "allowPrivilegeEscalation: false")
need(csc.get("readOnlyRootFilesystem") is True, "readOnlyRootFilesystem: true")
need(csc.get("privileged") in (None, False), "not privileged")
need(csc.get("capabilities", {}).get("drop") == ["ALL"], "capabilities drop [ALL]")
need(not csc.get("capabilities", {}).get("add"), "no capability added")
need(not pod.get("hostNetwork") and not pod.get("hostPID") and not pod.get("hostIPC"), "no host namespaces")
for v in pod.get("volumes", []):
    need("hostPath" not in v, f"no hostPath volume ({v.get('name')})")
need(c.get("livenessProbe", {}).get("httpGet", {}).get("path") == "/health", "livenessProbe GET /health")
need(c.get("readinessProbe", {}).get("httpGet", {}).get("path") == "/ready", "readinessProbe GET /ready")
for r in ("requests", "limits"):
    for res in ("cpu", "memory"):
        need(res in c.get("resources", {}).get(r, {}), f"resources.{r}.{res}")
for e in c.get("env", []):
    need("value" not in e or not e["name"].endswith(("SECRET", "PG", "TOKEN", "KEY")),
         f"{e['name']} comes from a Secret, not a literal")

cm = (by_kind.get("ConfigMap") or [{}])[0]
conf = yaml.safe_load(cm.get("data", {}).get("lighthouse.yaml", "")) or {}
need(str(conf.get("listen", "")).endswith(":8765"), "lighthouse.yaml listens on :8765 (the container port)")
mounts = {m["mountPath"]: m for m in c.get("volumeMounts", [])}
need(str(conf.get("data", "")).startswith("/var/lib/lighthouse/") and "/var/lib/lighthouse" in mounts,
     "the data directory is on the state volume (the root filesystem is read-only)")
vols = {v["name"]: v for v in pod.get("volumes", [])}
state = vols.get(mounts.get("/var/lib/lighthouse", {}).get("name"), {})
env = {e["name"]: e for e in c.get("env", [])}
hpa = (by_kind.get("HorizontalPodAutoscaler") or [{}])[0].get("spec", {})
need(hpa.get("scaleTargetRef", {}).get("name") == dep.get("metadata", {}).get("name"), "HPA targets the Deployment")
sel = spec.get("selector", {}).get("matchLabels", {})
labels = spec.get("template", {}).get("metadata", {}).get("labels", {})
need(sel and all(labels.get(k) == v for k, v in sel.items()), "the Deployment selects its pods")
svc = (by_kind.get("Service") or [{}])[0].get("spec", {})
need(svc.get("selector") == sel, "the Service selects the pods")
pdb = (by_kind.get("PodDisruptionBudget") or [{}])[0].get("spec", {})
need(pdb.get("selector", {}).get("matchLabels") == sel, "the PodDisruptionBudget selects the pods")
sm = (by_kind.get("ServiceMonitor") or [{}])[0].get("spec", {})
need(all(labels.get(k) == v for k, v in sm.get("selector", {}).get("matchLabels", {}).items())
     and sm.get("selector", {}).get("matchLabels"), "the ServiceMonitor selects the Service")
need(any(e.get("path") == "/metrics" and e.get("port") == "http" for e in sm.get("endpoints", [])),
     "the ServiceMonitor scrapes http /metrics")

if overlay == "dev":
    need(spec.get("replicas") == 1, "dev: 1 replica")
    need(conf.get("store", "sqlite") == "sqlite", "dev: SQLite store")
    pvc = (by_kind.get("PersistentVolumeClaim") or [{}])[0]
    need(state.get("persistentVolumeClaim", {}).get("claimName") == pvc.get("metadata", {}).get("name")
         and "emptyDir" not in state, "dev: the data directory is on the PVC")
    need(spec.get("strategy", {}).get("type") == "Recreate", "dev: Recreate (one SQLite writer)")
    need(hpa.get("maxReplicas") == 1, "dev: the HPA keeps 1 replica")
elif overlay == "prod":
    need(spec.get("replicas") == 3, "prod: 3 replicas")
    need(conf.get("store") == "postgres", "prod: PostgreSQL store")
    need(env.get("LIGHTHOUSE_PG", {}).get("valueFrom", {}).get("secretKeyRef", {}).get("name"),
         "prod: LIGHTHOUSE_PG from a Secret")
    need(env.get("LIGHTHOUSE_SECRET", {}).get("valueFrom", {}).get("secretKeyRef", {}).get("optional") is False,
         "prod: LIGHTHOUSE_SECRET required from the Secret (one chain key for all replicas)")
    inits = pod.get("initContainers", [])
    need(vols.get("token-key", {}).get("secret", {}).get("items", [{}])[0].get("key") == "token-key"
         and any("token.key" in " ".join(i.get("command", [])) and "chmod 0600" in " ".join(i.get("command", []))
                 for i in inits),
         "prod: one token key for all replicas, from the Secret, copied 0600 into the data directory")
    need(hpa.get("minReplicas", 0) >= 3, "prod: the HPA keeps at least 3 replicas")
    need(pdb.get("minAvailable") == 2 or pdb.get("maxUnavailable") == 1, "prod: the PDB keeps 2 of 3")
else:
    problems.append(f"unknown overlay {overlay}")

for p in problems:
    print(f"policy {overlay}: {p}")
sys.exit(1 if problems else 0)
