#!/usr/bin/env bash
# Installs PyPI's jupyterhub into a venv and npm's configurable-http-proxy beside it, under
# ${GRAFT_CACHE_DIR:-$HOME/.cache/graft}/jupyterhub; test/services/jupyterhub.ts runs them.
set -euo pipefail
dest="${GRAFT_CACHE_DIR:-$HOME/.cache/graft}/jupyterhub"
hub_version="5.4.6"
chp_version="5.3.0"
if [ -x "$dest/venv/bin/jupyterhub" ] && [ -x "$dest/proxy/node_modules/.bin/configurable-http-proxy" ] &&
  [ "$("$dest/venv/bin/jupyterhub" --version)" = "$hub_version" ]; then
  exit 0
fi
python3 -m venv "$dest/venv"
"$dest/venv/bin/pip" install --quiet --disable-pip-version-check "jupyterhub==$hub_version"
mkdir -p "$dest/proxy"
npm install --silent --no-audit --no-fund --prefix "$dest/proxy" "configurable-http-proxy@$chp_version"
