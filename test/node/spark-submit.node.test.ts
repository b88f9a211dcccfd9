// spark-submit in cluster mode through graft, on the real node: PyPI's pyspark on the host
// (test/services/spark/install.sh) submits the demo's wordcount (a PySpark driver) with
// `--master k8s://https://…` into a namespace labelled for graft; the driver and executor pods
// run graft.local/spark:1 (test/node/images/spark: the JRE, pyspark, an entrypoint of our own
// for Spark's `driver`/`executor` arguments). The driver and executors carry the same graft
// annotations (Spark's spark.kubernetes.{driver,executor}.annotation.*), as
// docs/flows/spark-submit.md says: the driver reads application.properties through the
// injected mount, the agent's Spark check reads the driver's UI, and the executors (owned by
// the driver pod) make the driver pod an owner of the shared properties ConfigMap, so the
// garbage collector deletes it with the driver pod.
import path from "node:path";
import * as k8s from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, kubeConfig, kubeconfigPath, uniqueName } from "../e2e/kube.js";
import { cacheDir, type Started, startProcess } from "../services/spawn.js";
import {
  AGENT,
  AGENT_PORT,
  bash,
  GRAFT,
  installGraft,
  kubectl,
  must,
  repo,
  SPARK_IMAGE,
  timed,
  uninstallGraft,
} from "./graft.js";
import { namespaceReady } from "./helpers.js";

const kc = kubeConfig();
const core = kc.makeApiClient(k8s.CoreV1Api);
const rbac = kc.makeApiClient(k8s.RbacAuthorizationV1Api);
const namespace = uniqueName("graft-spark");
const TAG = "spark-submit";
const DRIVER = "wordcount-driver";
const SPARK_VENV = path.join(cacheDir(), "spark", "venv");
const STOP_FILE = "/tmp/wordcount-stop";

/** graft's annotations, on the driver and (the same) on the executors. */
const GRAFT_ANNOTATIONS = {
  "graft.pnda.io/component-type": "sparkStreaming",
  "graft.pnda.io/app": "wordcount",
  "graft.pnda.io/component": "counter",
};
const SPARK_CHECK = JSON.stringify([
  { name: "spark", type: "spark", url: "http://127.0.0.1:4040", interval: "2s", timeout: "1s" },
]);

let submit: Started | undefined;

beforeAll(async () => {
  await timed(TAG, "test/services/spark/install.sh", () =>
    must("spark install.sh", bash([`${repo}test/services/spark/install.sh`])),
  );
  await installGraft(TAG, { testImages: [SPARK_IMAGE] });
  await core.createNamespace({
    body: { metadata: { name: namespace, labels: { "graft.pnda.io/inject": "enabled" } } },
  });
  await namespaceReady(core, namespace);
  // The driver's ServiceAccount: it creates and deletes its executors, Service and ConfigMaps.
  await core.createNamespacedServiceAccount({ namespace, body: { metadata: { name: "spark" } } });
  await rbac.createNamespacedRoleBinding({
    namespace,
    body: {
      metadata: { name: "spark-edit" },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "edit" },
      subjects: [{ kind: "ServiceAccount", name: "spark", namespace }],
    },
  });
}, 900_000);

afterAll(async () => {
  await submit?.stop();
  if (submit) process.stdout.write(`[${TAG}] spark-submit output tail:\n${submit.output().slice(-3000)}\n`);
  await uninstallGraft(TAG, [namespace]);
});

