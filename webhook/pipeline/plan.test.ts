import { describe, expect, it } from "vitest";
import { defaultWebhookConfig, loadWebhookConfig } from "../model/config.js";
import type { AdmissionFacts } from "../model/facts.js";
import type { PodLike } from "../model/kube.js";
import { decideOptIn, defaultApp, type Plan, planInjection } from "./plan.js";

const agentSkips = (plan: Plan) => plan.skipped.filter((skip) => skip.feature === "agent");

const facts = (extra: Partial<AdmissionFacts> = {}): AdmissionFacts => ({
  config: defaultWebhookConfig(),
  nativeSidecars: true,
  ...extra,
});
const pod = (
  labels: Record<string, string> = {},
  spec: PodLike["spec"] = { containers: [{ name: "app" }] },
) => ({
  metadata: { generateName: "web-7d9f-", labels },
  spec,
});

describe("decideOptIn", () => {
  it("injects a pod whose namespace opted in", () => {
    expect(decideOptIn(pod(), "shop", facts({ namespaceOptIn: true }))).toEqual({
      inject: true,
      reason: { code: "opted-in", message: 'namespace "shop" has graft.pnda.io/inject=enabled' },
    });
  });

  it("reads the namespace's labels when the opt-in is not given directly", () => {
    const labelled = facts({ namespaceLabels: { "graft.pnda.io/inject": "enabled" } });
    expect(decideOptIn(pod(), "shop", labelled).inject).toBe(true);
    expect(decideOptIn(pod(), "shop", facts({ namespaceLabels: {} })).inject).toBe(false);
  });

  it("lets the pod's label win over its namespace's, both ways", () => {
    const disabled = pod({ "graft.pnda.io/inject": "disabled" });
    expect(decideOptIn(disabled, "shop", facts({ namespaceOptIn: true }))).toEqual({
      inject: false,
      reason: { code: "opted-out", message: "pod label graft.pnda.io/inject=disabled" },
    });
    const enabled = pod({ "graft.pnda.io/inject": "enabled" });
    expect(decideOptIn(enabled, "shop", facts({ namespaceOptIn: false })).inject).toBe(true);
  });

  it("leaves a pod alone when neither it nor its namespace opted in", () => {
    expect(decideOptIn(pod(), "shop", facts())).toEqual({
      inject: false,
      reason: {
        code: "not-opted-in",
        message: 'neither the pod nor namespace "shop" has graft.pnda.io/inject=enabled',
      },
    });
  });

  it("never injects the system namespaces, graft's own or configured ones, whatever the labels say", () => {
    const config = loadWebhookConfig("namespace: graft-system\nexcludedNamespaces: [monitoring]");
    const enabled = pod({ "graft.pnda.io/inject": "enabled" });
    for (const namespace of ["kube-system", "kube-public", "kube-node-lease", "graft-system", "monitoring"]) {
      expect(decideOptIn(enabled, namespace, facts({ config, namespaceOptIn: true }))).toEqual({
        inject: false,
        reason: { code: "namespace-excluded", message: `namespace "${namespace}" is never injected` },
      });
    }
    expect(decideOptIn(enabled, "graft", facts({ config })).inject).toBe(true);
  });

  it("calls a label value other than enabled or disabled an error", () => {
    expect(decideOptIn(pod({ "graft.pnda.io/inject": "true" }), "shop", facts()).error).toEqual({
      code: "invalid-label",
      message: 'label "graft.pnda.io/inject" is "true": expected "enabled" or "disabled"',
    });
  });

  it("names a label value that is not a string by its type, however deeply it nests", () => {
    let deep: unknown = [];
    for (let i = 0; i < 100_000; i++) deep = [deep];
    const hostile = pod({ "graft.pnda.io/inject": deep as string });
    expect(decideOptIn(hostile, "shop", facts()).error?.message).toBe(
      'label "graft.pnda.io/inject" is not a string (object): expected "enabled" or "disabled"',
    );
  });
});

const checks = [{ name: "api", type: "tcp" as const, host: "api", port: 80 }];

