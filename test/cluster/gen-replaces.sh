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
etcd_version="$(awk '$1=="go.etcd.io/etcd/server/v3"{print $2; exit}' "$modfile")"
[[ -n "$etcd_version" ]] || { echo "gen-replaces: k8s.io/kubernetes does not pin go.etcd.io/etcd/server/v3" >&2; exit 1; }

# Drop every existing replace, then add the current set.
for old in $(go mod edit -json | sed -n 's/^[[:space:]]*"Path": "\(k8s\.io\/[^"]*\)"$/\1/p' | sort -u); do
	go mod edit -dropreplace="$old" 2>/dev/null || true
done

args=(-go="$go_directive"
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

if [[ "${1:-}" != "--no-tidy" ]]; then
	go mod tidy
fi