describe("spark-submit in cluster mode through graft on a real node", () => {
  it("runs an injected driver that prints a platform variable from application.properties; the agent's Spark check reads it healthy; executors do the count", async () => {
    const platform = await core.readNamespacedConfigMap({ name: "graft-platform", namespace: GRAFT });
    const brokers = platform.data?.kafka_brokers;
    expect(brokers).toBeTruthy();
    const server = kc.getCurrentCluster()?.server ?? "";
    expect(server).toMatch(/^https:\/\//);
    const conf: Record<string, string> = {
      "spark.kubernetes.namespace": namespace,
      "spark.kubernetes.container.image": SPARK_IMAGE,
      "spark.kubernetes.container.image.pullPolicy": "Never",
      "spark.kubernetes.driver.pod.name": DRIVER,
      "spark.kubernetes.authenticate.driver.serviceAccountName": "spark",
      "spark.kubernetes.authenticate.executor.serviceAccountName": "spark",
      "spark.executor.instances": "2",
      "spark.driver.memory": "512m",
      "spark.executor.memory": "512m",
      "spark.kubernetes.driver.request.cores": "100m",
      "spark.kubernetes.executor.request.cores": "100m",
      "spark.kubernetes.submission.waitAppCompletion": "true",
      "spark.kubernetes.report.interval": "2s",
    };
    for (const [key, value] of Object.entries(GRAFT_ANNOTATIONS)) {
      conf[`spark.kubernetes.driver.annotation.${key}`] = value;
      conf[`spark.kubernetes.executor.annotation.${key}`] = value;
    }
    conf["spark.kubernetes.driver.annotation.graft.pnda.io/checks"] = SPARK_CHECK;
    conf["spark.kubernetes.executor.annotation.graft.pnda.io/health"] = "false";
    const submitted = Date.now();
    submit = startProcess(
      path.join(SPARK_VENV, "bin", "spark-submit"),
      [
        "--master",
        `k8s://${server}`,
        "--deploy-mode",
        "cluster",
        "--name",
        "wordcount",
        ...Object.entries(conf).flatMap(([key, value]) => ["--conf", `${key}=${value}`]),
        "local:///opt/app/wordcount.py",
        "--until",
        STOP_FILE,
        "environment.kafka_brokers",
        "component.name",
        "kubernetes.namespace",
      ],
      {
        env: {
          KUBECONFIG: kubeconfigPath(),
          PATH: `${path.join(SPARK_VENV, "bin")}:${process.env.PATH ?? ""}`,
        },
      },
    );
    const child = submit.child;
    const exited = new Promise<number>((resolve) => child.on("close", (code) => resolve(code ?? 1)));

    // The driver prints its properties and the count (so its executors ran).
    const log = await eventually(
      "the driver counted the words",
      async () => {
        const text = await core
          .readNamespacedPodLog({ namespace, name: DRIVER, container: "spark-kubernetes-driver" })
          .catch(() => "");
        return /wordcount: \d+ words/.test(text) ? text : undefined;
      },
      { timeoutMs: 300_000, intervalMs: 1000 },
    );
    process.stdout.write(
      `[${TAG}] driver counted ${((Date.now() - submitted) / 1000).toFixed(1)} s after submit\n`,
    );
    expect(log).toContain("Picked up JAVA_TOOL_OPTIONS: -Xbootclasspath/a:/etc/graft");
    expect(log).toContain("application.properties: file:/etc/graft/application.properties");
    expect(log).toContain(`environment.kafka_brokers=${brokers}\n`);
    expect(log).toContain("component.name=counter\n");
    expect(log).toContain(`kubernetes.namespace=${namespace}\n`);

    const driver = await core.readNamespacedPod({ namespace, name: DRIVER });
    expect(driver.metadata?.ownerReferences ?? []).toEqual([]);
    expect(driver.spec?.initContainers?.some((c) => c.name === AGENT)).toBe(true);
    const configMap = driver.spec?.volumes?.find((v) => v.name === "graft-properties")?.configMap?.name ?? "";
    expect(configMap).toMatch(/^graft-props-wordcount-counter-[0-9a-f]{10}$/);

    // Executors: owned by the driver pod, same annotations, so the same ConfigMap; no agent.
    const executors = (await core.listNamespacedPod({ namespace, labelSelector: "spark-role=executor" }))
      .items;
    expect(executors.length).toBeGreaterThan(0);
    for (const executor of executors) {
      expect(executor.metadata?.ownerReferences?.find((o) => o.controller)?.name).toBe(DRIVER);
      expect(executor.spec?.volumes?.find((v) => v.name === "graft-properties")?.configMap?.name).toBe(
        configMap,
      );
      expect(executor.spec?.initContainers?.some((c) => c.name === AGENT) ?? false).toBe(false);
    }
    const cm = await core.readNamespacedConfigMap({ namespace, name: configMap });
    expect(cm.metadata?.ownerReferences?.map((o) => `${o.kind}/${o.name}`)).toEqual([`Pod/${DRIVER}`]);

    // While the driver runs, its agent's Spark check reads the driver's UI and finds it healthy.
    const podIP = driver.status?.podIP ?? "";
    await eventually(
      "the agent's Spark check up",
      async () => {
        const text = await (await fetch(`http://${podIP}:${AGENT_PORT}/metrics`)).text();
        return /graft_check_up\{[^}]*check="spark"[^}]*\} 1\b/.test(text);
      },
      { timeoutMs: 90_000, intervalMs: 1000 },
    );

    // The app ends; spark-submit reports the driver Succeeded and exits 0.
    await must(
      "stop the driver",
      kubectl(["-n", namespace, "exec", DRIVER, "-c", "spark-kubernetes-driver", "--", "touch", STOP_FILE]),
    );
    const code = await exited;
    expect(code, submit.output().slice(-3000)).toBe(0);
    expect((await core.readNamespacedPod({ namespace, name: DRIVER })).status?.phase).toBe("Succeeded");
  });

  it("deletes the properties ConfigMap with the driver pod (the garbage collector, through the executors' owner)", async () => {
    const driver = await core.readNamespacedPod({ namespace, name: DRIVER });
    const configMap = driver.spec?.volumes?.find((v) => v.name === "graft-properties")?.configMap?.name ?? "";
    expect(configMap).not.toBe("");
    // A finished driver stays for its log (Spark leaves it); the ConfigMap stays with it.
    await core.readNamespacedConfigMap({ namespace, name: configMap });
    await core.deleteNamespacedPod({ namespace, name: DRIVER });
    await timed(TAG, "properties ConfigMap gone after the driver pod", () =>
      eventually(
        `ConfigMap ${configMap} deleted`,
        async () =>
          !(await core
            .listNamespacedConfigMap({ namespace, labelSelector: "app.kubernetes.io/managed-by=graft" })
            .then((l) => l.items.some((c) => c.metadata?.name === configMap))),
        { timeoutMs: 90_000, intervalMs: 500 },
      ),
    );
  });
});
