#!/usr/bin/env bash
# graft's main job, locally: a real Kubernetes 1.33 control plane (test/cluster), graft's webhook
# registered on it, and PNDA-style apps deployed with plain kubectl. Shows what graft grafted.
# Usage: scripts/demo.sh [--keep]   (--keep leaves the control plane and the webhook running)
set -euo pipefail
cd "$(dirname "$0")/.."
keep=false; [ "${1:-}" = "--keep" ] && keep=true
bash scripts/setup.sh demo
source scripts/lib/node.sh && use_node # the Node 26 setup.sh installed, first on PATH

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
kubectl() { bash test/cluster/cluster.sh kubectl "$@"; }
graft() { node bin/graft.js "$@"; }

step "Starting the local control plane (kube-apiserver, controller-manager, scheduler, etcd, kwok)"
bash test/cluster/cluster.sh up
eval "$(bash test/cluster/cluster.sh env)"
kubectl version

work="$(mktemp -d)"
webhook_pid=""
cleanup() {
  if $keep; then
    [ -n "$webhook_pid" ] && echo "webhook left running (pid $webhook_pid), logs: $work/webhook.log"
    return 0
  fi
  kubectl delete mutatingwebhookconfiguration graft --ignore-not-found >/dev/null 2>&1 || true
  if [ -n "$webhook_pid" ]; then kill "$webhook_pid" 2>/dev/null || true; wait "$webhook_pid" 2>/dev/null || true; fi
  bash test/cluster/cluster.sh down || true
}
trap cleanup EXIT

step "Starting graft's webhook on 127.0.0.1 with a fresh CA (graft certs)"
graft certs --out "$work/tls" --ip 127.0.0.1 --dns localhost
port=$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
node bin/graft.js webhook --host 127.0.0.1 --port "$port" --tls-cert "$work/tls/tls.crt" --tls-key "$work/tls/tls.key" \
  --config manifests/examples/demo/webhook-config.yaml --kubeconfig "$KUBECONFIG" >"$work/webhook.log" 2>&1 &
webhook_pid=$!
for _ in $(seq 100); do
  curl -fsS --cacert "$work/tls/ca.crt" "https://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break
  sleep 0.2
done
graft webhook-configuration --url "https://127.0.0.1:$port" --ca-file "$work/tls/ca.crt" | kubectl apply -f -

step "Platform variables (graft-platform) and two apps, with plain kubectl apply"
kubectl apply -f manifests/examples/demo/platform.yaml
# A new webhook configuration takes a moment to be used: retry the first injected apply.
for attempt in $(seq 30); do
  if out=$(kubectl apply -f manifests/examples/demo/apps.yaml 2>&1); then echo "$out"; break; fi
  [ "$attempt" = 30 ] && { echo "$out" >&2; exit 1; }
  sleep 1
done
kubectl -n demo rollout status deployment/wordcount --timeout=60s
kubectl -n demo wait --for=condition=Ready pod/jupyter-alice --timeout=60s

step "What graft grafted onto a wordcount pod"
pod=$(kubectl -n demo get pods -l app.kubernetes.io/name=wordcount -o jsonpath='{.items[0].metadata.name}')
kubectl -n demo get pod "$pod" -o jsonpath='{range .spec.initContainers[*]}init container: {.name} (restartPolicy={.restartPolicy}){"\n"}{end}{range .spec.containers[*]}container: {.name}{"\n"}{end}'
kubectl -n demo get pod "$pod" -o jsonpath='{.metadata.annotations.graft\.pnda\.io/status}{"\n"}'

cm=$(kubectl -n demo get pod "$pod" -o jsonpath='{range .spec.volumes[*]}{.configMap.name}{"\n"}{end}' | grep '^graft-props-' | head -1 || true)
if [ -n "$cm" ]; then
  step "Its application.properties (ConfigMap $cm, mounted at /etc/graft)"
  kubectl -n demo get configmap "$cm" -o jsonpath='{.data.application\.properties}'
fi

step "The notebook sync hook on jupyter-alice"
# The script is fixed text; the user's repository and folder arrive only as arguments ($1, $2).
kubectl -n demo get pod jupyter-alice -o jsonpath='{range .spec.containers[?(@.name=="notebook")].lifecycle.postStart.exec.command[3:]}{@} {end}{"\n"}'

step "A Deployment with a bad graft.pnda.io/checks annotation is refused at kubectl apply"
kubectl apply -f manifests/examples/demo/bad-checks.yaml || true

step "The same injection offline: graft inject"
graft inject -f manifests/examples/demo/apps.yaml --config manifests/examples/demo/webhook-config.yaml \
  | sed -n '/^kind: Deployment/,/^---/p' | sed -n '/initContainers:/,/readinessProbe:/p'

step "The injected health agent, run here with the wordcount pod's own GRAFT_CHECKS: its PNDA status"
# kwok runs no containers, so the sidecar's command runs on this machine instead; the demo's
# Kafka and ZooKeeper do not exist here, so each check reports ERROR with its cause.
checks=$(kubectl -n demo get pod "$pod" -o jsonpath='{.spec.initContainers[?(@.name=="graft-agent")].env[?(@.name=="GRAFT_CHECKS")].value}{.spec.containers[?(@.name=="graft-agent")].env[?(@.name=="GRAFT_CHECKS")].value}')
agent_port=$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
GRAFT_CHECKS="$checks" node bin/graft.js agent --host 127.0.0.1 --port "$agent_port" >"$work/agent.log" 2>&1 &
agent_pid=$!
for _ in $(seq 100); do
  curl -fsS "http://127.0.0.1:$agent_port/readyz" >/dev/null 2>&1 && break
  sleep 0.2
done
curl -fsS "http://127.0.0.1:$agent_port/status" | node -e 'let t="";process.stdin.on("data",d=>t+=d).on("end",()=>{for(const e of JSON.parse(t).data.filter(e=>e.metric.endsWith(".health")))console.log(`${e.metric} = ${e.value}  ${e.causes.join("; ")}`)})'
kill "$agent_pid" 2>/dev/null || true
wait "$agent_pid" 2>/dev/null || true
