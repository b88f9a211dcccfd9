#!/usr/bin/env bash
# promtool rule tests of ../prometheusrule.yaml: a PrometheusRule's spec is a Prometheus rule file,
# written to graft-rules.yaml beside copies of the *.test.yaml files (their rule_files name it).
# Needs node (with the repository's node_modules) and promtool (Debian's prometheus package).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
(cd "$here/../../.." && node --input-type=module -e '
  import { readFileSync } from "node:fs";
  import { parse, stringify } from "yaml";
  const rule = parse(readFileSync(process.argv[1], "utf8"));
  process.stdout.write(stringify({ groups: rule.spec.groups }));
' "$here/../prometheusrule.yaml") >"$work/graft-rules.yaml"
cp "$here"/*.test.yaml "$work/"
promtool check rules "$work/graft-rules.yaml"
promtool test rules "$work"/*.test.yaml
