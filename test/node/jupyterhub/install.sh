#!/usr/bin/env bash
# JupyterHub with KubeSpawner from PyPI in a venv under ${GRAFT_CACHE_DIR:-~/.cache/graft}/kubespawner,
# for test/node/jupyterhub.node.test.ts (the hub runs on the host against the node's API server;
# its proxy is the configurable-http-proxy test/services/jupyterhub/install.sh installs).
set -euo pipefail
dest="${GRAFT_CACHE_DIR:-$HOME/.cache/graft}/kubespawner"
hub_version="5.4.6" # = graft.local/jupyter:1's jupyterhub (the single-user side)
spawner_version="7.1.0"
if [ -x "$dest/venv/bin/jupyterhub" ] &&
  "$dest/venv/bin/python" -c "import kubespawner, jupyterhub, sys; sys.exit(not (kubespawner.__version__ == '$spawner_version' and jupyterhub.__version__ == '$hub_version'))" 2>/dev/null; then
  exit 0
fi
python3 -m venv "$dest/venv"
"$dest/venv/bin/pip" install --quiet --disable-pip-version-check \
  "jupyterhub==$hub_version" "jupyterhub-kubespawner==$spawner_version"
