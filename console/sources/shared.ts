/**
 * One read of a source shared by every viewer: a result younger than `maxAgeMs` is answered from
 * memory, and while a read is in flight every caller waits for that same read. A failed read is
 * not kept: the next caller tries again.
 */
export type SharedRefreshOptions = { maxAgeMs: number; now?: () => number };

export function sharedRefresh<T>(read: () => Promise<T>, options: SharedRefreshOptions): () => Promise<T> {
  const now = options.now ?? Date.now;
  let kept: { value: T; at: number } | undefined;
  let inFlight: Promise<T> | undefined;
  return () => {
    if (kept !== undefined && now() - kept.at < options.maxAgeMs) return Promise.resolve(kept.value);
    inFlight ??= read()
      .then((value) => {
        kept = { value, at: now() };
        return value;
      })
      .finally(() => {
        inFlight = undefined;
      });
    return inFlight;
  };
}
