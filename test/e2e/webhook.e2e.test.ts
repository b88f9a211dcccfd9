// graft's webhook through the real kube-apiserver: the server runs in this process on
// 127.0.0.1 with a node-forge certificate, and is registered by URL with its caBundle. The API
// server's own validation judges every mutated pod. The webhook configuration is confined to
// this run's namespaces (the cluster is shared with other suites) and deleted afterwards.
import type { AddressInfo } from "node:net";
import * as k8s from "@kubernetes/client-node";
import { Registry } from "prom-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse as parseYaml, stringify } from "yaml";
import { createAuthority, issueServingCert } from "../../certs/authority.js";
import { LABEL_INJECT } from "../../core/annotations.js";
import { renderMutatingWebhookConfiguration } from "../../webhook/install/webhook-configuration.js";
import { decideNativeSidecars, fetchServerVersion } from "../../webhook/io/cluster-version.js";
import type { EnsureObjects } from "../../webhook/io/ensure-objects.js";
import { createObjectsIfAbsent } from "../../webhook/io/ensure-objects.js";
import { defaultWebhookConfig } from "../../webhook/model/config.js";
import { readStatus } from "../../webhook/model/status.js";
import { buildWebhookServer } from "../../webhook/server/server.js";
import { createAdmissionService } from "../../webhook/service/admission-service.js";
import { eventually, graftClient, isStatus, kubeConfig, kubectl, uniqueName } from "./kube.js";

const AGENT = "graft-agent";
const STATUS = "graft.pnda.io/status";
const RUN_LABEL = "graft.pnda.io/e2e-run";
/** A check, so a generic pod gets an agent (a pod without checks gets none). */
const CHECKS = { "graft.pnda.io/checks": "[{name: api, type: tcp, host: 127.0.0.1, port: 8080}]" };

type Pod = k8s.V1Pod;
const agentOf = (pod: Pod) =>
  [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])].find((c) => c.name === AGENT);

