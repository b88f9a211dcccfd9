import { applyPatch } from "rfc6902";
import { describe, expect, it } from "vitest";
import { NO_CHECKS_WARNING, SCRAPE_WARNING } from "../features/agent/agent.js";
import { defaultWebhookConfig, type WebhookConfig } from "../model/config.js";
import type { AdmissionFacts } from "../model/facts.js";
import { admit } from "./admission.js";
import type { AdmissionRequest } from "./review.js";

const optedIn: AdmissionFacts = {
  config: defaultWebhookConfig(),
  nativeSidecars: true,
  namespaceOptIn: true,
};
const notOptedIn: AdmissionFacts = { ...optedIn, namespaceOptIn: false };

type Obj = Record<string, unknown> & { metadata?: Record<string, unknown> };

function request(object: Obj, extra: Partial<AdmissionRequest> = {}): AdmissionRequest {
  const kind = String(object.kind ?? "Pod");
  const group = kind === "Pod" || kind === "Service" ? "" : kind.endsWith("Job") ? "batch" : "apps";
  return {
    uid: "u1",
    kind: { group, version: "v1", kind },
    namespace: "shop",
    operation: "CREATE",
    object,
    ...extra,
  };
}

/** A check, so the agent has something to run (a pod without checks gets no agent). */
const CHECKS = { "graft.pnda.io/checks": "[{name: api, type: tcp, host: api, port: 80}]" };

const pod = (metadata: Record<string, unknown> = {}, spec: object = {}): Obj => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata: {
    generateName: "web-7d9f-",
    ...metadata,
    annotations: { ...CHECKS, ...(metadata.annotations as Record<string, string> | undefined) },
  },
  spec: { containers: [{ name: "web", image: "nginx" }], ...spec },
});

const deployment = (annotations: Record<string, string>, labels: Record<string, string> = {}): Obj => ({
  apiVersion: "apps/v1",
  kind: "Deployment",
  metadata: { name: "web" },
  spec: {
    selector: { matchLabels: { app: "web" } },
    template: {
      metadata: { labels: { app: "web", ...labels }, annotations },
      spec: { containers: [{ name: "web" }] },
    },
  },
});

function patched(object: Obj, patch: unknown[]): Obj {
  const copy = structuredClone(object);
  const errors = applyPatch(copy, patch as Parameters<typeof applyPatch>[1]);
  expect(errors.every((error) => error === null)).toBe(true);
  return copy;
}

describe("admit: pods", () => {
  it("gives a plain opted-in pod without checks no agent, with a warning that says why", () => {
    const plain: Obj = {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { generateName: "web-" },
      spec: { containers: [{ name: "web", image: "nginx" }] },
    };
    const decision = admit(request(plain), optedIn);
    expect(decision).toMatchObject({ allowed: true, warnings: [NO_CHECKS_WARNING] });
    expect(JSON.stringify(decision.patch)).not.toContain("graft-agent");
  });

  it("injects the agent into an opted-in pod, records the status, and a second pass changes nothing", () => {
    const original = pod();
    const first = admit(request(original), optedIn);
    expect(first).toMatchObject({ allowed: true, warnings: [], create: [] });
    expect(first.plan?.namespace).toBe("shop");
    const injected = patched(original, first.patch) as {
      metadata: { annotations: Record<string, string> };
      spec: { initContainers: { name: string }[] };
    };
    expect(injected.spec.initContainers.map((c) => c.name)).toEqual(["graft-agent"]);
    expect(injected.metadata.annotations["graft.pnda.io/status"]).toBe(
      '{"version":"0.1.0","features":["agent"]}',
    );

    expect(admit(request(injected), optedIn).patch).toEqual([]);
  });

  it("keeps the pod's own native sidecars and puts the agent after them", () => {
    const original = pod(
      {},
      { initContainers: [{ name: "istio-proxy", image: "proxy", restartPolicy: "Always" }] },
    );
    const injected = patched(original, admit(request(original), optedIn).patch) as {
      spec: { initContainers: { name: string; restartPolicy?: string }[] };
    };
    expect(injected.spec.initContainers.map((c) => [c.name, c.restartPolicy])).toEqual([
      ["istio-proxy", "Always"],
      ["graft-agent", "Always"],
    ]);
  });

  it("warns, and adds no scrape annotations, when the pod has its own", () => {
    const decision = admit(request(pod({ annotations: { "prometheus.io/port": "8080" } })), optedIn);
    expect(decision.warnings).toContain(SCRAPE_WARNING);
    expect(decision.patch).not.toContainEqual(
      expect.objectContaining({ path: "/metadata/annotations/prometheus.io~1path" }),
    );
  });

  it("leaves a pod that did not opt in untouched", () => {
    const decision = admit(request(pod()), notOptedIn);
    expect(decision).toEqual({
      allowed: true,
      patch: [],
      warnings: [],
      create: [],
      skipped: {
        code: "not-opted-in",
        message: 'neither the pod nor namespace "shop" has graft.pnda.io/inject=enabled',
      },
    });
  });

  it("leaves a pod labelled disabled untouched in an opted-in namespace", () => {
    const decision = admit(request(pod({ labels: { "graft.pnda.io/inject": "disabled" } })), optedIn);
    expect(decision.patch).toEqual([]);
    expect(decision.allowed).toBe(true);
  });

  it("never injects kube-system or graft's own namespace, even a pod labelled enabled", () => {
    const labelled = pod({ labels: { "graft.pnda.io/inject": "enabled" } });
    for (const namespace of ["kube-system", "graft"]) {
      const decision = admit(request(labelled, { namespace }), optedIn);
      expect(decision).toMatchObject({
        allowed: true,
        patch: [],
        skipped: { code: "namespace-excluded", message: `namespace "${namespace}" is never injected` },
      });
    }
  });

  it("denies a pod with an invalid graft annotation, naming it and the fix", () => {
    const decision = admit(request(pod({ annotations: { "graft.pnda.io/health": "yes" } })), optedIn);
    expect(decision).toEqual({
      allowed: false,
      patch: [],
      warnings: [],
      create: [],
      code: 400,
      message:
        'graft cannot admit pod "web-7d9f-*" in namespace "shop": annotation "graft.pnda.io/health" is "yes": expected "true" or "false"',
      reasons: [
        {
          code: "invalid-annotation",
          message: 'annotation "graft.pnda.io/health" is "yes": expected "true" or "false"',
        },
      ],
    });
  });

  it("does not mutate a pod on UPDATE: containers cannot be added to a running pod", () => {
    const decision = admit(request(pod(), { operation: "UPDATE", oldObject: pod() }), optedIn);
    expect(decision).toMatchObject({ allowed: true, patch: [] });
  });

  it("takes the namespace from the request: a controller's pod carries none of its own", () => {
    const decision = admit(request(pod(), { namespace: "analytics" }), optedIn);
    expect(decision.plan?.namespace).toBe("analytics");
  });
});

