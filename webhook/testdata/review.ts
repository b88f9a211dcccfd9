/**
 * The one AdmissionReview builder for tests and benchmarks: what the API server sends
 * (admission.k8s.io/v1), with the group, version and resource of the kind filled in.
 *
 *   admissionReview({ object: somePod })                      a Pod CREATE in "analytics"
 *   admissionReview({ kind: "Deployment", operation: "UPDATE", object, oldObject })
 *   podReview({ labels, annotations }, { dryRun: true })      a small Pod, as in the unit tests
 */

const RESOURCES: Record<string, { group: string; version: string; resource: string }> = {
  Pod: { group: "", version: "v1", resource: "pods" },
  Deployment: { group: "apps", version: "v1", resource: "deployments" },
  StatefulSet: { group: "apps", version: "v1", resource: "statefulsets" },
  DaemonSet: { group: "apps", version: "v1", resource: "daemonsets" },
  ReplicaSet: { group: "apps", version: "v1", resource: "replicasets" },
  Job: { group: "batch", version: "v1", resource: "jobs" },
  CronJob: { group: "batch", version: "v1", resource: "cronjobs" },
};

export type ReviewRequest = {
  uid?: string;
  /** Pod, a workload kind, or any other (then group "" and version "v1"). */
  kind?: string;
  /** The API group and resource, when not the kind's usual ones. */
  group?: string;
  resource?: string;
  namespace?: string;
  operation?: "CREATE" | "UPDATE" | "DELETE" | "CONNECT";
  dryRun?: boolean;
  object?: unknown;
  oldObject?: unknown;
  /** Fields added to the request as given (userInfo, options, a field the API server may add one day). */
  extra?: Record<string, unknown>;
};

export type AdmissionReviewBody = {
  apiVersion: "admission.k8s.io/v1";
  kind: "AdmissionReview";
  request: Record<string, unknown> & { uid: string; namespace: string; object?: unknown };
};

export const REVIEW_UID = "3f1c8a4e-0000-4000-8000-000000000001";

export function admissionReview(request: ReviewRequest = {}): AdmissionReviewBody {
  const kind = request.kind ?? "Pod";
  const usual = RESOURCES[kind] ?? { group: "", version: "v1", resource: `${kind.toLowerCase()}s` };
  const { group = usual.group, resource = usual.resource } = request;
  const { version } = usual;
  return {
    apiVersion: "admission.k8s.io/v1",
    kind: "AdmissionReview",
    request: {
      uid: request.uid ?? REVIEW_UID,
      kind: { group, version, kind },
      resource: { group, version, resource },
      namespace: request.namespace ?? "analytics",
      operation: request.operation ?? "CREATE",
      ...(request.dryRun !== undefined ? { dryRun: request.dryRun } : {}),
      ...("object" in request ? { object: request.object } : { object: pod() }),
      ...(request.oldObject !== undefined ? { oldObject: request.oldObject } : {}),
      ...request.extra,
    },
  };
}

export type PodOptions = {
  name?: string;
  generateName?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  containers?: Array<Record<string, unknown>>;
};

/** The default pod's annotations: one check, so an opted-in pod gets an agent (none without checks). */
export const POD_CHECKS = { "graft.pnda.io/checks": "[{name: kafka, type: tcp, host: kafka, port: 9092}]" };

/** A Pod as a ReplicaSet creates it: generateName "ingest-", one container, one check (unless `annotations`). */
export function pod(options: PodOptions = {}): Record<string, unknown> {
  const metadata: Record<string, unknown> = options.name
    ? { name: options.name }
    : { generateName: options.generateName ?? "ingest-" };
  metadata.labels = options.labels ?? {};
  metadata.annotations = options.annotations ?? { ...POD_CHECKS };
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata,
    spec: { containers: options.containers ?? [{ name: "ingest", image: "registry.example/ingest:1" }] },
  };
}

/** A Pod CREATE review of `pod(options)`. */
export function podReview(options: PodOptions = {}, request: Omit<ReviewRequest, "object"> = {}) {
  return admissionReview({ ...request, object: pod(options) });
}
