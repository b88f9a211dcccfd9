/**
 * `graft inject`: the webhook's code path offline, like `istioctl kube-inject`. Pods are
 * injected; workloads have their pod template injected; every other object passes through.
 * Facts come from files and flags instead of the cluster: a Namespace document in the input
 * decides opt-in for the objects in it, as its label would in the cluster; a namespace the input
 * does not hold is not known to have opted in (unless `assumeOptedIn`). Every pod or workload
 * left alone is reported with its reason.
 */
import { type Document, parseAllDocuments, stringify } from "yaml";
import { INJECT_ENABLED, LABEL_INJECT } from "../../core/annotations.js";
import { isRecord, type Result } from "../../core/result.js";
import {
  isWorkloadKind,
  type KubernetesObject,
  type PodLike,
  podTemplateOf,
  WORKLOAD_TEMPLATE_PATH,
  type WorkloadKind,
} from "../model/kube.js";
import { type Reason, reason } from "../model/reasons.js";
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
  /** Pods and workloads graft left alone, each described, with why (`graft inject` prints them). */
  skippedObjects: { object: string; reason: Reason }[];
};

/** What `graft inject` knows of namespaces: the input's Namespace documents, and the flag. */
export type OfflineNamespaces = {
  /** Labels of each Namespace document in the input, by name. */
  documents: ReadonlyMap<string, Record<string, string>>;
  /** A namespace the input does not hold is taken as opted in (`--assume-opted-in`). */
  assumeOptedIn: boolean;
};

/** The opt-in facts for an object in `namespace`: its Namespace document, else the flag. */
function namespaceFacts(facts: AdmissionFacts, namespace: string, known?: OfflineNamespaces): AdmissionFacts {
  if (!known) return facts;
  const labels = known.documents.get(namespace);
  if (labels !== undefined) {
    const { namespaceOptIn: _claimed, ...rest } = facts;
    return { ...rest, namespaceLabels: labels };
  }
  return { ...facts, namespaceOptIn: known.assumeOptedIn };
}

/** Labels of every Namespace document (also inside a List), by name. */
export function namespaceDocuments(objects: readonly unknown[]): Map<string, Record<string, string>> {
  const found = new Map<string, Record<string, string>>();
  const visit = (object: unknown) => {
    if (!isRecord(object)) return;
    if (object.kind === "List" && Array.isArray(object.items)) object.items.forEach(visit);
    if (object.kind !== "Namespace" || !isRecord(object.metadata)) return;
    const { name, labels } = object.metadata;
    if (typeof name !== "string") return;
    const strings = isRecord(labels)
      ? Object.fromEntries(
          Object.entries(labels).filter((entry): entry is [string, string] => typeof entry[1] === "string"),
        )
      : {};
    found.set(name, strings);
  };
  objects.forEach(visit);
  return found;
}

function describe(object: Record<string, unknown>): string {
  const metadata = isRecord(object.metadata) ? (object.metadata as PodLike["metadata"]) : undefined;
  return `${String(object.kind)} "${podDisplayName({ metadata })}"`;
}

function untouched(object: unknown, skipped: string): InjectedObject {
  return { object, changed: false, warnings: [], errors: [], create: [], skipped, skippedObjects: [] };
}

/**
 * Injects one object as the webhook would admit it in `namespace` (its own metadata.namespace
 * wins). A `List` has each item injected.
 */
export function injectObject(
  object: unknown,
  facts: AdmissionFacts,
  defaultNamespace: string,
  namespaces?: OfflineNamespaces,
): InjectedObject {
  if (!isRecord(object)) return untouched(object, "not a Kubernetes object");
  const { kind } = object;
  if (kind === "List" && Array.isArray(object.items)) {
    const items = object.items.map((item) => injectObject(item, facts, defaultNamespace, namespaces));
    return {
      object: { ...object, items: items.map((item) => item.object) },
      changed: items.some((item) => item.changed),
      warnings: items.flatMap((item) => item.warnings),
      errors: items.flatMap((item) => item.errors),
      create: items.flatMap((item) => item.create),
      skippedObjects: items.flatMap((item) => item.skippedObjects),
    };
  }
  const metadata = isRecord(object.metadata) ? object.metadata : {};
  const namespace = typeof metadata.namespace === "string" ? metadata.namespace : defaultNamespace;
  const name = typeof metadata.name === "string" ? metadata.name : undefined;

  if (kind !== "Pod" && !isWorkloadKind(kind))
    return untouched(object, `graft does not inject ${String(kind)}`);
  const template = kind === "Pod" ? (object as PodLike) : podTemplateOf(kind, object);
  const where = `${describe(object)} in namespace "${namespace}"`;
  if (!template) {
    const why = reason("no-pod-template", `${describe(object)} has no pod template`);
    return { ...untouched(object, why.message), skippedObjects: [{ object: where, reason: why }] };
  }

  const optInFacts = namespaceFacts(facts, namespace, namespaces);
  const ownerFacts =
    kind !== "Pod" && name ? { ...optInFacts, ownerName: facts.ownerName ?? name } : optInFacts;
  const result = injectPod(template, namespace, ownerFacts);
  switch (result.kind) {
    case "skipped": {
      const why = unknownNamespace(result.reason, namespace, namespaces);
      return { ...untouched(object, why.message), skippedObjects: [{ object: where, reason: why }] };
    }
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
        skippedObjects: [],
      };
  }
}

