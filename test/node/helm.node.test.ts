// Helm as a user deploys: the helm built from helm.sh/helm/v3 (test/cluster/tools.sh) installs,
// upgrades and uninstalls manifests/examples/pnda-app — a Deployment whose pod template carries
// graft's annotations, the component type and properties from values — into a namespace
// labelled for graft, on the real node with graft installed from manifests/ (test/node/graft.ts).
// What the user sees: injected pods (the JVM prints its properties, the agent is Ready); an
// upgrade with other properties rolls out pods with a new properties ConfigMap while the old
// pod still reads its own; after `helm uninstall` no graft ConfigMap is left (graft made each
// ReplicaSet an owner, so the garbage collector takes them with the Deployment).
import path from "node:path";
import * as k8s from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, kubeConfig, kubeconfigPath, uniqueName } from "../e2e/kube.js";
import { helm } from "../helm/chart.js";
import { tempDir } from "../services/spawn.js";
import {
  AGENT,
  GRAFT,
  installGraft,
  isReady,
  JVM_IMAGE,
  kubectl,
  must,
  repo,
  timed,
  uninstallGraft,
} from "./graft.js";
import { namespaceReady } from "./helpers.js";

const kc = kubeConfig();
const core = kc.makeApiClient(k8s.CoreV1Api);
const apps = kc.makeApiClient(k8s.AppsV1Api);
const namespace = uniqueName("graft-helm");
const TAG = "helm";
const CHART = `${repo}manifests/examples/pnda-app`;
const RELEASE = "wordcount";
const SELECTOR = `app.kubernetes.io/instance=${RELEASE}`;
const PROPS_VOLUME = "graft-properties";

let home: { dir: string; remove: () => Promise<void> } | undefined;

/** The user's helm: its own state in a temporary home, the node cluster's kubeconfig. */
async function userHelm(args: string[]): Promise<string> {
  const ran = await helm([...args, "--kubeconfig", kubeconfigPath()], {
    home: path.join(home?.dir ?? "/nonexistent", "helm"),
  });
  if (ran.code !== 0) throw new Error(`helm ${args[0]} failed (exit ${ran.code}):\n${ran.stderr}`);
  return ran.stdout;
}

/** The release's pods that are not going away. */
async function livePods(): Promise<k8s.V1Pod[]> {
  const pods = await core.listNamespacedPod({ namespace, labelSelector: SELECTOR });
  return pods.items.filter((p) => !p.metadata?.deletionTimestamp);
}

const propertiesConfigMap = (pod: k8s.V1Pod): string =>
  pod.spec?.volumes?.find((v) => v.name === PROPS_VOLUME)?.configMap?.name ?? "";

const replicaSetOf = (pod: k8s.V1Pod): string =>
  pod.metadata?.ownerReferences?.find((o) => o.controller)?.name ?? "";

/** The application.properties a running pod reads through its mount. */
async function fileIn(pod: k8s.V1Pod): Promise<string> {
  return must(
    `cat application.properties in ${pod.metadata?.name}`,
    kubectl([
      "-n",
      namespace,
      "exec",
      pod.metadata?.name ?? "",
      "-c",
      "driver",
      "--",
      "cat",
      "/etc/graft/application.properties",
    ]),
  );
}

async function graftConfigMaps(): Promise<string[]> {
  const list = await core.listNamespacedConfigMap({
    namespace,
    labelSelector: "app.kubernetes.io/managed-by=graft",
  });
  return list.items.map((cm) => cm.metadata?.name ?? "").sort();
}

beforeAll(async () => {
  home = await tempDir("helm-user");
  await installGraft(TAG, { testImages: [JVM_IMAGE] });
  await core.createNamespace({
    body: { metadata: { name: namespace, labels: { "graft.pnda.io/inject": "enabled" } } },
  });
  await namespaceReady(core, namespace);
}, 900_000);

afterAll(async () => {
  await uninstallGraft(TAG, [namespace]);
  await home?.remove();
});

