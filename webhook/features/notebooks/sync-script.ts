/**
 * The notebook sync hook: one fixed shell script (sync-hook.sh and the worker it starts,
 * sync-worker.sh, embedded at build time by scripts/embed-shell.mjs), shipped to the pod's
 * namespace in a ConfigMap (sync-configmap.ts), mounted read-only at SYNC_MOUNT_PATH and run as
 * `sh -c VERIFIER /graft/notebook-sync/sync.sh REPO_URL FOLDER WAIT_SECONDS LIMIT_SECONDS
 * MAX_FILE_BYTES MAX_SYNC_BYTES MAX_FILES`: VERIFIER (sync-verify.sh, a constant with this
 * build's SHA-256 of the script pinned in it) reads the script, refuses it (status 126, on
 * stderr) unless its digest is graft's, and runs exactly what it checked. Everything that varies
 * arrives as a positional parameter, so no username, URL or annotation is ever parsed as shell code.
 *
 * What a start does (the worker, bounded by the hook):
 * - folder absent: clone (objects only) into a hidden sibling, write the files, then rename, so a
 *   stopped clone leaves nothing;
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
 * - the hook always exits 0 and logs to `~/.graft-notebook-sync.log` (rotated at 256 KiB, at most
 *   200 lines about single files a sync).
 *
 * The repository is not trusted (anyone who may publish to it): git never writes the folder (it
 * fetches objects; the script writes regular files only, each path checked component by
 * component, never through a symbolic link); symbolic links, submodules, `..`, `.git` and names
 * git must quote are skipped and logged; every git call runs without hooks, fsmonitor, filters,
 * submodules or transports other than http(s), and checks objects as they arrive; files above
 * `MAX_FILE_BYTES` are skipped, and one sync writes at most `MAX_FILES` files and
 * `MAX_SYNC_BYTES` bytes, leaving the rest for the next start (`refs/graft/resume`).
 */

import { sha256Hex } from "../../../core/digest.js";
import {
  DEFAULT_SYNC_LIMIT_SECONDS,
  DEFAULT_SYNC_MAX_BYTES,
  DEFAULT_SYNC_MAX_FILE_BYTES,
  DEFAULT_SYNC_MAX_FILES,
  DEFAULT_SYNC_WAIT_SECONDS,
} from "../../model/notebook-sync-limits.js";
import { SYNC_HOOK_SH, SYNC_VERIFY_SH, SYNC_WORKER_SH } from "./sync-scripts.generated.js";

/** `$0` of the hook's shell in graft's older, inline command (`sh -c SCRIPT graft-notebook-sync …`). */
export const HOOK_NAME = "graft-notebook-sync";
/** Where the script's volume is mounted in the container that runs it. */
export const SYNC_MOUNT_PATH = "/graft/notebook-sync";
/** The ConfigMap's one key, and the file's name in the volume. */
export const SYNC_SCRIPT_KEY = "sync.sh";
export const SYNC_SCRIPT_PATH = `${SYNC_MOUNT_PATH}/${SYNC_SCRIPT_KEY}`;

