#!/usr/bin/env bash
# Debian's zookeeper default-jre-headless for the zookeeper check's integration tests: test/services/zookeeper.ts runs it
# unprivileged on free ports with its own data dir; the system service is never used.
set -euo pipefail
source "$(dirname "$0")/../../../scripts/lib/apt.sh"
# policy-rc.d exit 101 keeps the package from starting its system service while installing.
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
  trap 'rm -f /usr/sbin/policy-rc.d' EXIT
fi
apt_install zookeeper default-jre-headless
