#!/usr/bin/env bash
# Debian's Chromium, driven headless by playwright-core (test/services/chromium.ts) to test the
# console's page as a browser renders it.
set -euo pipefail
source "$(dirname "$0")/../../../scripts/lib/apt.sh"
apt_install chromium
