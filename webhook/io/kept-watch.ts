/**
 * An informer kept listed and watching: start() lists once, then watches; a failed list or a
 * dropped watch is tried again after `retryMs`, doubling up to 30 s, back to `retryMs` once the
 * watch connects. The namespace cache and the platform cache both keep their informer so.
 */
import type { Informer, KubernetesObject } from "@kubernetes/client-node";

export type KeptWatchOptions = {
  /** Named in the error when the informer reports none, e.g. "the watch on Namespaces". */
  what: string;
  /** Called after every list that answered (the cache reads the informer's objects). */
  onListed: () => void;
  /** Told when a list or the watch fails. */
  onError?: ((error: unknown) => void) | undefined;
  /** Default 1 s. */
  retryMs?: number | undefined;
};

export type KeptWatch = {
  /** Resolves once the first list has answered (or rejects with why it could not). */
  start(): Promise<void>;
  stop(): Promise<void>;
};

const MAX_RETRY_MS = 30_000;

export function keepWatching<T extends KubernetesObject>(
  informer: Informer<T>,
  options: KeptWatchOptions,
): KeptWatch {
  const baseRetryMs = options.retryMs ?? 1000;
  let retryMs = baseRetryMs;
  let retryTimer: NodeJS.Timeout | undefined;
  let stopped = false;
  let failure: unknown;

  /** Lists (and watches); ListWatch reports a failed list through "error", not by rejecting. */
  const attempt = async () => {
    failure = undefined;
    await informer.start();
    if (failure !== undefined) throw failure;
    options.onListed();
  };
  informer.on("connect", () => {
    retryMs = baseRetryMs;
  });
  informer.on("error", (error) => {
    failure = error ?? new Error(`${options.what} failed`);
    options.onError?.(failure);
    if (stopped) return;
    clearTimeout(retryTimer);
    retryTimer = setTimeout(() => attempt().catch(() => {}), retryMs);
    retryTimer.unref();
    retryMs = Math.min(retryMs * 2, MAX_RETRY_MS);
  });

  return {
    start: async () => {
      stopped = false;
      await attempt();
    },
    stop: async () => {
      stopped = true;
      clearTimeout(retryTimer);
      await informer.stop();
    },
  };
}
