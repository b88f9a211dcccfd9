#!/usr/bin/env bash
# A git smart-HTTP server as PNDA ran it: nginx in front of fcgiwrap running git-http-backend.
# Debian packages only; idempotent and non-interactive.
set -euo pipefail

if command -v nginx >/dev/null && command -v fcgiwrap >/dev/null && command -v git >/dev/null \
  && [ -x /usr/lib/git-core/git-http-backend ]; then
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
$SUDO apt-get update
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends nginx-light fcgiwrap git \
  || DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends nginx fcgiwrap git
