import type { V1ConfigMap } from "@kubernetes/client-node";
import { Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { createAuthority, issueServingCert } from "../../../certs/authority.js";
import { defaultWebhookConfig, type WebhookConfig } from "../../model/config.js";
import { buildWebhookServer } from "../../server/server.js";
import { createAdmissionService } from "../../service/admission-service.js";
import { podReview } from "../../testdata/review.js";
import { PropertiesApiError } from "./api.js";
import { staticPlatform } from "./platform-cache.js";
import { createPropertiesRuntime } from "./runtime.js";

const now = new Date();
const review = (dryRun = false) =>
  podReview(
    {
      generateName: "traffic-",
      labels: { app: "traffic" },
      annotations: { "graft.pnda.io/component-type": "sparkStreaming", "graft.pnda.io/health": "false" },
      containers: [{ name: "driver", image: "spark" }],
    },
    { dryRun },
  );
const tls = issueServingCert(createAuthority({ now }), { ipAddresses: ["127.0.0.1"], now });

/** The webhook server wired as `graft webhook` wires it, with a ConfigMap ensurer that fails. */
function serverWith(config: WebhookConfig, ensureConfigMap: (cm: V1ConfigMap) => Promise<void>) {
  const registry = new Registry();
  const runtime = createPropertiesRuntime({
    config,
    registry,
    platform: staticPlatform({ kafka_brokers: "kafka:9092" }),
    readConfigMap: async () => undefined,
    ensureConfigMap,
    cleanup: false,
  });
  const app = buildWebhookServer({
    admission: createAdmissionService({ config, nativeSidecars: true, properties: runtime }),
    registry,
    tls,
    logger: false,
  });
  const send = async (dryRun = false) => {
    const reply = await app.inject({ method: "POST", url: "/mutate/namespace", payload: review(dryRun) });
    return reply.json() as {
      response: { allowed: boolean; patch?: string; warnings?: string[]; status?: { message: string } };
    };
  };
  const failures = async (outcome: string) =>
    (await registry.getSingleMetric("graft_properties_failures_total")?.get())?.values.find(
      (v) => v.labels.outcome === outcome,
    )?.value;
  return { send, failures };
}

const forbidden = async () => {
  throw new PropertiesApiError(
    "creating ConfigMap analytics/graft-props-x: forbidden (403) — graft's ServiceAccount lacks the RBAC in manifests/base/rbac.yaml",
    403,
  );
};

describe("when the properties ConfigMap cannot be created", () => {
  it("denies the pod with the reason by default, and counts it", async () => {
    const { send, failures } = serverWith(defaultWebhookConfig(), forbidden);
    const { response } = await send();
    expect(response.allowed).toBe(false);
    expect(response.status?.message).toMatch(
      /application.properties could not be made: creating ConfigMap .*forbidden \(403\).*manifests\/base\/rbac.yaml; the pod's controller retries/,
    );
    expect(await failures("denied")).toBe(1);
    expect(await failures("admitted")).toBe(0);
  });

  it("admits the pod without the file, with a warning, under properties.onFailure: warn, and counts it", async () => {
    const config = defaultWebhookConfig();
    config.properties.onFailure = "warn";
    const { send, failures } = serverWith(config, forbidden);
    const { response } = await send();
    expect(response.allowed).toBe(true);
    expect(response.warnings).toContainEqual(
      expect.stringMatching(/could not be made: .*forbidden.*admitted without it/),
    );
    const patch = Buffer.from(response.patch ?? "", "base64").toString("utf8");
    expect(patch).not.toContain("graft-properties");
    expect(await failures("admitted")).toBe(1);
  });

  it("does not try on a dry-run, and answers with the mount", async () => {
    let calls = 0;
    const { send } = serverWith(defaultWebhookConfig(), async () => {
      calls++;
    });
    const { response } = await send(true);
    expect(response.allowed).toBe(true);
    expect(Buffer.from(response.patch ?? "", "base64").toString("utf8")).toContain("graft-properties");
    expect(calls).toBe(0);
    await send(false);
    expect(calls).toBe(1);
  });
});
