/**
 * The platform variables, kept from ConfigMap `graft-platform` in graft's namespace by a watch
 * (list once, then watch; re-listed after a dropped watch): a change reaches the next admission
 * within the watch's latency, and an admission reads memory, never the API server.
 */
import type { V1ConfigMap } from "@kubernetes/client-node";
import { PLATFORM_CONFIGMAP, platformVariables } from "../../features/properties/sources.js";
import { type KubeClient, resourcePath } from "../kube/client.js";
import { createInformer, type Informer } from "../kube/informer.js";

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

export type PlatformInformer = Pick<Informer<V1ConfigMap>, "start" | "stop" | "get">;

export type PlatformCacheOptions = {
  namespace: string;
  /** Told when the watch fails; it is restarted after `retryMs` (doubling up to 30 s). */
  onError?: (error: unknown) => void;
  retryMs?: number;
};

/**
 * Builds the informer on graft-platform alone (a field selector on its name) in the options'
 * namespace; `onChange` is called after every list and every change it sees.
 */
export type MakePlatformInformer = (onChange: () => void, options: PlatformCacheOptions) => PlatformInformer;

export function platformInformer(client: KubeClient): MakePlatformInformer {
  return (onChange, { namespace, onError, retryMs }) =>
    createInformer<V1ConfigMap>(client, {
      what: `the watch on ConfigMap ${PLATFORM_CONFIGMAP}`,
      path: resourcePath({ apiVersion: "v1", resource: "configmaps", namespace }),
      query: { fieldSelector: `metadata.name=${PLATFORM_CONFIGMAP}` },
      onChange,
      ...(onError ? { onError } : {}),
      ...(retryMs ? { retryMs } : {}),
    });
}

export function createPlatformCache(
  makeInformer: MakePlatformInformer,
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

  const informer = makeInformer(refresh, options);

  return {
    current: () => snapshot,
    start: informer.start,
    stop: informer.stop,
  };
}

/** A fixed snapshot, for `graft inject --platform F` and tests. */
export function staticPlatform(data: Readonly<Record<string, string>> | undefined): PlatformCache {
  const snapshot: PlatformSnapshot = { synced: true, variables: platformVariables(data) };
  return { current: () => snapshot, start: async () => {}, stop: async () => {} };
}
