#!/usr/bin/env bash
# Builds the benchmark's Go peer, HashiCorp's Vault agent injector (vault-k8s, unmodified, the
# version go.mod pins), once per go.mod/go.sum/Go version, into the cache. Prints the binary's path.
#   bash bench/peer/build.sh
set -euo pipefail
cd "$(dirname "$0")"
cache="${GRAFT_CACHE_DIR:-$HOME/.cache/graft}/peer"
key="$(cat go.mod go.sum <(go version) | sha256sum | cut -c1-16)"
out="$cache/$key/vault-k8s"
if [ ! -x "$out" ]; then
  mkdir -p "$cache/$key"
  echo "[bench/peer] building vault-k8s (go build, first time only)" >&2
  go build -trimpath -o "$out.tmp" github.com/hashicorp/vault-k8s
  mv "$out.tmp" "$out"
fi
echo "$out"
