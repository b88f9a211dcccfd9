/**
 * The Kubernetes shapes the admission core reads and writes. Type-only: objects arrive as raw
 * JSON, and every field graft does not know is carried through untouched.
 */
import type { KubernetesObject, V1Container, V1ObjectMeta, V1PodSpec } from "@kubernetes/client-node";
import { isRecord } from "../../core/result.js";

export type { KubernetesObject, V1Container as Container };

/** A Pod, or a workload's pod template: both are `{metadata, spec}` as far as injection goes. */
export type PodLike = { metadata?: V1ObjectMeta; spec?: V1PodSpec };

export type Pod = PodLike & { apiVersion?: string; kind?: string };

/** The label on every object graft writes (its ConfigMaps), and its value. */
export const LABEL_MANAGED_BY = "app.kubernetes.io/managed-by";
export const MANAGED_BY_GRAFT = "graft";

/** The workload kinds whose pod template graft validates, and where each keeps that template. */
export const WORKLOAD_TEMPLATE_PATH = {
  Deployment: ["spec", "template"],
  StatefulSet: ["spec", "template"],
  DaemonSet: ["spec", "template"],
  ReplicaSet: ["spec", "template"],
  Job: ["spec", "template"],
  CronJob: ["spec", "jobTemplate", "spec", "template"],
} as const;

export type WorkloadKind = keyof typeof WORKLOAD_TEMPLATE_PATH;

export function isWorkloadKind(kind: unknown): kind is WorkloadKind {
  return typeof kind === "string" && Object.hasOwn(WORKLOAD_TEMPLATE_PATH, kind);
}

/** The pod template of a workload object (the same object, not a copy), if it has one. */
export function podTemplateOf(kind: WorkloadKind, workload: unknown): PodLike | undefined {
  let node: unknown = workload;
  for (const key of WORKLOAD_TEMPLATE_PATH[kind]) {
    if (!isRecord(node)) return undefined;
    node = node[key];
  }
  return isRecord(node) ? (node as PodLike) : undefined;
}
