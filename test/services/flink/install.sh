#!/usr/bin/env bash
# Fetches Flink's runtime and DataStream API (MiniCluster with its REST endpoint) and their jars
# from Maven Central into
# ${GRAFT_CACHE_DIR:-$HOME/.cache/graft}/flink/libs and compiles MiniFlink.java beside them;
# test/services/flink.ts runs it with `java -cp`. Cost: see test/services/README.md.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
dest="${GRAFT_CACHE_DIR:-$HOME/.cache/graft}/flink"
stamp="$dest/.complete-$(cat "$here/pom.xml" "$here/MiniFlink.java" | sha256sum | cut -c1-12)"
[ -e "$stamp" ] && exit 0
source "$here/../../../scripts/lib/apt.sh"
apt_install maven default-jdk-headless
rm -rf "$dest"
mkdir -p "$dest"
mvn -q -B -f "$here/pom.xml" dependency:copy-dependencies \
  -DincludeScope=runtime -DoutputDirectory="$dest/libs"
javac -nowarn -d "$dest/classes" -cp "$dest/libs/*" "$here/MiniFlink.java"
touch "$stamp"