/** A namespace the input does not describe was not opted in for lack of knowledge: say so, and the way out. */
function unknownNamespace(skip: Reason, namespace: string, namespaces?: OfflineNamespaces): Reason {
  if (skip.code !== "not-opted-in" || !namespaces || namespaces.documents.has(namespace)) return skip;
  return reason(
    skip.code,
    `the pod has no ${LABEL_INJECT} label and the input holds no Namespace "${namespace}": add that Namespace with ${LABEL_INJECT}=${INJECT_ENABLED} as in the cluster, or pass --assume-opted-in`,
  );
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
  /** Each pod or workload left alone: `document N: <kind> "<name>" in namespace "<ns>": <code>: <message>`. */
  skipped: string[];
};

function documentText(document: Document): string {
  const text = document.toString();
  return text.startsWith("---") ? text.replace(/^---\n?/, "") : text;
}

/**
 * `graft inject -f`: multi-document YAML (or JSON) in, injected multi-document YAML out. The
 * input's Namespace documents decide opt-in for their objects; other namespaces are opted in only
 * with `assumeOptedIn` (`--assume-opted-in`, for a single manifest).
 */
export function injectManifests(
  text: string,
  facts: AdmissionFacts,
  defaultNamespace = "default",
  { assumeOptedIn = false }: { assumeOptedIn?: boolean } = {},
): InjectedManifests {
  const documents = parseAllDocuments(text);
  if (!Array.isArray(documents)) {
    return { output: "", warnings: [], errors: ["the input is empty"], skipped: [] };
  }
  const objects = documents.map((document): unknown =>
    document.errors.length > 0 ? undefined : document.toJS(),
  );
  const namespaces: OfflineNamespaces = { documents: namespaceDocuments(objects), assumeOptedIn };
  const parts: string[] = [];
  const created: KubernetesObject[] = [];
  const warnings: string[] = [];
  const errors: string[] = [];
  const skipped: string[] = [];
  documents.forEach((document, index) => {
    if (document.errors.length > 0) {
      errors.push(
        `document ${index + 1}: not valid YAML or JSON: ${document.errors[0]!.message.split("\n")[0]}`,
      );
      return;
    }
    const object = objects[index];
    if (object === null || object === undefined) return;
    const result = injectObject(object, facts, defaultNamespace, namespaces);
    for (const { object: what, reason: why } of result.skippedObjects) {
      skipped.push(`document ${index + 1}: ${what}: ${why.code}: ${why.message}`);
    }
    warnings.push(...result.warnings);
    errors.push(...result.errors);
    created.push(...result.create);
    parts.push(result.changed ? stringify(result.object) : documentText(document));
  });
  // One object several documents ask for (the notebook sync script of a namespace) is printed once.
  const printed = new Set<string>();
  for (const object of created) {
    const key = `${object.kind}/${object.metadata?.namespace ?? ""}/${object.metadata?.name ?? ""}`;
    if (printed.has(key)) continue;
    printed.add(key);
    parts.push(stringify(object));
  }
  return {
    output: parts.map((part) => (part.endsWith("\n") ? part : `${part}\n`)).join("---\n"),
    warnings,
    errors,
    skipped,
  };
}

export type ReviewReply = Result<AdmissionReviewResponse>;

/** `graft inject --admission-review`: the exact reply the webhook sends for this review. */
export function replyToReview(body: unknown, facts: AdmissionFacts): ReviewReply {
  const parsed = parseAdmissionReview(body);
  if (!parsed.ok) return parsed;
  return { ok: true, value: reviewResponse(parsed.value.uid, admit(parsed.value, facts)) };
}
