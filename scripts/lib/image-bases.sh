# shellcheck shell=bash
# The base images graft's Dockerfiles start FROM, made locally without any registry, under the
# names the FROM lines use, so the same Dockerfiles build here and with Docker anywhere:
#   docker.io/library/debian:bookworm-slim        Debian bookworm, mmdebstrap --variant=minbase
#   docker.io/library/node:26-bookworm-slim       that + Node 26 and npm in /usr/local, as upstream
#   gcr.io/distroless/nodejs26-debian12:nonroot   no shell, no package manager: glibc, libstdc++,
#                                                 CA bundle, /etc/passwd with nonroot (65532),
#                                                 /nodejs/bin/node
# Sourced by scripts/image.sh, which provides the `buildah` wrapper (private storage) and log().
# Needs root (mmdebstrap's root mode), mmdebstrap, buildah, curl, openssl.

GRAFT_BASE_DEBIAN=docker.io/library/debian:bookworm-slim
GRAFT_BASE_NODE=docker.io/library/node:26-bookworm-slim
GRAFT_BASE_DISTROLESS=gcr.io/distroless/nodejs26-debian12:nonroot

# Debian packages the distroless image takes its files from (what node needs to run, the CA
# bundle and the release files that image scanners read); their dpkg status goes along too.
GRAFT_DISTROLESS_PACKAGES=(base-files gcc-12-base libc6 libgcc-s1 libstdc++6 libatomic1)

