/**
 * Makes sure a properties ConfigMap exists and is owned by the controller of the pod being
 * admitted, calling the API server only the first time a (ConfigMap, owner) pair is seen:
 * 1,000 pods of one ReplicaSet cost one apply and one owner patch, then nothing.
 *
 * Owners are added one at a time by strategic merge (merge key: uid), never by server-side
 * apply: an apply by the same field manager with a different owner list would remove the owners
 * it no longer lists, and with them the guarantee that a rollout never deletes a ConfigMap that
 * newer pods mount. A pod without a controller leaves no owner; its use is recorded instead
 * (ANNOTATION_LAST_USED), and the clean-up waits a grace period from then.
 */
import type { KubernetesObject, V1ConfigMap, V1OwnerReference } from "@kubernetes/client-node";
import { CONFIGMAP_PREFIX, LABEL_MANAGED_BY, MANAGED_BY_GRAFT } from "../../features/properties/configmap.js";
import { type PropertiesApi, PropertiesApiError } from "./api.js";
import { NO_METRICS, type PropertiesMetrics } from "./properties-metrics.js";

export type EnsureOptions = {
  api: PropertiesApi;
  /** How many (ConfigMap, owner) pairs are remembered; the least recently used is forgotten first. */
  cacheSize?: number;
  /**
   * How long the use of a ConfigMap by a pod without a controller is remembered before it is
   * recorded again; keep it well under the clean-up's grace period.
   */
  ownerlessRefreshMs?: number;
  now?: () => number;
  metrics?: PropertiesMetrics;
};

export type EnsurePropertiesConfigMap = (configMap: V1ConfigMap) => Promise<void>;

export const DEFAULT_CACHE_SIZE = 10_000;
export const DEFAULT_OWNERLESS_REFRESH_MS = 60_000;

/** True for the ConfigMaps the properties feature asks the server to ensure. */
export function isPropertiesConfigMap(object: KubernetesObject): object is V1ConfigMap {
  return (
    object.kind === "ConfigMap" &&
    object.metadata?.labels?.[LABEL_MANAGED_BY] === MANAGED_BY_GRAFT &&
    (object.metadata?.name ?? "").startsWith(CONFIGMAP_PREFIX)
  );
}

type Entry = { done: Promise<void>; expires: number };

export function createPropertiesEnsurer(options: EnsureOptions): EnsurePropertiesConfigMap {
  const { api } = options;
  const capacity = options.cacheSize ?? DEFAULT_CACHE_SIZE;
  const ownerlessRefreshMs = options.ownerlessRefreshMs ?? DEFAULT_OWNERLESS_REFRESH_MS;
  const now = options.now ?? Date.now;
  const metrics = options.metrics ?? NO_METRICS;
  // Keys are "<ns>/<name>" (applied) and "<ns>/<name>#<owner uid>" (owned). Insertion order is
  // recency order: a hit moves to the end, the first key is evicted.
  const ensured = new Map<string, Entry>();

  const forget = (key: string, entry?: Entry) => {
    if (entry === undefined || ensured.get(key) === entry) ensured.delete(key);
  };

  /** Runs `work` once per key while it is remembered; concurrent callers share one call. */
  const once = (
    key: string,
    ttlMs: number,
    work: () => Promise<void>,
  ): { done: Promise<void>; hit: boolean } => {
    const cached = ensured.get(key);
    if (cached && cached.expires > now()) {
      ensured.delete(key);
      ensured.set(key, cached);
      return { done: cached.done, hit: true };
    }
    const entry: Entry = { done: work(), expires: now() + ttlMs };
    ensured.delete(key);
    ensured.set(key, entry);
    while (ensured.size > capacity) ensured.delete(ensured.keys().next().value!);
    // A failure is not remembered: the next pod (its controller retries) tries again.
    entry.done.catch(() => forget(key, entry));
    return { done: entry.done, hit: false };
  };

  return async (configMap) => {
    const { name, namespace, ownerReferences, ...rest } = configMap.metadata ?? {};
    if (!name || !namespace)
      throw new Error("a properties ConfigMap needs metadata.name and metadata.namespace");
    const owner: V1OwnerReference | undefined = ownerReferences?.[0];
    const applied = `${namespace}/${name}`;
    const apply = () => api.apply({ ...configMap, metadata: { ...rest, name, namespace } });
    const use = () =>
      owner ? api.addOwner(namespace, name, owner) : api.markUsed(namespace, name, new Date(now()));

    const { done, hit } = once(
      `${applied}#${owner?.uid ?? ""}`,
      owner ? Number.POSITIVE_INFINITY : ownerlessRefreshMs,
      async () => {
        await once(applied, Number.POSITIVE_INFINITY, apply).done;
        try {
          await use();
        } catch (error) {
          // Gone since this process applied it (its last owner was deleted): make it again.
          if (!(error instanceof PropertiesApiError && error.status === 404)) throw error;
          forget(applied);
          await once(applied, Number.POSITIVE_INFINITY, apply).done;
          await use();
        }
      },
    );
    metrics.ensureCache(hit);
    return done;
  };
}
