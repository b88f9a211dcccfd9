/**
 * A bounded memo for pure functions of a string key. Every pod of an app carries the same
 * annotations and gets the same application.properties, so the webhook parses and merges once
 * per distinct input instead of once per pod. Nothing observable is kept: the function is pure,
 * and its results are deep-frozen, because every caller now shares them.
 */

export type Memo<T> = (key: string, compute: () => T) => T;

/** Frozen all the way down (plain objects, arrays, Maps and Sets are walked). */
export function deepFreeze<T>(value: T): T {
  if (typeof value !== "object" || value === null || Object.isFrozen(value)) return value;
  Object.freeze(value);
  if (value instanceof Map) {
    for (const [key, item] of value) {
      deepFreeze(key);
      deepFreeze(item);
    }
  } else if (value instanceof Set) {
    for (const item of value) deepFreeze(item);
  } else if (Array.isArray(value)) {
    for (const item of value) deepFreeze(item);
  } else {
    // Own keys, read one by one: no array of the values is made for every object.
    for (const key of Object.keys(value)) deepFreeze((value as Record<string, unknown>)[key]);
  }
  return value;
}

/**
 * Keeps the results for at most `capacity` keys, dropping the least recently used. Keys longer
 * than `maxKeyLength`, and results `keep` refuses (too large to hold), are computed every time,
 * so what the memo holds stays bounded.
 *
 * With `secondSight`, a result is kept only when its key comes a second time: a key seen once
 * (a one-off, such as an annotation no other pod carries) costs the memo its key alone, among
 * the last `capacity` keys seen once, instead of a result that lives on to be collected later,
 * in the old generation, when newer keys push it out.
 */
export function createMemo<T>(
  options: {
    capacity?: number;
    maxKeyLength?: number;
    keep?: (value: T) => boolean;
    secondSight?: boolean;
  } = {},
): Memo<T> {
  const capacity = options.capacity ?? 512;
  const maxKeyLength = options.maxKeyLength ?? 16_384;
  const keep = options.keep ?? (() => true);
  const entries = new Map<string, T>();
  // Keys computed once and not kept, oldest first (only with secondSight).
  const seenOnce = new Set<string>();
  return (key, compute) => {
    if (key.length > maxKeyLength) return deepFreeze(compute());
    if (entries.has(key)) {
      const value = entries.get(key) as T;
      // Map keeps insertion order: re-inserting marks the key most recently used.
      entries.delete(key);
      entries.set(key, value);
      return value;
    }
    const value = deepFreeze(compute());
    if (!keep(value)) return value;
    if (options.secondSight && !seenOnce.delete(key)) {
      seenOnce.add(key);
      if (seenOnce.size > capacity) seenOnce.delete(seenOnce.values().next().value as string);
      return value;
    }
    entries.set(key, value);
    if (entries.size > capacity) entries.delete(entries.keys().next().value as string);
    return value;
  };
}

const ids = new WeakMap<object, number>();
let lastId = 0;

/**
 * A number standing for an object's identity, for memo keys over immutable snapshots (the cached
 * graft-platform variables, a ConfigMap's data as read): a new snapshot is a new object, a new id.
 */
export function identityOf(object: object): number {
  let id = ids.get(object);
  if (id === undefined) {
    id = ++lastId;
    ids.set(object, id);
  }
  return id;
}
