#!/usr/bin/env bash
# images.sh DIR: packs the static binaries DIR/{pause,testbox,coredns} into OCI image archives
# DIR/<name>.tar, one layer each, without any registry or container tool. The archives carry
# the containerd name annotation, so `ctr -n k8s.io images import` names them:
#   graft.local/pause:1        the pod sandbox (containerd's sandbox_image)
#   graft.local/testbox:1      test pods' tool (see cmd/testbox), uid 65532
#   graft.local/coredns:1.12.0 cluster DNS
# Deterministic: same binaries, same digests.
set -euo pipefail
dir="$(cd "$1" && pwd)"

# oci_archive NAME REF USER ENTRYPOINT_JSON: DIR/NAME.tar from DIR/NAME placed at /NAME
oci_archive() {
	local name=$1 ref=$2 user=$3 entrypoint=$4
	local work; work="$(mktemp -d)"
	mkdir -p "${work}/root" "${work}/oci/blobs/sha256"
	install -m 0755 "${dir}/${name}" "${work}/root/${name}"
	mkdir -p "${work}/root/tmp" "${work}/root/etc"
	chmod 1777 "${work}/root/tmp"
	printf 'root:x:0:0:root:/:/nonexistent\nnonroot:x:65532:65532:nonroot:/:/nonexistent\n' >"${work}/root/etc/passwd"
	printf 'root:x:0:\nnonroot:x:65532:\n' >"${work}/root/etc/group"
	tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 -C "${work}/root" -cf "${work}/layer.tar" .
	local layer layer_size
	layer="$(sha256sum "${work}/layer.tar" | cut -d' ' -f1)"
	layer_size="$(stat -c %s "${work}/layer.tar")"
	mv "${work}/layer.tar" "${work}/oci/blobs/sha256/${layer}"
	blob() { # writes stdin as a blob, prints "digest size"
		local f="${work}/blob" d
		cat >"${f}"
		d="$(sha256sum "${f}" | cut -d' ' -f1)"
		printf '%s %s' "${d}" "$(stat -c %s "${f}")"
		mv "${f}" "${work}/oci/blobs/sha256/${d}"
	}
	local config manifest
	config="$(printf '{"architecture":"amd64","os":"linux","config":{"User":"%s","Entrypoint":%s,"Env":["PATH=/"],"WorkingDir":"/"},"rootfs":{"type":"layers","diff_ids":["sha256:%s"]}}' \
		"${user}" "${entrypoint}" "${layer}" | blob)"
	manifest="$(printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%s},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"sha256:%s","size":%s}]}' \
		"${config% *}" "${config#* }" "${layer}" "${layer_size}" | blob)"
	printf '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%s,"platform":{"architecture":"amd64","os":"linux"},"annotations":{"io.containerd.image.name":"%s","org.opencontainers.image.ref.name":"%s"}}]}' \
		"${manifest% *}" "${manifest#* }" "${ref}" "${ref##*:}" >"${work}/oci/index.json"
	printf '{"imageLayoutVersion":"1.0.0"}' >"${work}/oci/oci-layout"
	tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 -C "${work}/oci" -cf "${dir}/${name}.tar" .
	rm -rf "${work}"
}

oci_archive pause graft.local/pause:1 65535:65535 '["/pause"]'
oci_archive testbox graft.local/testbox:1 65532:65532 '["/testbox"]'
oci_archive coredns graft.local/coredns:1.12.0 65532:65532 '["/coredns"]'
