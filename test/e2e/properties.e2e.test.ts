import type { AddressInfo } from "node:net";
import * as k8s from "@kubernetes/client-node";
import type { FastifyInstance } from "fastify";
import { Registry } from "prom-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAuthority, issueServingCert } from "../../certs/authority.js";
import { renderMutatingWebhookConfiguration } from "../../webhook/install/webhook-configuration.js";
import { createObjectsIfAbsent } from "../../webhook/io/ensure-objects.js";
import { readOwnImage } from "../../webhook/io/own-image.js";
import { lastWanted } from "../../webhook/io/properties/cleanup.js";
import { createPropertiesRuntime, type PropertiesRuntime } from "../../webhook/io/properties/runtime.js";
import { defaultWebhookConfig } from "../../webhook/model/config.js";
import { buildWebhookServer } from "../../webhook/server/server.js";
import { createAdmissionService } from "../../webhook/service/admission-service.js";
import { applyManifestRbac, tokenKubeConfig } from "./graft-identity.js";
import { eventually, graftClient as graftKube, isStatus, kubeConfig, uniqueName } from "./kube.js";

const admin = kubeConfig();
const core = admin.makeApiClient(k8s.CoreV1Api);
const apps = admin.makeApiClient(k8s.AppsV1Api);

const graftNamespace = uniqueName("graft-sys");
const namespace = uniqueName("graft-props");
const suffix = namespace.slice("graft-props-".length);
const webhookName = `graft-props-e2e-${suffix}`;
const GRACE_MS = 3_000;
const RUN_LABEL = "graft.pnda.io/e2e-run";

let registry: Registry;
let runtime: PropertiesRuntime;
let server: FastifyInstance;
let graftClient: k8s.CoreV1Api;
/** graft's ServiceAccount, with manifests/base/rbac.yaml and nothing more. */
let graftKubeConfig: k8s.KubeConfig;

/** A client that is graft's ServiceAccount and nothing more. */
/** The webhook in this process, as `graft webhook` wires it, on 127.0.0.1 with its own CA. */
async function startWebhook(kc: k8s.KubeConfig): Promise<{ url: string; ca: string }> {
  const now = new Date();
  const authority = createAuthority({ now });
  const tls = issueServingCert(authority, { ipAddresses: ["127.0.0.1"], now });
  const config = { ...defaultWebhookConfig(), namespace: graftNamespace };
  registry = new Registry();
  runtime = createPropertiesRuntime({
    config,
    registry,
    client: graftKube(kc),
    cleanup: { intervalMs: 1_000, graceMs: GRACE_MS },
  });
  await runtime.start();
  server = buildWebhookServer({
    admission: createAdmissionService({
      config,
      nativeSidecars: true,
      properties: runtime,
      createObjects: createObjectsIfAbsent(graftKube(kc)),
    }),
    registry,
    tls,
    logger: false,
  }) as unknown as FastifyInstance;
  await server.listen({ host: "127.0.0.1", port: 0 });
  return { url: `https://127.0.0.1:${(server.server.address() as AddressInfo).port}`, ca: authority.cert };
}

async function setPlatform(data: Record<string, string>): Promise<void> {
  const body = { metadata: { name: "graft-platform", namespace: graftNamespace }, data };
  try {
    await core.replaceNamespacedConfigMap({ name: "graft-platform", namespace: graftNamespace, body });
  } catch (error) {
    if (!isStatus(error, 404)) throw error;
    await core.createNamespacedConfigMap({ namespace: graftNamespace, body });
  }
}

/** The counter's value for these labels in the webhook's registry. */
async function counter(name: string, labels: Record<string, string>): Promise<number> {
  const metric = (await registry.getMetricsAsJSON()).find((m) => m.name === name);
  const values = (metric?.values ?? []) as { labels: Record<string, unknown>; value: number }[];
  const found = values.find((v) => Object.entries(labels).every(([k, value]) => v.labels[k] === value));
  return found?.value ?? 0;
}

const sparkAnnotations = (component: string) => ({
  "graft.pnda.io/component-type": "sparkStreaming",
  "graft.pnda.io/component": component,
  "graft.pnda.io/health": "false",
});

function deployment(name: string, replicas: number, component = "agg"): k8s.V1Deployment {
  return {
    metadata: { name },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name }, annotations: sparkAnnotations(component) },
        spec: {
          containers: [{ name: "driver", image: "registry.k8s.io/pause:3.10" }],
          terminationGracePeriodSeconds: 0,
        },
      },
    },
  };
}

function mountedConfigMap(pod: k8s.V1Pod): string | undefined {
  return pod.spec?.volumes?.find((v) => v.name === "graft-properties")?.configMap?.name;
}

