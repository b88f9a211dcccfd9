#!/usr/bin/env bash
# graft's images, built with buildah from the same Dockerfiles Docker builds, without a Docker
# daemon or any registry: the base images the FROM lines name are made locally first
# (scripts/lib/image-bases.sh). Storage is private (vfs, under $GRAFT_CACHE_DIR/containers);
# nothing outside $GRAFT_CACHE_DIR changes. Needs root, buildah, mmdebstrap (setup.sh test
# installs them; `scripts/image.sh deps` does it alone).
#
#   scripts/image.sh build        ghcr.io/graft/graft:<version> from ./Dockerfile and
#                                 ghcr.io/graft/graft-notebook-git:<version> from
#                                 manifests/notebooks/Dockerfile, each rebuilt only when its
#                                 content key (Dockerfile, build context, base images) changed,
#                                 and saved as a docker-archive; prints per image a line
#                                 `<name> <image id> <archive>`
#   scripts/image.sh import       imports the archives into containerd's k8s.io namespace
#                                 (`ctr images import`; CONTAINERD_ADDRESS picks the socket)
#   scripts/image.sh push DEST    pushes both to DEST/graft:<version> and
#                                 DEST/graft-notebook-git:<version>, DEST being any buildah
#                                 destination prefix: docker://registry.example/team, oci:/dir
#   scripts/image.sh test-images  the node tests' images from test/node/images/*/Dockerfile:
#                                 graft.local/jupyter:1 (Debian + jupyter_server, jupyterhub
#                                 from PyPI), graft.local/jvm:1 (Debian's OpenJDK 17 JRE),
#                                 graft.local/spark:1 (the JRE + pyspark from PyPI, for
#                                 spark-submit's Kubernetes backend);
#                                 cached by content key like the others, same output lines
#   scripts/image.sh env          the environment that points buildah/podman at the storage
#   scripts/image.sh key DOCKERFILE CONTEXT   the content key of one build context (no build)
#   scripts/image.sh deps         installs buildah, mmdebstrap, podman and runc with apt
set -euo pipefail
GRAFT_REPO="$(cd "$(dirname "$0")/.." && pwd)"
export GRAFT_CACHE_DIR="${GRAFT_CACHE_DIR:-$HOME/.cache/graft}"
GRAFT_CONTAINERS_DIR="${GRAFT_CONTAINERS_DIR:-$GRAFT_CACHE_DIR/containers}"
GRAFT_IMAGES_DIR="${GRAFT_IMAGES_DIR:-$GRAFT_CACHE_DIR/images}"
log() { printf '[image %s] %s\n' "$(date +%T)" "$*" >&2; }
source "$GRAFT_REPO/scripts/lib/apt.sh"
source "$GRAFT_REPO/scripts/lib/node.sh"
source "$GRAFT_REPO/scripts/lib/image-bases.sh"

# Private storage and configuration for buildah and podman: overlay (a container starts in
# about a second; vfs copies the whole image per container and is the fallback where the cache
# itself lives on overlayfs), cgroupfs (no systemd), docker.io as the one search registry so
# `FROM node:…` means what it means to Docker; never pulled from (--pull=never).
containers_env() {
  local d="$GRAFT_CONTAINERS_DIR" driver="${GRAFT_CONTAINERS_DRIVER:-}"
  mkdir -p "$d"
  if [ -z "$driver" ]; then
    driver=overlay
    [ "$(stat -f -c %T "$d")" = overlayfs ] && driver=vfs
  fi
  mkdir -p "$d/storage-$driver" "$d/run-$driver" "$d/tmp" "$d/net"
  cat >"$d/storage.conf" <<EOF
[storage]
driver = "$driver"
graphroot = "$d/storage-$driver"
runroot = "$d/run-$driver"
EOF
  cat >"$d/containers.conf" <<EOF
[engine]
cgroup_manager = "cgroupfs"
runtime = "runc"
events_logger = "file"
events_logfile_path = "$d/events.log"
tmp_dir = "$d/tmp"
[network]
network_config_dir = "$d/net"
EOF
  cat >"$d/registries.conf" <<EOF
unqualified-search-registries = ["docker.io"]
short-name-mode = "permissive"
EOF
  export CONTAINERS_STORAGE_CONF="$d/storage.conf" CONTAINERS_CONF="$d/containers.conf"
  export CONTAINERS_REGISTRIES_CONF="$d/registries.conf" TMPDIR="$d/tmp"
}


