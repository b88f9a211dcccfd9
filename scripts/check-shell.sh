#!/usr/bin/env bash
# The POSIX shell graft ships into users' pods, checked as shell: the sources (sync-hook.sh,
# sync-worker.sh, sync-verify.sh) and the exact texts a pod gets (the hook with the worker quoted
# inside it, whose single-quoted worker shellcheck can only read as data: SC2016 is expected
# there; and the verifier with the script's digest pinned, the hook's `sh -c` text).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/node.sh && use_node
sources=(
  webhook/features/notebooks/sync-hook.sh
  webhook/features/notebooks/sync-worker.sh
  webhook/features/notebooks/sync-verify.sh
)
shipped="$(mktemp)"
verifier="$(mktemp)"
trap 'rm -f "$shipped" "$verifier"' EXIT
node scripts/embed-shell.mjs --check
node --import tsx -e '
  const { NOTEBOOK_SYNC_SCRIPT } = await import("./webhook/features/notebooks/sync-script.ts");
  process.stdout.write(NOTEBOOK_SYNC_SCRIPT);
' >"$shipped"
node --import tsx -e '
  const { NOTEBOOK_SYNC_VERIFIER } = await import("./webhook/features/notebooks/sync-script.ts");
  process.stdout.write(NOTEBOOK_SYNC_VERIFIER);
' >"$verifier"
echo "[test] shellcheck -s sh and dash -n: ${sources[*]} and the script and its verifier as shipped"
shellcheck -s sh "${sources[@]}" "$verifier"
shellcheck -s sh -e SC2016 "$shipped"
for script in "${sources[@]}" "$shipped" "$verifier"; do dash -n "$script"; done