async function podsOf(app: string): Promise<k8s.V1Pod[]> {
  const pods = await core.listNamespacedPod({ namespace, labelSelector: `app=${app}` });
  return pods.items.filter((pod) => !pod.metadata?.deletionTimestamp);
}

async function configMap(name: string): Promise<k8s.V1ConfigMap | undefined> {
  try {
    return await core.readNamespacedConfigMap({ name, namespace });
  } catch (error) {
    if (isStatus(error, 404)) return undefined;
    throw error;
  }
}

/** Waits until the Deployment's pods all come from its newest ReplicaSet; returns that ReplicaSet. */
async function rolledOut(name: string): Promise<k8s.V1ReplicaSet> {
  return eventually(`Deployment ${name} rolled out`, async () => {
    const d = await apps.readNamespacedDeployment({ name, namespace });
    const want = d.spec?.replicas ?? 1;
    const s = d.status;
    if ((s?.observedGeneration ?? 0) < (d.metadata?.generation ?? 0)) return false;
    if (s?.updatedReplicas !== want || s?.replicas !== want || s?.availableReplicas !== want) return false;
    const sets = (await apps.listNamespacedReplicaSet({ namespace, labelSelector: `app=${name}` })).items;
    const current = sets.filter((rs) => (rs.spec?.replicas ?? 0) > 0);
    const pods = await podsOf(name);
    if (current.length !== 1 || pods.length !== want) return false;
    const uid = current[0]!.metadata?.uid;
    return pods.every((p) => p.metadata?.ownerReferences?.some((o) => o.uid === uid)) ? current[0] : false;
  });
}

async function rollOut(name: string, revision: number): Promise<void> {
  const d = await apps.readNamespacedDeployment({ name, namespace });
  d.spec!.template.metadata!.annotations = {
    ...d.spec!.template.metadata!.annotations,
    "example.com/revision": String(revision),
  };
  await apps.replaceNamespacedDeployment({ name, namespace, body: d });
}

beforeAll(async () => {
  await core.createNamespace({ body: { metadata: { name: graftNamespace } } });
  await core.createNamespace({
    body: {
      metadata: { name: namespace, labels: { "graft.pnda.io/inject": "enabled", [RUN_LABEL]: suffix } },
    },
  });
  await applyManifestRbac(admin, graftNamespace, suffix);
  await setPlatform({ kafka_brokers: "kafka-a:9092", zookeeper_quorum: "zk" });
  await eventually("ServiceAccount default", () =>
    core.readNamespacedServiceAccount({ name: "default", namespace }).then(() => true),
  );
  const kc = await tokenKubeConfig(admin, graftNamespace);
  graftKubeConfig = kc;
  graftClient = kc.makeApiClient(k8s.CoreV1Api);
  const { url, ca } = await startWebhook(kc);
  const configuration = renderMutatingWebhookConfiguration({
    name: webhookName,
    target: { url },
    caBundle: ca,
    graftNamespace,
    timeoutSeconds: 10,
    // Only this run's namespace: other e2e files' pods never reach this process.
    onlyNamespacesLabelled: { [RUN_LABEL]: suffix },
  });
  // Only this run's namespace: other e2e files' pods never reach this process.
  const admission = admin.makeApiClient(k8s.AdmissionregistrationV1Api);
  await admission.createMutatingWebhookConfiguration({ body: configuration });
  // The API server picks a new webhook configuration up asynchronously.
  await eventually("the webhook to be called", async () => {
    const probe = await core.createNamespacedPod({
      namespace,
      dryRun: "All",
      body: {
        metadata: { name: "probe", labels: { app: "probe" }, annotations: sparkAnnotations("probe") },
        spec: { containers: [{ name: "c", image: "registry.k8s.io/pause:3.10" }] },
      },
    });
    return mountedConfigMap(probe) !== undefined;
  });
}, 120_000);

