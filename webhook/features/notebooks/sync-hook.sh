#!/bin/sh
# graft's notebook sync hook, run in the user's Jupyter container by graft's verifier
# (sync-verify.sh: only if this is exactly the text graft shipped) as
#   sh -c SCRIPT /graft/notebook-sync/sync.sh REPO_URL FOLDER WAIT_SECONDS LIMIT_SECONDS MAX_FILE_BYTES MAX_SYNC_BYTES MAX_FILES
# $1 repository URL, $2 folder, $3 seconds the start waits, $4 seconds a sync may run in all,
# $5 bytes per file, $6 bytes per sync, $7 files per sync. The worker runs in the background; the
# hook waits for it at most $3 seconds (a trapped signal from an alarm interrupts `wait`), then
# returns and leaves it to finish, bounded by $4 by `timeout` or, in an image without it, a
# watchdog. Always exits 0.
#
# Shipped as webhook/features/notebooks/sync-script.ts assembles it: comment lines dropped (the
# directives for shellcheck stay), @DEFAULT_SYNC_*@ replaced by model/notebook-sync-limits.ts's
# values and @WORKER@ by sync-worker.sh, single-quoted. `npm run build` embeds this file
# (scripts/embed-shell.mjs); ./scripts/test.sh runs shellcheck -s sh and dash -n on it.
url=$1
dir=$2
wait=$3
limit=$4
max_file_bytes=$5
max_sync_bytes=$6
max_files=$7
# Whole numbers of at most 18 digits, so the shell's arithmetic never overflows.
case $wait in '' | *[!0-9]* | ???*) wait=20 ;; esac
case $limit in '' | *[!0-9]* | ??????*) limit=$wait ;; esac
if [ "$limit" -lt "$wait" ]; then limit=$wait; fi
case $max_file_bytes in '' | *[!0-9]* | ???????????????????*) max_file_bytes=@DEFAULT_SYNC_MAX_FILE_BYTES@ ;; esac
case $max_sync_bytes in '' | *[!0-9]* | ???????????????????*) max_sync_bytes=@DEFAULT_SYNC_MAX_BYTES@ ;; esac
case $max_files in '' | *[!0-9]* | ???????????????????*) max_files=@DEFAULT_SYNC_MAX_FILES@ ;; esac
home=${HOME:-${dir%/*}}
log=$home/.graft-notebook-sync.log
if [ -f "$log" ] && [ "$(wc -c <"$log")" -gt 262144 ]; then mv -f -- "$log" "$log.1"; fi
# Nothing may keep the hook's own output open after it returns, or the kubelet keeps waiting.
if (: >>"$log") 2>/dev/null; then exec >>"$log" 2>&1 </dev/null; else exec >/dev/null 2>&1 </dev/null; fi
# git: never prompt, only http(s), and no variable of the container's environment telling it
# where to work or what else to read.
export GIT_TERMINAL_PROMPT=0 GIT_ALLOW_PROTOCOL=http:https
unset GIT_DIR GIT_WORK_TREE GIT_INDEX_FILE GIT_OBJECT_DIRECTORY GIT_ALTERNATE_OBJECT_DIRECTORIES \
  GIT_COMMON_DIR GIT_NAMESPACE GIT_CONFIG GIT_CONFIG_PARAMETERS GIT_CONFIG_COUNT GIT_ATTR_SOURCE
say() { printf '%s graft-notebook-sync: %.600s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ 2>/dev/null)" "$*"; }
worker=@WORKER@
bounded_worker() {
  if timeout 5 true 2>/dev/null; then
    timeout "$limit" sh -c "$worker" graft-notebook-sync "$url" "$dir" "$max_file_bytes" "$max_sync_bytes" "$max_files"
    return
  fi
  sh -c "$worker" graft-notebook-sync "$url" "$dir" "$max_file_bytes" "$max_sync_bytes" "$max_files" &
  pid=$!
  (sleep "$limit"; kill -TERM "$pid" 2>/dev/null) &
  watchdog=$!
  wait "$pid"
  status=$?
  kill "$watchdog" 2>/dev/null
  return $status
}
(
  bounded_worker
  status=$?
  case $status in
    0) ;;
    124 | 143) say "stopped at its time limit of $limit s; the next start tries again" ;;
    *) say "the sync ended with status $status; the next start tries again" ;;
  esac
) &
sync=$!
waited_out=
trap 'waited_out=1' USR1
(sleep "$wait"; kill -USR1 $$ 2>/dev/null) &
alarm=$!
wait "$sync"
if [ -n "$waited_out" ]; then
  say "still syncing after $wait s: the container starts now, and the sync goes on for at most $limit s in all"
else
  kill "$alarm" 2>/dev/null
fi
exit 0
