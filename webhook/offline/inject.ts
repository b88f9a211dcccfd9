/**
 * `graft inject`: the webhook's code path offline, like `istioctl kube-inject`. Pods are
 * injected; workloads have their pod template injected; every other object passes through.
 * Facts come from files and flags instead of the cluster.
 */
import { type Document, parseAllDocuments, stringify } from "yaml";
import { isRecord, type Result } from "../../core/result.js";
import {
  isWorkloadKind,
  type KubernetesObject,
  type PodLike,
  podTemplateOf,
  WORKLOAD_TEMPLATE_PATH,
  type WorkloadKind,
} from "../model/kube.js";
import { type AdmissionFacts, admit, injectPod } from "../pipeline/admission.js";
import { podDisplayName } from "../pipeline/plan.js";
import { type AdmissionReviewResponse, parseAdmissionReview, reviewResponse } from "../pipeline/review.js";

export type InjectedObject = {
  /** The object as graft would admit it (the input itself when untouched). */
  object: unknown;
  changed: boolean;
  warnings: string[];
  /** Why the object was denied; empty when it was not. */
  errors: string[];
  /** Objects graft would create for it. */
  create: KubernetesObject[];
  /** Why graft left it alone, when it did. */
  skipped?: string;
};

function describe(object: Record<string, unknown>): string {
  const metadata = isRecord(object.metadata) ? (object.metadata as PodLike["metadata"]) : undefined;
  return `${String(object.kind)} "${podDisplayName({ metadata })}"`;
}

function untouched(object: unknown, skipped: string): InjectedObject {
  return { object, changed: false, warnings: [], errors: [], create: [], skipped };
}

/**
 * Injects one object as the webhook would admit it in `namespace` (its own metadata.namespace
 * wins). A `List` has each item injected.
 */
export function injectObject(
  object: unknown,
  facts: AdmissionFacts,
  defaultNamespace: string,
): InjectedObject {
  if (!isRecord(object)) return untouched(object, "not a Kubernetes object");
  const { kind } = object;
  if (kind === "List" && Array.isArray(object.items)) {
    const items = object.items.map((item) => injectObject(item, facts, defaultNamespace));
    return {
      object: { ...object, items: items.map((item) => item.object) },
      changed: items.some((item) => item.changed),
      warnings: items.flatMap((item) => item.warnings),
      errors: items.flatMap((item) => item.errors),
      create: items.flatMap((item) => item.create),
    };
  }
  const metadata = isRecord(object.metadata) ? object.metadata : {};
  const namespace = typeof metadata.namespace === "string" ? metadata.namespace : defaultNamespace;
  const name = typeof metadata.name === "string" ? metadata.name : undefined;

  if (kind !== "Pod" && !isWorkloadKind(kind))
    return untouched(object, `graft does not inject ${String(kind)}`);
  const template = kind === "Pod" ? (object as PodLike) : podTemplateOf(kind, object);
  if (!template) return untouched(object, `${describe(object)} has no pod template`);

  const ownerFacts = kind !== "Pod" && name ? { ...facts, ownerName: facts.ownerName ?? name } : facts;
  const result = injectPod(template, namespace, ownerFacts);
  switch (result.kind) {
    case "skipped":
      return untouched(object, result.reason.message);
    case "denied":
      return {
        ...untouched(object, "denied"),
        errors: result.reasons.map((r) => `${describe(object)}: ${r.message}`),
      };
    case "injected":
      return {
        object: kind === "Pod" ? result.pod : withTemplate(kind, object, result.pod),
        changed: true,
        warnings: result.warnings.map((w) => `${describe(object)}: ${w}`),
        errors: [],
        create: result.create,
      };
  }
}

/** A copy of `workload` whose pod template is `template`. */
function withTemplate(kind: WorkloadKind, workload: Record<string, unknown>, template: PodLike): unknown {
  const copy = structuredClone(workload);
  const path = WORKLOAD_TEMPLATE_PATH[kind];
  let parent = copy;
  for (const step of path.slice(0, -1)) parent = parent[step] as Record<string, unknown>;
  parent[path[path.length - 1]!] = template;
  return copy;
}

export type InjectedManifests = {
  /** The documents as multi-document YAML: injected ones re-rendered, the others as written, then objects graft would create. */
  output: string;
  warnings: string[];
  errors: string[];
};

function documentText(document: Document): string {
  const text = document.toString();
  return text.startsWith("---") ? text.replace(/^---\n?/, "") : text;
}

/** `graft inject -f`: multi-document YAML (or JSON) in, injected multi-document YAML out. */
export function injectManifests(
  text: string,
  facts: AdmissionFacts,
  defaultNamespace = "default",
): InjectedManifests {
  const documents = parseAllDocuments(text);
  if (!Array.isArray(documents)) return { output: "", warnings: [], errors: ["the input is empty"] };
  const parts: string[] = [];
  const created: KubernetesObject[] = [];
  const warnings: string[] = [];
  const errors: string[] = [];
  documents.forEach((document, index) => {
    if (document.errors.length > 0) {
      errors.push(
        `document ${index + 1}: not valid YAML or JSON: ${document.errors[0]!.message.split("\n")[0]}`,
      );
      return;
    }
    const object: unknown = document.toJS();
    if (object === null || object === undefined) return;
    const result = injectObject(object, facts, defaultNamespace);
    warnings.push(...result.warnings);
    errors.push(...result.errors);
    created.push(...result.create);
    parts.push(result.changed ? stringify(result.object) : documentText(document));
  });
  for (const object of created) parts.push(stringify(object));
  return {
    output: parts.map((part) => (part.endsWith("\n") ? part : `${part}\n`)).join("---\n"),
    warnings,
    errors,
  };
}

export type ReviewReply = Result<AdmissionReviewResponse>;

/** `graft inject --admission-review`: the exact reply the webhook sends for this review. */
export function replyToReview(body: unknown, facts: AdmissionFacts): ReviewReply {
  const parsed = parseAdmissionReview(body);
  if (!parsed.ok) return parsed;
  return { ok: true, value: reviewResponse(parsed.value.uid, admit(parsed.value, facts)) };
}
