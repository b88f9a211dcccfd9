#!/bin/sh
# graft's notebook sync verifier: the hook's command (and the init container's) is
#   sh -c VERIFIER /graft/notebook-sync/sync.sh REPO_URL FOLDER WAIT_SECONDS LIMIT_SECONDS ...
# with this text as VERIFIER, so $0 is the script's path in the ConfigMap's volume and "$@" the
# script's arguments. It reads the script once, checks the SHA-256 of exactly what it read against
# the digest graft pinned here (@SHA256@, filled in by sync-script.ts: no user data is ever part
# of this text), and runs what it read, so the hook runs exactly the text graft shipped even if
# someone replaced the ConfigMap under the same name. Anything else, and a missing sha256sum, is
# refused with status 126 and a message on stderr naming the path and both digests: the hook
# itself always exits 0, so the kubelet's FailedPostStartHook event (or the failed init
# container) then means tampering, loudly.
#
# Embedded by `npm run build` (scripts/embed-shell.mjs) with its comment lines dropped;
# scripts/check-shell.sh runs shellcheck -s sh and dash -n on it.
want=@SHA256@
refuse() {
  printf 'graft-notebook-sync: refusing to run %s: %s\n' "$0" "$1" >&2
  exit 126
}
command -v sha256sum >/dev/null 2>&1 ||
  refuse "this image has no sha256sum to check it is the script graft shipped (sha256 $want)"
# The "." keeps trailing newlines, which $(...) would drop.
script=$(cat -- "$0" && echo .) || refuse "cannot read it (graft shipped sha256 $want)"
script=${script%.}
got=$(printf '%s' "$script" | sha256sum) || refuse "sha256sum failed (graft shipped sha256 $want)"
got=${got%% *}
[ "$got" = "$want" ] ||
  refuse "its sha256 is $got, not $want as graft shipped it: the ConfigMap was replaced"
exec sh -c "$script" "$0" "$@"
