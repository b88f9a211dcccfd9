import type { V1ConfigMap } from "@kubernetes/client-node";
import { applyPatch } from "rfc6902";
import { describe, expect, it } from "vitest";
import { defaultWebhookConfig } from "../../model/config.js";
import type { AdmissionFacts, PropertiesFacts } from "../../model/facts.js";
import { admit } from "../../pipeline/admission.js";
import type { AdmissionRequest } from "../../pipeline/review.js";

type Obj = Record<string, unknown> & { metadata?: Record<string, unknown> };

const properties: PropertiesFacts = {
  platform: new Map([["kafka_brokers", "kafka:9092"]]),
  configMaps: new Map([["traffic-props", { "properties.json": '{"main_class": "io.pnda.Aggregator"}' }]]),
};

function facts(extra: Partial<AdmissionFacts> = {}): AdmissionFacts {
  return { config: defaultWebhookConfig(), nativeSidecars: true, namespaceOptIn: true, properties, ...extra };
}

function sparkPod(annotations: Record<string, string> = {}): Obj {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      generateName: "traffic-5d9c-",
      labels: { app: "traffic" },
      annotations: {
        "graft.pnda.io/component-type": "sparkStreaming",
        "graft.pnda.io/component": "aggregator",
        "graft.pnda.io/properties-configmap": "traffic-props",
        "graft.pnda.io/health": "false",
        ...annotations,
      },
      ownerReferences: [
        { apiVersion: "apps/v1", kind: "ReplicaSet", name: "traffic-5d9c", uid: "rs-1", controller: true },
      ],
    },
    spec: { serviceAccountName: "pnda", containers: [{ name: "driver", image: "spark" }] },
  };
}

function request(object: Obj, extra: Partial<AdmissionRequest> = {}): AdmissionRequest {
  return {
    uid: "u1",
    kind: { group: "", version: "v1", kind: "Pod" },
    namespace: "analytics",
    operation: "CREATE",
    object,
    ...extra,
  };
}

function patched(object: Obj, patch: unknown[]): Obj {
  const copy = structuredClone(object);
  applyPatch(copy, patch as Parameters<typeof applyPatch>[1]);
  return copy;
}

