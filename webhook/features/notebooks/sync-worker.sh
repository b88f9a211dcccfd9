#!/bin/sh
# graft's notebook sync worker, started by sync-hook.sh as
#   sh -c WORKER graft-notebook-sync REPO_URL FOLDER MAX_FILE_BYTES MAX_SYNC_BYTES MAX_FILES
# $1 repository URL, $2 folder, $3 bytes per file, $4 bytes per sync, $5 files per sync. What it
# does and why it trusts nothing in the repository: webhook/features/notebooks/sync-script.ts.
url=$1
dir=$2
max_file_bytes=$3
max_sync_bytes=$4
max_files=$5
say() { printf '%s graft-notebook-sync: %.600s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ 2>/dev/null)" "$*"; }
# Every git call: no hooks, no fsmonitor, no symbolic links, no submodules, objects checked as they
# arrive, nothing left running in the background; the hook allows only http(s) transports
# (GIT_ALLOW_PROTOCOL). The repository's .gitattributes cannot bring filters or conversions in:
# graft's info/attributes switches them off (prepare).
g() {
  git -c core.hooksPath=/dev/null -c core.fsmonitor=false -c core.symlinks=false \
    -c core.protectNTFS=true -c core.protectHFS=true -c transfer.fsckObjects=true \
    -c submodule.recurse=false -c fetch.recurseSubmodules=false \
    -c gc.autoDetach=false -c maintenance.autoDetach=false \
    -c http.lowSpeedLimit=1000 -c http.lowSpeedTime=10 -c core.quotePath=false "$@"
}
# git on the folder being written ($work) and its git folder, named explicitly: no discovery, no
# core.worktree.
gd() { g --git-dir="$gitdir" --work-tree="$work" "$@"; }
case $dir/ in
  /?*/?*/) ;;
  *) say "folder $dir must be an absolute path below a folder; nothing synced"; exit 0 ;;
esac
case $dir/ in
  *//* | */./* | */../*) say "folder $dir must have no empty, . or .. segment; nothing synced"; exit 0 ;;
esac
case ${HOME:-/nonexistent}/ in
  "$dir"/*) say "folder $dir holds the home folder $HOME; nothing synced"; exit 0 ;;
esac
partial=${dir%/*}/.${dir##*/}.graft-partial
rm -rf -- "$partial"

added=0 updated=0 restored=0 removed=0 kept=0 skipped=0 deferred=0 full=
notes=0
# A line about one file: at most 200 a sync, so a repository of many files cannot flood the log.
note() {
  notes=$((notes + 1))
  if [ "$notes" -le 200 ]; then say "$@"; fi
}
skip() {
  skipped=$((skipped + 1))
  note "skipped $1: $2"
}

# Sets $beside: where upstream's version of $1 goes when the user changed it.
beside_of() {
  folder=
  name=$1
  case $1 in */*) folder=${1%/*}/ name=${1##*/} ;; esac
  case $name in
    ?*.*) beside=$folder${name%.*}.upstream-$short.${name##*.} ;;
    *) beside=$folder$name.upstream-$short ;;
  esac
}

# 0 when no folder on the way from $work to $1 (relative; its last component excluded) is a
# symbolic link or a file; folders not there yet are fine. Sets $at to the first one in the way.
plain_parents() {
  case $1 in */*) ;; *) return 0 ;; esac
  rest=${1%/*}/ at=$work
  while [ -n "$rest" ]; do
    at=$at/${rest%%/*} rest=${rest#*/}
    if [ -L "$at" ]; then return 1; fi
    if [ ! -e "$at" ]; then return 0; fi
    if [ ! -d "$at" ]; then return 1; fi
  done
}

