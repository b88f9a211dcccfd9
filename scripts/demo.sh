#!/usr/bin/env bash
# graft's main job, locally: a real Kubernetes 1.33 control plane (test/cluster), graft installed
# on it, and PNDA-style apps deployed with plain kubectl. Shows what graft grafted.
#
# Where this machine can run a real node (root, Linux, bridge netfilter, overlayfs, cgroups:
# `test/cluster/cluster.sh --real-node node-check`), everything really runs: graft's image is
# built from its Dockerfile (scripts/image.sh), installed from manifests/ with
# manifests/overlays/provided-certs/install.sh, and the apps' pods start with their graft-agent
# sidecars; the demo shows the agents' /status, the console's tiles and the notebook folder
# inside a running Jupyter server. Elsewhere it says why and runs the kwok demo: a control plane
# whose node is simulated, graft's webhook on this machine, nothing started in a container.
#
# Usage: scripts/demo.sh [--keep] [--kwok]
#   --keep   leave the cluster (and graft, and the apps) running; the commands to look further
#            and to take it down are printed at the end
#   --kwok   the kwok demo even where a real node could run
set -euo pipefail
cd "$(dirname "$0")/.."
keep=false
mode=auto
for arg in "$@"; do
  case "$arg" in
    --keep) keep=true ;;
    --kwok) mode=kwok ;;
    *) sed -n '2,17p' "$0" >&2; exit 2 ;;
  esac
done
demo_start=$SECONDS
bash scripts/setup.sh demo
source scripts/lib/node.sh && use_node # the Node 26 setup.sh installed, first on PATH

step() { printf '\n\033[1m== %s\033[0m  (%d s)\n' "$*" "$((SECONDS - demo_start))"; }
graft() { node bin/graft.js "$@"; }

if [ "$mode" = auto ]; then
  if why=$(bash test/cluster/cluster.sh --real-node node-check 2>&1); then
    mode=real
  else
    mode=kwok
    printf '\n\033[1mThis machine cannot run a real node, so the demo runs on kwok (a simulated node):\033[0m\n%s\n' "$why"
  fi
fi

