#!/usr/bin/env bash
# Fetches HBase's mini cluster (HBaseTestingUtility) and REST server and their jars from Maven
# Central into
# ${GRAFT_CACHE_DIR:-$HOME/.cache/graft}/hbase/libs and compiles MiniHbase.java beside them;
# test/services/hbase.ts runs it with `java -cp`. Cost: see test/services/README.md.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
exec bash "$here/../maven-install.sh" hbase "$here" MiniHbase.java
