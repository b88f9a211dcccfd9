#!/usr/bin/env bash
# A JDK (java, javac, jar) for test/integration/properties-jvm.test.ts, which compiles a tiny
# class and checks that a real JVM finds graft's application.properties through its class loader.
set -euo pipefail
command -v javac >/dev/null && command -v jar >/dev/null && exit 0
source "$(dirname "$0")/../../../scripts/lib/apt.sh"
apt_install default-jdk-headless