describe("Helm installing, upgrading and uninstalling a PNDA-style chart through graft", () => {
  let first: k8s.V1Pod | undefined;

  it("helm install: the release's pods come out injected, the JVM reads its properties, the agent is Ready", async () => {
    const platform = await core.readNamespacedConfigMap({ name: "graft-platform", namespace: GRAFT });
    const brokers = platform.data?.kafka_brokers;
    expect(brokers).toBeTruthy();
    await timed(TAG, "helm install --wait", () =>
      userHelm([
        "install",
        RELEASE,
        CHART,
        "--namespace",
        namespace,
        "--set-json",
        'properties={"batch_size_seconds":"5"}',
        "--set-json",
        'args=["--stay","environment.kafka_brokers","component.name","component.batch_size_seconds"]',
        "--wait",
        "--timeout",
        "3m",
      ]),
    );
    const pods = await livePods();
    expect(pods).toHaveLength(1);
    const pod = pods[0] as k8s.V1Pod;
    first = pod;
    expect(isReady(pod)).toBe(true);
    // Helm's labels are on the pod; graft's own status annotation says what it injected.
    expect(pod.metadata?.labels).toMatchObject({ "app.kubernetes.io/instance": RELEASE });
    expect(pod.metadata?.annotations?.["graft.pnda.io/status"]).toBeTruthy();
    const agent = pod.spec?.initContainers?.find((c) => c.name === AGENT);
    expect(agent?.restartPolicy).toBe("Always");
    expect(pod.status?.initContainerStatuses?.find((s) => s.name === AGENT)?.ready).toBe(true);
    const configMap = propertiesConfigMap(pod);
    expect(configMap).toMatch(/^graft-props-wordcount-driver-[0-9a-f]{10}$/);

    const log = await eventually(
      "the JVM printed its properties",
      async () => {
        const text = await core.readNamespacedPodLog({
          namespace,
          name: pod.metadata?.name ?? "",
          container: "driver",
        });
        return text.includes("component.batch_size_seconds=") ? text : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 500 },
    );
    expect(log).toContain("application.properties: file:/etc/graft/application.properties");
    expect(log).toContain(`environment.kafka_brokers=${brokers}\n`);
    expect(log).toContain("component.name=driver\n");
    expect(log).toContain("component.batch_size_seconds=5\n");

    // The ConfigMap is owned by the pod's ReplicaSet, which Helm's Deployment made.
    const cm = await core.readNamespacedConfigMap({ name: configMap, namespace });
    expect(cm.metadata?.ownerReferences?.map((o) => `${o.kind}/${o.name}`)).toEqual([
      `ReplicaSet/${replicaSetOf(pod)}`,
    ]);
  });

  it("helm upgrade with other properties: new pods get a new ConfigMap, the old pod keeps reading its own", async () => {
    expect(first).toBeDefined();
    const old = first as k8s.V1Pod;
    const oldConfigMap = propertiesConfigMap(old);
    // minReadySeconds keeps the old pod up beside the new one for a while: both are looked at.
    await timed(TAG, "helm upgrade", () =>
      userHelm([
        "upgrade",
        RELEASE,
        CHART,
        "--namespace",
        namespace,
        "--reuse-values",
        "--set-json",
        'properties={"batch_size_seconds":"10"}',
        "--set",
        "minReadySeconds=30",
      ]),
    );
    const fresh = await eventually(
      "a Ready pod of a new ReplicaSet beside the old pod",
      async () => {
        const pods = await livePods();
        const next = pods.find((p) => replicaSetOf(p) !== replicaSetOf(old) && isReady(p));
        return next && pods.some((p) => p.metadata?.uid === old.metadata?.uid) ? next : undefined;
      },
      { timeoutMs: 120_000, intervalMs: 500 },
    );
    const newConfigMap = propertiesConfigMap(fresh);
    expect(newConfigMap).toMatch(/^graft-props-wordcount-driver-[0-9a-f]{10}$/);
    expect(newConfigMap).not.toBe(oldConfigMap);
    const [oldFile, newFile] = [await fileIn(old), await fileIn(fresh)];
    expect(oldFile).toContain("component.batch_size_seconds=5\n");
    expect(newFile).toContain("component.batch_size_seconds=10\n");
    const cm = await core.readNamespacedConfigMap({ name: newConfigMap, namespace });
    expect(cm.metadata?.ownerReferences?.map((o) => `${o.kind}/${o.name}`)).toEqual([
      `ReplicaSet/${replicaSetOf(fresh)}`,
    ]);

    // The rollout finishes; the old ReplicaSet (Helm keeps the Deployment's history) keeps its
    // ConfigMap, for a rollback.
    await eventually(
      "the rollout done: only the new ReplicaSet's pod",
      async () => {
        const pods = await livePods();
        return pods.length === 1 && replicaSetOf(pods[0] as k8s.V1Pod) === replicaSetOf(fresh);
      },
      { timeoutMs: 120_000, intervalMs: 500 },
    );
    expect(await graftConfigMaps()).toEqual([newConfigMap, oldConfigMap].sort());
  });

  it("helm uninstall: no graft ConfigMap is left once the garbage collector has taken the ReplicaSets", async () => {
    expect(await graftConfigMaps()).toHaveLength(2);
    await timed(TAG, "helm uninstall --wait", () =>
      userHelm(["uninstall", RELEASE, "--namespace", namespace, "--wait", "--timeout", "2m"]),
    );
    await timed(TAG, "graft ConfigMaps gone after uninstall", () =>
      eventually(
        "no graft ConfigMap left in the namespace",
        async () => (await graftConfigMaps()).length === 0,
        { timeoutMs: 60_000, intervalMs: 500 },
      ),
    );
    expect((await apps.listNamespacedReplicaSet({ namespace })).items).toEqual([]);
    expect(await livePods()).toEqual([]);
  });
});