version() { node -p 'require(process.argv[1]).version' "$GRAFT_REPO/package.json"; }

# context_key DOCKERFILE CONTEXT: a hash of the Dockerfile and of every file in CONTEXT that git
# knows (tracked, or untracked and not ignored) and .dockerignore does not exclude, names
# included. Patterns are matched as Docker does for this repository's simple ones (a path or
# a directory prefix, `*`, `**/`).
context_key() {
  local dockerfile="$1" context="$2" patterns=() path pat skip line
  if [ -f "$context/.dockerignore" ]; then
    while IFS= read -r line; do
      line="${line%%#*}"; line="${line%"${line##*[![:space:]]}"}"
      [ -n "$line" ] && patterns+=("$line")
    done <"$context/.dockerignore"
  fi
  {
    sha256sum <"$dockerfile"
    (cd "$context" && git ls-files -z --cached --others --exclude-standard -- . | sort -z) |
      while IFS= read -r -d '' path; do
        [ -f "$context/$path" ] || continue
        skip=false
        for pat in "${patterns[@]}"; do
          # shellcheck disable=SC2254 # the pattern is a glob on purpose
          case "$path" in $pat | $pat/* | ${pat#\*\*/}) skip=true; break ;; esac
        done
        $skip || (cd "$context" && sha256sum -- "$path")
      done
  } | sha256sum | cut -c1-16
}

