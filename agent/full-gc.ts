/**
 * A full garbage collection every so often, when node exposes `gc` (the sidecar runs with
 * `--expose-gc`, AGENT_COMMAND). Without it V8 leaves the garbage that scavenges promote (results,
 * sockets and requests that were alive at a scavenge) in the old generation until the old
 * generation reaches its allocation limit: with the sidecar's flags, the agent of `npm run
 * bench:agent` (10 checks a second) was at 58.7 MiB resident over its first 40 s, 62.7 over its
 * third 40 s and peaked at 64.1 before V8's first full collection. Asking for one every 15 s kept
 * it between 58.9 and 59.4 MiB, for 2.7% of a core against 2.6% (160 s side by side, 2026-12-02).
 * A collection of the agent's ~6 MiB heap takes ~15 ms; it is asked for incrementally
 * (`execution: "async"`), so no check waits on it.
 */

/** How often: often enough that a busy agent's old generation holds little garbage. */
export const FULL_GC_EVERY_MS = 15_000;

/** V8's `gc` as `--expose-gc` defines it (the options form). */
export type ExposedGc = (options: { type: "major"; execution: "async" }) => Promise<void>;

/** `globalThis.gc` when node was started with `--expose-gc`. */
export function exposedGc(): ExposedGc | undefined {
  const gc = (globalThis as { gc?: unknown }).gc;
  return typeof gc === "function" ? (gc as ExposedGc) : undefined;
}

/**
 * Asks for a full collection every `everyMs` until the returned function is called; does nothing
 * without `gc`. The timer does not keep the process alive.
 */
export function collectPeriodically(gc: ExposedGc | undefined, everyMs = FULL_GC_EVERY_MS): () => void {
  if (gc === undefined) return () => {};
  const timer = setInterval(() => {
    gc({ type: "major", execution: "async" }).catch(() => {});
  }, everyMs);
  timer.unref();
  return () => clearInterval(timer);
}
