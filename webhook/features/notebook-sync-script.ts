/**
 * The notebook sync hook: one fixed shell script, run as
 * `sh -c SCRIPT graft-notebook-sync REPO_URL FOLDER WAIT_SECONDS LIMIT_SECONDS`. Everything that varies arrives
 * as a positional parameter, so no username, URL or annotation is ever parsed as shell code.
 *
 * What a start does (the worker, bounded by the hook):
 * - folder absent: clone into a hidden sibling, then rename, so a stopped clone leaves nothing;
 * - otherwise fetch upstream and compare, per file, the last synced upstream commit (kept in
 *   `refs/graft/synced`), the new upstream commit and the file in the folder:
 *   unchanged by the user → take upstream (add, update, or remove when removed upstream);
 *   changed by the user → keep it, and put the upstream version beside it as
 *   `name.upstream-<commit>.ext`; deleted by the user → restored only if upstream changed it.
 * - the container's start waits for the sync up to a time (default 20 s): JupyterLab then opens
 *   on a complete folder in the usual case, and a git outage costs the start at most that wait.
 *   A sync still running then (a first clone of a large repository over a slow link) goes on in
 *   the background up to a limit (default 300 s) and lands as it would have: the first clone by
 *   one rename, each file by its own. `timeout` (coreutils or busybox) bounds it; without it a
 *   watchdog stops the worker. git itself gives up on a server silent for 10 s.
 * - the hook always exits 0 and logs to `~/.graft-notebook-sync.log`.
 */

/** `$0` of the hook's shell: shows in `ps` and marks a command as graft's. */
export const HOOK_NAME = "graft-notebook-sync";

/**
 * How long a container's start waits for the sync: well under the kubelet's patience and
 * KubeSpawner's default start_timeout (60 s).
 */
export const DEFAULT_SYNC_WAIT_SECONDS = 20;
/** How long one sync may run in all, finishing in the background once the start stops waiting. */
export const DEFAULT_SYNC_LIMIT_SECONDS = 300;

/** A line in the log: both the hook and its worker (a shell of its own) write with it. */
const SAY = `say() { printf '%s graft-notebook-sync: %s\\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ 2>/dev/null)" "$*"; }`;

