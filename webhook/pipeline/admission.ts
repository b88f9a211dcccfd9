/**
 * The admission decision for one request: pure, no I/O, never throws. Pods are mutated (intent →
 * plan → mutated copy → patch); workloads carrying graft annotations are validated so
 * `kubectl apply` shows what is wrong; everything else is admitted untouched.
 */
import { LABEL_INJECT, PREFIX } from "../../core/annotations.js";
import { errorMessage } from "../../core/result.js";
import type { AdmissionFacts } from "../model/facts.js";
import { hasGraftIntent, parseIntent } from "../model/intent.js";
import {
  isWorkloadKind,
  type KubernetesObject,
  type PodLike,
  podTemplateOf,
  type WorkloadKind,
} from "../model/kube.js";
import { type Reason, reason } from "../model/reasons.js";
import { GRAFT_VERSION } from "../model/version.js";
import { diffPatch, type Operation } from "./patch.js";
import { decideOptIn, excludedNamespaces, type Plan, planInjection, podDisplayName } from "./plan.js";
import { renderPlan } from "./render.js";
import type { AdmissionRequest } from "./review.js";

export type { AdmissionFacts } from "../model/facts.js";

export type AdmissionDecision = {
  allowed: boolean;
  /** RFC 6902 operations on the request's object; empty when nothing changes. */
  patch: Operation[];
  warnings: string[];
  /** Why the request was denied (shown by kubectl): the reasons' messages, introduced. */
  message?: string;
  /** On a denial, each reason with its code (metrics count the first's). */
  reasons?: Reason[];
  /** Status code of a denial: 400 for invalid graft annotations, 500 for a graft failure. */
  code?: number;
  plan?: Plan;
  /** Objects graft must ensure exist before answering (skipped on dry-run). */
  create: KubernetesObject[];
  /** Why graft left the object alone, for logs and `graft inject`. */
  skipped?: Reason;
};

export type PodInjection =
  | { kind: "skipped"; reason: Reason }
  | { kind: "denied"; reasons: Reason[] }
  | { kind: "injected"; plan: Plan; pod: PodLike; warnings: string[]; create: KubernetesObject[] };

/**
 * Everything graft does to one pod (or pod template) in `namespace`: opt-in, intent, plan,
 * render. Returns the mutated copy; `pod` itself is not changed.
 */
export function injectPod(pod: PodLike, namespace: string, facts: AdmissionFacts): PodInjection {
  const optIn = decideOptIn(pod, namespace, facts);
  if (!optIn.inject) {
    return optIn.error
      ? { kind: "denied", reasons: [optIn.error] }
      : { kind: "skipped", reason: optIn.reason };
  }
  const intent = parseIntent(pod.metadata?.annotations);
  if (!intent.ok) return { kind: "denied", reasons: invalidAnnotations(intent.error) };
  const planned = planInjection(pod, namespace, intent.value, facts);
  if (!planned.ok) return { kind: "denied", reasons: planned.error };
  const plan = planned.value;
  const mutated = renderPlan(pod, plan, facts.version ?? GRAFT_VERSION);
  return { kind: "injected", plan, pod: mutated, warnings: plan.warnings, create: plan.create };
}

const invalidAnnotations = (errors: string[]): Reason[] =>
  errors.map((error) => reason("invalid-annotation", error));

const allow = (extra: Partial<AdmissionDecision> = {}): AdmissionDecision => ({
  allowed: true,
  patch: [],
  warnings: [],
  create: [],
  ...extra,
});

/** A denial: `intro` and the reasons' messages, joined with "; ". */
const deny = (intro: string, reasons: Reason[], code = 400): AdmissionDecision => ({
  allowed: false,
  patch: [],
  warnings: [],
  create: [],
  message: `${intro}${reasons.map((r) => r.message).join("; ")}`,
  reasons,
  code,
});

function namespaceOf(request: AdmissionRequest, object: PodLike): string {
  return request.namespace || object.metadata?.namespace || "default";
}

function admitPod(request: AdmissionRequest, pod: PodLike, facts: AdmissionFacts): AdmissionDecision {
  // Containers cannot be added to a running pod: only creation is mutated.
  if (request.operation !== "CREATE" || request.subResource) {
    return allow({
      skipped: reason(
        "not-handled",
        `${request.operation} of a pod${request.subResource ? ` (${request.subResource})` : ""}`,
      ),
    });
  }
  const namespace = namespaceOf(request, pod);
  const result = injectPod(pod, namespace, facts);
  switch (result.kind) {
    case "skipped":
      return allow({ skipped: result.reason });
    case "denied":
      return deny(
        `graft cannot admit pod "${podDisplayName(pod)}" in namespace "${namespace}": `,
        result.reasons,
      );
    case "injected":
      return allow({
        patch: diffPatch(pod, result.pod),
        warnings: result.warnings,
        plan: result.plan,
        create: result.create,
      });
  }
}

/**
 * Checks a workload's pod template as its pods will be checked, so the error shows at apply
 * time. Its graft annotations are validated even when the namespace's opt-in is unknown here.
 */
