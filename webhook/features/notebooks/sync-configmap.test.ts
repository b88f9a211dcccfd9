import { describe, expect, it } from "vitest";
import { sha256Hex } from "../../../core/digest.js";
import {
  isSyncConfigMap,
  MAX_SYNC_SCRIPT_BYTES,
  SYNC_CONFIGMAP_NAME,
  syncConfigMap,
  syncConfigMapName,
  syncMount,
  syncVolume,
} from "./sync-configmap.js";
import { NOTEBOOK_SYNC_SCRIPT, SYNC_SCRIPT_PATH } from "./sync-script.js";

describe("the sync script's ConfigMap", () => {
  it("is named from the script's digest, so another script is another ConfigMap", () => {
    expect(SYNC_CONFIGMAP_NAME).toBe(`graft-notebook-sync-${sha256Hex(NOTEBOOK_SYNC_SCRIPT).slice(0, 10)}`);
    expect(syncConfigMapName(sha256Hex(`${NOTEBOOK_SYNC_SCRIPT}\n`))).not.toBe(SYNC_CONFIGMAP_NAME);
    expect(SYNC_CONFIGMAP_NAME.length).toBeLessThanOrEqual(63);
  });

  it("holds exactly the shipped script under its one key, immutable, labelled as graft's", () => {
    const configMap = syncConfigMap("jhub");
    expect(configMap).toMatchObject({
      metadata: {
        name: SYNC_CONFIGMAP_NAME,
        namespace: "jhub",
        labels: { "app.kubernetes.io/managed-by": "graft", "app.kubernetes.io/component": "notebook-sync" },
      },
      immutable: true,
    });
    expect(configMap.data).toEqual({ "sync.sh": NOTEBOOK_SYNC_SCRIPT });
    expect(configMap.metadata).not.toHaveProperty("ownerReferences");
    expect(isSyncConfigMap(configMap)).toBe(true);
  });

  it("stays well within the size the write policy allows graft to store", () => {
    expect(new TextEncoder().encode(NOTEBOOK_SYNC_SCRIPT).length).toBeLessThan(MAX_SYNC_SCRIPT_BYTES / 2);
  });

  it("is mounted read-only where the hook reads it, its one key listed and read-only for all", () => {
    const volume = syncVolume();
    const mount = syncMount();
    expect(mount).toEqual({ name: volume.name, mountPath: "/graft/notebook-sync", readOnly: true });
    expect(volume.configMap).toEqual({
      name: SYNC_CONFIGMAP_NAME,
      items: [{ key: "sync.sh", path: "sync.sh" }],
      defaultMode: 0o444,
    });
    expect(SYNC_SCRIPT_PATH).toBe(`${mount.mountPath}/${volume.configMap?.items?.[0]?.path}`);
  });

  it("is told apart from other ConfigMaps by name and graft's label together", () => {
    const { metadata } = syncConfigMap("jhub");
    expect(isSyncConfigMap({ kind: "ConfigMap", metadata: { ...metadata, labels: {} } })).toBe(false);
    expect(isSyncConfigMap({ kind: "ConfigMap", metadata: { ...metadata, name: "graft-props-a-b-1" } })).toBe(
      false,
    );
    expect(isSyncConfigMap({ kind: "Secret", metadata })).toBe(false);
  });
});
