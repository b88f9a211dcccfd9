/**
 * A cache of the objects at one API path, kept by list-then-watch: one list (page by page), then
 * a watch from the list's resourceVersion with bookmarks, so the watch resumes where it stopped.
 * A watch the server ends (its timeout) is opened again at once from the last resourceVersion; a
 * 410 (Expired: that resourceVersion is too old) lists again; anything else (refused, reset,
 * silent, a bad line) is retried after `retryMs`, doubling up to 30 s, back to `retryMs` once a
 * watch is accepted again. The namespace cache and the platform cache each keep one.
 */
import { errorMessage } from "../../../core/result.js";
import { hasStatus, type KubeClient, type KubeObject, type Query, type WatchEvent } from "./client.js";

export type InformerOptions = {
  /** Named in errors, e.g. "the watch on Namespaces". */
  what: string;
  /** The collection, e.g. /api/v1/namespaces. */
  path: string;
  /** labelSelector / fieldSelector, sent with the list and the watch. */
  query?: Query;
  /** Called after every list and every event that changed the cache. */
  onChange?: () => void;
  /** Told when a list or a watch fails (before the retry). */
  onError?: (error: unknown) => void;
  /** First retry delay; default 1 s. */
  retryMs?: number;
  /** Asked of the server per watch; default 300 s (the client drops one silent for longer). */
  watchTimeoutSeconds?: number;
};

export type Informer<T extends KubeObject> = {
  /** Resolves once the first list has answered, or rejects with why it could not (and keeps trying). */
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Whether a list has answered: until then the cache knows nothing. */
  synced(): boolean;
  get(name: string, namespace?: string): T | undefined;
  list(): T[];
};

const MAX_RETRY_MS = 30_000;
/** A watch that ends sooner than this after it began counts as failing (no busy loop). */
const SHORTEST_WATCH_MS = 1_000;

function keyOf(object: KubeObject): string {
  return `${object.metadata?.namespace ?? ""}/${object.metadata?.name ?? ""}`;
}

export function createInformer<T extends KubeObject>(
  client: KubeClient,
  options: InformerOptions,
): Informer<T> {
  const baseRetryMs = options.retryMs ?? 1000;
  const store = new Map<string, T>();
  let synced = false;
  let running: Promise<void> | undefined;
  let controller = new AbortController();
  let firstList: { resolve: () => void; reject: (error: unknown) => void } | undefined;

  const pause = (ms: number, signal: AbortSignal) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        signal.removeEventListener("abort", done);
        resolve();
      }
      signal.addEventListener("abort", done);
    });

  const apply = (event: WatchEvent): string | undefined => {
    const version = event.object.metadata?.resourceVersion;
    if (event.type === "BOOKMARK") return version;
    const key = keyOf(event.object);
    if (event.type === "DELETED") store.delete(key);
    else store.set(key, event.object as T);
    options.onChange?.();
    return version;
  };

  const loop = async (signal: AbortSignal) => {
    let retryMs = baseRetryMs;
    let resourceVersion: string | undefined;
    let listedAt = 0;
    while (!signal.aborted) {
      let began = 0;
      try {
        if (resourceVersion === undefined) {
          const listed = await client.list<T>(options.path, options.query, signal);
          if (signal.aborted) break;
          store.clear();
          for (const item of listed.items) store.set(keyOf(item), item);
          synced = true;
          listedAt = Date.now();
          resourceVersion = listed.resourceVersion ?? "";
          options.onChange?.();
          firstList?.resolve();
          firstList = undefined;
        }
        began = Date.now();
        await client.watch(
          options.path,
          { ...options.query, resourceVersion },
          (event) => {
            resourceVersion = apply(event) ?? resourceVersion;
          },
          {
            ...(options.watchTimeoutSeconds ? { timeoutSeconds: options.watchTimeoutSeconds } : {}),
            onConnected: () => {
              retryMs = baseRetryMs;
            },
            signal,
          },
        );
        // Ended by the server: watch again from where it stopped, unless it ends at once every time.
        if (Date.now() - began < SHORTEST_WATCH_MS) await pause(SHORTEST_WATCH_MS, signal);
      } catch (error) {
        if (signal.aborted) break;
        if (hasStatus(error, 410)) {
          // Too old to resume from: list again, now, unless the list just made is already too old.
          resourceVersion = undefined;
          if (Date.now() - listedAt >= SHORTEST_WATCH_MS) continue;
          await pause(retryMs, signal);
          retryMs = Math.min(retryMs * 2, MAX_RETRY_MS);
          continue;
        }
        const failure =
          error instanceof Error ? error : new Error(`${options.what} failed: ${errorMessage(error)}`);
        options.onError?.(failure);
        firstList?.reject(failure);
        firstList = undefined;
        await pause(retryMs, signal);
        retryMs = Math.min(retryMs * 2, MAX_RETRY_MS);
      }
    }
  };

  return {
    start() {
      const listed = new Promise<void>((resolve, reject) => {
        if (synced) return resolve();
        firstList = { resolve, reject };
      });
      // The caller may stop before the first list without awaiting start's answer.
      listed.catch(() => {});
      if (!running) {
        controller = new AbortController();
        running = loop(controller.signal);
      }
      return listed;
    },
    async stop() {
      controller.abort();
      firstList?.reject(new Error(`${options.what} was stopped`));
      firstList = undefined;
      await running;
      running = undefined;
    },
    synced: () => synced,
    get: (name, namespace) => store.get(`${namespace ?? ""}/${name}`),
    list: () => [...store.values()],
  };
}
