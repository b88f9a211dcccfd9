import type { AddressInfo } from "node:net";
import * as k8s from "@kubernetes/client-node";
import type { FastifyInstance } from "fastify";
import { Registry } from "prom-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAuthority, issueServingCert } from "../../certs/authority.js";
import { ANNOTATION } from "../../core/annotations.js";
import { renderMutatingWebhookConfiguration } from "../../webhook/install/webhook-configuration.js";
import { createObjectsIfAbsent } from "../../webhook/io/ensure-objects.js";
import { createPropertiesRuntime, type PropertiesRuntime } from "../../webhook/io/properties/runtime.js";
import { defaultWebhookConfig } from "../../webhook/model/config.js";
import type { AdmissionDecision } from "../../webhook/pipeline/admission.js";
import type { AdmissionRequest } from "../../webhook/pipeline/review.js";
import { buildWebhookServer } from "../../webhook/server/server.js";
import { type AdmissionService, createAdmissionService } from "../../webhook/service/admission-service.js";
import { applyManifestRbac, tokenKubeConfig } from "./graft-identity.js";
import { eventually, graftClient, kubeConfig, uniqueName } from "./kube.js";

const admin = kubeConfig();
const core = admin.makeApiClient(k8s.CoreV1Api);

const graftNamespace = uniqueName("graft-sys");
const namespace = uniqueName("graft-reinv");
const suffix = namespace.slice("graft-reinv-".length);
const webhookName = `graft-reinv-e2e-${suffix}`;
const RUN_LABEL = "graft.pnda.io/e2e-run";
const PAUSE = "registry.k8s.io/pause:3.10";

type Call = { name: string; dryRun: boolean; object: k8s.V1Pod; decision: AdmissionDecision };
const calls: Call[] = [];

let registry: Registry;
let runtime: PropertiesRuntime;
let server: FastifyInstance;
let service: AdmissionService;

async function startWebhook(kc: k8s.KubeConfig): Promise<{ url: string; ca: string }> {
  const now = new Date();
  const authority = createAuthority({ now });
  const tls = issueServingCert(authority, { ipAddresses: ["127.0.0.1"], now });
  const config = { ...defaultWebhookConfig(), namespace: graftNamespace };
  registry = new Registry();
  runtime = createPropertiesRuntime({ config, registry, client: graftClient(kc) });
  await runtime.start();
  service = createAdmissionService({
    config,
    nativeSidecars: true,
    properties: runtime,
    createObjects: createObjectsIfAbsent(graftClient(kc)),
  });
  // Records what the real API server sends and what graft answers.
  const recording: AdmissionService = async (request, optIn) => {
    const decision = await service(request, optIn);
    const object = request.object as k8s.V1Pod;
    const name = object.metadata?.name ?? object.metadata?.generateName ?? "";
    calls.push({ name, dryRun: request.dryRun === true, object: structuredClone(object), decision });
    return decision;
  };
  server = buildWebhookServer({
    admission: recording,
    registry,
    tls,
    logger: false,
  }) as unknown as FastifyInstance;
  await server.listen({ host: "127.0.0.1", port: 0 });
  return { url: `https://127.0.0.1:${(server.server.address() as AddressInfo).port}`, ca: authority.cert };
}

beforeAll(async () => {
  await core.createNamespace({ body: { metadata: { name: graftNamespace } } });
  await core.createNamespace({
    body: {
      metadata: { name: namespace, labels: { "graft.pnda.io/inject": "enabled", [RUN_LABEL]: suffix } },
    },
  });
  await applyManifestRbac(admin, graftNamespace, suffix);
  await core.createNamespacedConfigMap({
    namespace: graftNamespace,
    body: {
      metadata: { name: "graft-platform", namespace: graftNamespace },
      data: { kafka_brokers: "k:9092" },
    },
  });
  await core.createNamespacedConfigMap({
    namespace,
    body: {
      metadata: { name: "my-checks" },
      data: { "checks.yaml": "- {name: t, type: tcp, host: x, port: 1}\n" },
    },
  });
  // The ServiceAccount plugin mounts a token only once the namespace's default account exists.
  await eventually("ServiceAccount default", () =>
    core.readNamespacedServiceAccount({ name: "default", namespace }).then(() => true),
  );
  const kc = await tokenKubeConfig(admin, graftNamespace);
  const { url, ca } = await startWebhook(kc);
  const configuration = renderMutatingWebhookConfiguration({
    name: webhookName,
    target: { url },
    caBundle: ca,
    graftNamespace,
    timeoutSeconds: 10,
    onlyNamespacesLabelled: { [RUN_LABEL]: suffix },
  });
  await admin
    .makeApiClient(k8s.AdmissionregistrationV1Api)
    .createMutatingWebhookConfiguration({ body: configuration });
  await eventually("the webhook to be called", async () => {
    await core.createNamespacedPod({
      namespace,
      dryRun: "All",
      body: pod("probe", { [ANNOTATION.health]: "false" }),
    });
    return calls.some((c) => c.name === "probe");
  });
}, 120_000);