# Like plain_parents, and creates the missing folders one by one. Remembers the last folder made
# sure of: the changes come sorted by path.
made=
make_parents() {
  case $1 in */*) ;; *) return 0 ;; esac
  if [ "${1%/*}" = "$made" ]; then return 0; fi
  rest=${1%/*}/ at=$work
  while [ -n "$rest" ]; do
    at=$at/${rest%%/*} rest=${rest#*/}
    if [ -L "$at" ]; then return 1; fi
    if [ ! -d "$at" ]; then
      if [ -e "$at" ]; then return 1; fi
      mkdir -- "$at" 2>/dev/null || return 1
    fi
  done
  made=${1%/*}
}

# Sets $state for the file at $1 in the folder: f a regular file (its path goes to fd 4 to be
# hashed), o something else (a symbolic link, a folder), - nothing, or hidden behind a symbolic link.
look_at() {
  state=-
  target=$work/$1
  if [ -L "$target" ]; then
    state=o
  elif [ -f "$target" ] && [ -r "$target" ]; then
    state=f
    printf '%s\n' "$1" >&4
  elif [ -e "$target" ]; then
    state=o
  fi
}

# Pass 1, line $index of `git diff-tree --raw` (":oldmode newmode oldblob newblob status<TAB>path"):
# skips what is never synced and notes what the folder holds. Writes the plan to fd 3, the paths
# to hash to fd 4 and the blobs to size to fd 5.
examine() {
  path=${1#*"	"}
  set -f
  # shellcheck disable=SC2086 # split on purpose: the fields before the tab
  set -- ${1%%"	"*}
  set +f
  old_mode=${1#:} new_mode=$2 old_blob=$3 new_blob=$4
  case $path in
    \"*) skip "$path" "a name git has to quote"; return ;;
  esac
  case /$path/ in
    */../* | */./* | *//* | */[.][gG][iI][tT]/* | */[.][gG][iI][tT][.:\ ]* | */[gG][iI][tT]~1/*)
      skip "$path" "not a plain path inside the folder"; return ;;
  esac
  case $old_mode in 100644 | 100755) ;; *) old_blob=- ;; esac
  case $new_mode in
    100644 | 100755) ;;
    000000) new_blob=- ;;
    120000 | 160000) skip "$path" "symbolic links and submodules are not synced"; return ;;
    *) skip "$path" "mode $new_mode is not a file"; return ;;
  esac
  if [ "$old_blob$new_blob" = -- ]; then return; fi
  state=- beside_state=-
  if plain_parents "$path"; then
    look_at "$path"
    if [ "$state" != - ] && [ "$new_blob" != - ]; then
      file_state=$state
      beside_of "$path"
      look_at "$beside"
      beside_state=$state state=$file_state
    fi
  fi
  if [ "$new_blob" != - ]; then printf '%s\n' "$new_blob" >&5; fi
  printf '%s %s %s %s %s %s %s\n' "$index" "$state" "$beside_state" "$old_blob" "$new_blob" "$new_mode" "$path" >&3
}

# Queues blob $1 (mode $2, $3 bytes) to be written as $4 ($5: added, updated, restored or
# beside $6), within the caps. Staged blobs go to fd 6 (for update-index), actions to fd 5. The
# first file that would take the sync past its bytes ends it: that line and all after it wait.
stage_write() {
  case $3 in
    '' | *[!0-9]*) skip "$4" "its content is missing from the repository"; return ;;
  esac
  if [ "$3" -gt "$max_file_bytes" ]; then
    skip "$4" "$3 bytes, over the limit of $max_file_bytes bytes per file (notebooks.maxFileBytes)"
    return
  fi
  if [ $((bytes + $3)) -gt "$max_sync_bytes" ]; then
    full=bytes upto=$((index - 1))
    return
  fi
  bytes=$((bytes + $3)) staged=$((staged + 1))
  if [ "$mode" = clone ]; then
    printf '%s %s\t%s\n' "$2" "$1" "$4" >&6
  else
    printf '%s %s\t%s\n' "$2" "$1" "$staged" >&6
  fi
  printf 'w %s %s %s\t%s\n' "$staged" "$5" "$4" "$6" >&5
}

# Pass 2, a line of the plan: decides, per file, from the last synced upstream commit (old), the
# new one and the file in the folder (have); reads sizes on fd 3 and hashes on fd 4.
decide() {
  rest=$1
  index=${rest%% *} rest=${rest#* }
  state=${rest%% *} rest=${rest#* }
  beside_state=${rest%% *} rest=${rest#* }
  old_blob=${rest%% *} rest=${rest#* }
  new_blob=${rest%% *} rest=${rest#* }
  new_mode=${rest%% *} path=${rest#* }
  have='' size='' beside_blob=''
  case $state in
    f) read -r have <&4 ;;
    o) have=other ;;
  esac
  if [ "$new_blob" != - ]; then read -r size _ <&3; fi
  if [ "$beside_state" = f ]; then read -r beside_blob <&4; fi
  if [ "$have" = "$new_blob" ]; then
    return
  elif [ "$new_blob" = - ]; then
    if [ -z "$have" ]; then
      return
    elif [ "$have" = "$old_blob" ]; then
      printf 'r - removed %s\t\n' "$path" >&5
    else
      kept=$((kept + 1))
      note "kept $path: you changed it and it was deleted upstream"
    fi
  elif [ -z "$have" ]; then
    if [ "$old_blob" = - ]; then
      stage_write "$new_blob" "$new_mode" "$size" "$path" added
    else
      stage_write "$new_blob" "$new_mode" "$size" "$path" restored
    fi
  elif [ "$have" = "$old_blob" ]; then
    stage_write "$new_blob" "$new_mode" "$size" "$path" updated
  else
    beside_of "$path"
    if [ "$beside_blob" = "$new_blob" ]; then
      return
    elif [ "$beside_state" = o ]; then
      skip "$path" "you changed it, and $beside, where upstream's version would go, is in the way"
    else
      stage_write "$new_blob" "$new_mode" "$size" "$beside" beside "$path"
    fi
  fi
}

# Pass 3, an action: moves a staged file into the folder (one rename each) or removes one, after
# checking again that nothing on the way is a symbolic link.
apply() {
  act=${1%% *} rest=${1#* }
  n=${rest%% *} rest=${rest#* }
  kind=${rest%% *} rest=${rest#* }
  path=${rest%%"	"*} orig=${rest#*"	"}
  target=$work/$path
  if [ "$act" = r ]; then
    if plain_parents "$path" && [ -f "$target" ] && [ ! -L "$target" ] && rm -f -- "$target"; then
      removed=$((removed + 1))
      note "removed $path: deleted upstream, unchanged by you"
    else
      skip "$path" "could not remove it"
    fi
    return
  fi
  if ! make_parents "$path"; then
    skip "$path" "${at#"$work"/} is a symbolic link or a file, not a folder"
    return
  fi
  if [ -L "$target" ] || [ -d "$target" ] || ! mv -f -- "$stage/$n" "$target" 2>/dev/null; then
    skip "$path" "could not write it"
    return
  fi
  case $kind in
    added) added=$((added + 1)) && note "added $path" ;;
    updated) updated=$((updated + 1)) && note "updated $path" ;;
    restored) restored=$((restored + 1)) && note "restored $path: you had deleted it and it changed upstream" ;;
    beside) kept=$((kept + 1)) && note "kept your $orig: it also changed upstream, whose version is in $path" ;;
  esac
}

# Brings the folder $work from tree $1 to commit $2, from line $3 of their differences on (what
# earlier starts did). $mode: clone (a fresh folder: git writes the files straight in) or sync (each
# file staged in the git folder, then renamed into place). One sync takes at most $max_files lines
# and $max_sync_bytes bytes; sets $upto to the lines done and $deferred to those left.
sync_tree() {
  tmp=$gitdir/graft-sync
  stage=$tmp/stage
  rm -rf -- "$tmp" && mkdir -- "$tmp" "$stage" || return 1
  gd diff-tree -r --raw --no-renames --no-abbrev "$1" "$2" >"$tmp/all" || return 1
  total=$(wc -l <"$tmp/all") || return 1
  total=$((total)) index=$3
  upto=$((index + max_files))
  if [ "$upto" -gt "$total" ]; then upto=$total; fi
  # The shell reads a byte at a time: only this sync's lines go through it.
  sed -n "$((index + 1)),${upto}p" "$tmp/all" >"$tmp/changes" || return 1
  exec 3>"$tmp/plan" 4>"$tmp/paths" 5>"$tmp/blobs"
  while IFS= read -r line; do
    index=$((index + 1))
    examine "$line"
  done <"$tmp/changes"
  exec 3>&- 4>&- 5>&-
  gd cat-file --batch-check='%(objectsize)' <"$tmp/blobs" >"$tmp/sizes" || return 1
  if ! (cd -- "$work" && gd hash-object --no-filters --stdin-paths) <"$tmp/paths" >"$tmp/hashes"; then
    say "could not read the files in $work"
    return 1
  fi
  bytes=0 staged=0
  exec 3<"$tmp/sizes" 4<"$tmp/hashes" 5>"$tmp/actions" 6>"$tmp/index-info"
  while [ -z "$full" ] && IFS= read -r line; do
    decide "$line"
  done <"$tmp/plan"
  exec 3<&- 4<&- 5>&- 6>&-
  if [ -z "$full" ] && [ "$upto" -lt "$total" ]; then full=files; fi
  deferred=$((total - upto))
  if [ "$staged" -gt 0 ]; then
    if [ "$mode" = clone ]; then into=$work; else into=$stage; fi
    if ! (
      export GIT_INDEX_FILE="$tmp/index"
      gd update-index --add --index-info <"$tmp/index-info" \
        && g --git-dir="$gitdir" --work-tree="$into" checkout-index --all --force --quiet
    ) 2>"$tmp/errors"; then
      IFS= read -r error <"$tmp/errors"
      say "could not write the files: $error"
      return 1
    fi
  fi
  if [ "$mode" = clone ]; then
    added=$staged
  else
    while IFS= read -r line; do
      apply "$line"
    done <"$tmp/actions"
  fi
  rm -rf -- "$tmp"
}

# What a sync leaves behind. Complete: the upstream commit it synced to (refs/graft/synced).
# Stopped by a cap: where the next start takes up, the same differences (from $1 to $new) from
# line $upto on (refs/graft/resume, refs/graft/target, graft-resume-line).
record() {
  if [ -n "$full" ]; then
    gd hash-object -w -t tree /dev/null >/dev/null \
      && gd update-ref refs/graft/resume "$1" && gd update-ref refs/graft/target "$new" \
      && printf '%s\n' "$upto" >"$gitdir/graft-resume-line"
    return
  fi
  rm -f -- "$gitdir/graft-resume-line"
  gd update-ref -d refs/graft/resume && gd update-ref -d refs/graft/target \
    && gd update-ref refs/graft/synced "$new"
}

# Says what the caps held back, once each.
report_caps() {
  if [ "$notes" -gt 200 ]; then say "$((notes - 200)) more lines about single files left out of this log"; fi
  case $full in
    files) say "left $deferred changed files for the next start: one sync takes at most $max_files (notebooks.maxFiles)" ;;
    bytes) say "left $deferred changed files for the next start: one sync writes at most $max_sync_bytes bytes (notebooks.maxSyncBytes)" ;;
  esac
}

# graft's side of the folder's git metadata, before anything is written: byte-for-byte checkouts,
# and a word on hooks, which graft never runs but the user's own git commands would.
prepare() {
  if [ ! -d "$gitdir/info" ] && [ ! -L "$gitdir/info" ]; then mkdir -- "$gitdir/info"; fi
  attributes=$gitdir/info/attributes
  rule='* -text -ident -filter -working-tree-encoding'
  found=
  if [ -f "$attributes" ]; then
    while IFS= read -r line; do
      if [ "$line" = "$rule" ]; then found=1; fi
    done <"$attributes"
  fi
  if [ -z "$found" ] && [ ! -L "$attributes" ]; then printf '%s\n' "$rule" >>"$attributes"; fi
  gd config core.symlinks false
  for hook in "$gitdir"/hooks/*; do
    case ${hook##*/} in *.sample | "*") continue ;; esac
    if [ -f "$hook" ]; then
      say "warning: $hook is there; graft never runs hooks, but your own git commands in $dir do: remove it unless you put it there"
    fi
  done
  return 0
}

