#!/usr/bin/env bash
# The POSIX shell graft ships into users' pods, checked as shell: the sources (sync-hook.sh,
# sync-worker.sh) and the exact text a pod gets (the hook with the worker quoted inside it, whose
# single-quoted worker shellcheck can only read as data: SC2016 is expected there).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/node.sh && use_node
sources=(webhook/features/notebooks/sync-hook.sh webhook/features/notebooks/sync-worker.sh)
shipped="$(mktemp)"
trap 'rm -f "$shipped"' EXIT
node scripts/embed-shell.mjs --check
node --import tsx -e '
  const { NOTEBOOK_SYNC_SCRIPT } = await import("./webhook/features/notebooks/sync-script.ts");
  process.stdout.write(NOTEBOOK_SYNC_SCRIPT);
' >"$shipped"
echo "[test] shellcheck -s sh and dash -n: ${sources[*]} and the script as shipped"
shellcheck -s sh "${sources[@]}"
shellcheck -s sh -e SC2016 "$shipped"
for script in "${sources[@]}" "$shipped"; do dash -n "$script"; done
