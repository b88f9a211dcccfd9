import type { V1ConfigMap } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { syncConfigMap } from "../../features/notebooks/sync-configmap.js";
import { defaultWebhookConfig } from "../../model/config.js";
import type { AdmissionFacts } from "../../model/facts.js";
import { PropertiesApiError } from "../properties/api.js";
import { createNotebooksRuntime, SyncConfigMapError } from "./runtime.js";

const facts: AdmissionFacts = { config: defaultWebhookConfig(), nativeSidecars: true };
const other: V1ConfigMap = {
  apiVersion: "v1",
  kind: "ConfigMap",
  metadata: { name: "graft-props-a-b-0123456789", labels: { "app.kubernetes.io/managed-by": "graft" } },
};

describe("the notebooks feature's I/O", () => {
  it("ensures the sync script's ConfigMap and hands every other object back", async () => {
    const ensured: string[] = [];
    const runtime = createNotebooksRuntime({
      ensureConfigMap: async (configMap) => {
        ensured.push(`${configMap.metadata?.namespace}/${configMap.metadata?.name}`);
      },
    });
    const script = syncConfigMap("jhub");
    expect(await runtime.ensure([other, script])).toEqual([other]);
    expect(ensured).toEqual([`jhub/${script.metadata.name}`]);
  });

  it("turns a failure into one it owns, and recovers from it into a fact; others it leaves", async () => {
    const runtime = createNotebooksRuntime({
      ensureConfigMap: async () => {
        throw new PropertiesApiError("creating ConfigMap jhub/x: forbidden (403)", 403);
      },
    });
    const error = await runtime.ensure([syncConfigMap("jhub")]).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(SyncConfigMapError);
    expect(runtime.recover(error, facts)?.notebooks).toEqual({
      unavailable: "creating ConfigMap jhub/x: forbidden (403)",
    });
    expect(runtime.recover(new PropertiesApiError("x", 500), facts)).toBeUndefined();
    expect(runtime.recover(new Error("socket hang up"), facts)).toBeUndefined();
  });
});