export function admitWorkload(
  kind: WorkloadKind,
  workload: PodLike,
  namespace: string,
  facts: AdmissionFacts,
): AdmissionDecision {
  const template = podTemplateOf(kind, workload);
  if (!template) return allow({ skipped: reason("no-pod-template", `${kind} without a pod template`) });
  const optIn = decideOptIn(template, namespace, facts);
  const disabled = !optIn.inject && !optIn.error && template.metadata?.labels?.[LABEL_INJECT] !== undefined;
  if (excludedNamespaces(facts).has(namespace) || disabled) return allow({ skipped: optIn.reason });
  if (!hasGraftIntent(template.metadata?.annotations) && !optIn.inject && !optIn.error) {
    return allow({ skipped: reason("no-graft-annotations", `${kind} has no graft annotations`) });
  }
  const name = workload.metadata?.name ?? workload.metadata?.generateName ?? "(unnamed)";
  const invalid = (reasons: Reason[]) =>
    deny(`graft annotations on the pod template of ${kind} "${name}" are invalid: `, reasons);
  if (optIn.error) return invalid([optIn.error]);
  const intent = parseIntent(template.metadata?.annotations);
  if (!intent.ok) return invalid(invalidAnnotations(intent.error));
  if (!optIn.inject) return allow({ skipped: optIn.reason });
  const workloadFacts = { ...facts, ownerName: facts.ownerName ?? workload.metadata?.name };
  // What the template itself gets wrong is denied; what depends on other objects (the component's
  // ConfigMap, which may be created next) is a warning: the pods are checked again when created.
  const own = planInjection(template, namespace, intent.value, { ...workloadFacts, properties: undefined });
  if (!own.ok) return invalid(own.error);
  if (facts.properties === undefined) return allow({ warnings: own.value.warnings, plan: own.value });
  const planned = planInjection(template, namespace, intent.value, workloadFacts);
  if (planned.ok) return allow({ warnings: planned.value.warnings, plan: planned.value });
  const later = planned.error.map((r) => `graft: ${r.message}; until then its pods are denied (${r.code})`);
  return allow({ warnings: [...own.value.warnings, ...later], plan: own.value });
}

/**
 * The pod a request asks graft to admit (a Pod being created), or the pod template of a workload
 * being created or updated, with its namespace: what the facts step reads for. Else undefined.
 */
export function podUnderReview(
  request: AdmissionRequest,
): { pod: PodLike; namespace: string; workload: boolean } | undefined {
  const object = request.object as PodLike | null | undefined;
  if (!object || request.subResource) return undefined;
  const { group, kind } = request.kind;
  const namespace = namespaceOf(request, object);
  if (group === "" && kind === "Pod") {
    return request.operation === "CREATE" ? { pod: object, namespace, workload: false } : undefined;
  }
  if ((group === "apps" || group === "batch") && isWorkloadKind(kind)) {
    if (request.operation !== "CREATE" && request.operation !== "UPDATE") return undefined;
    const template = podTemplateOf(kind, object);
    return template ? { pod: template, namespace, workload: true } : undefined;
  }
  return undefined;
}

function graftIntentOf(kind: WorkloadKind, workload: unknown): string {
  const metadata = podTemplateOf(kind, workload)?.metadata;
  const graftOnly = (record: Record<string, string> | undefined) =>
    Object.entries(record ?? {})
      .filter(([key]) => key.startsWith(PREFIX))
      .sort(([a], [b]) => (a < b ? -1 : 1));
  return JSON.stringify([graftOnly(metadata?.annotations), graftOnly(metadata?.labels)]);
}

/** True on an UPDATE that leaves the template's graft annotations and label as they were. */
function sameGraftIntent(kind: WorkloadKind, object: unknown, oldObject: unknown): boolean {
  return (
    oldObject !== undefined &&
    oldObject !== null &&
    graftIntentOf(kind, object) === graftIntentOf(kind, oldObject)
  );
}

/**
 * An update that does not touch graft's annotations is admitted even if they were already
 * invalid (written before graft was installed): denying it would block scaling, rollouts and
 * the garbage collector's finalizer updates. The problem is still shown, as a warning.
 */
function tolerated(denial: AdmissionDecision): AdmissionDecision {
  return allow({
    warnings: [denial.message ?? "invalid graft annotations"],
    skipped: reason("unchanged-annotations", "unchanged graft annotations"),
  });
}

function decide(request: AdmissionRequest, facts: AdmissionFacts): AdmissionDecision {
  const object = request.object as PodLike | null | undefined;
  if (!object || request.operation === "DELETE" || request.operation === "CONNECT") {
    return allow({ skipped: reason("not-handled", `${request.operation} is not checked`) });
  }
  const { group, kind } = request.kind;
  if (group === "" && kind === "Pod") return admitPod(request, object, facts);
  if ((group === "apps" || group === "batch") && isWorkloadKind(kind) && !request.subResource) {
    const decision = admitWorkload(kind, object, namespaceOf(request, object), facts);
    return decision.allowed || !sameGraftIntent(kind, object, request.oldObject)
      ? decision
      : tolerated(decision);
  }
  return allow({
    skipped: reason("not-handled", `graft does not handle ${group ? `${group}/` : ""}${kind}`),
  });
}

/**
 * The decision for one AdmissionRequest. Never throws: a failure inside graft becomes a denial
 * naming it, or (with `onError: allow`) an untouched admission with a warning.
 */
export function admit(request: AdmissionRequest, facts: AdmissionFacts): AdmissionDecision {
  try {
    return decide(request, facts);
  } catch (error) {
    const message = errorMessage(error);
    if (facts?.config?.onError === "allow") {
      return allow({ warnings: [`graft failed and admitted this object without its features: ${message}`] });
    }
    return deny(
      "graft failed on this object (a bug in graft, please report it): ",
      [reason("internal-error", message)],
      500,
    );
  }
}
