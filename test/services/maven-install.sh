#!/usr/bin/env bash
# The install of a JVM service the integration tests start (hdfs, flink, hbase, hive, opentsdb):
# fetches the jars its pom.xml names from Maven Central into
# ${GRAFT_CACHE_DIR:-$HOME/.cache/graft}/NAME/libs and compiles its launcher (with
# java/GraftLauncher.java, which every launcher uses) beside them, once per pom.xml and launcher
# (a stamp file says so); test/services/NAME.ts runs it with `java -cp`. Cost: see
# test/services/README.md.
#   bash test/services/maven-install.sh NAME DIR LAUNCHER.java
set -euo pipefail
name="$1" here="$2" launcher="$3"
dest="${GRAFT_CACHE_DIR:-$HOME/.cache/graft}/$name"
shared="$(cd "$(dirname "$0")" && pwd)/java/GraftLauncher.java"
stamp="$dest/.complete-$(cat "$here/pom.xml" "$here/$launcher" "$shared" | sha256sum | cut -c1-12)"
[ -e "$stamp" ] && exit 0
source "$(dirname "$0")/../../scripts/lib/apt.sh"
apt_install maven default-jdk-headless
rm -rf "$dest"
mkdir -p "$dest"
mvn -q -B -f "$here/pom.xml" dependency:copy-dependencies \
  -DincludeScope=runtime -DoutputDirectory="$dest/libs"
javac -nowarn -d "$dest/classes" -cp "$dest/libs/*" "$here/$launcher" "$shared"
touch "$stamp"