# base_rootfs DIR: Debian bookworm minbase (plus the CA bundle and libatomic1, which node needs),
# without man pages, locales and docs other than copyright files.
base_rootfs() {
  local dir="$1"
  # shellcheck disable=SC2016 # the hook's "$1" is expanded by mmdebstrap, not here
  mmdebstrap --quiet --mode=root --variant=minbase --include=ca-certificates,libatomic1 \
    --hook-dir=/usr/share/mmdebstrap/hooks/merged-usr \
    --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/locale/*' \
    --dpkgopt='path-include=/usr/share/locale/locale.alias' \
    --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-include=/usr/share/doc/*/copyright' \
    --dpkgopt='path-exclude=/usr/share/info/*' \
    --customize-hook='rm -rf "$1"/var/cache/apt/*.bin "$1"/var/lib/apt/lists/* "$1"/var/log/*.log "$1"/var/log/apt/*' \
    bookworm "$dir" >"$dir.log" 2>&1 || { tail -30 "$dir.log" >&2; return 1; }
}

# distroless_rootfs FROM TO: the files of GRAFT_DISTROLESS_PACKAGES in the rootfs FROM (each
# path with its directory symlinks resolved, /usr merged as in FROM), plus what distroless adds.
distroless_rootfs() {
  local from="$1" to="$2" admin="$1/var/lib/dpkg" pkg path dir
  mkdir -p "$to/usr/bin" "$to/usr/lib" "$to/usr/lib64" "$to/usr/sbin" "$to/var/lib/dpkg/status.d"
  for link in bin lib lib64 sbin; do ln -s "usr/$link" "$to/$link"; done
  for pkg in "${GRAFT_DISTROLESS_PACKAGES[@]}"; do
    dpkg-query --admindir="$admin" -L "$pkg" | while IFS= read -r path; do
      [ -e "$from$path" ] || [ -L "$from$path" ] || continue
      [ -d "$from$path" ] && [ ! -L "$from$path" ] && continue
      dir=$(realpath "$from$(dirname "$path")")
      printf '%s\n' ".${dir#"$from"}/$(basename "$path")"
    done
    dpkg-query --admindir="$admin" -s "$pkg" >"$to/var/lib/dpkg/status.d/$pkg"
  done | sort -u | tar -C "$from" --no-recursion -cf - -T - | tar -C "$to" -xf -
  rm -rf "$to/usr/share/man" "$to/usr/share/info" "$to/usr/share/lintian"
  mkdir -p "$to/etc/ssl/certs" "$to/tmp" "$to/root" "$to/home/nonroot"
  cp "$from/etc/ssl/certs/ca-certificates.crt" "$to/etc/ssl/certs/"
  chmod 1777 "$to/tmp"
  chmod 0700 "$to/root" "$to/home/nonroot"
  chown 65532:65532 "$to/home/nonroot"
  printf '%s\n' 'root:x:0:0:root:/root:/sbin/nologin' \
    'nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin' \
    'nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin' >"$to/etc/passwd"
  printf '%s\n' 'root:x:0:' 'nobody:x:65534:' 'tty:x:5:' 'staff:x:50:' 'nonroot:x:65532:' >"$to/etc/group"
  printf '%s\n' 'hosts: files dns' >"$to/etc/nsswitch.conf"
}

# base_images_key: changes when this recipe or the pinned Node/npm change.
base_images_key() {
  cat "$GRAFT_REPO/scripts/lib/image-bases.sh" "$GRAFT_REPO/scripts/lib/node.sh" | sha256sum | cut -c1-16
}

# base_images_build: (re)makes the three base images unless they exist for the current key.
base_images_build() {
  local key
  key=$(base_images_key)
  if [ "$(cat "$GRAFT_CONTAINERS_DIR/keys/bases" 2>/dev/null)" = "$key" ] \
    && buildah inspect --type image "$GRAFT_BASE_DEBIAN" >/dev/null 2>&1 \
    && buildah inspect --type image "$GRAFT_BASE_NODE" >/dev/null 2>&1 \
    && buildah inspect --type image "$GRAFT_BASE_DISTROLESS" >/dev/null 2>&1; then
    return 0
  fi
  local work="$GRAFT_CONTAINERS_DIR/work"
  rm -rf "$work" && mkdir -p "$work"
  log "base images: Debian bookworm rootfs (mmdebstrap)"
  base_rootfs "$work/debian"
  tar -C "$work/debian" --numeric-owner -cf "$work/debian.tar" .

  local ctr
  ctr=$(buildah from scratch)
  buildah add --quiet "$ctr" "$work/debian.tar" / >/dev/null
  buildah config --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    --cmd '["bash"]' "$ctr"
  buildah commit --quiet --rm "$ctr" "$GRAFT_BASE_DEBIAN" >/dev/null

  log "base images: node:26-bookworm-slim (Node $GRAFT_NODE_VERSION, npm $GRAFT_NPM_VERSION)"
  node_install "$work/node/usr/local"
  tar -C "$work/node" --numeric-owner --owner=0 --group=0 -cf "$work/node.tar" usr
  ctr=$(buildah from --pull=never "$GRAFT_BASE_DEBIAN")
  buildah add --quiet "$ctr" "$work/node.tar" / >/dev/null
  buildah config --env NODE_VERSION="$GRAFT_NODE_VERSION" --cmd '["node"]' "$ctr"
  buildah commit --quiet --rm "$ctr" "$GRAFT_BASE_NODE" >/dev/null

  log "base images: distroless nodejs26 (nonroot)"
  distroless_rootfs "$work/debian" "$work/distroless"
  mkdir -p "$work/distroless/nodejs/bin"
  cp "$work/node/usr/local/bin/node" "$work/distroless/nodejs/bin/node"
  cp "$work/node/usr/local/LICENSE" "$work/distroless/nodejs/LICENSE"
  tar -C "$work/distroless" --numeric-owner -cf "$work/distroless.tar" .
  ctr=$(buildah from scratch)
  buildah add --quiet "$ctr" "$work/distroless.tar" / >/dev/null
  buildah config --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    --env SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt \
    --user 65532:65532 --workingdir /home/nonroot --entrypoint '["/nodejs/bin/node"]' "$ctr"
  buildah commit --quiet --rm "$ctr" "$GRAFT_BASE_DISTROLESS" >/dev/null

  rm -rf "$work"
  mkdir -p "$GRAFT_CONTAINERS_DIR/keys"
  echo "$key" >"$GRAFT_CONTAINERS_DIR/keys/bases"
}
