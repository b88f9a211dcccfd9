/**
 * From facts and intent to a plan: whether graft touches the pod at all, which features apply
 * with what parameters, what was skipped and why. A plain object, shown as is by `graft inject`.
 */
import {
  ALWAYS_EXCLUDED_NAMESPACES,
  type ComponentType,
  INJECT_DISABLED,
  INJECT_ENABLED,
  LABEL_INJECT,
} from "../../core/annotations.js";
import type { Result } from "../../core/result.js";
import { FEATURE_ORDER, FEATURES, type FeatureName, type FeatureParams } from "../features/index.js";
import type { AdmissionFacts } from "../model/facts.js";
import { appContainers, type PlanInput } from "../model/feature.js";
import { type Intent, quoted } from "../model/intent.js";
import type { KubernetesObject, PodLike } from "../model/kube.js";
import { type Reason, reason } from "../model/reasons.js";

export type OptIn = { inject: boolean; reason: Reason; error?: Reason };

/** The namespaces graft never injects: the Kubernetes system ones, graft's own, and configured ones. */
export function excludedNamespaces(facts: AdmissionFacts): Set<string> {
  return new Set([...ALWAYS_EXCLUDED_NAMESPACES, facts.config.namespace, ...facts.config.excludedNamespaces]);
}

/**
 * Opt-in (docs/design.md): the pod's `graft.pnda.io/inject` label wins over its namespace's; excluded
 * namespaces are never injected. A label value other than enabled/disabled is an error.
 */
export function decideOptIn(pod: PodLike, namespace: string, facts: AdmissionFacts): OptIn {
  if (excludedNamespaces(facts).has(namespace)) {
    return {
      inject: false,
      reason: reason("namespace-excluded", `namespace "${namespace}" is never injected`),
    };
  }
  const label = pod.metadata?.labels?.[LABEL_INJECT];
  if (label === INJECT_DISABLED)
    return { inject: false, reason: reason("opted-out", `pod label ${LABEL_INJECT}=${INJECT_DISABLED}`) };
  if (label === INJECT_ENABLED)
    return { inject: true, reason: reason("opted-in", `pod label ${LABEL_INJECT}=${INJECT_ENABLED}`) };
  if (label !== undefined) {
    // A review written by hand (not by the API server) may carry any JSON here.
    const shown = typeof label === "string" ? quoted(label) : `not a string (${typeof label})`;
    const error = reason(
      "invalid-label",
      `label "${LABEL_INJECT}" is ${shown}: expected "${INJECT_ENABLED}" or "${INJECT_DISABLED}"`,
    );
    return { inject: false, reason: error, error };
  }
  const namespaceOptIn = facts.namespaceOptIn ?? facts.namespaceLabels?.[LABEL_INJECT] === INJECT_ENABLED;
  return namespaceOptIn
    ? {
        inject: true,
        reason: reason("opted-in", `namespace "${namespace}" has ${LABEL_INJECT}=${INJECT_ENABLED}`),
      }
    : {
        inject: false,
        reason: reason(
          "not-opted-in",
          `neither the pod nor namespace "${namespace}" has ${LABEL_INJECT}=${INJECT_ENABLED}`,
        ),
      };
}

export type Plan = {
  namespace: string;
  /** The pod's name, or its generateName followed by `*` for a pod a controller creates. */
  pod: string;
  componentType: ComponentType;
  app: string | undefined;
  component: string | undefined;
  /** The features that apply, with their parameters, in render order. */
  features: Partial<FeatureParams>;
  skipped: { feature: FeatureName; reason: Reason }[];
  warnings: string[];
  /** Objects graft must ensure exist before the pod is admitted. */
  create: KubernetesObject[];
};

export type PlanResult = Result<Plan, Reason[]>;

export function podDisplayName(pod: PodLike): string {
  const { name, generateName } = pod.metadata ?? {};
  return name ?? (generateName ? `${generateName}*` : "(unnamed)");
}

function controllerName(pod: PodLike): string | undefined {
  const owners = pod.metadata?.ownerReferences ?? [];
  return (owners.find((owner) => owner.controller) ?? owners[0])?.name;
}

/** `app` defaults from the usual labels, then the owning workload. */
export function defaultApp(pod: PodLike, facts: AdmissionFacts): string | undefined {
  const labels = pod.metadata?.labels ?? {};
  return (
    labels["app.kubernetes.io/instance"] ??
    labels["app.kubernetes.io/name"] ??
    labels.app ??
    ownerWorkloadName(pod, facts)
  );
}

/**
 * The owning workload's name: the facts' (a workload admitted), else the pod's controller, less
 * the ReplicaSet's pod-template-hash (so a Deployment's pods name the Deployment, not a rollout).
 */
export function ownerWorkloadName(pod: PodLike, facts: AdmissionFacts): string | undefined {
  if (facts.ownerName !== undefined) return facts.ownerName;
  const controller = controllerName(pod);
  const hash = pod.metadata?.labels?.["pod-template-hash"];
  return hash && controller?.endsWith(`-${hash}`) ? controller.slice(0, -hash.length - 1) : controller;
}

/**
 * `component` defaults to `app.kubernetes.io/component`, then the owning workload's name, then the
 * first app container's name (docs/design.md).
 */
export function defaultComponent(pod: PodLike, facts: AdmissionFacts): string | undefined {
  return (
    pod.metadata?.labels?.["app.kubernetes.io/component"] ??
    ownerWorkloadName(pod, facts) ??
    appContainers(pod)[0]?.name
  );
}

/** Plans the injection into an opted-in pod whose annotations parsed into `intent`. */
export function planInjection(
  pod: PodLike,
  namespace: string,
  intent: Intent,
  facts: AdmissionFacts,
): PlanResult {
  const input: PlanInput = {
    pod,
    namespace,
    intent,
    componentType: intent.componentType ?? "generic",
    app: intent.app ?? defaultApp(pod, facts),
    component: intent.component ?? defaultComponent(pod, facts),
    facts,
  };
  const plan: Plan = {
    namespace,
    pod: podDisplayName(pod),
    componentType: input.componentType,
    app: input.app,
    component: input.component,
    features: {},
    skipped: [],
    warnings: [],
    create: [],
  };
  const errors: Reason[] = [];
  for (const name of FEATURE_ORDER) {
    const decision = FEATURES[name].plan(input);
    if ("deny" in decision) {
      errors.push(...decision.deny);
      continue;
    }
    plan.warnings.push(...(decision.warnings ?? []));
    if ("skip" in decision) {
      plan.skipped.push({ feature: name, reason: decision.skip });
      continue;
    }
    (plan.features as Record<FeatureName, unknown>)[name] = decision.apply;
    plan.create.push(...(decision.create ?? []));
  }
  return errors.length > 0 ? { ok: false, error: errors } : { ok: true, value: plan };
}