function singleQuoted(text: string): string {
  return `'${text.replaceAll("'", `'\\''`)}'`;
}

/**
 * The script as shipped: without its comment lines (they are in the .sh sources). shellcheck
 * directives stay.
 */
function withoutComments(script: string): string {
  return script
    .split("\n")
    .filter((line) => !/^\s*#(?! shellcheck )/.test(line))
    .join("\n");
}

/** sync-hook.sh with the defaults it falls back on filled in (the config's, model/notebook-sync-limits.ts). */
const HOOK = SYNC_HOOK_SH.replace("@DEFAULT_SYNC_MAX_FILE_BYTES@", String(DEFAULT_SYNC_MAX_FILE_BYTES))
  .replace("@DEFAULT_SYNC_MAX_BYTES@", String(DEFAULT_SYNC_MAX_BYTES))
  .replace("@DEFAULT_SYNC_MAX_FILES@", String(DEFAULT_SYNC_MAX_FILES));

/**
 * The fixed script the hook runs (sync-hook.sh, with sync-worker.sh single-quoted inside it): no
 * user data is ever part of it.
 */
export const NOTEBOOK_SYNC_SCRIPT = withoutComments(HOOK).replace("@WORKER@", () =>
  singleQuoted(withoutComments(SYNC_WORKER_SH)),
);

/** SHA-256 (hex) of NOTEBOOK_SYNC_SCRIPT as UTF-8: the ConfigMap's sync.sh, byte for byte. */
export const NOTEBOOK_SYNC_SHA256 = sha256Hex(NOTEBOOK_SYNC_SCRIPT);

/**
 * The hook's `sh -c` text (sync-verify.sh with NOTEBOOK_SYNC_SHA256 pinned in it): reads the
 * script at `$0`, runs it with `"$@"` only if its SHA-256 is graft's, else exits 126 saying so on
 * stderr. A constant: no user data is ever part of it.
 */
export const NOTEBOOK_SYNC_VERIFIER = withoutComments(SYNC_VERIFY_SH).replace(
  "@SHA256@",
  NOTEBOOK_SYNC_SHA256,
);

/** Exit status of the verifier when it refuses the script (tampered, unreadable, or no sha256sum). */
export const SYNC_REFUSED_STATUS = 126;

export type NotebookSyncParams = {
  /** The user's repository, `{user}` already substituted with a validated name. */
  repoUrl: string;
  /** Absolute path of the synced folder. */
  folder: string;
  /** How long the container's start waits for the sync. */
  waitSeconds?: number;
  /** How long the sync may run in all (at least `waitSeconds`). */
  limitSeconds?: number;
  /** Files larger than this are not written (skipped and logged). */
  maxFileBytes?: number;
  /** One sync writes at most this many bytes; the rest waits for the next start. */
  maxSyncBytes?: number;
  /** One sync adds, updates or removes at most this many files; the rest waits for the next start. */
  maxFiles?: number;
};

/**
 * The exec command of the hook (or of the init container that stands in for it): the verifier,
 * with the script's path in its volume as `$0` (`scriptPath`, which tests point at a copy of the
 * ConfigMap's data) and the values as `$1`…`$7`.
 */
export function notebookSyncCommand(
  {
    repoUrl,
    folder,
    waitSeconds = DEFAULT_SYNC_WAIT_SECONDS,
    limitSeconds = DEFAULT_SYNC_LIMIT_SECONDS,
    maxFileBytes = DEFAULT_SYNC_MAX_FILE_BYTES,
    maxSyncBytes = DEFAULT_SYNC_MAX_BYTES,
    maxFiles = DEFAULT_SYNC_MAX_FILES,
  }: NotebookSyncParams,
  scriptPath: string = SYNC_SCRIPT_PATH,
): string[] {
  return [
    "sh",
    "-c",
    NOTEBOOK_SYNC_VERIFIER,
    scriptPath,
    repoUrl,
    folder,
    String(waitSeconds),
    String(Math.max(limitSeconds, waitSeconds)),
    String(maxFileBytes),
    String(maxSyncBytes),
    String(maxFiles),
  ];
}

/**
 * True when `command` is a notebook sync command graft rendered: the verifier reading the script
 * from its volume (any version of either), an older graft's `sh /graft/notebook-sync/sync.sh …`
 * (unchecked), or its inline `sh -c SCRIPT graft-notebook-sync …`.
 */
export function isNotebookSyncCommand(command: readonly string[] | undefined): boolean {
  if (command?.[0] !== "sh") return false;
  if (command[1] === SYNC_SCRIPT_PATH) return true;
  return command[1] === "-c" && (command[3] === SYNC_SCRIPT_PATH || command[3] === HOOK_NAME);
}
