#!/usr/bin/env bash
# Installs graft with TLS material of its own, without cert-manager:
#   1. `graft certs` makes a new CA and a serving certificate for graft-webhook.graft.svc;
#   2. `kubectl apply -k` this overlay (the base: namespace, RBAC, Deployment, Service, ...);
#   3. the webhook configuration's caBundle is set to the new CA, plus the CA it replaces when
#      this is a re-run, so the API server trusts both while the pods move to the new certificate;
#   4. Secret graft-webhook-tls gets tls.crt, tls.key and ca.crt (the pods reload them in place);
#   5. waits for the Deployment to roll out.
# Re-running it rotates the CA and the certificate. Idempotent otherwise.
#
# Usage: manifests/overlays/provided-certs/install.sh [--days N] [--keep-certs DIR]
# Environment:
#   KUBECTL   kubectl command (default: kubectl), e.g. "kubectl --context prod"
#   GRAFT     graft command (default: graft on PATH, else this checkout's bin/graft.js after
#             `npm run build`)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "${here}/../../.." && pwd)"
namespace=graft
service=graft-webhook
secret=graft-webhook-tls
webhook_configuration=graft
days=365
keep=""

usage() { sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'; }
die() { printf 'install.sh: %s\n' "$*" >&2; exit 1; }

while [[ $# -gt 0 ]]; do
	case "$1" in
	--days) days="${2:?--days needs a number}"; shift 2 ;;
	--keep-certs) keep="${2:?--keep-certs needs a directory}"; shift 2 ;;
	-h | --help) usage; exit 0 ;;
	*) usage >&2; die "unknown argument: $1" ;;
	esac
done

read -r -a kubectl <<<"${KUBECTL:-kubectl}"
if [[ -n "${GRAFT:-}" ]]; then
	read -r -a graft <<<"${GRAFT}"
elif command -v graft >/dev/null; then
	graft=(graft)
elif [[ -f "${repo}/dist/cli/main.js" ]]; then
	graft=(node "${repo}/bin/graft.js")
else
	die "no graft command: install it, set GRAFT=..., or run \`npm run build\` in ${repo}"
fi

certs="$(mktemp -d)"
trap 'rm -rf "${certs}"' EXIT
"${graft[@]}" certs --out "${certs}" --days "${days}" \
	--dns "${service}.${namespace}.svc" --dns "${service}.${namespace}.svc.cluster.local"

"${kubectl[@]}" apply -k "${here}"

# caBundle: the new CA, then the first CA of the bundle in place (if any), so a rotation never
# leaves the API server distrusting the certificate the pods still serve.
previous="$("${kubectl[@]}" get mutatingwebhookconfiguration "${webhook_configuration}" \
	-o jsonpath='{.webhooks[0].clientConfig.caBundle}' | base64 -d | awk '/-----BEGIN/{n++} n==1')"
if [[ -n "${previous}" ]]; then
	bundle="$(printf '%s\n%s\n' "$(cat "${certs}/ca.crt")" "${previous}" | base64 | tr -d '\n')"
else
	bundle="$(base64 <"${certs}/ca.crt" | tr -d '\n')"
fi
count="$("${kubectl[@]}" get mutatingwebhookconfiguration "${webhook_configuration}" \
	-o jsonpath='{range .webhooks[*]}{.name}{"\n"}{end}' | grep -c .)"
ops=""
for ((i = 0; i < count; i++)); do
	ops+="${ops:+,}{\"op\":\"add\",\"path\":\"/webhooks/${i}/clientConfig/caBundle\",\"value\":\"${bundle}\"}"
done
"${kubectl[@]}" patch mutatingwebhookconfiguration "${webhook_configuration}" --type json -p "[${ops}]"

"${kubectl[@]}" -n "${namespace}" create secret generic "${secret}" --type kubernetes.io/tls \
	--from-file=tls.crt="${certs}/tls.crt" --from-file=tls.key="${certs}/tls.key" \
	--from-file=ca.crt="${certs}/ca.crt" --dry-run=client -o yaml |
	"${kubectl[@]}" apply -f -

if [[ -n "${keep}" ]]; then
	mkdir -p "${keep}"
	cp "${certs}/ca.crt" "${certs}/tls.crt" "${certs}/tls.key" "${keep}/"
fi

"${kubectl[@]}" -n "${namespace}" rollout status deployment/"${service}" --timeout=180s