mode=clone
if [ ! -e "$dir" ] && [ ! -L "$dir" ]; then
  mkdir -p -- "${dir%/*}" || exit 0
  gitdir=$partial/.git work=$partial
  if g clone --quiet --no-checkout --single-branch --no-tags -- "$url" "$partial" && prepare \
    && new=$(gd rev-parse --verify --quiet "HEAD^{commit}") && short=$(gd rev-parse --short "$new") \
    && empty=$(gd hash-object -t tree /dev/null) && sync_tree "$empty" "$new" 0 \
    && gd reset --quiet && record "$empty" && mv -- "$partial" "$dir"; then
    say "cloned $url into $dir at $short: $added files, $skipped skipped, $deferred left for the next start"
    report_caps
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
mode=sync work=$dir
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
prepare
if ! gd fetch --quiet --no-tags -- "$url" "+HEAD:refs/graft/upstream"; then
  say "could not fetch $url; $dir left as it was"
  exit 0
fi
empty=$(gd hash-object -t tree /dev/null) || exit 0
last=$(gd rev-parse --verify --quiet "refs/graft/synced^{commit}") \
  || last=$(gd rev-parse --verify --quiet "HEAD^{commit}") \
  || last=
# A sync a cap stopped goes on where it stopped, towards the same upstream commit.
if base=$(gd rev-parse --verify --quiet refs/graft/resume) \
  && new=$(gd rev-parse --verify --quiet "refs/graft/target^{commit}"); then
  from=0
  if [ -f "$gitdir/graft-resume-line" ]; then read -r from <"$gitdir/graft-resume-line"; fi
  case $from in '' | *[!0-9]*) from=0 ;; esac
else
  new=$(gd rev-parse --verify --quiet "refs/graft/upstream^{commit}") || exit 0
  base=${last:-$empty} from=0
  if [ "$base" = "$new" ]; then
    say "$dir is up to date with $url at $(gd rev-parse --short "$new")"
    exit 0
  fi
fi
short=$(gd rev-parse --short "$new")
sync_tree "$base" "$new" "$from" || exit 0

# Keep `git status` meaningful: it shows the user's own changes against upstream, unless the user
# commits in this folder, in which case their branch is theirs to manage.
head=$(gd rev-parse --verify --quiet "HEAD^{commit}")
if [ -z "$full" ] && { [ -z "$head" ] || [ "$head" = "$last" ]; }; then
  gd reset --quiet "$new"
fi
record "$base"
say "synced $dir with $url at $short: $added added, $updated updated, $restored restored, $removed removed, $kept kept as yours, $skipped skipped, $deferred left for the next start"
report_caps
