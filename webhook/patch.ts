/**
 * The patch is the difference between the raw JSON of the pod as received and the mutated copy,
 * so fields graft does not know (newer Kubernetes) are never touched, paths are escaped (`~0`,
 * `~1`) by the diff, and absent maps and arrays are created whole.
 */
import fastJsonPatch, { type Operation } from "fast-json-patch";

export type { Operation };

/**
 * `metadata.managedFields` is left out of the diff: graft never changes it and it can be the
 * largest part of the object (istio#44933). The diff walks each object once: linear in its size.
 */
function withoutManagedFields(object: object): object {
  const metadata = (object as { metadata?: unknown }).metadata;
  if (typeof metadata !== "object" || metadata === null || !("managedFields" in metadata)) return object;
  const { managedFields: _ignored, ...rest } = metadata as Record<string, unknown>;
  return { ...object, metadata: rest };
}

/** RFC 6902 operations that turn `original` into `mutated`; empty when they are equal. */
export function diffPatch(original: object, mutated: object): Operation[] {
  return fastJsonPatch.compare(withoutManagedFields(original), withoutManagedFields(mutated));
}