/** Worker: $1 repository URL, $2 folder. Logs every outcome; the hook bounds its time. */
const WORKER = `url=$1
dir=$2
${SAY}
g() { git -c http.lowSpeedLimit=1000 -c http.lowSpeedTime=10 -c core.quotePath=false "$@"; }
case $dir/ in
  /?*/?*/) ;;
  *) say "folder $dir must be an absolute path below a folder; nothing synced"; exit 0 ;;
esac
case $dir/ in
  *//* | */./* | */../*) say "folder $dir must have no empty, . or .. segment; nothing synced"; exit 0 ;;
esac
partial=\${dir%/*}/.\${dir##*/}.graft-partial
rm -rf -- "$partial"

if [ ! -e "$dir" ] && [ ! -L "$dir" ]; then
  mkdir -p -- "\${dir%/*}" || exit 0
  if g clone --quiet --no-tags -- "$url" "$partial" && g -C "$partial" update-ref refs/graft/synced HEAD; then
    mv -- "$partial" "$dir" && say "cloned $url into $dir at $(g -C "$dir" rev-parse --short HEAD)"
  else
    rm -rf -- "$partial"
    say "could not clone $url; $dir will be created at the next start"
  fi
  exit 0
fi
if [ ! -d "$dir" ] || [ -L "$dir" ]; then
  say "$dir is not a folder; left alone"
  exit 0
fi
if [ ! -e "$dir/.git" ]; then
  g init --quiet -- "$dir" && g -C "$dir" remote add origin "$url" || exit 0
  say "$dir had no git metadata: initialised it; files already there are treated as yours"
fi
gitdir=$(g -C "$dir" rev-parse --absolute-git-dir) || exit 0
# Locks left by a sync stopped at its time limit would block every later one; nothing else runs
# git in this folder while the container starts.
for lock in "$gitdir"/*.lock "$gitdir"/refs/graft/*.lock "$gitdir"/refs/heads/*.lock; do
  if [ -f "$lock" ]; then rm -f -- "$lock" && say "removed a stale $lock"; fi
done
if ! g -C "$dir" fetch --quiet --no-tags -- "$url" "+HEAD:refs/graft/upstream"; then
  say "could not fetch $url; $dir left as it was"
  exit 0
fi
new=$(g -C "$dir" rev-parse --verify --quiet "refs/graft/upstream^{commit}") || exit 0
short=$(g -C "$dir" rev-parse --short "$new")
base=$(g -C "$dir" rev-parse --verify --quiet "refs/graft/synced^{commit}") \\
  || base=$(g -C "$dir" rev-parse --verify --quiet "HEAD^{commit}") \\
  || base=$(g -C "$dir" hash-object -t tree /dev/null)
if [ "$base" = "$new" ]; then
  say "$dir is up to date with $url at $short"
  exit 0
fi

added=0 updated=0 restored=0 removed=0 kept=0 skipped=0
incoming=$gitdir/graft-incoming

beside_name() {
  folder=
  name=$1
  case $1 in */*) folder=\${1%/*}/ name=\${1##*/} ;; esac
  case $name in
    ?*.*) printf '%s%s.upstream-%s.%s' "$folder" "\${name%.*}" "$short" "\${name##*.}" ;;
    *) printf '%s%s.upstream-%s' "$folder" "$name" "$short" ;;
  esac
}

# Writes blob $1 with mode $2 to $3 (relative to $dir) through a temporary file, so a stop halfway
# leaves either the old file or the new one.
write_blob() {
  case $3 in */*) mkdir -p -- "$dir/\${3%/*}" || return 1 ;; esac
  g -C "$dir" cat-file blob "$1" >"$incoming" || return 1
  if [ "$2" = 100755 ]; then chmod +x "$incoming"; fi
  mv -f -- "$incoming" "$dir/$3"
}

# One line of \`git diff-tree --raw\`: ":oldmode newmode oldblob newblob status<TAB>path".
sync_path() {
  path=\${1#*"	"}
  set -f
  set -- \${1%%"	"*}
  set +f
  old_blob=$3 new_blob=$4 new_mode=$2
  case $5 in A) old_blob= ;; D) new_blob= ;; esac
  case $path in
    \\"*) skipped=$((skipped + 1)); say "skipped $path: a name git has to quote"; return ;;
  esac
  case /$path/ in
    */../* | */./* | *//* | */[.][gG][iI][tT]/*)
      skipped=$((skipped + 1)); say "skipped $path: not a plain path inside the folder"; return ;;
  esac
  case $new_mode in
    120000 | 160000) skipped=$((skipped + 1)); say "skipped $path: symbolic links and submodules are not synced"; return ;;
  esac
  target=$dir/$path
  if [ -L "$target" ] || { [ -e "$target" ] && [ ! -f "$target" ]; }; then
    work=other
  elif [ -f "$target" ]; then
    work=$(g -C "$dir" hash-object -- "$path") || work=other
  else
    work=
  fi
  if [ "$work" = "$new_blob" ]; then
    return
  elif [ -z "$work" ]; then
    if [ -z "$old_blob" ]; then
      write_blob "$new_blob" "$new_mode" "$path" && added=$((added + 1)) && say "added $path"
    else
      write_blob "$new_blob" "$new_mode" "$path" && restored=$((restored + 1)) \\
        && say "restored $path: you had deleted it and it changed upstream"
    fi
  elif [ "$work" = "$old_blob" ]; then
    if [ -z "$new_blob" ]; then
      rm -f -- "$target" && removed=$((removed + 1)) && say "removed $path: deleted upstream, unchanged by you"
    else
      write_blob "$new_blob" "$new_mode" "$path" && updated=$((updated + 1)) && say "updated $path"
    fi
  elif [ -z "$new_blob" ]; then
    kept=$((kept + 1))
    say "kept $path: you changed it and it was deleted upstream"
  else
    beside=$(beside_name "$path")
    write_blob "$new_blob" "$new_mode" "$beside" && kept=$((kept + 1)) \\
      && say "kept your $path: it also changed upstream, whose version is in $beside"
  fi
  if [ $? -ne 0 ]; then
    skipped=$((skipped + 1))
    say "skipped $path: could not write it"
  fi
}

g -C "$dir" diff-tree -r --raw --no-renames --no-abbrev "$base" "$new" >"$gitdir/graft-changes" || exit 0
while IFS= read -r line; do
  sync_path "$line"
done <"$gitdir/graft-changes"
rm -f -- "$gitdir/graft-changes" "$incoming"

# Keep \`git status\` meaningful: it shows the user's own changes against upstream, unless the user
# commits in this folder, in which case their branch is theirs to manage.
head=$(g -C "$dir" rev-parse --verify --quiet "HEAD^{commit}")
if [ -z "$head" ] || [ "$head" = "$base" ]; then
  g -C "$dir" reset --quiet "$new"
fi
g -C "$dir" update-ref refs/graft/synced "$new"
say "synced $dir with $url at $short: $added added, $updated updated, $restored restored, $removed removed, $kept kept as yours, $skipped skipped"
`;

