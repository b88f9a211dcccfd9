#!/usr/bin/env bash
# Fetches Hadoop's shaded mini cluster (MiniDFSCluster: a real NameNode and DataNodes) and its
# jars from Maven Central into
# ${GRAFT_CACHE_DIR:-$HOME/.cache/graft}/hdfs/libs and compiles MiniHdfs.java beside them;
# test/services/hdfs.ts runs it with `java -cp`. Cost: see test/services/README.md.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
exec bash "$here/../maven-install.sh" hdfs "$here" MiniHdfs.java
