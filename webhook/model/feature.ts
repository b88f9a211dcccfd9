/**
 * A feature is one thing graft grafts onto a pod. It decides (`plan`) from the pod's intent and
 * the facts whether it applies and with what parameters, then renders (`render`) its part onto a
 * copy of the pod. `render` means "ensure": rendering onto a pod that already has the part
 * changes nothing, which is what makes a second admission pass yield an empty patch.
 */
import type { ComponentType } from "../../core/annotations.js";
import type { AdmissionFacts } from "./facts.js";
import type { Intent } from "./intent.js";
import type { Container, KubernetesObject, PodLike } from "./kube.js";
import type { Reason } from "./reasons.js";

/** What every feature's plan step sees. The pod is the one received: read it, never change it. */
export type PlanInput = {
  pod: Readonly<PodLike>;
  namespace: string;
  intent: Intent;
  componentType: ComponentType;
  /** The app and component names, defaults applied (see plan.ts). */
  app: string | undefined;
  component: string | undefined;
  facts: AdmissionFacts;
};

export type FeaturePlan<P> =
  /** The feature applies with `params`; `create` lists objects graft must ensure exist first. */
  | { apply: P; warnings?: string[]; create?: KubernetesObject[] }
  /** The feature does not apply; the reason is shown by `graft inject` and in the plan. */
  | { skip: Reason; warnings?: string[] }
  /** The pod cannot be admitted as it is; each reason's message names what to fix. */
  | { deny: Reason[] };

export interface Feature<P> {
  readonly name: string;
  plan(input: PlanInput): FeaturePlan<P>;
  /** Ensures the feature's part is on `pod`, a `renderableCopy`, changed in place within its own levels. */
  render(pod: PodLike, params: P): void;
}

/**
 * A copy of `pod` that renderers may change in place at these levels only: the pod, its metadata
 * and annotations, its spec, and the spec's container, init container and volume lists. What the
 * lists hold (a container, its env, a volume) is shared with `pod`: a renderer puts a changed
 * copy in its place, never changes it. Unchanged parts then stay the very objects received,
 * which the diff skips at once, so rendering and diffing cost what graft changes, not the size
 * of the pod.
 */
export function renderableCopy<T extends PodLike>(pod: T): T {
  const copy = { ...pod };
  if (pod.metadata) {
    const { annotations } = pod.metadata;
    copy.metadata = { ...pod.metadata, ...(annotations && { annotations: { ...annotations } }) };
  }
  if (pod.spec) {
    const { containers, initContainers, volumes } = pod.spec;
    copy.spec = {
      ...pod.spec,
      ...(containers && { containers: [...containers] }),
      ...(initContainers && { initContainers: [...initContainers] }),
      ...(volumes && { volumes: [...volumes] }),
    };
  }
  return copy;
}

/** Containers graft adds are named `graft-*`; the others are the app's. */
export const GRAFT_CONTAINER_PREFIX = "graft-";

/** The app's own containers (not graft's), in the order the pod lists them. */
export function appContainers(pod: PodLike): Container[] {
  return (pod.spec?.containers ?? []).filter((c) => !c.name?.startsWith(GRAFT_CONTAINER_PREFIX));
}

/**
 * True when every field of `wanted` is in `actual` with the same value; `actual` may have more
 * (the API server fills defaults such as terminationMessagePath between passes).
 */
export function containsAll(actual: unknown, wanted: unknown): boolean {
  if (Array.isArray(wanted)) {
    return (
      Array.isArray(actual) &&
      actual.length === wanted.length &&
      wanted.every((w, i) => containsAll(actual[i], w))
    );
  }
  if (typeof wanted === "object" && wanted !== null) {
    if (typeof actual !== "object" || actual === null || Array.isArray(actual)) return false;
    const record = actual as Record<string, unknown>;
    return Object.entries(wanted).every(([key, value]) => containsAll(record[key], value));
  }
  return actual === wanted;
}

/** Ensures `pod.spec` and the named list exist, and returns the list. */
export function ensureList<K extends "containers" | "initContainers" | "volumes">(
  pod: PodLike,
  key: K,
): NonNullable<NonNullable<PodLike["spec"]>[K]> {
  pod.spec ??= { containers: [] };
  pod.spec[key] ??= [];
  return pod.spec[key] as NonNullable<NonNullable<PodLike["spec"]>[K]>;
}

/**
 * Ensures an item named `wanted.name` in `list` that contains `wanted`: kept as it is if it
 * already does, replaced in place if it differs, appended if absent.
 */
export function ensureNamed<T extends { name?: string }>(list: T[], wanted: T): void {
  const index = list.findIndex((item) => item.name === wanted.name);
  if (index === -1) list.push(wanted);
  else if (!containsAll(list[index], wanted)) list[index] = wanted;
}

/** Ensures an annotation has `value`. */
export function ensureAnnotation(pod: PodLike, key: string, value: string): void {
  pod.metadata ??= {};
  pod.metadata.annotations ??= {};
  if (pod.metadata.annotations[key] !== value) pod.metadata.annotations[key] = value;
}
