#!/usr/bin/env bash
# Fetches HiveServer2 4.0.1 (hive-service) and the metastore it embeds, and their jars, from
# Maven Central into
# ${GRAFT_CACHE_DIR:-$HOME/.cache/graft}/hive/libs and compiles MiniHive.java beside them;
# test/services/hive.ts runs it with `java -cp`. Cost: see test/services/README.md.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
exec bash "$here/../maven-install.sh" hive "$here" MiniHive.java
