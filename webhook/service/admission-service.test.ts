import type { KubernetesObject, V1ConfigMap } from "@kubernetes/client-node";
import { Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { createNotebooksRuntime } from "../io/notebooks/runtime.js";
import { PropertiesApiError } from "../io/properties/api.js";
import { staticPlatform } from "../io/properties/platform-cache.js";
import { createPropertiesRuntime } from "../io/properties/runtime.js";
import { defaultWebhookConfig, loadWebhookConfig, type WebhookConfig } from "../model/config.js";
import type { AdmissionRequest } from "../pipeline/review.js";
import { podReview } from "../testdata/review.js";
import { createAdmissionService } from "./admission-service.js";

const spark = podReview({
  labels: { app: "traffic" },
  annotations: { "graft.pnda.io/component-type": "sparkStreaming", "graft.pnda.io/health": "false" },
});
const request = (dryRun = false) => ({ ...spark.request, dryRun }) as unknown as AdmissionRequest;

/** The service as `graft webhook` builds it, from static and recording parts instead of a cluster. */
function service(
  options: {
    ensureConfigMap?: (configMap: V1ConfigMap) => Promise<void>;
    /** How the notebooks feature's ConfigMap is ensured; by default recorded like the others. */
    ensureSyncConfigMap?: (configMap: V1ConfigMap) => Promise<void>;
    config?: WebhookConfig;
    confirm?: (namespace: string) => Promise<boolean | undefined>;
  } = {},
) {
  const reads: string[] = [];
  const ensured: string[] = [];
  const created: KubernetesObject[][] = [];
  const registry = new Registry();
  const config = options.config ?? defaultWebhookConfig();
  const properties = createPropertiesRuntime({
    config,
    registry,
    platform: staticPlatform({ kafka_brokers: "kafka:9092" }),
    readConfigMap: async (namespace, name) => {
      reads.push(`${namespace}/${name}`);
      return undefined;
    },
    ensureConfigMap:
      options.ensureConfigMap ??
      (async (configMap) => {
        ensured.push(configMap.metadata?.name ?? "");
      }),
    cleanup: false,
  });
  const admission = createAdmissionService({
    config,
    nativeSidecars: true,
    properties,
    notebooks: createNotebooksRuntime({
      ensureConfigMap:
        options.ensureSyncConfigMap ??
        (async (configMap) => {
          ensured.push(configMap.metadata?.name ?? "");
        }),
    }),
    ...(options.confirm ? { namespaces: { confirm: options.confirm } } : {}),
    createObjects: async (objects) => {
      created.push(objects);
    },
  });
  const failures = async (outcome: string) =>
    (await registry.getSingleMetric("graft_properties_failures_total")?.get())?.values.find(
      (v) => v.labels.outcome === outcome,
    )?.value;
  return { admission, reads, ensured, created, failures };
}

describe("the admission service (gather → decide → ensure → recover → decide again → observe)", () => {
  it("ensures the properties ConfigMap the decision names before answering, and creates nothing else", async () => {
    const { admission, ensured, created } = service();
    const decision = await admission(request(), true);
    expect(decision.allowed).toBe(true);
    expect(ensured).toEqual([expect.stringMatching(/^graft-props-traffic-ingest-[0-9a-f]{10}$/)]);
    expect(created).toEqual([[]]);
    expect(JSON.stringify(decision.patch)).toContain(ensured[0]);
  });

  it("writes nothing on a dry run and answers with the same patch", async () => {
    const { admission, ensured } = service();
    const dry = await admission(request(true), true);
    expect(ensured).toEqual([]);
    expect(dry.patch).toEqual((await admission(request(false), true)).patch);
  });

  it("drops the route's claim when the watched Namespaces do not confirm it: nothing read or written", async () => {
    const { admission, reads, ensured, created } = service({ confirm: async () => false });
    const decision = await admission(request(), true);
    expect(decision).toMatchObject({ allowed: true, patch: [] });
    expect({ reads, ensured, created }).toEqual({ reads: [], ensured: [], created: [] });
  });

  it("decides again with the failure as a fact when the properties feature owns it, and counts it", async () => {
    const { admission, failures } = service({
      ensureConfigMap: async () => {
        throw new PropertiesApiError("creating ConfigMap analytics/graft-props-x: forbidden (403)", 403);
      },
    });
    const decision = await admission(request(), true);
    expect(decision.allowed).toBe(false);
    expect(decision.message).toMatch(/application.properties could not be made: creating ConfigMap/);
    expect(await failures("denied")).toBe(1);
  });

  it("throws a failure no feature owns, for the server to answer 500", async () => {
    const { admission } = service({
      ensureConfigMap: async () => {
        throw new Error("socket hang up");
      },
    });
    await expect(admission(request(), true)).rejects.toThrow("socket hang up");
  });

  describe("a Jupyter pod (the notebook sync script's ConfigMap)", () => {
    const jupyter = podReview({
      name: "jupyter-alice",
      annotations: {
        "graft.pnda.io/component-type": "jupyter",
        "hub.jupyter.org/username": "alice",
        "graft.pnda.io/health": "false",
      },
      containers: [{ name: "notebook", image: "quay.io/jupyter/base-notebook" }],
    });
    const jupyterRequest = jupyter.request as unknown as AdmissionRequest;

    it("ensures the script's ConfigMap before answering with a patch that only refers to it", async () => {
      const { admission, ensured, created } = service();
      const decision = await admission(jupyterRequest, true);
      expect(decision.allowed).toBe(true);
      expect(ensured).toEqual([expect.stringMatching(/^graft-notebook-sync-[0-9a-f]{10}$/)]);
      expect(created).toEqual([[]]);
      expect(JSON.stringify(decision.patch)).toContain(ensured[0]);
    });

    it("admits the pod without the sync, with a warning naming the failure, when the ConfigMap cannot be made", async () => {
      const { admission } = service({
        ensureSyncConfigMap: async () => {
          throw new PropertiesApiError(
            "creating ConfigMap analytics/graft-notebook-sync-x: forbidden (403)",
            403,
          );
        },
      });
      const decision = await admission(jupyterRequest, true);
      expect(decision.allowed).toBe(true);
      expect(JSON.stringify(decision.patch)).not.toContain("graft-notebook-sync");
      expect(decision.warnings).toEqual([
        expect.stringMatching(
          /notebook sync not injected: .*could not be made: creating ConfigMap .*forbidden \(403\)/,
        ),
      ]);
    });

    it("recovers both features when both writes fail: the properties by their onFailure, the sync left out", async () => {
      const failing = async () => {
        throw new PropertiesApiError("the API server could not be reached (ECONNREFUSED)", undefined);
      };
      const denying = service({ ensureConfigMap: failing, ensureSyncConfigMap: failing });
      const warning = service({
        ensureConfigMap: failing,
        ensureSyncConfigMap: failing,
        config: loadWebhookConfig("properties: {onFailure: warn}"),
      });
      const both = podReview({
        name: "jupyter-bob",
        annotations: {
          "graft.pnda.io/component-type": "jupyter",
          "graft.pnda.io/properties": "true",
          "graft.pnda.io/app": "lab",
          "hub.jupyter.org/username": "bob",
          "graft.pnda.io/health": "false",
        },
        containers: [{ name: "notebook", image: "quay.io/jupyter/base-notebook" }],
      });
      const review = both.request as unknown as AdmissionRequest;
      // properties.onFailure defaults to deny: the properties feature's answer stands.
      const denied = await denying.admission(review, true);
      expect(denied.allowed).toBe(false);
      expect(denied.message).toMatch(/application.properties could not be made/);
      // With warn, the pod is admitted without either, each saying why.
      const admitted = await warning.admission(review, true);
      expect(admitted.allowed).toBe(true);
      expect(admitted.plan?.skipped.map((s) => s.reason.code)).toEqual(
        expect.arrayContaining(["properties-unavailable", "notebooks-unavailable"]),
      );
    });
  });
});
