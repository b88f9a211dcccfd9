// The webhook's own Kubernetes client (webhook/io/kube/) against the real kube-apiserver: the
// Status reasons it reports, paging, server-side apply, the informer following a collection, and
// a ServiceAccount token file replaced under a running client (as the kubelet rotates it).
import { mkdtemp, readFile, rename, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import * as k8s from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { accessFromKubeconfig, inClusterAccess } from "../../webhook/io/kube/access.js";
import {
  createKubeClient,
  type KubeClient,
  type KubeObject,
  resourcePath,
} from "../../webhook/io/kube/client.js";
import { createInformer, type Informer } from "../../webhook/io/kube/informer.js";
import { eventually, graftClient, kubeConfig, uniqueName } from "./kube.js";

const admin = kubeConfig();
const core = admin.makeApiClient(k8s.CoreV1Api);
const namespace = uniqueName("graft-kube");
const configMaps = (name?: string) =>
  resourcePath({ apiVersion: "v1", resource: "configmaps", namespace, name });

let client: KubeClient;
let dir: string;

beforeAll(async () => {
  await core.createNamespace({ body: { metadata: { name: namespace } } });
  await core.createNamespacedServiceAccount({ namespace, body: { metadata: { name: "probe" } } });
  client = graftClient(admin);
  dir = await mkdtemp(path.join(tmpdir(), "graft-kube-e2e-"));
});

afterAll(async () => {
  client?.close();
  await core.deleteNamespace({ name: namespace }).catch(() => {});
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("graft's Kubernetes client against the real kube-apiserver", () => {
  it("reports NotFound, AlreadyExists and a failed precondition with their status and reason", async () => {
    await expect(client.get(configMaps("missing"))).rejects.toMatchObject({
      status: 404,
      reason: "NotFound",
    });
    const body = { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "twice" }, data: { a: "1" } };
    const made = await client.create<KubeObject>(configMaps(), body);
    await expect(client.create(configMaps(), body)).rejects.toMatchObject({
      status: 409,
      reason: "AlreadyExists",
    });
    await expect(
      client.delete(configMaps("twice"), {
        kind: "DeleteOptions",
        apiVersion: "v1",
        preconditions: { uid: "not-its-uid" },
      }),
    ).rejects.toMatchObject({ status: 409, reason: "Conflict" });
    await client.delete(configMaps("twice"), {
      kind: "DeleteOptions",
      apiVersion: "v1",
      preconditions: { uid: made.metadata?.uid },
    });
    await expect(client.get(configMaps("twice"))).rejects.toMatchObject({ status: 404 });
  });

  it("applies server-side with its field manager, merges a patch, and lists page by page", async () => {
    for (let i = 0; i < 5; i++) {
      await client.patch(
        configMaps(`paged-${i}`),
        {
          apiVersion: "v1",
          kind: "ConfigMap",
          metadata: { name: `paged-${i}`, labels: { paged: "yes" } },
          data: { i: `${i}` },
        },
        "apply",
        { fieldManager: "graft-e2e", force: true },
      );
    }
    await client.patch(configMaps("paged-0"), { metadata: { annotations: { touched: "yes" } } }, "strategic");
    const applied = await core.readNamespacedConfigMap({ name: "paged-0", namespace });
    expect(applied.metadata?.managedFields?.map((f) => f.manager)).toContain("graft-e2e");
    expect(applied.metadata?.annotations?.touched).toBe("yes");
    const paged = createKubeClient(
      accessFromKubeconfig(JSON.parse(admin.exportConfig()), { baseDir: process.cwd(), source: "e2e" }),
      { pageSize: 2 },
    );
    const list = await paged.list<KubeObject>(configMaps(), { labelSelector: "paged=yes" });
    paged.close();
    expect(list.items.map((i) => i.metadata?.name).sort()).toEqual([0, 1, 2, 3, 4].map((i) => `paged-${i}`));
    expect(list.resourceVersion).toMatch(/^\d+$/);
  });

  it("keeps an informer's cache in step with the collection: added, modified, deleted", async () => {
    const informer: Informer<KubeObject & { data?: Record<string, string> }> = createInformer(client, {
      what: "the watch on test ConfigMaps",
      path: configMaps(),
      query: { labelSelector: "watched=yes" },
    });
    try {
      await informer.start();
      expect(informer.list()).toEqual([]);
      await core.createNamespacedConfigMap({
        namespace,
        body: { metadata: { name: "watched", labels: { watched: "yes" } }, data: { v: "1" } },
      });
      await eventually("the informer to see the ConfigMap", async () => informer.get("watched", namespace));
      await core.patchNamespacedConfigMap(
        { name: "watched", namespace, body: { data: { v: "2" } } },
        k8s.setHeaderOptions("Content-Type", k8s.PatchStrategy.MergePatch),
      );
      await eventually(
        "the informer to see the change",
        async () => informer.get("watched", namespace)?.data?.v === "2",
      );
      await core.deleteNamespacedConfigMap({ name: "watched", namespace });
      await eventually(
        "the informer to see the deletion",
        async () => informer.get("watched", namespace) === undefined,
      );
    } finally {
      await informer.stop();
    }
  });

  it("is told 410 Expired when it watches from a resourceVersion the server no longer holds", async () => {
    await expect(client.watch(configMaps(), { resourceVersion: "1" }, () => {})).rejects.toMatchObject({
      status: 410,
      reason: "Expired",
    });
  });

  it("in a pod's place (KUBERNETES_SERVICE_HOST/PORT, token and ca.crt), follows the token file the kubelet replaces, and says 401 Unauthorized for a bad one", async () => {
    const token = async () =>
      (
        await core.createNamespacedServiceAccountToken({
          name: "probe",
          namespace,
          body: { spec: { audiences: [], expirationSeconds: 600 } },
        })
      ).status?.token ?? "";
    const tokenFile = path.join(dir, "token");
    const replace = async (text: string) => {
      await writeFile(`${tokenFile}.new`, text);
      await rename(`${tokenFile}.new`, tokenFile);
    };
    await replace(await token());
    // The layout the kubelet mounts at /var/run/secrets/kubernetes.io/serviceaccount.
    const cluster = admin.getCurrentCluster()!;
    await writeFile(path.join(dir, "ca.crt"), await readFile(cluster.caFile!, "utf8"));
    const server = new URL(cluster.server);
    const access = inClusterAccess(
      { KUBERNETES_SERVICE_HOST: server.hostname, KUBERNETES_SERVICE_PORT: server.port },
      dir,
    );
    expect(access?.describe).toBe(`in-cluster (${server.origin})`);
    const probe = createKubeClient(access!);
    const whoAmI = async () =>
      (
        await probe.create<KubeObject & { status?: { userInfo?: { username?: string } } }>(
          "/apis/authentication.k8s.io/v1/selfsubjectreviews",
          { apiVersion: "authentication.k8s.io/v1", kind: "SelfSubjectReview" },
        )
      ).status?.userInfo?.username;
    try {
      expect(await whoAmI()).toBe(`system:serviceaccount:${namespace}:probe`);
      await replace("not-a-token");
      await expect(whoAmI()).rejects.toMatchObject({ status: 401, reason: "Unauthorized" });
      await replace(await token());
      expect(await whoAmI()).toBe(`system:serviceaccount:${namespace}:probe`);
    } finally {
      probe.close();
    }
  });
});
