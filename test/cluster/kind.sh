#!/usr/bin/env bash
# Runs graft's e2e suite against a kind cluster instead of the local control plane, for machines
# with Docker and kind (not this project's development machines, which have neither).
#
#   kind.sh up      create kind cluster "graft-e2e" (node image kindest/node:<k8s version in go.mod>)
#   kind.sh test    up, then `npm run test:e2e` with GRAFT_E2E_KUBECONFIG pointing at it
#   kind.sh down    delete the kind cluster
#   kind.sh env     print the exports that make the e2e suite target it
#
# Environment: KIND_CLUSTER (default graft-e2e), KIND_NODE_IMAGE (default
# kindest/node:<k8s version>; pass a digest-pinned image from the kind release notes if your kind
# release has no image for that patch).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "${HERE}/../.." && pwd)"
NAME="${KIND_CLUSTER:-graft-e2e}"
STATE="${GRAFT_CLUSTER_DIR:-${HERE}/.state}/kind"
KUBECONFIG_FILE="${STATE}/kubeconfig"
VERSION="$(awk '$1=="k8s.io/kubernetes" && $2 ~ /^v/ {print $2; exit}' "${HERE}/go.mod")"
IMAGE="${KIND_NODE_IMAGE:-kindest/node:${VERSION}}"

log() { printf '[kind] %s\n' "$*" >&2; }
need() { command -v "$1" >/dev/null || { log "$1 is required (this script is for machines with Docker and kind)"; exit 1; }; }

# The e2e tests run the webhook on this host and register it by URL. Inside a kind node,
# 127.0.0.1 is the node itself, so the suite must use the host's address on kind's Docker
# network (the gateway), and put that IP in the webhook's serving certificate.
webhook_host() {
	docker network inspect kind -f '{{range .IPAM.Config}}{{if .Gateway}}{{.Gateway}} {{end}}{{end}}' |
		tr ' ' '\n' | grep -E '^[0-9]+\.' | head -n 1
}

cmd_up() {
	need docker; need kind
	mkdir -p "${STATE}"
	if kind get clusters 2>/dev/null | grep -qx "${NAME}"; then
		log "kind cluster ${NAME} exists"
	else
		log "creating kind cluster ${NAME} (${IMAGE})"
		kind create cluster --name "${NAME}" --image "${IMAGE}" --wait 120s --kubeconfig "${KUBECONFIG_FILE}"
	fi
	kind get kubeconfig --name "${NAME}" >"${KUBECONFIG_FILE}"
	log "kubeconfig: ${KUBECONFIG_FILE}"
}

cmd_env() {
	echo "export GRAFT_E2E_KUBECONFIG=${KUBECONFIG_FILE}"
	echo "export GRAFT_E2E_WEBHOOK_HOST=$(webhook_host)"
}

case "${1:-}" in
up) cmd_up ;;
down) need kind; kind delete cluster --name "${NAME}"; rm -rf "${STATE}" ;;
env) cmd_env ;;
test)
	cmd_up
	eval "$(cmd_env)"
	cd "${REPO}"
	GRAFT_E2E_KUBECONFIG="${GRAFT_E2E_KUBECONFIG}" GRAFT_E2E_WEBHOOK_HOST="${GRAFT_E2E_WEBHOOK_HOST}" npm run test:e2e
	;;
*) sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
esac
