/**
 * How the sync script reaches the user's Jupyter container: by reference, not in every reply.
 * graft ensures, in the pod's namespace, one immutable ConfigMap holding the script
 * (sync-script.ts's NOTEBOOK_SYNC_SCRIPT) and named from its digest; the pod gets a read-only
 * configMap volume of it, and the hook runs `sh <mount>/sync.sh ARGS…`. A new script is a new
 * name, so a running pod never sees its script change, and the admission reply carries a few
 * hundred bytes instead of the 15 KiB script. Pure: the name, the object, the volume and the mount.
 */
import type { V1ConfigMap, V1Volume, V1VolumeMount } from "@kubernetes/client-node";
import { LABEL_MANAGED_BY, MANAGED_BY_GRAFT } from "../../model/kube.js";
import {
  NOTEBOOK_SYNC_SCRIPT,
  NOTEBOOK_SYNC_SHA256,
  SYNC_MOUNT_PATH,
  SYNC_SCRIPT_KEY,
} from "./sync-script.js";

export const SYNC_CONFIGMAP_PREFIX = "graft-notebook-sync-";
export const SYNC_VOLUME = "graft-notebook-sync";
/** 0444: readable by any user the container runs as, writable by none; run as `sh FILE`, so never executed itself. */
export const SYNC_SCRIPT_MODE = 0o444;
/** `app.kubernetes.io/component` of the ConfigMap: says which feature it belongs to. */
export const SYNC_CONFIGMAP_COMPONENT = "notebook-sync";
/**
 * The largest script graft stores (UTF-8 bytes), about 4× today's; the ValidatingAdmissionPolicy
 * (webhook/install/write-policy.ts) holds graft's ServiceAccount to it.
 */
export const MAX_SYNC_SCRIPT_BYTES = 64 * 1024;

/**
 * `graft-notebook-sync-<first 10 hex digits of the script's SHA-256>`: named from the same digest
 * the hook's verifier pins (NOTEBOOK_SYNC_SHA256), computed once.
 */
export function syncConfigMapName(scriptSha256: string = NOTEBOOK_SYNC_SHA256): string {
  return `${SYNC_CONFIGMAP_PREFIX}${scriptSha256.slice(0, 10)}`;
}

/** The name of the ConfigMap holding this build's script. */
export const SYNC_CONFIGMAP_NAME = syncConfigMapName();

/** The whole object graft applies in `namespace`: no owner (the clean-up removes it once unused). */
export function syncConfigMap(
  namespace: string,
): V1ConfigMap & { metadata: { name: string; namespace: string } } {
  return {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: {
      name: SYNC_CONFIGMAP_NAME,
      namespace,
      labels: {
        [LABEL_MANAGED_BY]: MANAGED_BY_GRAFT,
        "app.kubernetes.io/component": SYNC_CONFIGMAP_COMPONENT,
      },
    },
    immutable: true,
    data: { [SYNC_SCRIPT_KEY]: NOTEBOOK_SYNC_SCRIPT },
  };
}

/**
 * The pod's volume, every field as the API server stores it (the one key listed, the mode given),
 * so a second pass over the stored pod finds nothing to change.
 */
export function syncVolume(): V1Volume {
  return {
    name: SYNC_VOLUME,
    configMap: {
      name: SYNC_CONFIGMAP_NAME,
      items: [{ key: SYNC_SCRIPT_KEY, path: SYNC_SCRIPT_KEY }],
      defaultMode: SYNC_SCRIPT_MODE,
    },
  };
}

export function syncMount(): V1VolumeMount {
  return { name: SYNC_VOLUME, mountPath: SYNC_MOUNT_PATH, readOnly: true };
}

/** True for the ConfigMaps the notebooks feature asks the service to ensure. */
export function isSyncConfigMap(object: {
  kind?: string;
  metadata?: { name?: string; labels?: Record<string, string> };
}): boolean {
  return (
    object.kind === "ConfigMap" &&
    object.metadata?.labels?.[LABEL_MANAGED_BY] === MANAGED_BY_GRAFT &&
    (object.metadata?.name ?? "").startsWith(SYNC_CONFIGMAP_PREFIX)
  );
}