# --- the demo on a real node -----------------------------------------------------------------
if [ "$mode" = real ]; then
  cluster() { bash test/cluster/cluster.sh --real-node "$@"; }
  kubectl() { cluster kubectl "$@"; }
  console_pid=""
  cleanup() {
    [ -n "$console_pid" ] && { kill "$console_pid" 2>/dev/null || true; wait "$console_pid" 2>/dev/null || true; }
    if $keep; then
      printf '\nLeft running. Look further with:\n  test/cluster/cluster.sh --real-node kubectl -n demo get pods -o wide\n'
      printf 'Take it down with:\n  test/cluster/cluster.sh --real-node down\n'
      return 0
    fi
    step "Taking the real node down (test/cluster/cluster.sh --real-node down)"
    cluster down || true
    printf 'demo took %d s\n' "$((SECONDS - demo_start))"
  }
  trap cleanup EXIT

  step "Starting the local control plane with a real node (kubelet, containerd, runc, kube-proxy, CoreDNS)"
  cluster up
  eval "$(cluster env)"
  kubectl get nodes -o wide

  step "Building graft's image from its Dockerfile and the demo's app images (buildah, no registry)"
  for what in build test-images; do
    bash scripts/image.sh "$what" | while read -r ref _ archive; do
      # The Spark image (812 MB) is only for test/node/spark-submit.node.test.ts: not imported.
      [ "$ref" = graft.local/spark:1 ] && continue
      echo "$ref"
      cluster ctr images import "$archive" >/dev/null
    done
  done

  step "Installing graft from manifests/ (overlays/provided-certs/install.sh): 2 webhook replicas behind their Service"
  KUBECTL="$GRAFT_CLUSTER_BIN/kubectl --kubeconfig $KUBECONFIG" GRAFT="node $PWD/bin/graft.js" \
    manifests/overlays/provided-certs/install.sh
  kubectl -n graft get deployment,pods -o wide

  step "Namespace demo (graft.pnda.io/inject: enabled) and the notebook git server (manifests/notebooks)"
  kubectl create namespace demo --dry-run=client -o yaml | kubectl apply -f -
  kubectl label namespace demo graft.pnda.io/inject=enabled --overwrite
  kubectl -n demo apply -k test/node/notebooks # manifests/notebooks with an emptyDir (no volume provisioner here)
  kubectl -n demo rollout status deployment/deployment-manager-git --timeout=180s
  git_pod=$(kubectl -n demo get pods -l app.kubernetes.io/name=deployment-manager-git -o jsonpath='{.items[0].metadata.name}')
  echo "publishing alice's notebooks to jupyter-alice, as PNDA's deployment manager did"
  # shellcheck disable=SC2016 # the script is fixed text; $1 is expanded inside the pod
  kubectl -n demo exec "$git_pod" -c fcgiwrap -- sh -ec '
    git init -q --bare --initial-branch=main /srv/git/jupyter-alice
    work=$(mktemp -d) && cd "$work" && git init -q --initial-branch=main && mkdir wordcount
    printf "%s" "$1" >wordcount/explore.ipynb && git add -A
    git -c user.name=pnda -c user.email=pnda@example.invalid commit -qm publish
    git push -q /srv/git/jupyter-alice main && rm -rf "$work"' sh \
    '{"cells":[{"cell_type":"markdown","metadata":{},"source":["# wordcount, explored"]}],"metadata":{},"nbformat":4,"nbformat_minor":5}'

  step "Two apps with plain kubectl apply: a wordcount driver (a JVM) and alice's Jupyter server"
  # (the overlay patches ../apps.yaml, a file outside its folder: kustomize must be allowed that)
  kubectl kustomize --load-restrictor=LoadRestrictionsNone manifests/examples/demo/real-node | kubectl apply -f -
  kubectl -n demo rollout status deployment/wordcount --timeout=180s
  kubectl -n demo wait --for=condition=Ready pod/jupyter-alice --timeout=180s
  kubectl -n demo get pods -o wide

  pod=$(kubectl -n demo get pods -l app.kubernetes.io/name=wordcount -o jsonpath='{.items[0].metadata.name}')
  step "What graft grafted onto $pod: the agent sidecar the kubelet started, the properties"
  kubectl -n demo get pod "$pod" -o jsonpath='{range .status.initContainerStatuses[*]}init container {.name}: started={.started} ready={.ready}{"\n"}{end}{range .status.containerStatuses[*]}container {.name}: ready={.ready}{"\n"}{end}'
  echo "the driver's output (it read application.properties from its class path):"
  kubectl -n demo logs "$pod" -c driver

  step "The agent's /status, from the pod IP (PNDA's health format)"
  ip=$(kubectl -n demo get pod "$pod" -o jsonpath='{.status.podIP}')
  echo "GET http://$ip:9464/status"
  # The checks run every 5-30 s: wait until all three reported once.
  for _ in $(seq 60); do
    n=$(curl -fsS "http://$ip:9464/status" | node -e 'let t="";process.stdin.on("data",d=>t+=d).on("end",()=>console.log(JSON.parse(t).data.filter(e=>e.metric.endsWith(".health")).length))' || echo 0)
    [ "$n" -ge 3 ] && break
    sleep 1
  done
  curl -fsS "http://$ip:9464/status" | node -e 'let t="";process.stdin.on("data",d=>t+=d).on("end",()=>{for(const e of JSON.parse(t).data.filter(e=>e.metric.endsWith(".health")))console.log(`  ${e.metric} = ${e.value}  ${e.causes.join("; ")}`)})'

  step "The console (graft console, here reading the agents through the Kubernetes API)"
  console_port=$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
  graft console --host 127.0.0.1 --port "$console_port" --kubeconfig "$KUBECONFIG" >"$(mktemp)" 2>&1 &
  console_pid=$!
  for _ in $(seq 100); do
    curl -fsS "http://127.0.0.1:$console_port/readyz" >/dev/null 2>&1 && break
    sleep 0.2
  done
  echo "page: http://127.0.0.1:$console_port/ ; its tiles (GET /api/health):"
  for _ in $(seq 30); do
    report=$(curl -fsS "http://127.0.0.1:$console_port/api/health" || true)
    [ -n "$report" ] && [ "$(printf '%s' "$report" | node -e 'let t="";process.stdin.on("data",d=>t+=d).on("end",()=>console.log(JSON.parse(t).services.length))')" -ge 3 ] && break
    sleep 1
  done
  printf '%s' "$report" | node -e 'let t="";process.stdin.on("data",d=>t+=d).on("end",()=>{for(const s of JSON.parse(t).services)console.log(`  tile ${s.source}: ${s.shown} (${s.pods.map(p=>p.namespace+"/"+p.pod+" "+p.shown).join(", ")})`)})'

  step "The notebook folder inside alice's running Jupyter server (the injected postStart hook cloned it)"
  kubectl -n demo exec jupyter-alice -c notebook -- sh -c 'ls -lR ~/apps-notebooks; echo; cat ~/.graft-notebook-sync.log'
  jip=$(kubectl -n demo get pod jupyter-alice -o jsonpath='{.status.podIP}')
  echo "the Jupyter contents API, GET http://$jip:8888/api/contents/apps-notebooks/wordcount:"
  curl -fsS "http://$jip:8888/api/contents/apps-notebooks/wordcount" | node -e 'let t="";process.stdin.on("data",d=>t+=d).on("end",()=>{for(const e of JSON.parse(t).content)console.log(`  ${e.type} ${e.path}`)})'

  step "A Deployment with a bad graft.pnda.io/checks annotation is refused at kubectl apply"
  kubectl apply -f manifests/examples/demo/bad-checks.yaml || true
  step "More flows with real clients, each a test on this same real node (docs/flows/)"
  echo "  JupyterHub + KubeSpawner spawning alice's server: docs/flows/jupyterhub.md (test/node/jupyterhub.node.test.ts)"
  echo "  Prometheus finding the agents through the Kubernetes API, the console reading it: docs/flows/jvm-and-monitoring.md"
  echo "  helm install/upgrade/uninstall of a PNDA-style chart (manifests/examples/pnda-app): docs/flows/helm.md (test/node/helm.node.test.ts)"
  echo "  spark-submit --deploy-mode cluster of the wordcount, driver and executors injected: docs/flows/spark-submit.md (test/node/spark-submit.node.test.ts)"
  if $keep; then echo "console left running at http://127.0.0.1:$console_port/ (pid $console_pid)"; console_pid=""; fi
  exit 0
fi

# --- the kwok demo ---------------------------------------------------------------------------
kubectl() { bash test/cluster/cluster.sh kubectl "$@"; }

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
# The script is fixed text from graft's ConfigMap, mounted read-only; the user's repository and
# folder arrive only as arguments ($1, $2).
kubectl -n demo get pod jupyter-alice -o jsonpath='{range .spec.containers[?(@.name=="notebook")].lifecycle.postStart.exec.command[*]}{@} {end}{"\n"}'
kubectl -n demo get configmaps -l app.kubernetes.io/managed-by=graft,app.kubernetes.io/component=notebook-sync

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
