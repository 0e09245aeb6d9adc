#!/usr/bin/env bash
# k8s.sh — deploy/k8s (kustomize): both overlays render with `kubectl kustomize`, every
# rendered object is valid against the Kubernetes OpenAPI schemas and the ServiceMonitor
# against the prometheus-operator CRD schema (tests/k8s/validate.mjs: npm kubernetes-models
# and @kubernetes-models/prometheus-operator, pinned by tests/k8s/package-lock.json and
# installed by scripts/deps.sh; offline), and is what docs/operations.md "Deployment"
# promises (tests/k8s/policy.py: probes, resources, restricted security context, no Secret,
# the overlay's replicas and store). The ConfigMap's lighthouse.yaml starts a real bridge
# that answers /health and /ready. Mutated copies of the manifests (a wrong type, a bad
# ServiceMonitor interval, a missing container name, a dropped security setting, broken
# kustomize input) must fail. Prints TAP.
# run-tests: parallel (scripts/run-tests.sh: it may run beside another such script)
set -u
. "$(dirname "$0")/bridge_lib.bash"
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
K8S="$ROOT/deploy/k8s"
TK="$ROOT/tests/k8s"

command -v kubectl >/dev/null 2>&1 || { fail "kubectl is installed (scripts/deps.sh installs Debian's kubernetes-client)"; done_testing; exit 1; }
command -v node >/dev/null 2>&1 || { fail "node is installed (scripts/deps.sh)"; done_testing; exit 1; }
[ -f "$TK/node_modules/kubernetes-models/package.json" ] && [ -f "$TK/node_modules/@kubernetes-models/prometheus-operator/package.json" ] ||
  { fail "tests/k8s's npm packages are installed (run scripts/deps.sh)"; done_testing; exit 1; }
echo "# $(kubectl version --client 2>/dev/null | head -2 | tr '\n' ' ')"

# render DIR OVERLAY NAME: kustomize + policy + schemas; sets rrc (0 all good), rout (why).
render() {
  local dir=$1 overlay=$2 name=$3
  rrc=0
  if ! kubectl kustomize "$dir/overlays/$overlay" >"$T/$name.yaml" 2>"$T/$name.kerr"; then
    rrc=1; rout="kustomize: $(grep -v '^# Warning' "$T/$name.kerr" | head -3)"; return
  fi
  rout=$(python3 "$TK/policy.py" "$overlay" "$T/$name.yaml" "$T/$name.json" 2>&1) || rrc=2
  local v
  v=$(node "$TK/validate.mjs" "$T/$name.json" 2>&1) || { rrc=$((rrc | 4)); }
  rout="$rout
$(grep -v '^valid ' <<<"$v")"
  nobj=$(grep -c '^valid ' <<<"$v")
}

for o in dev prod; do
  render "$K8S" "$o" "$o"
  check "$o: renders, every object ($nobj) valid against its schema, and as docs/operations.md says" '[ "$rrc" = 0 ]'
  [ "$rrc" = 0 ] || sed 's/^/#   /' <<<"$rout"
done
check "dev renders 7 objects (with the PVC) and prod 6" \
  '[ "$(jq length "$T/dev.json")" = 7 ] && [ "$(jq length "$T/prod.json")" = 6 ]'

# The ConfigMap's lighthouse.yaml, as the pod reads it, starts a real bridge (loopback port
# and a temporary data dir instead of the pod's; flags win over the file).
for o in dev prod; do
  jq -r '.[] | select(.kind=="ConfigMap") | .data["lighthouse.yaml"]' "$T/$o.json" >"$T/$o.conf.yaml"
done
if start_bridge k8sdev --config "$T/dev.conf.yaml"; then
  h=$(curl -s -o /dev/null -w '%{http_code}' "$URL/health"); r=$(curl -s "$URL/ready")
  check "dev's lighthouse.yaml starts a bridge: /health 200 and /ready true (the probes' routes)" \
    '[ "$h" = 200 ] && jq -e ".ready == true" <<<"$r" >/dev/null'
else
  fail "dev's lighthouse.yaml starts a bridge"
fi
# prod's file says store: postgres; its other keys are checked by a bridge on SQLite.
if start_bridge k8sprod --config "$T/prod.conf.yaml" --store sqlite; then ok "prod's lighthouse.yaml is accepted by the bridge (store overridden to sqlite)"
else fail "prod's lighthouse.yaml is accepted by the bridge"; fi
grep -q '^store: postgres$' "$T/prod.conf.yaml" && ok "prod's lighthouse.yaml names the postgres store" || fail "prod's lighthouse.yaml names the postgres store"

# ---- broken copies must fail ----
# mutate NAME OVERLAY FILE PYTHON-EXPR: copy deploy/k8s, replace in FILE (s = its text),
# render OVERLAY, and expect a failure with bits MASK (1 kustomize, 2 policy, 4 schema).
mutate() {
  local name=$1 overlay=$2 file=$3 expr=$4 mask=$5 what=$6
  rm -rf "$T/m-$name"; cp -r "$K8S" "$T/m-$name"
  python3 - "$T/m-$name/$file" "$expr" <<'PY' || { fail "mutation $name applies"; return; }
import sys
p, expr = sys.argv[1], sys.argv[2]
s = open(p).read()
t = eval(expr, {"s": s})
if t == s: sys.exit("mutation changed nothing")
open(p, "w").write(t)
PY
  render "$T/m-$name" "$overlay" "m-$name"
  check "broken: $what is refused" '[ $((rrc & mask)) -ne 0 ]'
  [ $((rrc & mask)) -ne 0 ] && echo "#   $(grep -v '^$' <<<"$rout" | head -1)"
}
mutate replicas prod overlays/prod/deployment.yaml 's.replace("replicas: 3", "replicas: three")' 4 \
  "prod replicas as a string (schema)"
mutate interval dev base/servicemonitor.yaml 's.replace("interval: 15s", "interval: 15 seconds")' 4 \
  "a ServiceMonitor interval that is no duration (prometheus-operator CRD schema)"
mutate noname dev base/deployment.yaml 's.replace("- name: lighthouse\n          image:", "- image:")' 4 \
  "a container without a name (schema)"
mutate probeport prod base/deployment.yaml 's.replace("port: http\n            periodSeconds: 10", "periodSeconds: 10")' 4 \
  "a probe without a port (schema)"
mutate rootfs dev base/deployment.yaml 's.replace("readOnlyRootFilesystem: true", "readOnlyRootFilesystem: false")' 2 \
  "a writable root filesystem (restricted security context)"
mutate escalate prod base/deployment.yaml 's.replace("allowPrivilegeEscalation: false", "allowPrivilegeEscalation: true")' 2 \
  "privilege escalation allowed"
mutate caps dev base/deployment.yaml 's.replace("drop: [\"ALL\"]", "drop: [\"NET_RAW\"]")' 2 \
  "capabilities not all dropped"
mutate secret prod overlays/prod/kustomization.yaml 's + "secretGenerator:\n  - name: lighthouse\n    literals: [store-secret=x]\n"' 2 \
  "a Secret in the repository"
mutate pvc dev overlays/dev/kustomization.yaml 's.replace("  - pvc.yaml\n", "")' 3 \
  "dev without its PVC"
mutate badpatch prod overlays/prod/kustomization.yaml 's.replace("  - hpa.yaml\n", "  - missing.yaml\n")' 1 \
  "a patch file that does not exist (kustomize)"
mutate badyaml dev base/service.yaml 's.replace("  ports:\n", "  ports: [\n")' 1 \
  "a manifest that is not YAML (kustomize)"

done_testing
