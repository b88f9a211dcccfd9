/** The notebook sync's defaults: the config's schema and the script's own fallbacks share them. */
/**
 * How long a container's start waits for the sync: well under the kubelet's patience and
 * KubeSpawner's default start_timeout (60 s).
 */
export const DEFAULT_SYNC_WAIT_SECONDS = 20;
/** How long one sync may run in all, finishing in the background once the start stops waiting. */
export const DEFAULT_SYNC_LIMIT_SECONDS = 300;
/** Largest file a sync writes: GitHub's own hard limit per file (100 MiB). */
export const DEFAULT_SYNC_MAX_FILE_BYTES = 100 * 1024 * 1024;
/** Most bytes one sync writes: a tenth of JupyterHub's default 10 GiB home volume. */
export const DEFAULT_SYNC_MAX_BYTES = 1024 * 1024 * 1024;
/** Most files one sync adds, updates or removes (see docs for the time this takes). */
export const DEFAULT_SYNC_MAX_FILES = 10_000;
