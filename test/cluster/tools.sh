#!/usr/bin/env bash
# Upstream tools the install tests drive, built from the Go modules pinned in their own folders
# (each its own go.mod, so their dependency graphs never move the control plane's pins):
#
#   helm/          helm.sh/helm/v3 (cmd/helm, upstream's own main package)
#   cert-manager/  github.com/cert-manager/cert-manager: controller and cainjector (mains of our
#                  own over upstream's packages, see cmd/*/main.go) and its CRDs (deploy/crds)
#
#   tools.sh build [NAME...]   build (default: all); a no-op when the cache has them
#   tools.sh bin NAME          print the folder holding NAME's binaries (building if needed)
#
# Binaries go to ${GRAFT_CACHE_DIR:-~/.cache/graft}/tools/<name>-<key>/bin, where <key> hashes the
# recipe, the Go version, the folder's go.mod/go.sum and *.go files. One build per key at a
# time (flock); a waiter finds the result. GOCACHE is honoured (a fresh one measures a cold build).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
CACHE_ROOT="${GRAFT_CACHE_DIR:-${HOME}/.cache/graft}/tools"
RECIPE="v1 -trimpath -s -w CGO_ENABLED=0"
ALL=(helm cert-manager)

export PATH="${PATH}:/usr/local/go/bin"
export GOTOOLCHAIN=local GOFLAGS="-mod=mod"

log() { printf '[tools] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN{printf "%.1f", b-a}'; }

# mod_version DIR MODULE: the version DIR/go.mod requires.
mod_version() { awk -v m="$2" '($1==m || ($1=="require" && $2==m)) {for(i=1;i<=NF;i++) if ($i ~ /^v[0-9]/) {print $i; exit}}' "${HERE}/$1/go.mod"; }

key() {
	local name="$1"
	{
		echo "${RECIPE}"
		go version
		cd "${HERE}/${name}"
		find . -type f \( -name go.mod -o -name go.sum -o -name '*.go' -o -name '*.sh' \) | LC_ALL=C sort | xargs sha256sum
	} | sha256sum | cut -c1-16
}

bin_dir() { echo "${CACHE_ROOT}/$1-$(key "$1")/bin"; }

# build_helm OUT: helm with the version fields upstream's Makefile sets.
build_helm() {
	local out="$1" v k8s minor
	v="$(mod_version helm helm.sh/helm/v3)"
	k8s="$(mod_version helm k8s.io/client-go)" # v0.33.3
	minor="${k8s#v0.}"; minor="${minor%%.*}"
	local ld="-s -w -X helm.sh/helm/v3/internal/version.version=${v}"
	local p
	for p in helm.sh/helm/v3/pkg/lint/rules helm.sh/helm/v3/pkg/chartutil; do
		ld+=" -X ${p}.k8sVersionMajor=1 -X ${p}.k8sVersionMinor=${minor}"
	done
	cd "${HERE}/helm"
	go mod download
	CGO_ENABLED=0 go build -trimpath -ldflags "${ld}" -o "${out}/helm" helm.sh/helm/v3/cmd/helm
	[[ -x "${out}/helm" ]] || die "build produced no helm"
}

# build_cert_manager OUT: controller, cainjector, and the CRDs of the same module version.
build_cert_manager() {
	local out="$1" v dir
	v="$(mod_version cert-manager github.com/cert-manager/cert-manager)"
	cd "${HERE}/cert-manager"
	go mod download
	CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X github.com/cert-manager/cert-manager/pkg/util.AppVersion=${v}" \
		-o "${out}/" ./cmd/controller ./cmd/cainjector
	dir="$(go list -m -f '{{.Dir}}' github.com/cert-manager/cert-manager)"
	mkdir -p "${out}/crds"
	cp "${dir}"/deploy/crds/crd-*.yaml "${out}/crds/"
	chmod u+w "${out}"/crds/*
	[[ -x "${out}/controller" && -x "${out}/cainjector" ]] || die "build produced no controller/cainjector"
}

build_one() {
	local name="$1" bin
	command -v go >/dev/null || die "go not found (expected in PATH or /usr/local/go/bin)"
	bin="$(bin_dir "${name}")"
	[[ -f "${bin}/.complete" ]] && return 0
	mkdir -p "${CACHE_ROOT}"
	local lock="${CACHE_ROOT}/.${name}.lock"
	(
		exec 8>"${lock}"
		flock 8
		[[ -f "${bin}/.complete" ]] && exit 0
		local tmp="${bin}.tmp.$$" buildlog="${bin%/bin}.build.log" start
		rm -rf "${tmp}"; mkdir -p "${tmp}"
		start="$(now)"
		log "building ${name} into ${bin} (log: ${buildlog})"
		if ! ("build_${name//-/_}" "${tmp}") >"${buildlog}" 2>&1; then
			tail -n 30 "${buildlog}" >&2
			rm -rf "${tmp}"
			die "building ${name} failed (see ${buildlog})"
		fi
		touch "${tmp}/.complete"
		rm -rf "${bin}"
		mv "${tmp}" "${bin}"
		log "built ${name} in $(since "${start}")s"
	)
}

cmd="${1:-build}"
shift || true
case "${cmd}" in
build)
	names=("$@")
	[[ ${#names[@]} -gt 0 ]] || names=("${ALL[@]}")
	pids=()
	for n in "${names[@]}"; do
		[[ " ${ALL[*]} " == *" ${n} "* ]] || die "unknown tool '${n}' (known: ${ALL[*]})"
		build_one "${n}" & pids+=($!)
	done
	rc=0
	for p in "${pids[@]}"; do wait "${p}" || rc=1; done
	exit "${rc}"
	;;
bin)
	[[ $# -eq 1 && " ${ALL[*]} " == *" $1 "* ]] || die "usage: tools.sh bin NAME (one of: ${ALL[*]})"
	build_one "$1"
	bin_dir "$1"
	;;
*) die "usage: tools.sh build [NAME...] | bin NAME" ;;
esac
