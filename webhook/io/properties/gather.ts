/**
 * The properties feature's part of the admission facts, gathered before the pure core runs:
 * the platform variables (from the watched cache: no API call) and the component's own
 * ConfigMap named by `graft.pnda.io/properties-configmap` (read in the pod's namespace, kept a
 * few seconds so a burst of pods of one app costs one read).
 */
import { ANNOTATION } from "../../../core/annotations.js";
import { errorMessage } from "../../../core/result.js";
import type { PropertiesFacts } from "../../model/facts.js";
import type { PodLike } from "../../model/kube.js";
import type { PropertiesApi } from "./api.js";
import type { PlatformCache } from "./platform-cache.js";

export type ReadConfigMapData = (
  namespace: string,
  name: string,
) => Promise<Record<string, string> | undefined>;

export const DEFAULT_READ_TTL_MS = 5_000;

/**
 * Remembers what `read` answered for `ttlMs` (successes only), and shares one call between
 * concurrent admissions. An edit of the component's ConfigMap reaches new pods after `ttlMs`.
 */
export function cachedConfigMapReader(
  read: ReadConfigMapData,
  { ttlMs = DEFAULT_READ_TTL_MS, now = Date.now, maxEntries = 1_000 } = {},
): ReadConfigMapData {
  const entries = new Map<string, { expires: number; data: Promise<Record<string, string> | undefined> }>();
  return (namespace, name) => {
    const key = `${namespace}/${name}`;
    const cached = entries.get(key);
    if (cached && cached.expires > now()) return cached.data;
    const data = read(namespace, name);
    entries.delete(key);
    entries.set(key, { expires: now() + ttlMs, data });
    while (entries.size > maxEntries) entries.delete(entries.keys().next().value!);
    data.catch(() => entries.delete(key));
    return data;
  };
}

export function apiConfigMapReader(api: PropertiesApi): ReadConfigMapData {
  return (namespace, name) => api.readData(namespace, name);
}

/**
 * Reads what the pod's annotations ask for. Never throws: a failure becomes `unavailable`.
 * The annotations are validated later, by the core; a name that is not a valid ConfigMap name
 * is not looked up.
 */
export async function gatherPropertiesFacts(
  pod: PodLike,
  namespace: string,
  sources: { platform: PlatformCache; readConfigMap: ReadConfigMapData },
): Promise<PropertiesFacts> {
  const snapshot = sources.platform.current();
  const facts: PropertiesFacts = { platform: snapshot.variables, configMaps: new Map() };
  if (!snapshot.synced) {
    facts.unavailable = `ConfigMap graft-platform has not been read from the API server yet`;
  }
  const name = pod.metadata?.annotations?.[ANNOTATION.propertiesConfigMap];
  if (name === undefined || !/^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/.test(name)) return facts;
  try {
    facts.configMaps = new Map([[name, await sources.readConfigMap(namespace, name)]]);
  } catch (error) {
    facts.unavailable ??= errorMessage(error);
  }
  return facts;
}
