/**
 * Creates the objects the admission core asks for (e.g. a properties ConfigMap) before the pod
 * is admitted. Their names are derived from their content, so one that already exists is the
 * same object: AlreadyExists is success, which also makes a retried admission safe.
 */
import { errorMessage } from "../../core/result.js";
import type { KubernetesObject } from "../model/kube.js";
import type { AdmissionRequest } from "../pipeline/review.js";
import { FIELD_MANAGER } from "./field-manager.js";
import { hasStatus, type KubeClient, resourcePath } from "./kube/client.js";

/** Makes sure objects the admission core asked for exist (e.g. a properties ConfigMap). */
export type EnsureObjects = (objects: KubernetesObject[], request: AdmissionRequest) => Promise<void>;

/** The namespaced kinds graft may create, by apiVersion/kind: the collection each is created in. */
const RESOURCES: Readonly<Record<string, string>> = {
  "v1/ConfigMap": "configmaps",
  "v1/Secret": "secrets",
};

export function createObjectsIfAbsent(client: KubeClient): EnsureObjects {
  return async (objects, request) => {
    for (const object of objects) {
      const namespace = object.metadata?.namespace ?? request.namespace;
      const name = `${object.kind ?? "object"} ${namespace ?? ""}/${object.metadata?.name ?? ""}`;
      const resource = RESOURCES[`${object.apiVersion}/${object.kind}`];
      if (!resource)
        throw new Error(
          `could not create ${name}: graft does not create ${object.apiVersion} ${object.kind}`,
        );
      const namespaced: KubernetesObject = { ...object, metadata: { ...object.metadata, namespace } };
      try {
        await client.create(
          resourcePath({ apiVersion: object.apiVersion ?? "v1", resource, namespace }),
          namespaced,
          {
            fieldManager: FIELD_MANAGER,
          },
        );
      } catch (error) {
        if (hasStatus(error, 409)) continue;
        throw new Error(`could not create ${name}: ${errorMessage(error)}`);
      }
    }
  };
}
