#!/usr/bin/env bash
# jupyter_server from PyPI in a venv under the graft cache; idempotent and non-interactive.
set -euo pipefail

CACHE="${GRAFT_CACHE_DIR:-$HOME/.cache/graft}"
VENV="$CACHE/jupyter-server-venv"
VERSION="2.21.1"

if [ -x "$VENV/bin/jupyter-server" ] && "$VENV/bin/python" -c "import jupyter_server" 2>/dev/null; then
  exit 0
fi

mkdir -p "$CACHE"
python3 -m venv "$VENV"
"$VENV/bin/pip" install --quiet --disable-pip-version-check "jupyter_server==$VERSION"
