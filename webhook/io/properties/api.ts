/**
 * The Kubernetes API calls the properties feature makes, behind one small interface so the
 * logic that decides when to call (ensure.ts, cleanup.ts) tests without a cluster. Errors are
 * rewritten into messages that say what to fix.
 */
import {
  ApiException,
  CoreV1Api,
  type KubeConfig,
  PatchStrategy,
  setHeaderOptions,
  type V1ConfigMap,
  type V1OwnerReference,
  type V1Pod,
} from "@kubernetes/client-node";
import { ANNOTATION_LAST_USED, GRAFT_CONFIGMAPS_SELECTOR } from "../../features/properties/configmap.js";
import { FIELD_MANAGER } from "../field-manager.js";
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
  if (error instanceof ApiException) {
    const code = error.code;
    const reason = apiReason(error);
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

function apiReason(error: ApiException<unknown>): string {
  const body = error.body;
  if (typeof body === "string") {
    try {
      const status = JSON.parse(body) as { message?: unknown };
      if (typeof status.message === "string") return status.message;
    } catch {
      return body.slice(0, 200);
    }
  }
  if (
    typeof body === "object" &&
    body !== null &&
    typeof (body as { message?: unknown }).message === "string"
  ) {
    return (body as { message: string }).message;
  }
  return error.message.split("\n")[0] ?? "";
}

export function isNotFound(error: unknown): boolean {
  return error instanceof ApiException && error.code === 404;
}

export function kubernetesPropertiesApi(kubeConfig: KubeConfig, metrics: PropertiesMetrics): PropertiesApi {
  const core = kubeConfig.makeApiClient(CoreV1Api);
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
  const strategicMerge = setHeaderOptions("Content-Type", PatchStrategy.StrategicMergePatch);

  return {
    apply: (configMap) =>
      counted(
        "apply",
        `creating ConfigMap ${configMap.metadata.namespace}/${configMap.metadata.name}`,
        async () => {
          await core.patchNamespacedConfigMap(
            {
              name: configMap.metadata.name,
              namespace: configMap.metadata.namespace,
              body: configMap,
              fieldManager: FIELD_MANAGER,
              force: true,
            },
            setHeaderOptions("Content-Type", PatchStrategy.ServerSideApply),
          );
        },
      ),
    addOwner: (namespace, name, owner) =>
      counted(
        "add_owner",
        `adding ${owner.kind} ${owner.name} as owner of ConfigMap ${namespace}/${name}`,
        async () => {
          await core.patchNamespacedConfigMap(
            {
              name,
              namespace,
              body: { metadata: { ownerReferences: [owner] } },
              fieldManager: FIELD_MANAGER,
            },
            strategicMerge,
          );
        },
      ),
    markUsed: (namespace, name, at) =>
      counted("mark_used", `marking ConfigMap ${namespace}/${name} as used`, async () => {
        await core.patchNamespacedConfigMap(
          {
            name,
            namespace,
            body: { metadata: { annotations: { [ANNOTATION_LAST_USED]: at.toISOString() } } },
            fieldManager: FIELD_MANAGER,
          },
          strategicMerge,
        );
      }),
    readData: (namespace, name) =>
      counted("read", `reading ConfigMap ${namespace}/${name}`, async () => {
        try {
          const configMap = await core.readNamespacedConfigMap({ name, namespace });
          return configMap.data ?? {};
        } catch (error) {
          if (isNotFound(error)) return undefined;
          throw error;
        }
      }),
    listGraftConfigMaps: () =>
      counted("list", "listing graft's ConfigMaps", async () => {
        const list = await core.listConfigMapForAllNamespaces({ labelSelector: GRAFT_CONFIGMAPS_SELECTOR });
        return list.items;
      }),
    listPods: (namespace) =>
      counted("list", `listing pods in namespace ${namespace}`, async () => {
        const list = await core.listNamespacedPod({ namespace });
        return list.items;
      }),
    deleteIfUnchanged: (configMap) =>
      counted(
        "delete",
        `deleting ConfigMap ${configMap.metadata?.namespace}/${configMap.metadata?.name}`,
        async () => {
          try {
            await core.deleteNamespacedConfigMap({
              name: configMap.metadata!.name!,
              namespace: configMap.metadata!.namespace!,
              body: {
                preconditions: {
                  uid: configMap.metadata?.uid,
                  resourceVersion: configMap.metadata?.resourceVersion,
                },
              },
            });
            return true;
          } catch (error) {
            // 409: changed since it was listed (an admission just used it); 404: already gone.
            if (error instanceof ApiException && (error.code === 409 || error.code === 404)) return false;
            throw error;
          }
        },
      ),
  };
}
