#!/usr/bin/env bash
# Installs everything graft's demo and tests need on a fresh Debian machine, and is quick when
# nothing is missing. Usage: scripts/setup.sh [demo|test]   (default: test)
#   demo: Debian basics, npm ci, the build, the local control plane's binaries
#   test: that, plus every real service the tests start (test/services/*/install.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
mode="${1:-test}"
export GRAFT_CACHE_DIR="${GRAFT_CACHE_DIR:-$HOME/.cache/graft}"
mkdir -p "$GRAFT_CACHE_DIR"
log() { printf '[setup %s] %s\n' "$(date +%T)" "$*"; }

need_cmd() { command -v "$1" >/dev/null 2>&1 || { echo "setup: $1 is required ($2)" >&2; exit 1; }; }
[ -x /usr/local/go/bin/go ] && export PATH="$PATH:/usr/local/go/bin"
need_cmd go "Go 1.24 or newer builds the local control plane"

# Debian packages the demo itself needs (openssl for the control plane's certs).
source scripts/lib/apt.sh
apt_install git openssl ca-certificates procps iproute2 curl
# The checks ./scripts/test.sh runs on the shell graft ships into pods.
[ "$mode" = test ] && apt_install shellcheck dash

# Node 26: the machine's when new enough, else the pinned one installed under $GRAFT_CACHE_DIR.
source scripts/lib/node.sh
use_node
log "node $(node --version) at $(command -v node)"

# The control plane is the long pole (10-25 min cold on 2 cores): build it in the background
# while npm and the services install.
cluster_log="$GRAFT_CACHE_DIR/cluster-build.log"
log "building the local control plane (log: $cluster_log)"
bash test/cluster/cluster.sh build >"$cluster_log" 2>&1 &
cluster_pid=$!
# helm and cert-manager for the install tests (test/cluster/tools.sh, ~5 CPU-min cold each), beside it.
tools_pid=""
if [ "$mode" = test ]; then
  bash test/cluster/tools.sh build >"$GRAFT_CACHE_DIR/tools-build.log" 2>&1 &
  tools_pid=$!
fi
# The image tests' images (scripts/image.sh: apt, mmdebstrap, buildah; root only) meanwhile too.
image_pid=""
if [ "$mode" = test ] && [ "$(id -u)" -eq 0 ]; then
  log "building graft's images (log: $GRAFT_CACHE_DIR/image-build.log)"
  # graft's images, then the node tests' workload images (test/node/images: Jupyter, JVM, Spark).
  { bash scripts/image.sh build && bash scripts/image.sh test-images; } >"$GRAFT_CACHE_DIR/image-build.log" 2>&1 &
  image_pid=$!
fi

# The real node's Debian packages (containerd, runc, CNI plugins, iptables), where it can run.
if [ "$mode" = test ] && bash test/cluster/cluster.sh --real-node node-check >/dev/null; then
  log "installing the real node's packages"
  bash test/cluster/cluster.sh --real-node node-deps
fi

lock_hash=$({ cat package-lock.json; node -p process.versions.modules; } | sha256sum | cut -c1-16)
if [ "$(cat node_modules/.graft-lock-hash 2>/dev/null)" != "$lock_hash" ]; then
  log "npm ci"
  npm ci --no-audit --no-fund --loglevel=error
  echo "$lock_hash" > node_modules/.graft-lock-hash
fi
log "npm run build"
npm run build --silent

if [ "$mode" = test ]; then
  # The node tests' own: JupyterHub + KubeSpawner (PyPI); Prometheus with Kubernetes discovery
  # (a Go build, in the background beside the control plane's).
  if [ "$(id -u)" -eq 0 ]; then
    log "building Prometheus for the node tests (log: $GRAFT_CACHE_DIR/prometheus-build.log)"
    bash test/node/prometheus/build.sh >"$GRAFT_CACHE_DIR/prometheus-build.log" 2>&1 &
    prometheus_pid=$!
    log "installing JupyterHub + KubeSpawner (test/node)"
    bash test/node/jupyterhub/install.sh
  fi
  for installer in test/services/*/install.sh; do
    [ -f "$installer" ] || continue
    log "installing $(basename "$(dirname "$installer")")"
    bash "$installer"
  done
fi

# A failed image build fails only the image tests, which build again and say why.
[ -z "$image_pid" ] || wait "$image_pid" || log "building the images failed (log: $GRAFT_CACHE_DIR/image-build.log)"
[ -z "$tools_pid" ] || wait "$tools_pid" || log "building helm/cert-manager failed (log: $GRAFT_CACHE_DIR/tools-build.log)"
[ -z "${prometheus_pid:-}" ] || wait "$prometheus_pid" ||
  log "building Prometheus failed (log: $GRAFT_CACHE_DIR/prometheus-build.log); the node tests build it again"
log "waiting for the control plane build"
if ! wait "$cluster_pid"; then
  tail -50 "$cluster_log" >&2
  echo "setup: building the control plane failed (full log: $cluster_log)" >&2
  exit 1
fi
log "ready"