describe("the properties feature", () => {
  it("asks for the merged file's ConfigMap, owned by the pod's ReplicaSet, and mounts it into the app container", () => {
    const decision = admit(request(sparkPod()), facts());
    expect(decision.allowed).toBe(true);
    const [configMap] = decision.create as V1ConfigMap[];
    expect(configMap?.metadata?.name).toMatch(/^graft-props-traffic-aggregator-[0-9a-f]{10}$/);
    expect(configMap?.metadata?.ownerReferences).toEqual([
      { apiVersion: "apps/v1", kind: "ReplicaSet", name: "traffic-5d9c", uid: "rs-1", controller: false },
    ]);
    const text = configMap?.data?.["application.properties"] ?? "";
    expect(text).toContain(
      "\nenvironment.kafka_brokers=kafka:9092\ncomponent.main_class=io.pnda.Aggregator\n",
    );
    expect(text).toContain("application.user=pnda\nkubernetes.namespace=analytics\n");

    const pod = patched(sparkPod(), decision.patch) as {
      spec: { containers: { env?: unknown[] }[]; volumes?: unknown[] };
    };
    expect(pod.spec.volumes).toContainEqual({
      name: "graft-properties",
      configMap: {
        name: configMap?.metadata?.name,
        items: [{ key: "application.properties", path: "application.properties" }],
        defaultMode: 0o644,
      },
    });
    expect(pod.spec.containers[0]?.env).toContainEqual({
      name: "GRAFT_PROPERTIES_FILE",
      value: "/etc/graft/application.properties",
    });
  });

  it("renders the same patch for every pod of the app, and nothing on a second pass", () => {
    const first = admit(request(sparkPod()), facts());
    const other = sparkPod();
    other.metadata = { ...other.metadata, generateName: "traffic-5d9c-" };
    expect(admit(request(other), facts()).patch).toEqual(first.patch);
    expect(admit(request(other, { dryRun: true }), facts()).patch).toEqual(first.patch);
    const again = admit(request(patched(sparkPod(), first.patch)), facts());
    expect(again.patch).toEqual([]);
  });

  it("names a new ConfigMap when a platform variable changes", () => {
    const before = admit(request(sparkPod()), facts()).create[0]?.metadata?.name;
    const changed = { ...properties, platform: new Map([["kafka_brokers", "kafka-new:9092"]]) };
    const after = admit(request(sparkPod()), facts({ properties: changed })).create[0]?.metadata?.name;
    expect(after).not.toBe(before);
  });

  it("lets the overrides annotation win over properties.json", () => {
    const decision = admit(
      request(sparkPod({ "graft.pnda.io/properties-overrides": '{"main_class": "io.pnda.Other"}' })),
      facts(),
    );
    expect((decision.create[0] as V1ConfigMap).data?.["application.properties"]).toContain(
      "component.main_class=io.pnda.Other\n",
    );
  });

  it("mounts at the path the annotation gives", () => {
    const decision = admit(
      request(sparkPod({ "graft.pnda.io/properties-mount-path": "/opt/conf" })),
      facts(),
    );
    const pod = patched(sparkPod(), decision.patch) as { spec: { containers: { env?: unknown[] }[] } };
    expect(pod.spec.containers[0]?.env).toContainEqual({
      name: "JAVA_TOOL_OPTIONS",
      value: "-Xbootclasspath/a:/opt/conf",
    });
  });

  it("denies a pod whose properties ConfigMap does not exist, saying what to create", () => {
    const decision = admit(
      request(sparkPod()),
      facts({ properties: { ...properties, configMaps: new Map([["traffic-props", undefined]]) } }),
    );
    expect(decision.allowed).toBe(false);
    expect(decision.message).toMatch(
      /names ConfigMap "traffic-props", which does not exist in namespace "analytics": create it/,
    );
  });

  it("denies when the API server failed, by default, so the pod's controller retries", () => {
    const decision = admit(
      request(sparkPod()),
      facts({ properties: { ...properties, unavailable: "forbidden (403)" } }),
    );
    expect(decision.allowed).toBe(false);
    expect(decision.message).toMatch(/application.properties could not be made: forbidden \(403\)/);
  });

  it("admits without the file, with a warning, when properties.onFailure is warn", () => {
    const config = defaultWebhookConfig();
    config.properties.onFailure = "warn";
    const decision = admit(
      request(sparkPod()),
      facts({ config, properties: { ...properties, unavailable: "API down" } }),
    );
    expect(decision.allowed).toBe(true);
    expect(decision.create).toEqual([]);
    expect(decision.warnings).toContainEqual(
      expect.stringMatching(/could not be made: API down; admitted without it/),
    );
    expect(JSON.stringify(decision.patch)).not.toContain("graft-properties");
  });

  it("leaves a generic pod alone unless it asks", () => {
    const generic = sparkPod({ "graft.pnda.io/component-type": "generic" });
    expect(admit(request(generic), facts()).create).toEqual([]);
    const asked = sparkPod({ "graft.pnda.io/component-type": "generic", "graft.pnda.io/properties": "true" });
    expect(admit(request(asked), facts()).create).toHaveLength(1);
  });

  it("denies a merged file above 256 KiB, naming the limit, and asks for no ConfigMap", () => {
    const big: PropertiesFacts = {
      ...properties,
      configMaps: new Map([
        ["traffic-props", { "properties.json": JSON.stringify({ blob: "x".repeat(300_000) }) }],
      ]),
    };
    const decision = admit(request(sparkPod()), facts({ properties: big }));
    expect(decision.allowed).toBe(false);
    expect(decision.create).toEqual([]);
    expect(decision.message).toMatch(/above graft's limit of 262144 bytes/);
    // Just under the limit is still made.
    const fits: PropertiesFacts = {
      ...properties,
      configMaps: new Map([
        ["traffic-props", { "properties.json": JSON.stringify({ blob: "x".repeat(200_000) }) }],
      ]),
    };
    expect(admit(request(sparkPod()), facts({ properties: fits })).create).toHaveLength(1);
  });

  it("rejects an overrides annotation that is not a JSON object", () => {
    const decision = admit(request(sparkPod({ "graft.pnda.io/properties-overrides": "[1]" })), facts());
    expect(decision.message).toMatch(/properties-overrides.*expected a JSON object of component properties/);
  });
});
