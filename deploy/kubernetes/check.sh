#!/usr/bin/env bash
# Checks the Kubernetes files: every overlay renders with kustomize (kubectl kustomize), the
# rendered manifests validate against the Kubernetes 1.30 schemas (kubernetes-validate from PyPI,
# in a virtual environment under .build/), and each meets the suite's rules (checked below):
# non-root, read-only root filesystem, no privilege escalation, every capability dropped, the
# three probes on the ops port, resources, the service's own executable and labels, a Service, a
# NetworkPolicy and a PodDisruptionBudget.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
if ! command -v kubectl >/dev/null; then
  echo "deploy/kubernetes: SKIPPED, kubectl is not installed (its kustomize renders the overlays)" >&2
  exit 0
fi
venv=.build/kubernetes-validate
if [ ! -x "$venv/bin/kubernetes-validate" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q kubernetes-validate==1.37.0
fi
rendered=$(mktemp -d)
trap 'rm -rf "$rendered"' EXIT
for overlay in deploy/kubernetes/overlays/*/; do
  service=$(basename "$overlay")
  kubectl kustomize "$overlay" > "$rendered/$service.yaml"
  "$venv/bin/kubernetes-validate" --strict --quiet -k 1.30.0 "$rendered/$service.yaml"
  "$venv/bin/python" - "$service" "$rendered/$service.yaml" <<'PY'
import sys, yaml
service, path = sys.argv[1], sys.argv[2]
documents = [d for d in yaml.safe_load_all(open(path)) if d]
kinds = {d["kind"]: d for d in documents}
problems = []
def need(condition, what):
    if not condition:
        problems.append(what)
for kind in ["Deployment", "Service", "NetworkPolicy", "PodDisruptionBudget", "ConfigMap"]:
    need(kind in kinds, f"no {kind}")
deployment = kinds.get("Deployment", {})
spec = deployment.get("spec", {}).get("template", {}).get("spec", {})
pod = spec.get("securityContext", {})
need(pod.get("runAsNonRoot") is True, "the pod may run as root")
need(spec.get("automountServiceAccountToken") is False, "the service account token is mounted")
for container in spec.get("containers", []):
    security = container.get("securityContext", {})
    need(security.get("readOnlyRootFilesystem") is True, "the root filesystem is writable")
    need(security.get("allowPrivilegeEscalation") is False, "privilege escalation is allowed")
    need(security.get("capabilities", {}).get("drop") == ["ALL"], "capabilities are not all dropped")
    need(container.get("args") == [service], f"the container runs {container.get('args')}, not {service}")
    for probe, path_ in [("startupProbe", "/healthz"), ("livenessProbe", "/healthz"), ("readinessProbe", "/readyz")]:
        http = container.get(probe, {}).get("httpGet", {})
        need(http.get("path") == path_ and http.get("port") == "ops", f"{probe} is not {path_} on the ops port")
    need("requests" in container.get("resources", {}) and "memory" in container["resources"].get("limits", {}), "no resources")
    env = {e["name"]: e for e in container.get("env", [])}
    for name in ["HSB_TLS_CERTIFICATE", "HSB_TLS_KEY", "HSB_TLS_CA"]:
        need(name in env, f"{name} is not set: the service would not listen off loopback")
    need("secretKeyRef" in env.get("HSB_DATABASE_URL", {}).get("valueFrom", {}), "the database URL is not from a Secret")
selector = deployment.get("spec", {}).get("selector", {}).get("matchLabels", {})
need(selector.get("app.kubernetes.io/name") == service, f"the Deployment selects {selector}")
need(kinds.get("Service", {}).get("spec", {}).get("selector", {}).get("app.kubernetes.io/name") == service, "the Service selects other pods")
policy = kinds.get("NetworkPolicy", {}).get("spec", {})
need(policy.get("podSelector", {}).get("matchLabels", {}).get("app.kubernetes.io/name") == service, "the NetworkPolicy guards other pods")
ops_rules = [r for r in policy.get("ingress", []) if any(p.get("port") == "ops" for p in r.get("ports", []))]
need(ops_rules and all(f.get("namespaceSelector", {}).get("matchLabels") == {"kubernetes.io/metadata.name": "monitoring"} for r in ops_rules for f in r.get("from", [None]) if f is not None) and all(r.get("from") for r in ops_rules), "the ops port is open beyond the monitoring namespace")
rpc_rules = [r for r in policy.get("ingress", []) if any(p.get("port") == "rpc" for p in r.get("ports", []))]
if service != "orchestrator":
    need(rpc_rules and all(r.get("from") for r in rpc_rules), "an agency service's RPC port is open to more than the orchestrator")
if problems:
    print(f"deploy/kubernetes/overlays/{service}: " + "; ".join(problems), file=sys.stderr)
    sys.exit(1)
PY
  echo "deploy/kubernetes/overlays/$service: renders, validates against Kubernetes 1.30, meets the rules"
done
