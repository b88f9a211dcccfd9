/**
 * Creates the objects the admission core asks for (e.g. a properties ConfigMap) before the pod
 * is admitted. Their names are derived from their content, so one that already exists is the
 * same object: AlreadyExists is success, which also makes a retried admission safe.
 */
import {
  ApiException,
  type KubeConfig,
  type KubernetesObject,
  KubernetesObjectApi,
} from "@kubernetes/client-node";
import { errorMessage } from "../../core/result.js";
import type { AdmissionRequest } from "../pipeline/review.js";
import { FIELD_MANAGER } from "./field-manager.js";

/** Makes sure objects the admission core asked for exist (e.g. a properties ConfigMap). */
export type EnsureObjects = (objects: KubernetesObject[], request: AdmissionRequest) => Promise<void>;

export function createObjectsIfAbsent(kubeConfig: KubeConfig): EnsureObjects {
  const client = KubernetesObjectApi.makeApiClient(kubeConfig);
  return async (objects, request) => {
    for (const object of objects) {
      const namespaced: KubernetesObject = {
        ...object,
        metadata: { ...object.metadata, namespace: object.metadata?.namespace ?? request.namespace },
      };
      try {
        await client.create(namespaced, undefined, undefined, FIELD_MANAGER);
      } catch (error) {
        if (error instanceof ApiException && error.code === 409) continue;
        const name = `${object.kind ?? "object"} ${namespaced.metadata?.namespace ?? ""}/${object.metadata?.name ?? ""}`;
        throw new Error(`could not create ${name}: ${errorMessage(error)}`);
      }
    }
  };
}