describe("admit: workloads", () => {
  it("denies a Deployment whose template has invalid checks, so kubectl apply prints the error", () => {
    const decision = admit(
      request(deployment({ "graft.pnda.io/checks": "[{name: api, type: http}]" })),
      notOptedIn,
    );
    expect(decision).toMatchObject({
      allowed: false,
      code: 400,
      message:
        'graft annotations on the pod template of Deployment "web" are invalid: annotation "graft.pnda.io/checks": check "api": missing field "url"',
    });
  });

  it("denies an update that makes the graft annotations invalid", () => {
    const valid = deployment({ "graft.pnda.io/health": "true" });
    const invalid = deployment({ "graft.pnda.io/health": "yes" });
    expect(admit(request(invalid, { operation: "UPDATE", oldObject: valid }), optedIn).allowed).toBe(false);
  });

  it("admits, with a warning, an update that leaves already-invalid graft annotations as they were", () => {
    const before = deployment({ "graft.pnda.io/health": "yes" });
    const after = { ...structuredClone(before), metadata: { name: "web", finalizers: [] } };
    const decision = admit(request(after, { operation: "UPDATE", oldObject: before }), optedIn);
    expect(decision).toMatchObject({ allowed: true, patch: [] });
    expect(decision.warnings).toEqual([
      'graft annotations on the pod template of Deployment "web" are invalid: annotation "graft.pnda.io/health" is "yes": expected "true" or "false"',
    ]);
  });

  it("does not check a workload's subresources such as status", () => {
    const invalid = deployment({ "graft.pnda.io/health": "yes" });
    expect(admit(request(invalid, { operation: "UPDATE", subResource: "status" }), optedIn).allowed).toBe(
      true,
    );
  });

  it("checks the template of a CronJob too", () => {
    const cronJob: Obj = {
      apiVersion: "batch/v1",
      kind: "CronJob",
      metadata: { name: "nightly" },
      spec: {
        schedule: "0 1 * * *",
        jobTemplate: {
          spec: {
            template: {
              metadata: { annotations: { "graft.pnda.io/component-type": "spark" } },
              spec: { containers: [{ name: "job" }], restartPolicy: "OnFailure" },
            },
          },
        },
      },
    };
    expect(admit(request(cronJob), optedIn)).toMatchObject({
      allowed: false,
      message:
        'graft annotations on the pod template of CronJob "nightly" are invalid: annotation "graft.pnda.io/component-type" is "spark": expected one of sparkStreaming, flinkStreaming, jupyter, generic',
    });
  });

  it("admits a valid workload without a patch, with the warnings its pods will get", () => {
    const decision = admit(
      request(deployment({ ...CHECKS, "graft.pnda.io/health": "true", "prometheus.io/scrape": "false" })),
      optedIn,
    );
    expect(decision).toMatchObject({ allowed: true, patch: [], warnings: [SCRAPE_WARNING] });
  });

  it('denies at apply a workload with health "true" and no checks, naming the fix', () => {
    const decision = admit(request(deployment({ "graft.pnda.io/health": "true" })), optedIn);
    expect(decision.allowed).toBe(false);
    expect(decision.message).toContain(
      'annotation "graft.pnda.io/health" is "true" but the pod has no checks: add "graft.pnda.io/checks"',
    );
  });

  it("admits a workload without graft annotations, and one whose template is labelled disabled", () => {
    expect(admit(request(deployment({ other: "x" })), optedIn)).toMatchObject({ allowed: true, patch: [] });
    const disabled = deployment({ "graft.pnda.io/health": "maybe" }, { "graft.pnda.io/inject": "disabled" });
    expect(admit(request(disabled), optedIn)).toMatchObject({ allowed: true, patch: [] });
  });

  it("warns, not denies, when the properties-configmap a workload names does not exist (yet)", () => {
    const spark = deployment({
      "graft.pnda.io/component-type": "sparkStreaming",
      "graft.pnda.io/properties-configmap": "scorer-props",
    });
    const facts: AdmissionFacts = {
      ...optedIn,
      properties: { platform: new Map(), configMaps: new Map([["scorer-props", undefined]]) },
    };
    const decision = admit(request(spark), facts);
    expect(decision).toMatchObject({ allowed: true, patch: [] });
    expect(decision.warnings).toEqual([
      'graft: annotation "graft.pnda.io/properties-configmap" names ConfigMap "scorer-props", which does not exist in namespace "shop": create it, or remove the annotation; until then its pods are denied (properties-source-missing)',
    ]);
    // Once it exists, no warning.
    const present: AdmissionFacts = {
      ...optedIn,
      properties: {
        platform: new Map(),
        configMaps: new Map([["scorer-props", { "application.properties": "a=1" }]]),
      },
    };
    expect(admit(request(spark), present)).toMatchObject({ allowed: true, warnings: [] });
  });

  it("still denies what the template itself gets wrong when a ConfigMap is missing too", () => {
    const bad = deployment({
      "graft.pnda.io/component-type": "sparkStreaming",
      "graft.pnda.io/properties-configmap": "scorer-props",
    });
    (bad.spec as { template: { spec: { containers: unknown[] } } }).template.spec.containers = [
      { name: "web", ports: [{ containerPort: 9464 }] },
    ];
    const facts: AdmissionFacts = {
      ...optedIn,
      properties: { platform: new Map(), configMaps: new Map([["scorer-props", undefined]]) },
    };
    const decision = admit(request(bad), facts);
    expect(decision.allowed).toBe(false);
    expect(decision.reasons?.map((r) => r.code)).toEqual(["port-taken"]);
    expect(decision.message).toContain('set annotation "graft.pnda.io/agent-port" to a free port');
  });

  it("denies a workload in an opted-in namespace whose container uses the agent's port, with the fix", () => {
    const clash = deployment({
      "graft.pnda.io/component-type": "generic",
      "graft.pnda.io/checks": '[{"name":"web","type":"tcp","host":"127.0.0.1","port":80}]',
    });
    (clash.spec as { template: { spec: { containers: unknown[] } } }).template.spec.containers = [
      { name: "web", ports: [{ containerPort: 9464 }] },
    ];
    expect(admit(request(clash), optedIn)).toMatchObject({
      allowed: false,
      message:
        'graft annotations on the pod template of Deployment "web" are invalid: container "web" already uses port 9464, which graft-agent listens on: set annotation "graft.pnda.io/agent-port" to a free port for graft-agent, or set annotation "graft.pnda.io/health" to "false"',
    });
    const moved = structuredClone(clash);
    (
      moved.spec as { template: { metadata: { annotations: Record<string, string> } } }
    ).template.metadata.annotations["graft.pnda.io/agent-port"] = "9465";
    expect(admit(request(moved), optedIn).allowed).toBe(true);
  });

  it("admits a plain workload on the agent's port: without checks it gets no agent to clash with", () => {
    const plain = deployment({ "graft.pnda.io/component-type": "generic" });
    (plain.spec as { template: { spec: { containers: unknown[] } } }).template.spec.containers = [
      { name: "exporter", ports: [{ containerPort: 9464 }] },
    ];
    expect(admit(request(plain), optedIn).allowed).toBe(true);
  });

  it("admits objects graft does not handle untouched", () => {
    const service: Obj = { apiVersion: "v1", kind: "Service", metadata: { name: "web" }, spec: {} };
    expect(admit(request(service), optedIn)).toMatchObject({ allowed: true, patch: [] });
  });
});

describe("admit: failures inside graft", () => {
  const broken = { ...defaultWebhookConfig(), agent: undefined } as unknown as WebhookConfig;

  it("denies with the error by default, never throwing", () => {
    const decision = admit(request(pod()), { ...optedIn, config: broken });
    expect(decision.allowed).toBe(false);
    expect(decision.code).toBe(500);
    expect(decision.message).toMatch(/^graft failed on this object \(a bug in graft, please report it\): /);
  });

  it("admits untouched with a warning when the config says onError: allow", () => {
    const decision = admit(request(pod()), { ...optedIn, config: { ...broken, onError: "allow" } });
    expect(decision).toMatchObject({ allowed: true, patch: [] });
    expect(decision.warnings[0]).toMatch(/^graft failed and admitted this object without its features: /);
  });
});