describe("planInjection", () => {
  it("plans the agent with its parameters, and defaults app, component and type", () => {
    const result = planInjection(pod({ "app.kubernetes.io/name": "shop-web" }), "shop", { checks }, facts());
    expect(result).toMatchObject({
      ok: true,
      value: {
        namespace: "shop",
        pod: "web-7d9f-*",
        componentType: "generic",
        app: "shop-web",
        component: "app",
        warnings: [],
        create: [],
      },
    });
    expect(result.ok && result.value.features.agent).toEqual({
      image: "ghcr.io/graft/graft:0.1.0",
      resources: { requests: { cpu: "10m", memory: "64Mi" }, limits: { cpu: "200m", memory: "128Mi" } },
      native: true,
      checks: { inline: checks },
      scrape: true,
      port: 9464,
      app: "shop-web",
      component: "app",
    });
  });

  it("defaults component to app.kubernetes.io/component, then the owning workload, then the first container", () => {
    const component = (p: PodLike, f = facts()) => {
      const result = planInjection(p, "shop", { checks }, f);
      return result.ok ? result.value.component : undefined;
    };
    const owned = (labels: Record<string, string>): PodLike => ({
      metadata: {
        labels,
        ownerReferences: [
          { apiVersion: "apps/v1", kind: "ReplicaSet", name: "web-7d9f", uid: "u", controller: true },
        ],
      },
      spec: { containers: [{ name: "nginx" }] },
    });
    expect(component(owned({ "app.kubernetes.io/component": "frontend", "pod-template-hash": "7d9f" }))).toBe(
      "frontend",
    );
    expect(component(owned({ "pod-template-hash": "7d9f" }))).toBe("web");
    expect(component(owned({}))).toBe("web-7d9f");
    expect(component(owned({}), facts({ ownerName: "shop-web" }))).toBe("shop-web");
    expect(component(pod())).toBe("app");
    const annotated = planInjection(
      owned({ "app.kubernetes.io/component": "x" }),
      "shop",
      { checks, component: "scorer" },
      facts(),
    );
    expect(annotated.ok && annotated.value.component).toBe("scorer");
  });

  it("takes app and component from the annotations first", () => {
    const result = planInjection(pod({ app: "x" }), "shop", { app: "fraud", component: "scorer" }, facts());
    expect(result.ok && [result.value.app, result.value.component]).toEqual(["fraud", "scorer"]);
  });

  it("defaults app from the owning workload when no label names it", () => {
    const owned = {
      metadata: {
        ownerReferences: [
          { apiVersion: "apps/v1", kind: "ReplicaSet", name: "web-7d9f", uid: "u", controller: true },
        ],
      },
    };
    expect(defaultApp(owned, facts())).toBe("web-7d9f");
    const hashed = { metadata: { ...owned.metadata, labels: { "pod-template-hash": "7d9f" } } };
    expect(defaultApp(hashed, facts())).toBe("web");
    expect(defaultApp(owned, facts({ ownerName: "web" }))).toBe("web");
  });

  it("skips the agent, saying why, when health is switched off", () => {
    const result = planInjection(pod(), "shop", { health: false }, facts());
    expect(result.ok && result.value.features.agent).toBeUndefined();
    expect(result.ok && agentSkips(result.value)).toEqual([
      {
        feature: "agent",
        reason: { code: "disabled", message: 'annotation "graft.pnda.io/health" is "false"' },
      },
    ]);
  });

  it("skips the agent of a pod that must complete when only regular containers are possible", () => {
    const job = pod({}, { containers: [{ name: "batch" }], restartPolicy: "Never" });
    const result = planInjection(job, "shop", { checks }, facts({ nativeSidecars: false }));
    const message =
      "the pod's restartPolicy is Never and native sidecars are off: a regular graft-agent container would keep it from completing";
    expect(result.ok && agentSkips(result.value)).toEqual([
      { feature: "agent", reason: { code: "needs-native-sidecars", message } },
    ]);
    expect(result.ok && result.value.warnings).toEqual([
      "graft: graft-agent not injected: restartPolicy Never needs native sidecars (Kubernetes ≥ 1.29)",
    ]);
    expect(
      planInjection(job, "shop", { checks }, facts()).ok && planInjection(job, "shop", { checks }, facts()),
    ).toMatchObject({
      value: { features: { agent: { native: true } } },
    });
  });

  it("points the agent at a checks ConfigMap instead of inline checks", () => {
    const result = planInjection(pod(), "shop", { checksConfigMap: "shop-checks" }, facts());
    expect(result.ok && result.value.features.agent?.checks).toEqual({
      configMap: "shop-checks",
      defaults: [],
    });
  });
});