describe("graft webhook through the kube-apiserver", () => {
  const kc = kubeConfig();
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const apps = kc.makeApiClient(k8s.AppsV1Api);
  const batch = kc.makeApiClient(k8s.BatchV1Api);
  const admission = kc.makeApiClient(k8s.AdmissionregistrationV1Api);
  const run = uniqueName("run");
  const labelled = uniqueName("graft-e2e-on");
  const unlabelled = uniqueName("graft-e2e-off");
  const configurationName = `graft-e2e-${run}`;
  const ensured: Array<{ uid: string; dryRun: boolean }> = [];
  let app: ReturnType<typeof buildWebhookServer> | undefined;

  beforeAll(async () => {
    const now = new Date();
    const ca = createAuthority({ now, commonName: `graft-e2e-${run}` });
    const tls = issueServingCert(ca, { ipAddresses: ["127.0.0.1"], now });
    const native = await decideNativeSidecars("auto", fetchServerVersion(graftClient(kc)));
    const create = createObjectsIfAbsent(graftClient(kc));
    const ensureObjects: EnsureObjects = async (objects, request) => {
      ensured.push({ uid: request.uid, dryRun: request.dryRun === true });
      await create(objects, request);
    };
    app = buildWebhookServer({
      admission: createAdmissionService({
        config: defaultWebhookConfig(),
        nativeSidecars: native.native,
        createObjects: ensureObjects,
      }),
      registry: new Registry(),
      tls,
      logger: false,
    });
    await app.listen({ host: "127.0.0.1", port: 0 });
    const url = `https://127.0.0.1:${(app.server.address() as AddressInfo).port}`;

    for (const [name, labels] of [
      [labelled, { [LABEL_INJECT]: "enabled", [RUN_LABEL]: run }],
      [unlabelled, { [RUN_LABEL]: run }],
    ] as const) {
      await core.createNamespace({ body: { metadata: { name, labels } } });
      await eventually(`ServiceAccount default in ${name}`, () =>
        core.readNamespacedServiceAccount({ name: "default", namespace: name }).then(() => true),
      );
    }
    await admission.createMutatingWebhookConfiguration({
      body: renderMutatingWebhookConfiguration({
        name: configurationName,
        target: { url },
        caBundle: ca.cert,
        graftNamespace: "graft",
        onlyNamespacesLabelled: { [RUN_LABEL]: run },
      }),
    });
    // The API server picks the configuration up asynchronously: probe with dry-run pods (no
    // leftovers) until one comes back injected.
    await eventually(
      "the webhook configuration to be in use",
      async () => {
        const probe = await core.createNamespacedPod({
          namespace: labelled,
          dryRun: "All",
          body: {
            metadata: { name: "probe", annotations: CHECKS },
            spec: { containers: [{ name: "probe", image: "registry.invalid/p:1" }] },
          },
        });
        return agentOf(probe) !== undefined;
      },
      { timeoutMs: 60_000 },
    );
  });

  afterAll(async () => {
    await admission.deleteMutatingWebhookConfiguration({ name: configurationName }).catch(() => undefined);
    for (const namespace of [labelled, unlabelled]) {
      await core.deleteNamespace({ name: namespace }).catch(() => undefined);
    }
    await app?.close();
  });

  const podsOf = async (namespace: string, selector: string, count: number) =>
    eventually(`${count} pods ${selector} in ${namespace}`, async () => {
      const pods = (await core.listNamespacedPod({ namespace, labelSelector: selector })).items.filter(
        (pod) => !pod.metadata?.deletionTimestamp,
      );
      return pods.length === count ? pods : undefined;
    });

  function deployment(
    name: string,
    annotations: Record<string, string> = {},
    replicas = 1,
  ): k8s.V1Deployment {
    const labels = { app: name };
    return {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name },
      spec: {
        replicas,
        selector: { matchLabels: labels },
        template: {
          metadata: { labels, annotations },
          spec: {
            containers: [{ name: "main", image: "registry.invalid/app:1", ports: [{ containerPort: 8080 }] }],
          },
        },
      },
    };
  }

  it("injects the agent into every pod of a Deployment in a labelled namespace", async () => {
    const checks = stringify([{ name: "api", type: "http", url: "http://127.0.0.1:8080/healthz" }]);
    await apps.createNamespacedDeployment({
      namespace: labelled,
      body: deployment(
        "ingest",
        { "graft.pnda.io/component-type": "generic", "graft.pnda.io/checks": checks },
        3,
      ),
    });
    const pods = await podsOf(labelled, "app=ingest", 3);
    for (const pod of pods) {
      const agent = agentOf(pod);
      expect(agent, `pod ${pod.metadata?.name}`).toBeDefined();
      const passed = JSON.parse(agent?.env?.find((e) => e.name === "GRAFT_CHECKS")?.value ?? "[]");
      expect(passed).toEqual([expect.objectContaining(parseYaml(checks)[0])]);
      expect(pod.metadata?.annotations?.[STATUS]).toBeDefined();
    }
    // kwok runs every pod: the API server and the scheduler took the mutated spec as it is.
    await eventually("the Deployment's pods to be Running", async () => {
      const running = (
        await core.listNamespacedPod({ namespace: labelled, labelSelector: "app=ingest" })
      ).items.filter((pod) => pod.status?.phase === "Running");
      return running.length === 3;
    });
  });

  it("gives a plain nginx Deployment in an opted-in namespace no agent", async () => {
    const plain = deployment("web");
    plain.spec!.template.spec!.containers = [{ name: "nginx", image: "nginx" }];
    const result = await kubectl(["apply", "-n", labelled, "-f", "-"], stringify(plain));
    // Without graft annotations the workload webhook's matchConditions skip it: the "no checks"
    // warning goes to the ReplicaSet's pod creation, not to kubectl.
    expect(result.code, result.stderr).toBe(0);
    for (const pod of await podsOf(labelled, "app=web", 1)) {
      expect(agentOf(pod)).toBeUndefined();
      expect(readStatus(pod)?.features).toEqual([]);
    }
  });

  it('refuses at kubectl apply a Deployment with health "true" and no checks, naming the fix', async () => {
    const workload = deployment("empty-health", { "graft.pnda.io/health": "true" });
    // The template's own opt-in: this run's webhook has no Namespace cache to confirm the namespace's.
    workload.spec!.template.metadata!.labels = { app: "empty-health", [LABEL_INJECT]: "enabled" };
    const result = await kubectl(["apply", "-n", labelled, "-f", "-"], stringify(workload));
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('"graft.pnda.io/health" is "true" but the pod has no checks');
  });

  it("gives a Spark-streaming Deployment an agent that checks its own driver", async () => {
    await apps.createNamespacedDeployment({
      namespace: labelled,
      body: deployment("wordcount", { "graft.pnda.io/component-type": "sparkStreaming" }),
    });
    const [pod] = await podsOf(labelled, "app=wordcount", 1);
    const env = agentOf(pod!)?.env ?? [];
    expect(JSON.parse(env.find((e) => e.name === "GRAFT_CHECKS")?.value ?? "[]")).toEqual([
      {
        name: "spark-driver",
        type: "spark",
        mode: "streaming",
        url: "http://127.0.0.1:4040",
        source: "spark",
      },
    ]);
    // The component is the owning Deployment's, never the ReplicaSet's (pod-template-hash) or the pod's.
    expect(env.find((e) => e.name === "GRAFT_COMPONENT")?.value).toBe("wordcount");
    expect(env.find((e) => e.name === "GRAFT_APP")?.value).toBe("wordcount");
  });

  it("gives a Helm-rendered Deployment the component its app.kubernetes.io/component label names", async () => {
    const rendered = deployment("release-streaming", { "graft.pnda.io/component-type": "sparkStreaming" });
    const labels = {
      "app.kubernetes.io/instance": "release",
      "app.kubernetes.io/name": "streaming",
      "app.kubernetes.io/component": "stream-processor",
      "app.kubernetes.io/managed-by": "Helm",
    };
    rendered.metadata!.labels = { ...labels, "helm.sh/chart": "streaming-0.3.1" };
    rendered.spec!.selector = { matchLabels: { "app.kubernetes.io/instance": "release" } };
    rendered.spec!.template.metadata!.labels = labels;
    const result = await kubectl(["apply", "-n", labelled, "-f", "-"], stringify(rendered));
    expect(result.code, result.stderr).toBe(0);
    const [pod] = await podsOf(labelled, "app.kubernetes.io/instance=release", 1);
    const env = agentOf(pod!)?.env ?? [];
    expect(env.find((e) => e.name === "GRAFT_COMPONENT")?.value).toBe("stream-processor");
    expect(env.find((e) => e.name === "GRAFT_APP")?.value).toBe("release");
  });

  it("injects the agent as a native sidecar on this cluster (Kubernetes ≥ 1.29)", async () => {
    const pod = await core.createNamespacedPod({
      namespace: labelled,
      body: {
        metadata: { name: "native", annotations: CHECKS },
        spec: { containers: [{ name: "main", image: "registry.invalid/app:1" }] },
      },
    });
    const agent = pod.spec?.initContainers?.find((c) => c.name === AGENT);
    expect(agent?.restartPolicy).toBe("Always");
    expect(agent?.startupProbe).toBeDefined();
    expect(pod.spec?.containers.map((c) => c.name)).toEqual(["main"]);
  });

  it("leaves the pods of a Deployment in an unlabelled namespace alone", async () => {
    await apps.createNamespacedDeployment({ namespace: unlabelled, body: deployment("plain", {}, 2) });
    for (const pod of await podsOf(unlabelled, "app=plain", 2)) {
      expect(agentOf(pod)).toBeUndefined();
      expect(pod.metadata?.annotations?.[STATUS]).toBeUndefined();
    }
  });

  it("leaves a pod labelled graft.pnda.io/inject=disabled alone in a labelled namespace", async () => {
    const pod = await core.createNamespacedPod({
      namespace: labelled,
      body: {
        metadata: { name: "opted-out", labels: { [LABEL_INJECT]: "disabled" } },
        spec: { containers: [{ name: "main", image: "registry.invalid/app:1" }] },
      },
    });
    expect(agentOf(pod)).toBeUndefined();
    expect(pod.metadata?.annotations?.[STATUS]).toBeUndefined();
  });

  it("injects a pod labelled graft.pnda.io/inject=enabled in an unlabelled namespace", async () => {
    const pod = await core.createNamespacedPod({
      namespace: unlabelled,
      body: {
        metadata: { name: "opted-in", labels: { [LABEL_INJECT]: "enabled" }, annotations: CHECKS },
        spec: { containers: [{ name: "main", image: "registry.invalid/app:1" }] },
      },
    });
    expect(agentOf(pod)).toBeDefined();
  });

  it("refuses a Deployment with invalid graft.pnda.io/checks at kubectl apply, with the message", async () => {
    const manifest = stringify(
      deployment("bad-checks", { "graft.pnda.io/checks": "[{name: api, type: htp}]" }),
    );
    const result = await kubectl(["apply", "-n", labelled, "-f", "-"], manifest);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain(
      'admission webhook "workloads.validate.graft.pnda.io" denied the request',
    );
    expect(result.stderr).toContain("graft.pnda.io/checks");
    expect((await kubectl(["get", "deployment", "bad-checks", "-n", labelled])).code).not.toBe(0);
  });

  it("refuses a CronJob whose job template has an invalid graft annotation, in any namespace", async () => {
    // A CronJob keeps its pod template at spec.jobTemplate.spec.template: the matchCondition
    // must find graft keys there too, and the namespace's opt-in does not matter.
    const manifest = stringify({
      apiVersion: "batch/v1",
      kind: "CronJob",
      metadata: { name: "bad-health" },
      spec: {
        schedule: "*/5 * * * *",
        jobTemplate: {
          spec: {
            template: {
              metadata: { annotations: { "graft.pnda.io/health": "sometimes" } },
              spec: {
                restartPolicy: "Never",
                containers: [{ name: "main", image: "registry.invalid/job:1" }],
              },
            },
          },
        },
      },
    });
    const result = await kubectl(["apply", "-n", unlabelled, "-f", "-"], manifest);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain(
      'admission webhook "workloads.validate.graft.pnda.io" denied the request',
    );
    expect(result.stderr).toContain("graft.pnda.io/health");
  });

  it("answers kubectl apply --dry-run=server with the injected pod and creates nothing", async () => {
    const manifest = stringify({
      apiVersion: "v1",
      kind: "Pod",
      metadata: {
        name: "dry",
        namespace: labelled,
        annotations: { "graft.pnda.io/component-type": "generic", ...CHECKS },
      },
      spec: { containers: [{ name: "main", image: "registry.invalid/app:1" }] },
    });
    const before = ensured.length;
    const result = await kubectl(["apply", "--dry-run=server", "-o", "json", "-f", "-"], manifest);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(agentOf(JSON.parse(result.stdout) as Pod)).toBeDefined();
    const workload = await kubectl(
      ["apply", "--dry-run=server", "-n", labelled, "-f", "-"],
      stringify(deployment("dry", CHECKS)),
    );
    expect(workload.code, workload.stderr).toBe(0);
    await expect(core.readNamespacedPod({ name: "dry", namespace: labelled })).rejects.toSatisfy((e) =>
      isStatus(e, 404),
    );
    await expect(apps.readNamespacedDeployment({ name: "dry", namespace: labelled })).rejects.toSatisfy((e) =>
      isStatus(e, 404),
    );
    expect(ensured.slice(before).filter((call) => call.dryRun)).toEqual([]);
  });

  it("keeps the native sidecars a pod already has, ahead of its own", async () => {
    const pod = await core.createNamespacedPod({
      namespace: labelled,
      body: {
        metadata: { name: "meshed", annotations: CHECKS },
        spec: {
          initContainers: [
            { name: "setup", image: "registry.invalid/setup:1" },
            { name: "proxy", image: "registry.invalid/proxy:1", restartPolicy: "Always" },
          ],
          containers: [{ name: "main", image: "registry.invalid/app:1" }],
        },
      },
    });
    const init = pod.spec?.initContainers ?? [];
    expect(init.slice(0, 2).map((c) => [c.name, c.restartPolicy])).toEqual([
      ["setup", undefined],
      ["proxy", "Always"],
    ]);
    expect(init.map((c) => c.name)).toContain(AGENT);
    expect(init.find((c) => c.name === "proxy")?.image).toBe("registry.invalid/proxy:1");
  });

  it("has every kind of pod it mutates accepted by the API server", async () => {
    const shapes: Pod[] = [
      {
        metadata: {
          name: "scraped",
          annotations: {
            "prometheus.io/scrape": "true",
            "prometheus.io/port": "8080",
            "graft.pnda.io/app": "billing",
            ...CHECKS,
          },
        },
        spec: {
          securityContext: { runAsNonRoot: true, runAsUser: 1000, fsGroup: 2000 },
          volumes: [{ name: "data", emptyDir: {} }],
          containers: [
            {
              name: "main",
              image: "registry.invalid/app:1",
              volumeMounts: [{ name: "data", mountPath: "/data" }],
              resources: { requests: { cpu: "100m", memory: "64Mi" } },
            },
            { name: "side", image: "registry.invalid/side:1" },
          ],
        },
      },
      {
        metadata: { name: "health-off", annotations: { "graft.pnda.io/health": "false" } },
        spec: { containers: [{ name: "main", image: "registry.invalid/app:1" }] },
      },
      {
        metadata: {
          name: "spark-driver",
          annotations: { "graft.pnda.io/component-type": "sparkStreaming", "graft.pnda.io/app": "pipeline" },
        },
        spec: {
          restartPolicy: "Never",
          containers: [
            { name: "spark-kubernetes-driver", image: "registry.invalid/spark:3.5", args: ["driver"] },
          ],
        },
      },
    ];
    for (const body of shapes) {
      const created = await core
        .createNamespacedPod({ namespace: labelled, body })
        .catch((error: unknown) => {
          throw new Error(`pod ${body.metadata?.name} refused: ${(error as k8s.ApiException<string>).body}`);
        });
      // What the API server stored: graft's record of what it injected, and the agent where it was asked for.
      const injectsAgent = body.metadata?.name !== "health-off";
      const status = readStatus(created);
      expect(status?.version, body.metadata?.name).toMatch(/^\d+\.\d+\.\d+/);
      expect(status?.features.includes("agent"), body.metadata?.name).toBe(injectsAgent);
      expect(agentOf(created) !== undefined, body.metadata?.name).toBe(injectsAgent);
    }
    const job = await batch.createNamespacedJob({
      namespace: labelled,
      body: {
        metadata: { name: "nightly" },
        spec: {
          template: {
            metadata: { labels: { app: "nightly" }, annotations: CHECKS },
            spec: { restartPolicy: "Never", containers: [{ name: "main", image: "registry.invalid/job:1" }] },
          },
        },
      },
    });
    // The Job as stored: graft validates workloads and never patches them; its pod gets the agent.
    expect(job.spec?.template.spec?.containers.map((c) => c.name)).toEqual(["main"]);
    expect(job.spec?.template.spec?.initContainers).toBeUndefined();
    expect(job.spec?.template.metadata?.annotations?.[STATUS]).toBeUndefined();
    for (const pod of await podsOf(labelled, "app=nightly", 1)) {
      expect(agentOf(pod)?.image).toBe(defaultWebhookConfig().agent.image);
      expect(readStatus(pod)?.features).toContain("agent");
    }
  });
});
