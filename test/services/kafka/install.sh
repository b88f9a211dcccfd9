#!/usr/bin/env bash
# Fetches the Kafka broker (KRaft mode, no ZooKeeper) and its runtime jars from Maven Central into
# ${GRAFT_CACHE_DIR:-$HOME/.cache/graft}/kafka/libs; test/services/kafka.ts runs it with `java -cp`.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
dest="${GRAFT_CACHE_DIR:-$HOME/.cache/graft}/kafka"
stamp="$dest/libs/.complete-$(sha256sum "$here/pom.xml" | cut -c1-12)"
[ -e "$stamp" ] && exit 0
source "$here/../../../scripts/lib/apt.sh"
apt_install maven default-jre-headless
rm -rf "$dest/libs"
mvn -q -B -f "$here/pom.xml" dependency:copy-dependencies \
  -DincludeScope=runtime -DoutputDirectory="$dest/libs"
touch "$stamp"
