/**
 * One read of a source shared by every viewer: a result younger than `maxAgeMs` is answered from
 * memory, and while a read is in flight every caller waits for that same read. With
 * `staleForMs`, a result up to that much older still answers at once while a new read runs in
 * the background (a round over thousands of agents takes seconds: viewers should not wait for
 * it). A failed read is not kept, and forgets the last result: the next caller reads again and
 * sees the failure if it persists.
 */
export type SharedRefreshOptions = { maxAgeMs: number; staleForMs?: number; now?: () => number };

export function sharedRefresh<T>(read: () => Promise<T>, options: SharedRefreshOptions): () => Promise<T> {
  const now = options.now ?? Date.now;
  const staleForMs = options.staleForMs ?? 0;
  let kept: { value: T; at: number } | undefined;
  let inFlight: Promise<T> | undefined;
  const refresh = () => {
    inFlight ??= read()
      .then(
        (value) => {
          kept = { value, at: now() };
          return value;
        },
        (error: unknown) => {
          kept = undefined;
          throw error;
        },
      )
      .finally(() => {
        inFlight = undefined;
      });
    return inFlight;
  };
  return () => {
    const age = kept === undefined ? Number.POSITIVE_INFINITY : now() - kept.at;
    if (kept !== undefined && age < options.maxAgeMs) return Promise.resolve(kept.value);
    const reading = refresh();
    if (kept !== undefined && age < options.maxAgeMs + staleForMs) {
      // Its outcome reaches the callers after this one; a failure is theirs to see.
      reading.catch(() => {});
      return Promise.resolve(kept.value);
    }
    return reading;
  };
}