/**
 * Hook: $1 repository URL, $2 folder, $3 seconds the start waits, $4 seconds a sync may run in
 * all. The worker runs in the background; the hook waits for it at most $3 seconds (a trapped
 * signal from an alarm interrupts `wait`), then returns and leaves it to finish, bounded by $4 by
 * `timeout` or, in an image without it, a watchdog. Always exits 0.
 */
const HOOK = `url=$1
dir=$2
wait=$3
limit=$4
case $wait in '' | *[!0-9]*) wait=20 ;; esac
case $limit in '' | *[!0-9]*) limit=$wait ;; esac
if [ "$limit" -lt "$wait" ]; then limit=$wait; fi
home=\${HOME:-\${dir%/*}}
log=$home/.graft-notebook-sync.log
if [ -f "$log" ] && [ "$(wc -c <"$log")" -gt 262144 ]; then mv -f -- "$log" "$log.1"; fi
# Nothing may keep the hook's own output open after it returns, or the kubelet keeps waiting.
if (: >>"$log") 2>/dev/null; then exec >>"$log" 2>&1 </dev/null; else exec >/dev/null 2>&1 </dev/null; fi
export GIT_TERMINAL_PROMPT=0
${SAY}
worker=@WORKER@
bounded_worker() {
  if timeout 5 true 2>/dev/null; then
    timeout "$limit" sh -c "$worker" graft-notebook-sync "$url" "$dir"
    return
  fi
  sh -c "$worker" graft-notebook-sync "$url" "$dir" &
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
`;

function singleQuoted(text: string): string {
  return `'${text.replaceAll("'", `'\\''`)}'`;
}

/** The fixed script the hook runs: no user data is ever part of it. */
export const NOTEBOOK_SYNC_SCRIPT = HOOK.replace("@WORKER@", () => singleQuoted(WORKER));

export type NotebookSyncParams = {
  /** The user's repository, `{user}` already substituted with a validated name. */
  repoUrl: string;
  /** Absolute path of the synced folder. */
  folder: string;
  /** How long the container's start waits for the sync. */
  waitSeconds?: number;
  /** How long the sync may run in all (at least `waitSeconds`). */
  limitSeconds?: number;
};

/** The exec command of the hook (or of the init container that stands in for it). */
export function notebookSyncCommand({
  repoUrl,
  folder,
  waitSeconds = DEFAULT_SYNC_WAIT_SECONDS,
  limitSeconds = DEFAULT_SYNC_LIMIT_SECONDS,
}: NotebookSyncParams): string[] {
  return [
    "sh",
    "-c",
    NOTEBOOK_SYNC_SCRIPT,
    HOOK_NAME,
    repoUrl,
    folder,
    String(waitSeconds),
    String(Math.max(limitSeconds, waitSeconds)),
  ];
}

/** True when `command` is a notebook sync command graft rendered (any version of the script). */
export function isNotebookSyncCommand(command: readonly string[] | undefined): boolean {
  return command?.[0] === "sh" && command[1] === "-c" && command[3] === HOOK_NAME;
}
