#!/usr/bin/env bash
# Installs PyPI's pyspark (a real Spark driver with its UI REST API) into a venv under
# ${GRAFT_CACHE_DIR:-$HOME/.cache/graft}/spark; test/services/spark.ts runs spark/app.py with it.
set -euo pipefail
venv="${GRAFT_CACHE_DIR:-$HOME/.cache/graft}/spark/venv"
version="3.5.8"
if [ -x "$venv/bin/python" ] && "$venv/bin/python" -c "import pyspark, sys; sys.exit(pyspark.__version__ != '$version')" 2>/dev/null; then
  exit 0
fi
source "$(dirname "$0")/../../../scripts/lib/apt.sh"
apt_install default-jre-headless
python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check "pyspark==$version"
