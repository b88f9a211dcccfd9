/**
 * Removes graft's ConfigMaps nobody uses (properties, and the notebook sync script's): no ownerReference left (the garbage collector
 * handles those with owners, deleting them with their last owner) and no pod in their namespace
 * mounting them, once a grace period has passed since they were made or last used by a pod
 * without a controller. A small reconciler in the webhook process: one list of graft's
 * ConfigMaps per sweep, one list of pods per namespace that has a candidate, and a delete that
 * only succeeds if the ConfigMap did not change since it was listed (an admission using it
 * meanwhile changes it), so a ConfigMap is never pulled from under a pod being admitted.
 */
import type { V1ConfigMap, V1Pod } from "@kubernetes/client-node";
import { SYNC_CONFIGMAP_PREFIX } from "../../features/notebooks/sync-configmap.js";
import { ANNOTATION_LAST_USED, CONFIGMAP_PREFIX } from "../../features/properties/configmap.js";
import type { PropertiesApi } from "./api.js";
import { NO_METRICS } from "./properties-metrics.js";

export const DEFAULT_GRACE_MS = 10 * 60_000;
export const DEFAULT_SWEEP_INTERVAL_MS = 5 * 60_000;

/** When the ConfigMap was last known to be wanted: made, or last used by a pod without a controller. */
export function lastWanted(configMap: V1ConfigMap): number {
  const created = configMap.metadata?.creationTimestamp
    ? new Date(configMap.metadata.creationTimestamp).getTime()
    : 0;
  const used = Date.parse(configMap.metadata?.annotations?.[ANNOTATION_LAST_USED] ?? "");
  return Number.isNaN(used) ? created : Math.max(created, used);
}

/** The ConfigMaps the clean-up may delete: graft's properties and sync-script ConfigMaps. */
const SWEPT_PREFIXES = [CONFIGMAP_PREFIX, SYNC_CONFIGMAP_PREFIX];

/** Ownerless graft ConfigMaps whose grace period has passed: the ones worth listing pods for. */
export function orphanCandidates(
  configMaps: readonly V1ConfigMap[],
  now: number,
  graceMs: number,
): V1ConfigMap[] {
  return configMaps.filter(
    (cm) =>
      SWEPT_PREFIXES.some((prefix) => (cm.metadata?.name ?? "").startsWith(prefix)) &&
      (cm.metadata?.ownerReferences?.length ?? 0) === 0 &&
      cm.metadata?.deletionTimestamp === undefined &&
      now - lastWanted(cm) >= graceMs,
  );
}

/** The ConfigMap names the pods' volumes use. */
export function mountedConfigMaps(pods: readonly V1Pod[]): Set<string> {
  const names = new Set<string>();
  for (const pod of pods) {
    for (const volume of pod.spec?.volumes ?? []) {
      if (volume.configMap?.name) names.add(volume.configMap.name);
      for (const source of volume.projected?.sources ?? []) {
        if (source.configMap?.name) names.add(source.configMap.name);
      }
    }
  }
  return names;
}

export type SweepResult = { deleted: string[]; kept: number };

/** One pass: finds the orphans and deletes those still unchanged. */
export async function sweepOrphans(
  api: PropertiesApi,
  { now = Date.now(), graceMs = DEFAULT_GRACE_MS, metrics = NO_METRICS } = {},
): Promise<SweepResult> {
  const all = await api.listGraftConfigMaps();
  const candidates = orphanCandidates(all, now, graceMs);
  const byNamespace = new Map<string, V1ConfigMap[]>();
  for (const cm of candidates) {
    const namespace = cm.metadata?.namespace ?? "";
    byNamespace.set(namespace, [...(byNamespace.get(namespace) ?? []), cm]);
  }
  const deleted: string[] = [];
  for (const [namespace, configMaps] of byNamespace) {
    const mounted = mountedConfigMaps(await api.listPods(namespace));
    for (const configMap of configMaps) {
      if (mounted.has(configMap.metadata?.name ?? "")) continue;
      if (await api.deleteIfUnchanged(configMap)) {
        deleted.push(`${namespace}/${configMap.metadata?.name}`);
        metrics.orphanDeleted();
      }
    }
  }
  return { deleted, kept: all.length - deleted.length };
}

export type Cleanup = { stop(): void };

/** Sweeps every `intervalMs` until stopped; a failed sweep is reported and the next one tries again. */
export function startOrphanCleanup(
  api: PropertiesApi,
  {
    intervalMs = DEFAULT_SWEEP_INTERVAL_MS,
    graceMs = DEFAULT_GRACE_MS,
    metrics = NO_METRICS,
    now = Date.now,
    onSweep = (_result: SweepResult) => {},
    onError = (_error: unknown) => {},
  } = {},
): Cleanup {
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    sweepOrphans(api, { now: now(), graceMs, metrics })
      .then(
        (result) => {
          metrics.sweep(true);
          onSweep(result);
        },
        (error: unknown) => {
          metrics.sweep(false);
          onError(error);
        },
      )
      .finally(() => {
        running = false;
      });
  }, intervalMs);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
