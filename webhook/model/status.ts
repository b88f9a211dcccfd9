/**
 * `graft.pnda.io/status`: written by graft only, the JSON record of what was injected and by
 * which version. Rendering it is "ensure": the same plan writes the same bytes.
 */
import { ANNOTATION, annotationValueLimit } from "../../core/annotations.js";
import type { PodLike } from "./kube.js";

export type InjectionStatus = { version: string; features: string[] };

export function statusValue(status: InjectionStatus): string {
  return JSON.stringify({ version: status.version, features: status.features });
}

/** The status a pod carries, if graft wrote a readable one. */
export function readStatus(pod: PodLike): InjectionStatus | undefined {
  const raw: unknown = pod.metadata?.annotations?.[ANNOTATION.status];
  // Longer than graft writes, or not text: not graft's, and not worth parsing.
  if (typeof raw !== "string" || raw.length > annotationValueLimit(ANNOTATION.status)) return undefined;
  try {
    const parsed: unknown = JSON.parse(raw);
    const { version, features } = parsed as Partial<InjectionStatus>;
    if (
      typeof version === "string" &&
      Array.isArray(features) &&
      features.every((f) => typeof f === "string")
    ) {
      return { version, features };
    }
  } catch {
    // Not graft's: rendering overwrites it.
  }
  return undefined;
}
