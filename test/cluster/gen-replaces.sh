#!/usr/bin/env bash
# Regenerates go.mod's requires/replaces from the pinned k8s.io/kubernetes module's own go.mod:
#  - require k8s.io/kubernetes $K8S_VERSION and sigs.k8s.io/kwok $KWOK_VERSION
#  - one `replace k8s.io/<staging> => k8s.io/<staging> v0.<minor>.<patch>` per staging module
#    (upstream lists them at v0.0.0 with `=> ./staging/src/...`, which the proxy cannot serve)
#  - go.etcd.io/etcd/server/v3 at the version k8s.io/kubernetes pins
# then `go mod tidy`. Nothing here is hand-kept: bump versions.env and rerun.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here"
export PATH="$PATH:/usr/local/go/bin"
export GOFLAGS="${GOFLAGS:-} -mod=mod"
# shellcheck source=versions.env
source ./versions.env

staging_version="v0.${K8S_VERSION#v1.}"   # v1.33.13 -> v0.33.13

modfile="$(go mod download -json "k8s.io/kubernetes@${K8S_VERSION}" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",$/\1/p')"
[[ -f "$modfile" ]] || { echo "gen-replaces: cannot find go.mod of k8s.io/kubernetes@${K8S_VERSION}" >&2; exit 1; }

[[ -f go.mod ]] || go mod init graft.local/cluster
go_directive="$(awk '$1=="go"{print $2; exit}' "$modfile")"
godebug="$(awk '$1=="godebug"{print $2; exit}' "$modfile")"   # e.g. default=go1.24
etcd_version="$(awk '$1=="go.etcd.io/etcd/server/v3"{print $2; exit}' "$modfile")"
[[ -n "$etcd_version" ]] || { echo "gen-replaces: k8s.io/kubernetes does not pin go.etcd.io/etcd/server/v3" >&2; exit 1; }

# Drop every existing replace, then add the current set.
for old in $(go mod edit -json | awk '/"Replace": \[/{r=1} r && /"Path":/{gsub(/[",]/,"",$2); print $2}' | sort -u); do
	go mod edit -dropreplace="$old" 2>/dev/null || true
done

args=(-go="$go_directive" ${godebug:+-godebug="$godebug"}
	-require="k8s.io/kubernetes@${K8S_VERSION}"
	-require="sigs.k8s.io/kwok@${KWOK_VERSION}"
	-require="go.etcd.io/etcd/server/v3@${etcd_version}")
n=0
while read -r mod; do
	args+=(-replace="${mod}=${mod}@${staging_version}")
	n=$((n + 1))
done < <(awk '$2=="=>" && $3 ~ /^\.\/staging\/src\// {print $1}' "$modfile" | sort -u)
go mod edit "${args[@]}"
echo "gen-replaces: k8s.io/kubernetes ${K8S_VERSION}, ${n} staging replaces at ${staging_version}, etcd ${etcd_version}, kwok ${KWOK_VERSION}"

[[ "${1:-}" == "--no-tidy" ]] && exit 0
go mod tidy

# Other requirements (kwok, controller-runtime) can lift shared dependencies (grpc, cel-go,
# go-restful, otel contrib, ...) above what k8s.io/kubernetes pins. The control plane must run
# with upstream's versions, so pin each such module back with a replace and tidy again.
pins="$(awk '($1=="require" && NF>=3){print $2, $3; next} /^[[:space:]]+[^[:space:]]+ v[0-9]/{print $1, $2}' "$modfile" \
	| grep -v '^k8s\.io/' | sort -u)"
forced=0
while read -r mod want; do
	[[ -n "$mod" ]] || continue
	have="$(go list -m -f '{{.Version}}' "$mod" 2>/dev/null || true)"
	[[ -n "$have" && "$have" != "$want" ]] || continue
	# k8s.io/kubernetes is in the graph, so minimal version selection only ever lifts: have > want.
	go mod edit -replace="${mod}=${mod}@${want}"
	echo "gen-replaces: pin ${mod} ${have} -> ${want} (as k8s.io/kubernetes pins it)"
	forced=$((forced + 1))
done <<<"$pins"
if ((forced > 0)); then go mod tidy; fi
