// validate.mjs FILE.json — check every object of a rendered kustomization (a JSON array,
// made from `kubectl kustomize` output) against the Kubernetes OpenAPI schemas
// (npm kubernetes-models) and the prometheus-operator CRD schemas
// (@kubernetes-models/prometheus-operator), offline. Prints one line per object:
// "valid KIND/NAME" or "invalid KIND/NAME: why"; exits 1 when any object is invalid or
// of a kind it has no schema for.
import { readFileSync } from "node:fs";

const docs = JSON.parse(readFileSync(process.argv[2], "utf8"));
let bad = 0;
for (const obj of docs) {
  const id = `${obj?.kind}/${obj?.metadata?.name}`;
  const [group, version] = String(obj?.apiVersion ?? "").includes("/")
    ? obj.apiVersion.split("/")
    : ["", obj?.apiVersion];
  const mod = group === "monitoring.coreos.com"
    ? `@kubernetes-models/prometheus-operator/${group}/${version}/${obj.kind}`
    : `kubernetes-models/${group ? group + "/" : ""}${version}/${obj.kind}`;
  let Model;
  try {
    Model = (await import(mod))[obj.kind];
  } catch (e) {
    console.log(`invalid ${id}: no schema for ${obj?.apiVersion} ${obj?.kind} (${mod})`);
    bad++;
    continue;
  }
  try {
    new Model(obj).validate();
    console.log(`valid ${id}`);
  } catch (e) {
    console.log(`invalid ${id}: ${String(e.message ?? e).split("\n").slice(0, 4).join(" ")}`);
    bad++;
  }
}
if (docs.length === 0) { console.log("invalid: no objects"); bad++; }
process.exit(bad ? 1 : 0);
