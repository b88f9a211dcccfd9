/**
 * The Kubernetes API calls the properties feature makes, behind one small interface so the
 * logic that decides when to call (ensure.ts, cleanup.ts) tests without a cluster. Errors are
 * rewritten into messages that say what to fix.
 */
import type { V1ConfigMap, V1OwnerReference, V1Pod } from "@kubernetes/client-node";
import { ANNOTATION_LAST_USED, GRAFT_CONFIGMAPS_SELECTOR } from "../../features/properties/configmap.js";
import { FIELD_MANAGER } from "../field-manager.js";
import { hasStatus, KubeApiError, type KubeClient, resourcePath } from "../kube/client.js";
import type { PropertiesApiOperation, PropertiesMetrics } from "./properties-metrics.js";

export type PropertiesApi = {
  /** Server-side apply of the whole ConfigMap (never its owners: see ensure.ts). */
  apply(configMap: V1ConfigMap & { metadata: { name: string; namespace: string } }): Promise<void>;
  /** Adds one ownerReference, keeping the others (strategic merge on uid). */
  addOwner(namespace: string, name: string, owner: V1OwnerReference): Promise<void>;
  /** Records that a pod without a controller was admitted with it (the clean-up's grace restarts). */
  markUsed(namespace: string, name: string, at: Date): Promise<void>;
  /** The data of a ConfigMap in a namespace, or undefined when there is none. */
  readData(namespace: string, name: string): Promise<Record<string, string> | undefined>;
  /** Every ConfigMap graft made (properties, notebook sync script), in all namespaces. */
  listGraftConfigMaps(): Promise<V1ConfigMap[]>;
  listPods(namespace: string): Promise<V1Pod[]>;
  /** Deletes only if the ConfigMap is still the one seen (uid and resourceVersion): false if not. */
  deleteIfUnchanged(configMap: V1ConfigMap): Promise<boolean>;
};

/** An API call that failed, with a message naming the object, the operation and the fix. */
export class PropertiesApiError extends Error {
  constructor(
    message: string,
    readonly status: number | undefined,
  ) {
    super(message);
    this.name = "PropertiesApiError";
  }
}

export function describeApiFailure(action: string, error: unknown): PropertiesApiError {
  if (error instanceof KubeApiError && error.status !== undefined) {
    const code = error.status;
    const reason = error.detail ?? error.reason ?? "";
    if (code === 403) {
      return new PropertiesApiError(
        `${action}: forbidden (403) — graft's ServiceAccount lacks the RBAC in manifests/base/rbac.yaml (${reason})`,
        code,
      );
    }
    return new PropertiesApiError(`${action}: the API server answered ${code} (${reason})`, code);
  }
  const message = error instanceof Error ? error.message : String(error);
  return new PropertiesApiError(`${action}: the API server could not be reached (${message})`, undefined);
}

export function isNotFound(error: unknown): boolean {
  return hasStatus(error, 404);
}

export function kubernetesPropertiesApi(client: KubeClient, metrics: PropertiesMetrics): PropertiesApi {
  const counted = async <T>(operation: PropertiesApiOperation, action: string, call: () => Promise<T>) => {
    try {
      const result = await call();
      metrics.apiCall(operation, true);
      return result;
    } catch (error) {
      metrics.apiCall(operation, false);
      throw error instanceof PropertiesApiError ? error : describeApiFailure(action, error);
    }
  };
  const configMaps = (namespace?: string, name?: string) =>
    resourcePath({ apiVersion: "v1", resource: "configmaps", namespace, name });

  return {
    apply: (configMap) =>
      counted(
        "apply",
        `creating ConfigMap ${configMap.metadata.namespace}/${configMap.metadata.name}`,
        async () => {
          await client.patch(
            configMaps(configMap.metadata.namespace, configMap.metadata.name),
            { apiVersion: "v1", kind: "ConfigMap", ...configMap },
            "apply",
            { fieldManager: FIELD_MANAGER, force: true },
          );
        },
      ),
    addOwner: (namespace, name, owner) =>
      counted(
        "add_owner",
        `adding ${owner.kind} ${owner.name} as owner of ConfigMap ${namespace}/${name}`,
        async () => {
          await client.patch(
            configMaps(namespace, name),
            { metadata: { ownerReferences: [owner] } },
            "strategic",
            { fieldManager: FIELD_MANAGER },
          );
        },
      ),
    markUsed: (namespace, name, at) =>
      counted("mark_used", `marking ConfigMap ${namespace}/${name} as used`, async () => {
        await client.patch(
          configMaps(namespace, name),
          { metadata: { annotations: { [ANNOTATION_LAST_USED]: at.toISOString() } } },
          "strategic",
          { fieldManager: FIELD_MANAGER },
        );
      }),
    readData: (namespace, name) =>
      counted("read", `reading ConfigMap ${namespace}/${name}`, async () => {
        try {
          const configMap = await client.get<V1ConfigMap>(configMaps(namespace, name));
          return configMap.data ?? {};
        } catch (error) {
          if (isNotFound(error)) return undefined;
          throw error;
        }
      }),
    listGraftConfigMaps: () =>
      counted("list", "listing graft's ConfigMaps", async () => {
        const list = await client.list<V1ConfigMap>(configMaps(), {
          labelSelector: GRAFT_CONFIGMAPS_SELECTOR,
        });
        return list.items;
      }),
    listPods: (namespace) =>
      counted("list", `listing pods in namespace ${namespace}`, async () => {
        const list = await client.list<V1Pod>(
          resourcePath({ apiVersion: "v1", resource: "pods", namespace }),
        );
        return list.items;
      }),
    deleteIfUnchanged: (configMap) =>
      counted(
        "delete",
        `deleting ConfigMap ${configMap.metadata?.namespace}/${configMap.metadata?.name}`,
        async () => {
          try {
            await client.delete(configMaps(configMap.metadata!.namespace!, configMap.metadata!.name!), {
              apiVersion: "v1",
              kind: "DeleteOptions",
              preconditions: {
                uid: configMap.metadata?.uid,
                resourceVersion: configMap.metadata?.resourceVersion,
              },
            });
            return true;
          } catch (error) {
            // 409: changed since it was listed (an admission just used it); 404: already gone.
            if (hasStatus(error, 409) || hasStatus(error, 404)) return false;
            throw error;
          }
        },
      ),
  };
}
