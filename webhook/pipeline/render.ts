/**
 * From a plan to the mutated pod: each planned feature renders its part onto one copy, then
 * the status annotation records what was injected. Pure; the pod given is never changed.
 */
import { ANNOTATION } from "../../core/annotations.js";
import { FEATURE_ORDER, FEATURES, type FeatureName, type FeatureParams } from "../features/index.js";
import { ensureAnnotation, renderableCopy } from "../model/feature.js";
import type { PodLike } from "../model/kube.js";
import { statusValue } from "../model/status.js";
import type { Plan } from "./plan.js";

function renderFeature<K extends FeatureName>(name: K, pod: PodLike, params: FeatureParams[K]): void {
  FEATURES[name].render(pod, params);
}

export function renderPlan<T extends PodLike>(pod: T, plan: Plan, version: string): T {
  const copy = renderableCopy(pod);
  const injected: FeatureName[] = [];
  for (const name of FEATURE_ORDER) {
    const params = plan.features[name];
    if (params === undefined) continue;
    renderFeature(name, copy, params);
    injected.push(name);
  }
  ensureAnnotation(copy, ANNOTATION.status, statusValue({ version, features: injected }));
  return copy;
}
