#!/usr/bin/env bash
# A git smart-HTTP server as PNDA ran it (nginx → fcgiwrap → git-http-backend) for the notebook
# sync tests: test/services/git-http.ts runs it unprivileged on free ports with the nginx.conf of
# manifests/notebooks; the system service is never used. shellcheck lints the sync script
# (test/integration/notebook-sync-hostile.test.ts); setpriv (util-linux) runs it as another user.
set -euo pipefail
source "$(dirname "$0")/../../../scripts/lib/apt.sh"
# policy-rc.d exit 101 keeps the package from starting its system service (port 80) while installing.
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
  trap 'rm -f /usr/sbin/policy-rc.d' EXIT
fi
apt_install nginx-light fcgiwrap git shellcheck util-linux
