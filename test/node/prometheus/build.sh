#!/usr/bin/env bash
# Builds upstream Prometheus (cmd/prometheus at this go.mod's version) with only the Kubernetes
# service discovery (-tags remove_all_sd,enable_kubernetes_sd) into
# ${GRAFT_CACHE_DIR:-~/.cache/graft}/prometheus/<key>/prometheus, <key> hashing go.mod, go.sum
# and the Go version; a no-op when that exists. Prints the binary's path.
# Debian's prometheus package is built without Kubernetes discovery, which the node tests need.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
export GOTOOLCHAIN=local GOFLAGS=-mod=mod
key=$({ cat "$here/go.mod" "$here/go.sum"; go version; } | sha256sum | cut -c1-16)
out="${GRAFT_CACHE_DIR:-$HOME/.cache/graft}/prometheus/$key"
if [ ! -x "$out/prometheus" ]; then
  mkdir -p "$out"
  (cd "$here" && CGO_ENABLED=0 go build -trimpath -tags remove_all_sd,enable_kubernetes_sd \
    -o "$out/prometheus.part" github.com/prometheus/prometheus/cmd/prometheus)
  mv "$out/prometheus.part" "$out/prometheus"
fi
echo "$out/prometheus"
