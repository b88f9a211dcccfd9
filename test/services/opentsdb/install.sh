#!/usr/bin/env bash
# Fetches OpenTSDB 2.4's TSD and its jars (asynchbase, Netty 3, ZooKeeper's client) from Maven
# Central into ${GRAFT_CACHE_DIR:-$HOME/.cache/graft}/opentsdb/libs and compiles MiniTsd.java
# beside them; test/services/opentsdb.ts runs it with `java -cp`, storing into the HBase of
# test/services/hbase.ts. Cost: see test/services/README.md.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
exec bash "$here/../maven-install.sh" opentsdb "$here" MiniTsd.java