afterAll(async () => {
  await admin
    .makeApiClient(k8s.AdmissionregistrationV1Api)
    .deleteMutatingWebhookConfiguration({ name: webhookName })
    .catch(() => undefined);
  await server?.close();
  await runtime?.stop();
  const rbac = admin.makeApiClient(k8s.RbacAuthorizationV1Api);
  for (const role of ["graft-properties", "graft-namespaces"]) {
    await rbac.deleteClusterRoleBinding({ name: `${role}-${suffix}` }).catch(() => undefined);
    await rbac.deleteClusterRole({ name: `${role}-${suffix}` }).catch(() => undefined);
  }
  await core.deleteNamespace({ name: namespace }).catch(() => undefined);
  await core.deleteNamespace({ name: graftNamespace }).catch(() => undefined);
});

function pod(
  name: string,
  annotations: Record<string, string>,
  spec: Partial<k8s.V1PodSpec> = {},
): k8s.V1Pod {
  return {
    metadata: { name, labels: { app: name }, annotations },
    spec: { containers: [{ name: "main", image: PAUSE }], terminationGracePeriodSeconds: 0, ...spec },
  };
}

const spark = { [ANNOTATION.componentType]: "sparkStreaming", [ANNOTATION.component]: "agg" };
const cases: Array<[string, k8s.V1Pod]> = [
  ["a Spark pod (properties + agent, default checks)", pod("spark", spark)],
  [
    "a pod with its checks from a ConfigMap",
    pod("from-cm", { ...spark, [ANNOTATION.checksConfigMap]: "my-checks" }),
  ],
  [
    "a JupyterHub single-user pod (notebooks + agent)",
    pod(
      "jupyter",
      { [ANNOTATION.componentType]: "jupyter" },
      {
        securityContext: { fsGroup: 100 },
        containers: [
          {
            name: "notebook",
            image: PAUSE,
            volumeMounts: [{ name: "home", mountPath: "/home/jovyan" }],
          },
        ],
        volumes: [{ name: "home", emptyDir: {} }],
      },
    ),
  ],
];

/** The review graft would get for `stored` on reinvocation: a CREATE of the pod as stored. */
function reviewOf(stored: k8s.V1Pod): AdmissionRequest {
  return {
    uid: `reinvoke-${stored.metadata?.name}`,
    kind: { group: "", version: "v1", kind: "Pod" },
    resource: { group: "", version: "v1", resource: "pods" },
    namespace,
    operation: "CREATE",
    object: stored,
    dryRun: false,
  } as unknown as AdmissionRequest;
}

describe("idempotence against the real API server", () => {
  it.each(cases)(
    "%s: the pod as stored passes graft again with an empty patch, and every reinvocation is empty",
    async (_, body) => {
      const name = body.metadata!.name!;
      const created = await core.createNamespacedPod({ namespace, body });
      expect(created.metadata?.annotations?.[ANNOTATION.status]).toBeDefined();

      // What the API server sent: the first call patched; any reinvocation must have changed nothing.
      const mine = calls.filter((c) => c.name === name && !c.dryRun);
      expect(mine.length).toBeGreaterThanOrEqual(1);
      expect(mine[0]!.decision.patch.length).toBeGreaterThan(0);
      for (const again of mine.slice(1)) expect(again.decision.patch).toEqual([]);

      // The pod as stored (read back: defaults, token mount, status annotation), through graft again.
      const stored = await core.readNamespacedPod({ name, namespace });
      const second = await service(reviewOf(stored), true);
      expect(second.allowed).toBe(true);
      expect(second.patch).toEqual([]);
    },
  );

  it("counts the API server's calls per pod through graft's metrics", async () => {
    const value = async () => {
      const metric = (await registry.getMetricsAsJSON()).find(
        (m) => m.name === "graft_webhook_requests_total",
      );
      return ((metric?.values ?? []) as { value: number }[]).reduce((sum, v) => sum + v.value, 0);
    };
    const before = await value();
    const pods = 5;
    for (let i = 0; i < pods; i += 1)
      await core.createNamespacedPod({ namespace, body: pod(`count-${i}`, spark) });
    const perPod = ((await value()) - before) / pods;
    // reinvocationPolicy IfNeeded, and still one call: the ServiceAccount plugin finds the token
    // already mounted in graft's agent and changes nothing after graft (docs/design.md).
    console.log(`graft webhook calls per pod: ${perPod.toFixed(2)}`);
    expect(perPod).toBe(1);
  });
});
