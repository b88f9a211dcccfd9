/**
 * The platform variables, kept from ConfigMap `graft-platform` in graft's namespace by a watch
 * (list once, then watch; re-listed after a dropped watch): a change reaches the next admission
 * within the watch's latency, and an admission reads memory, never the API server.
 */
import {
  CoreV1Api,
  type Informer,
  type KubeConfig,
  ListWatch,
  type ObjectCache,
  type V1ConfigMap,
  Watch,
} from "@kubernetes/client-node";
import { PLATFORM_CONFIGMAP, platformVariables } from "../../features/properties/sources.js";
import { keepWatching } from "../kept-watch.js";

export type PlatformSnapshot = {
  /** False until the first list has answered: the variables are not known yet. */
  synced: boolean;
  /** By name, sorted; empty when graft-platform does not exist. */
  variables: ReadonlyMap<string, string>;
  /** graft-platform's resourceVersion, when it exists. */
  resourceVersion?: string;
};

export type PlatformCache = {
  current(): PlatformSnapshot;
  /** Resolves once the first list has answered (or rejects with why it could not). */
  start(): Promise<void>;
  stop(): Promise<void>;
};

export type PlatformInformer = Informer<V1ConfigMap> & ObjectCache<V1ConfigMap>;

export type PlatformCacheOptions = {
  namespace: string;
  /** Told when the watch fails; it is restarted after `retryMs` (doubling up to 30 s). */
  onError?: (error: unknown) => void;
  retryMs?: number;
};

/** An informer on graft-platform alone (a field selector on its name) in `namespace`. */
export function platformInformer(kubeConfig: KubeConfig, namespace: string): PlatformInformer {
  const core = kubeConfig.makeApiClient(CoreV1Api);
  const fieldSelector = `metadata.name=${PLATFORM_CONFIGMAP}`;
  // makeInformer in client-node 1.4 takes no field selector; ListWatch is what it builds.
  return new ListWatch<V1ConfigMap>(
    `/api/v1/namespaces/${namespace}/configmaps`,
    new Watch(kubeConfig),
    () => core.listNamespacedConfigMap({ namespace, fieldSelector }),
    false,
    undefined,
    fieldSelector,
  );
}

export function createPlatformCache(
  informer: PlatformInformer,
  options: PlatformCacheOptions,
): PlatformCache {
  let snapshot: PlatformSnapshot = { synced: false, variables: new Map() };

  const refresh = () => {
    const configMap = informer.get(PLATFORM_CONFIGMAP, options.namespace);
    snapshot = {
      synced: true,
      variables: platformVariables(configMap?.data),
      ...(configMap?.metadata?.resourceVersion
        ? { resourceVersion: configMap.metadata.resourceVersion }
        : {}),
    };
  };

  informer.on("add", refresh);
  informer.on("update", refresh);
  informer.on("delete", refresh);
  const watch = keepWatching(informer, {
    what: `the watch on ConfigMap ${PLATFORM_CONFIGMAP}`,
    onListed: refresh,
    onError: options.onError,
    retryMs: options.retryMs,
  });

  return {
    current: () => snapshot,
    start: watch.start,
    stop: watch.stop,
  };
}

/** A fixed snapshot, for `graft inject --platform F` and tests. */
export function staticPlatform(data: Readonly<Record<string, string>> | undefined): PlatformCache {
  const snapshot: PlatformSnapshot = { synced: true, variables: platformVariables(data) };
  return { current: () => snapshot, start: async () => {}, stop: async () => {} };
}
