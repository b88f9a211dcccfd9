/**
 * The patch is the difference between the raw JSON of the pod as received and the mutated copy,
 * so fields graft does not know (newer Kubernetes) are never touched, paths are escaped (`~0`,
 * `~1`), and absent maps and arrays are created whole.
 *
 * Written here rather than taken from a JSON-patch library because of how the copy is made: the
 * renderers copy only what they change (features/feature.ts, `renderableCopy`), so an unchanged
 * subtree is the very same object on both sides and is skipped without being walked, and added
 * values go into the operations as they are, since the response serializes them at once. A
 * general diff (fast-json-patch's `compare`) walks every unchanged field and deep-copies every
 * added value, which was the largest cost of an admission. The tests check every patch with an
 * independent RFC 6902 implementation (rfc6902).
 */

export type Operation =
  | { op: "add"; path: string; value: unknown }
  | { op: "replace"; path: string; value: unknown }
  | { op: "remove"; path: string };

type JsonObject = Record<string, unknown>;

const isContainer = (value: unknown): value is JsonObject | unknown[] =>
  typeof value === "object" && value !== null;

/** RFC 6901: `~` → `~0`, `/` → `~1`. */
function escapeKey(key: string): string {
  return key.includes("~") || key.includes("/") ? key.replaceAll("~", "~0").replaceAll("/", "~1") : key;
}

/**
 * `metadata.managedFields` is never looked at: graft does not change it, and it can be the
 * largest part of the object (istio#44933).
 */
const ignored = (path: string, key: string) => path === "/metadata" && key === "managedFields";

/** A field's value, or undefined when the object has no such field of its own ("constructor"). */
const field = (object: JsonObject, key: string): unknown =>
  Object.hasOwn(object, key) ? object[key] : undefined;

function diffObject(before: JsonObject, after: JsonObject, path: string, operations: Operation[]): void {
  for (const key of Object.keys(before)) {
    if (before[key] === undefined || ignored(path, key)) continue;
    const target = `${path}/${escapeKey(key)}`;
    const value = field(after, key);
    if (value === undefined) operations.push({ op: "remove", path: target });
    else diffValue(before[key], value, target, operations);
  }
  for (const key of Object.keys(after)) {
    if (after[key] === undefined || field(before, key) !== undefined || ignored(path, key)) continue;
    operations.push({ op: "add", path: `${path}/${escapeKey(key)}`, value: after[key] });
  }
}

/** Index by index, then removals from the end and appends, as a list grows or shrinks at its end. */
function diffArray(before: unknown[], after: unknown[], path: string, operations: Operation[]): void {
  const common = Math.min(before.length, after.length);
  for (let i = 0; i < common; i++) diffValue(before[i], after[i], `${path}/${i}`, operations);
  for (let i = before.length - 1; i >= after.length; i--)
    operations.push({ op: "remove", path: `${path}/${i}` });
  for (let i = before.length; i < after.length; i++) {
    operations.push({ op: "add", path: `${path}/${i}`, value: after[i] });
  }
}

function diffValue(before: unknown, after: unknown, path: string, operations: Operation[]): void {
  if (before === after) return;
  if (isContainer(before) && isContainer(after) && Array.isArray(before) === Array.isArray(after)) {
    if (Array.isArray(before)) diffArray(before, after as unknown[], path, operations);
    else diffObject(before as JsonObject, after as JsonObject, path, operations);
    return;
  }
  operations.push({ op: "replace", path, value: after });
}

/**
 * RFC 6902 operations that turn `original` into `mutated`; empty when they are equal. Linear in
 * the size of what the two do not share. The operations share their values with `mutated`: serialize them,
 * do not change them.
 */
export function diffPatch(original: object, mutated: object): Operation[] {
  const operations: Operation[] = [];
  diffValue(original, mutated, "", operations);
  return operations;
}
