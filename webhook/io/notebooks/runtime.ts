/**
 * The notebooks feature's I/O in the webhook process: it ensures the ConfigMap holding the sync
 * script (features/notebooks/sync-configmap.ts) in the namespace of each Jupyter pod, and, when
 * that fails, hands the admission service the facts to decide again with, so the pod starts
 * without the sync and with a warning rather than not at all.
 *
 * The ConfigMap is written as the properties ConfigMaps are (io/properties/ensure.ts): server-side
 * apply once per process, then only a `last-used` mark at most once a minute, and never an owner
 * (Jupyter pods are mostly bare, and one script serves every pod of the namespace). The
 * properties clean-up (io/properties/cleanup.ts) deletes it once no pod mounts it and it has not
 * been used for its grace period; the next Jupyter pod makes it again.
 */
import type { KubernetesObject, V1ConfigMap } from "@kubernetes/client-node";
import { errorMessage } from "../../../core/result.js";
import { isSyncConfigMap } from "../../features/notebooks/sync-configmap.js";
import type { AdmissionFacts } from "../../model/facts.js";
import type { EnsurePropertiesConfigMap } from "../properties/ensure.js";

export type NotebooksRuntime = {
  /** Ensures the sync script's ConfigMaps among `objects` exist; returns the other objects. */
  ensure(objects: KubernetesObject[]): Promise<KubernetesObject[]>;
  /** When ensuring failed because of the script's ConfigMap: the facts to decide again with. Else undefined. */
  recover(error: unknown, facts: AdmissionFacts): AdmissionFacts | undefined;
};

/** Ensuring the sync script's ConfigMap failed; the message names the object and the fix. */
export class SyncConfigMapError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SyncConfigMapError";
  }
}

/** `ensureConfigMap`: the properties runtime's, so both features share one ensurer and its cache. */
export type NotebooksRuntimeOptions = { ensureConfigMap: EnsurePropertiesConfigMap };

export function createNotebooksRuntime({ ensureConfigMap }: NotebooksRuntimeOptions): NotebooksRuntime {
  return {
    async ensure(objects) {
      const rest: KubernetesObject[] = [];
      for (const object of objects) {
        if (!isSyncConfigMap(object)) {
          rest.push(object);
          continue;
        }
        try {
          await ensureConfigMap(object as V1ConfigMap);
        } catch (error) {
          throw new SyncConfigMapError(errorMessage(error));
        }
      }
      return rest;
    },

    recover(error, facts) {
      if (!(error instanceof SyncConfigMapError)) return undefined;
      return { ...facts, notebooks: { ...facts.notebooks, unavailable: error.message } };
    },
  };
}