# build_one NAME DOCKERFILE CONTEXT [REF]: builds REF (default ghcr.io/graft/NAME:<version>)
# unless its key is unchanged; prints `<ref> <image id> <archive>`.
build_one() {
  local name="$1" dockerfile="$2" context="$3" ref="${4:-}" key id archive
  [ -n "$ref" ] || ref="ghcr.io/graft/$name:$(version)"
  key="$(context_key "$dockerfile" "$context")-$(cat "$GRAFT_CONTAINERS_DIR/keys/bases")"
  key=$(printf '%s' "$key" | sha256sum | cut -c1-16)
  archive="$GRAFT_IMAGES_DIR/$name-$key.tar"
  id=$(cat "$GRAFT_CONTAINERS_DIR/keys/$name-$key" 2>/dev/null || true)
  if [ -z "$id" ] || [ ! -f "$archive" ] || ! buildah inspect --type image "$id" >/dev/null 2>&1; then
    log "building $ref from ${dockerfile#"$GRAFT_REPO"/} (key $key)"
    local secret=()
    # Registry traffic may pass a TLS-intercepting proxy whose CA only the host trusts: the
    # build stage gets the host's bundle as a secret (never a layer of the image).
    # shellcheck disable=SC2054 # one option value, commas included
    [ -f /etc/ssl/certs/ca-certificates.crt ] && secret=(--secret id=ca,src=/etc/ssl/certs/ca-certificates.crt)
    local start=$SECONDS
    buildah bud --quiet --pull=never --network host --layers=false --isolation chroot "${secret[@]}" \
      --label "io.graft.build-key=$key" -t "$ref" -f "$dockerfile" "$context" >&2
    id=$(buildah inspect --type image --format '{{.FromImageID}}' "$ref")
    mkdir -p "$GRAFT_IMAGES_DIR"
    rm -f "$archive"
    buildah push --quiet "$id" "docker-archive:$archive.part:$ref" >&2
    mv "$archive.part" "$archive"
    # A tag per key keeps the image when another checkout moves $ref to its own build.
    buildah tag "$id" "localhost/graft-build/$name:$key"
    echo "$id" >"$GRAFT_CONTAINERS_DIR/keys/$name-$key"
    log "built $ref in $((SECONDS - start)) s: $(du -m "$archive" | cut -f1) MB archive"
    # Keep the two newest builds per image; drop untagged images and stray containers.
    local old
    # shellcheck disable=SC2012 # our own file names: <name>-<hex key>.tar
    for old in $(ls -t "$GRAFT_IMAGES_DIR/$name"-*.tar | tail -n +3); do
      old=$(basename "$old" .tar) && old=${old#"$name"-}
      rm -f "$GRAFT_IMAGES_DIR/$name-$old.tar" "$GRAFT_CONTAINERS_DIR/keys/$name-$old"
      buildah rmi "localhost/graft-build/$name:$old" >/dev/null 2>&1 || true
    done
    buildah rm --all >/dev/null 2>&1 || true
    buildah rmi --prune >/dev/null 2>&1 || true
  else
    buildah tag "$id" "$ref"
  fi
  printf '%s %s %s\n' "$ref" "$id" "$archive"
}

cmd_build() {
  need_root
  containers_env
  mkdir -p "$GRAFT_CONTAINERS_DIR/keys"
  exec 9>"$GRAFT_CONTAINERS_DIR/lock"
  flock 9
  use_node
  base_images_build
  build_one graft "$GRAFT_REPO/Dockerfile" "$GRAFT_REPO"
  build_one graft-notebook-git "$GRAFT_REPO/manifests/notebooks/Dockerfile" "$GRAFT_REPO/manifests/notebooks"
}

cmd_test_images() {
  need_root
  containers_env
  mkdir -p "$GRAFT_CONTAINERS_DIR/keys"
  exec 9>"$GRAFT_CONTAINERS_DIR/lock"
  flock 9
  use_node
  base_images_build
  local image
  for image in jupyter jvm spark; do
    build_one "test-$image" "$GRAFT_REPO/test/node/images/$image/Dockerfile" \
      "$GRAFT_REPO/test/node/images/$image" "graft.local/$image:1"
  done
}

need_root() {
  [ "$(id -u)" -eq 0 ] || { echo "image.sh: building needs root (mmdebstrap, buildah with vfs)" >&2; exit 1; }
  local tool
  for tool in buildah mmdebstrap podman runc; do
    command -v "$tool" >/dev/null || { cmd_deps; break; }
  done
}

cmd_deps() { apt_install buildah mmdebstrap podman runc; }

case "${1:-build}" in
  build) cmd_build ;;
  test-images) cmd_test_images ;;
  import)
    shift
    cmd_build | while read -r ref _ archive; do
      log "importing $ref into containerd (k8s.io)"
      ctr -n k8s.io "$@" images import "$archive" >&2
    done
    ;;
  push)
    [ $# -eq 2 ] || { echo "usage: scripts/image.sh push DEST  (docker://registry.example/team, oci:/dir)" >&2; exit 2; }
    dest="$2"
    containers_env # for buildah push below: cmd_build runs in the pipeline's own subshell
    cmd_build | while read -r ref id _; do
      target="$dest/${ref#ghcr.io/graft/}"
      log "pushing $ref to $target"
      buildah push --quiet "$id" "$target" >&2
      echo "$target"
    done
    ;;
  env)
    containers_env
    printf 'export %s=%q\n' CONTAINERS_STORAGE_CONF "$CONTAINERS_STORAGE_CONF" \
      CONTAINERS_CONF "$CONTAINERS_CONF" CONTAINERS_REGISTRIES_CONF "$CONTAINERS_REGISTRIES_CONF"
    ;;
  deps) cmd_deps ;;
  key)
    [ $# -eq 3 ] || { echo "usage: scripts/image.sh key DOCKERFILE CONTEXT" >&2; exit 2; }
    context_key "$2" "$3"
    ;;
  *) sed -n '2,29p' "$0" >&2; exit 2 ;;
esac