afterAll(async () => {
  const admission = admin.makeApiClient(k8s.AdmissionregistrationV1Api);
  await admission.deleteMutatingWebhookConfiguration({ name: webhookName }).catch(() => undefined);
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

describe("application.properties ConfigMaps", () => {
  it("keep a ConfigMap through three rollouts while any pod mounts it, and garbage-collect it with the Deployment", async () => {
    await apps.createNamespacedDeployment({ namespace, body: deployment("rollout", 2) });
    const first = await rolledOut("rollout");
    const [pod] = await podsOf("rollout");
    const name = mountedConfigMap(pod!)!;
    expect(name).toMatch(/^graft-props-rollout-agg-[0-9a-f]{10}$/);
    const made = (await configMap(name))!;
    expect(made.immutable).toBe(true);
    expect(made.metadata?.labels).toMatchObject({
      "app.kubernetes.io/managed-by": "graft",
      "graft.pnda.io/app": "rollout",
    });
    expect(made.data?.["application.properties"]).toContain("\nenvironment.kafka_brokers=kafka-a:9092\n");

    const owners = [first.metadata!.uid!];
    for (const revision of [2, 3, 4]) {
      await rollOut("rollout", revision);
      const current = await rolledOut("rollout");
      owners.push(current.metadata!.uid!);
      for (const p of await podsOf("rollout")) expect(mountedConfigMap(p)).toBe(name);
    }
    const owned = (await configMap(name))!.metadata?.ownerReferences ?? [];
    expect(owned.map((o) => o.uid).sort()).toEqual([...owners].sort());
    expect(owned.every((o) => o.kind === "ReplicaSet" && o.controller === false)).toBe(true);

    // Delete every old ReplicaSet: the ConfigMap must outlive them, for the newest one's pods.
    const sets = (await apps.listNamespacedReplicaSet({ namespace, labelSelector: "app=rollout" })).items;
    const old = sets.filter((rs) => rs.metadata?.uid !== owners.at(-1));
    expect(old).toHaveLength(3);
    for (const rs of old) await apps.deleteNamespacedReplicaSet({ name: rs.metadata!.name!, namespace });
    await eventually("old ReplicaSets gone and dangling owners dropped", async () => {
      const left = (await apps.listNamespacedReplicaSet({ namespace, labelSelector: "app=rollout" })).items;
      const refs = (await configMap(name))?.metadata?.ownerReferences ?? [];
      return left.length === 1 && refs.length === 1 && refs[0]!.uid === owners.at(-1);
    });
    expect(await configMap(name)).toBeDefined();
    for (const p of await podsOf("rollout")) expect(mountedConfigMap(p)).toBe(name);

    await apps.deleteNamespacedDeployment({ name: "rollout", namespace, propagationPolicy: "Background" });
    await eventually(
      "the ConfigMap garbage-collected with its last owner",
      async () => (await configMap(name)) === undefined,
    );
  });

  it("makes one ConfigMap for 100 pods of one app, with no API call after the first", async () => {
    const applies = await counter("graft_properties_api_requests_total", { operation: "apply" });
    const ownerPatches = await counter("graft_properties_api_requests_total", { operation: "add_owner" });
    const hits = await counter("graft_properties_ensure_total", { cache: "hit" });
    await apps.createNamespacedDeployment({ namespace, body: deployment("hundred", 100, "many") });
    await eventually("100 pods", async () => (await podsOf("hundred")).length === 100 || false, {
      timeoutMs: 180_000,
    });

    const names = new Set((await podsOf("hundred")).map(mountedConfigMap));
    expect(names.size).toBe(1);
    const made = await core.listNamespacedConfigMap({
      namespace,
      labelSelector: "graft.pnda.io/app=hundred",
    });
    expect(made.items.map((cm) => cm.metadata?.name)).toEqual([...names]);
    expect((await counter("graft_properties_api_requests_total", { operation: "apply" })) - applies).toBe(1);
    expect(
      (await counter("graft_properties_api_requests_total", { operation: "add_owner" })) - ownerPatches,
    ).toBe(1);
    expect((await counter("graft_properties_ensure_total", { cache: "hit" })) - hits).toBeGreaterThanOrEqual(
      99,
    );
    await apps.deleteNamespacedDeployment({ name: "hundred", namespace, propagationPolicy: "Background" });
  }, 240_000);

  it("gives new pods a new ConfigMap when graft-platform changes, and leaves running pods theirs", async () => {
    await apps.createNamespacedDeployment({ namespace, body: deployment("platform", 1) });
    await rolledOut("platform");
    const [before] = await podsOf("platform");
    const oldName = mountedConfigMap(before!)!;

    await setPlatform({ kafka_brokers: "kafka-b:9092", zookeeper_quorum: "zk" });
    // The watch delivers the change; a dry-run shows what the next pod would mount.
    const newName = await eventually(
      "graft-platform's change to reach admissions",
      async () => {
        const dry = await core.createNamespacedPod({
          namespace,
          dryRun: "All",
          body: {
            metadata: { name: "dry", labels: { app: "platform" }, annotations: sparkAnnotations("agg") },
            spec: { containers: [{ name: "driver", image: "registry.k8s.io/pause:3.10" }] },
          },
        });
        const name = mountedConfigMap(dry);
        return name !== oldName ? name : false;
      },
      { timeoutMs: 10_000 },
    );

    await apps.patchNamespacedDeploymentScale(
      { name: "platform", namespace, body: { spec: { replicas: 2 } } },
      k8s.setHeaderOptions("Content-Type", k8s.PatchStrategy.MergePatch),
    );
    await eventually("a second pod", async () => (await podsOf("platform")).length === 2);
    const mounts = new Map((await podsOf("platform")).map((p) => [p.metadata!.name!, mountedConfigMap(p)]));
    expect(mounts.get(before!.metadata!.name!)).toBe(oldName);
    expect([...mounts.values()].sort()).toEqual([oldName, newName].sort());
    expect((await configMap(oldName))?.data?.["application.properties"]).toContain(
      "environment.kafka_brokers=kafka-a:9092\n",
    );
    expect((await configMap(newName!))?.data?.["application.properties"]).toContain(
      "environment.kafka_brokers=kafka-b:9092\n",
    );
    await apps.deleteNamespacedDeployment({ name: "platform", namespace, propagationPolicy: "Background" });
  });

  it("creates nothing on a dry-run, with the same patch a real create gets", async () => {
    const pod = (name: string): k8s.V1Pod => ({
      metadata: { name, labels: { app: "dry-run" }, annotations: sparkAnnotations("dry-only") },
      spec: {
        containers: [{ name: "driver", image: "registry.k8s.io/pause:3.10" }],
        terminationGracePeriodSeconds: 0,
      },
    });
    const dry = await core.createNamespacedPod({ namespace, dryRun: "All", body: pod("dry-run") });
    const name = mountedConfigMap(dry)!;
    expect(name).toMatch(/^graft-props-dry-run-dry-only-/);
    expect(await configMap(name)).toBeUndefined();

    const real = await core.createNamespacedPod({ namespace, body: pod("dry-run") });
    // The same graft parts (the service account token volume's name is random per request).
    const graftParts = (p: k8s.V1Pod) => ({
      volume: p.spec?.volumes?.find((v) => v.name === "graft-properties"),
      env: p.spec?.containers[0]?.env,
      mount: p.spec?.containers[0]?.volumeMounts?.find((m) => m.name === "graft-properties"),
    });
    expect(graftParts(real)).toEqual(graftParts(dry));
    expect(graftParts(real).mount).toEqual({
      name: "graft-properties",
      mountPath: "/etc/graft",
      readOnly: true,
    });
    expect(await configMap(name)).toBeDefined();
  });

  it("cleans up the ConfigMap of a pod without a controller once no pod mounts it", async () => {
    const pod = await core.createNamespacedPod({
      namespace,
      body: {
        metadata: { name: "bare", labels: { app: "bare" }, annotations: sparkAnnotations("bare") },
        spec: {
          containers: [{ name: "driver", image: "registry.k8s.io/pause:3.10" }],
          terminationGracePeriodSeconds: 0,
        },
      },
    });
    const name = mountedConfigMap(pod)!;
    const made = await configMap(name);
    expect(made?.metadata?.ownerReferences).toBeUndefined();
    // Mounted: kept by sweeps that found it past its grace period. Once the grace period is over
    // (the API server's clock is this machine's), two more finished sweeps mean one that started
    // after it, however slow the machine.
    const graceOver = lastWanted(made!) + GRACE_MS;
    await eventually("the grace period to pass", async () => Date.now() > graceOver, { timeoutMs: 20_000 });
    const sweeps = await counter("graft_properties_sweeps_total", { result: "ok" });
    await eventually(
      "two sweeps past the grace period",
      async () => (await counter("graft_properties_sweeps_total", { result: "ok" })) >= sweeps + 2,
      { timeoutMs: 30_000 },
    );
    expect(await configMap(name)).toBeDefined();
    await core.deleteNamespacedPod({ name: "bare", namespace, gracePeriodSeconds: 0 });
    await eventually("the unused ConfigMap deleted", async () => (await configMap(name)) === undefined, {
      timeoutMs: 20_000,
    });
  });

  it("works with the RBAC of manifests/ alone, which grants nothing on Secrets", async () => {
    expect(await counter("graft_properties_api_requests_total", { result: "error" })).toBe(0);
    await expect(graftClient.listNamespacedSecret({ namespace })).rejects.toSatisfy((e) => isStatus(e, 403));
    await expect(graftClient.listNamespacedSecret({ namespace: graftNamespace })).rejects.toSatisfy((e) =>
      isStatus(e, 403),
    );
  });

  it("lets the webhook read its own image from its pod, for the agent's default", async () => {
    await core.createNamespacedPod({
      namespace: graftNamespace,
      body: {
        metadata: { name: "graft-webhook-own" },
        spec: { containers: [{ name: "webhook", image: "registry.example/graft:9.9.9" }] },
      },
    });
    const own = await readOwnImage(graftKube(graftKubeConfig), {
      POD_NAME: "graft-webhook-own",
      POD_NAMESPACE: graftNamespace,
    });
    expect(own).toEqual({ image: "registry.example/graft:9.9.9" });
    expect(
      await readOwnImage(graftKube(graftKubeConfig), { POD_NAME: "gone", POD_NAMESPACE: graftNamespace }),
    ).toEqual({
      reason: `pod ${graftNamespace}/gone was not found`,
    });
  });
});
