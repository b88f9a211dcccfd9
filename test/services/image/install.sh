#!/usr/bin/env bash
# What test/integration/image.test.ts needs to build graft's images and run them: buildah,
# mmdebstrap, podman and runc from Debian (scripts/image.sh deps). The images themselves are
# built by the test, once per content key (scripts/image.sh build).
set -euo pipefail
bash "$(dirname "$0")/../../../scripts/image.sh" deps
