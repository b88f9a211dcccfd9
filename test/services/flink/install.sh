#!/usr/bin/env bash
# Fetches Flink's runtime and DataStream API (MiniCluster with its REST endpoint) and their jars
# from Maven Central into
# ${GRAFT_CACHE_DIR:-$HOME/.cache/graft}/flink/libs and compiles MiniFlink.java beside them;
# test/services/flink.ts runs it with `java -cp`. Cost: see test/services/README.md.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
exec bash "$here/../maven-install.sh" flink "$here" MiniFlink.java
