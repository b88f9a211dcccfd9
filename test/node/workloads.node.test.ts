// What graft adds, running in real containers of the kinds PNDA ran, on the real node with graft
// installed from manifests/ (test/node/graft.ts):
// - a Jupyter single-user server (graft.local/jupyter:1: Debian + jupyter_server from PyPI) whose
//   notebook container runs the injected postStart hook against the notebook git server pod
//   (manifests/notebooks, its own image): the user's folder is there when the server answers,
//   listed by the Jupyter contents API; with the git server down the server still starts, within
//   the hook's bound;
// - a JVM (graft.local/jvm:1: Debian's OpenJDK 17 JRE) reading application.properties from its
//   class path through the injected mount and JAVA_TOOL_OPTIONS, printing a platform variable;
// - Prometheus (upstream's, built by test/node/prometheus/build.sh, on the host) discovering the agents through the Kubernetes API with the
//   relabelling the PodMonitor of manifests/monitoring makes, scraping pod IPs, and the console
//   from manifests/console, in the cluster, showing what it scraped.
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import * as k8s from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { NOTEBOOK_SYNC_VERIFIER } from "../../webhook/features/notebooks/sync-script.js";
import { eventually, kubeConfig, uniqueName } from "../e2e/kube.js";
import { freePort, type Started, startProcess, tempDir, waitFor } from "../services/spawn.js";
import {
  AGENT,
  AGENT_PORT,
  bash,
  GRAFT,
  installGraft,
  isReady,
  JUPYTER_IMAGE,
  JVM_IMAGE,
  kubectl,
  must,
  podReady,
  repo,
  uninstallGraft,
} from "./graft.js";
import { namespaceReady, testbox, whileScaledToZero } from "./helpers.js";

const kc = kubeConfig();
const core = kc.makeApiClient(k8s.CoreV1Api);
const apps = kc.makeApiClient(k8s.AppsV1Api);
const namespace = uniqueName("graft-workloads");
const GIT = "deployment-manager-git";
const TAG = "workloads";

/** A notebook as a publisher puts it in a user's repository. */
const NOTEBOOK = JSON.stringify({
  cells: [{ cell_type: "markdown", metadata: {}, source: ["# wordcount, explored"] }],
  metadata: {},
  nbformat: 4,
  nbformat_minor: 5,
});

/** Runs a fixed shell script in the git server's fcgiwrap container, with ARGS as $1... */
function inGitServer(pod: string, script: string, args: string[]): Promise<string> {
  return must(
    "kubectl exec in the git server",
    kubectl(["-n", namespace, "exec", pod, "-c", "fcgiwrap", "--", "sh", "-ec", script, "sh", ...args]),
  );
}

async function gitServerPod(): Promise<k8s.V1Pod> {
  return eventually(
    `Deployment ${GIT} Available`,
    async () => {
      const d = await apps.readNamespacedDeployment({ name: GIT, namespace });
      if (d.status?.availableReplicas !== 1) return undefined;
      const pods = await core.listNamespacedPod({
        namespace,
        labelSelector: `app.kubernetes.io/name=${GIT}`,
      });
      return pods.items.find((p) => !p.metadata?.deletionTimestamp && isReady(p));
    },
    { timeoutMs: 120_000, intervalMs: 1000 },
  );
}

/** A single-user server pod as KubeSpawner makes it (labels, annotation, container `notebook`). */
function jupyterPod(user: string): k8s.V1Pod {
  return {
    metadata: {
      name: `jupyter-${user}`,
      labels: { component: "singleuser-server", "hub.jupyter.org/username": user },
      annotations: { "graft.pnda.io/component-type": "jupyter", "hub.jupyter.org/username": user },
    },
    spec: {
      terminationGracePeriodSeconds: 2,
      securityContext: { runAsUser: 1000, runAsGroup: 1000, fsGroup: 1000 },
      containers: [
        {
          name: "notebook",
          image: JUPYTER_IMAGE,
          imagePullPolicy: "Never",
          ports: [{ name: "notebook-port", containerPort: 8888 }],
          readinessProbe: { httpGet: { path: "/api", port: 8888 }, periodSeconds: 1 },
          securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } },
        },
      ],
    },
  };
}

/** GET http://POD_IP:8888/api/contents/PATH: the Jupyter contents API's listing, names only. */
async function contents(podIP: string, folder: string): Promise<{ status: number; names: string[] }> {
  const response = await fetch(`http://${podIP}:8888/api/contents/${folder}?content=1`, {
    signal: AbortSignal.timeout(10_000),
  });
  if (response.status !== 200) {
    await response.text();
    return { status: response.status, names: [] };
  }
  const doc = (await response.json()) as { content: { name: string }[] };
  return { status: 200, names: doc.content.map((entry) => entry.name).sort() };
}

function syncLog(pod: string): Promise<string> {
  return must(
    "cat the sync log",
    kubectl([
      "-n",
      namespace,
      "exec",
      pod,
      "-c",
      "notebook",
      "--",
      "cat",
      "/home/jovyan/.graft-notebook-sync.log",
    ]),
  );
}

beforeAll(async () => {
  await installGraft(TAG);
  await core.createNamespace({
    body: { metadata: { name: namespace, labels: { "graft.pnda.io/inject": "enabled" } } },
  });
  await namespaceReady(core, namespace);
  // The notebook git server, as the install test runs it (an emptyDir for the repositories).
  await must(
    "kubectl apply -k test/node/notebooks",
    kubectl(["-n", namespace, "apply", "-k", `${repo}test/node/notebooks`]),
  );
}, 900_000);

afterAll(async () => {
  await uninstallGraft(TAG, [namespace]);
});

describe("real workloads with graft on a real node", () => {
  it("starts a Jupyter server whose notebook folder the injected hook cloned from the git server pod before it started", async () => {
    const git = await gitServerPod();
    // What PNDA's deployment manager did: publish the user's notebooks to jupyter-alice.
    await inGitServer(
      git.metadata?.name ?? "",
      [
        'git init -q --bare --initial-branch=main "/srv/git/jupyter-$1"',
        'work=$(mktemp -d) && cd "$work" && git init -q --initial-branch=main',
        'mkdir wordcount && printf %s "$2" >wordcount/explore.ipynb && git add -A',
        "git -c user.name=pnda -c user.email=pnda@example.invalid commit -qm publish",
        'git push -q "/srv/git/jupyter-$1" main && rm -rf "$work"',
      ].join("\n"),
      ["alice", NOTEBOOK],
    );

    const created = Date.now();
    await core.createNamespacedPod({ namespace, body: jupyterPod("alice") });
    const pod = await podReady(core, namespace, "jupyter-alice");
    process.stdout.write(
      `[${TAG}] jupyter-alice Ready ${((Date.now() - created) / 1000).toFixed(1)} s after creation\n`,
    );
    const notebook = pod.spec?.containers.find((c) => c.name === "notebook");
    expect(notebook?.lifecycle?.postStart?.exec?.command?.slice(0, 4)).toEqual([
      "sh",
      "-c",
      NOTEBOOK_SYNC_VERIFIER,
      "/graft/notebook-sync/sync.sh",
    ]);
    expect(pod.spec?.initContainers?.some((c) => c.name === AGENT)).toBe(true);
    const status = pod.status?.containerStatuses?.find((s) => s.name === "notebook");
    expect(status?.restartCount).toBe(0);

    // The kubelet marks the container started only after its postStart hook returned: the first
    // answer of the server already lists the cloned folder.
    const podIP = pod.status?.podIP ?? "";
    expect(await contents(podIP, "apps-notebooks")).toEqual({ status: 200, names: ["wordcount"] });
    expect(await contents(podIP, "apps-notebooks/wordcount")).toEqual({
      status: 200,
      names: ["explore.ipynb"],
    });
    const log = await syncLog("jupyter-alice");
    expect(log).toMatch(
      new RegExp(
        `cloned http://${GIT}:8099/jupyter-alice into /home/jovyan/apps-notebooks at [0-9a-f]+: 1 files`,
      ),
    );
  });

  it("still starts a Jupyter server within the hook's bound while the git server is down", async () => {
    await whileScaledToZero({ apps, core }, namespace, GIT, async () => {
      const created = Date.now();
      await core.createNamespacedPod({ namespace, body: jupyterPod("bob") });
      const pod = await podReady(core, namespace, "jupyter-bob", 90_000);
      const seconds = (Date.now() - created) / 1000;
      process.stdout.write(
        `[${TAG}] jupyter-bob Ready ${seconds.toFixed(1)} s after creation, git server down\n`,
      );
      // notebooks.waitSeconds is 20: the hook returns by then whatever git does (here the Service
      // has no endpoints; the clone hangs until the bound), and the rest of a start takes seconds.
      expect(seconds).toBeLessThan(50);
      expect(pod.status?.containerStatuses?.find((s) => s.name === "notebook")?.restartCount).toBe(0);
      expect((await contents(pod.status?.podIP ?? "", "apps-notebooks")).status).toBe(404);
      expect(await syncLog("jupyter-bob")).toMatch(
        /could not clone http:\/\/\S+\/jupyter-bob|still syncing after 20 s: the container starts now/,
      );
    });
  });

  it("gives a JVM application.properties on its class path: it prints a platform variable", async () => {
    const platform = await core.readNamespacedConfigMap({ name: "graft-platform", namespace: GRAFT });
    const brokers = platform.data?.kafka_brokers;
    expect(brokers).toBeTruthy();
    await core.createNamespacedPod({
      namespace,
      body: {
        metadata: {
          name: "jvm",
          annotations: {
            "graft.pnda.io/component-type": "sparkStreaming",
            "graft.pnda.io/app": "wordcount",
            "graft.pnda.io/component": "counter",
          },
        },
        spec: {
          restartPolicy: "Never",
          terminationGracePeriodSeconds: 2,
          containers: [
            {
              name: "main",
              image: JVM_IMAGE,
              imagePullPolicy: "Never",
              args: ["environment.kafka_brokers", "component.name", "kubernetes.namespace"],
              securityContext: {
                runAsNonRoot: true,
                allowPrivilegeEscalation: false,
                readOnlyRootFilesystem: true,
                capabilities: { drop: ["ALL"] },
              },
            },
          ],
        },
      },
    });
    const phase = await eventually(
      "pod jvm to finish",
      async () => {
        const p = (await core.readNamespacedPod({ name: "jvm", namespace })).status?.phase;
        return p === "Succeeded" || p === "Failed" ? p : undefined;
      },
      { timeoutMs: 120_000, intervalMs: 500 },
    );
    const log = await core.readNamespacedPodLog({ name: "jvm", namespace, container: "main" });
    expect({ phase, log }).toMatchObject({ phase: "Succeeded" });
    expect(log).toContain("Picked up JAVA_TOOL_OPTIONS: -Xbootclasspath/a:/etc/graft");
    expect(log).toContain("application.properties: file:/etc/graft/application.properties");
    expect(log).toContain(`environment.kafka_brokers=${brokers}\n`);
    expect(log).toContain("component.name=counter\n");
    expect(log).toContain(`kubernetes.namespace=${namespace}\n`);
  });

  describe("Prometheus discovering the agents through the Kubernetes API", () => {
    let prometheus: Started | undefined;
    let removeDir: (() => Promise<void>) | undefined;
    afterAll(async () => {
      await prometheus?.stop();
      await removeDir?.();
    });

    it("scrapes every agent at its pod IP with the PodMonitor's relabelling, and the console shows them", async () => {
      // Two injected pods with a check against the git server's Service.
      await gitServerPod();
      const labels = { app: "counted" };
      await apps.createNamespacedDeployment({
        namespace,
        body: {
          metadata: { name: "counted" },
          spec: {
            replicas: 2,
            selector: { matchLabels: labels },
            template: {
              metadata: {
                labels,
                annotations: {
                  "graft.pnda.io/checks": `- {name: git, type: http, url: "http://${GIT}:8099/healthz", interval: 2s, timeout: 1s}`,
                },
              },
              spec: { terminationGracePeriodSeconds: 2, containers: [testbox("main", ["serve", ":8080"])] },
            },
          },
        },
      });
      const pods = await eventually(
        "Deployment counted: 2 Ready pods",
        async () => {
          const list = (
            await core.listNamespacedPod({ namespace, labelSelector: "app=counted" })
          ).items.filter((p) => !p.metadata?.deletionTimestamp);
          return list.length === 2 && list.every(isReady) ? list : undefined;
        },
        { timeoutMs: 120_000, intervalMs: 1000 },
      );

      // Prometheus on the host, on the node's address (the bridge), so the console pod reaches it.
      const [node] = (await core.listNode()).items;
      const nodeIP = node?.status?.addresses?.find((a) => a.type === "InternalIP")?.address ?? "";
      expect(nodeIP).toMatch(/^10\.213\.\d+\.1$/);
      const { dir, remove } = await tempDir("prometheus-sd");
      removeDir = remove;
      const cluster = kc.getCurrentCluster();
      const user = kc.getCurrentUser();
      // The kubeconfig's credentials as files, whether it holds them inline or names files.
      const file = async (name: string, inline: string | undefined, named: string | undefined) => {
        if (named) return named;
        if (!inline) throw new Error(`the node cluster's kubeconfig has no ${name}`);
        await writeFile(path.join(dir, name), Buffer.from(inline, "base64"));
        return path.join(dir, name);
      };
      const caFile = await file("ca.crt", cluster?.caData, cluster?.caFile);
      const certFile = await file("client.crt", user?.certData, user?.certFile);
      const keyFile = await file("client.key", user?.keyData, user?.keyFile);
      // prometheus-operator's rendering of manifests/monitoring/podmonitor.yaml, reduced to what
      // the PodMonitor says: any namespace, every pod, the container port named graft-metrics.
      const config = `global: {scrape_interval: 2s, evaluation_interval: 2s}
scrape_configs:
  - job_name: podMonitor/graft/graft-agent/0
    scrape_interval: 2s
    scrape_timeout: 1s
    metrics_path: /metrics
    kubernetes_sd_configs:
      - role: pod
        api_server: ${JSON.stringify(cluster?.server)}
        tls_config: {ca_file: ${JSON.stringify(caFile)}, cert_file: ${JSON.stringify(certFile)}, key_file: ${JSON.stringify(keyFile)}}
    relabel_configs:
      - {source_labels: [__meta_kubernetes_pod_phase], regex: "(Failed|Succeeded)", action: drop}
      - {source_labels: [__meta_kubernetes_pod_container_port_name], regex: graft-metrics, action: keep}
      - {source_labels: [__meta_kubernetes_namespace], target_label: namespace}
      - {source_labels: [__meta_kubernetes_pod_name], target_label: pod}
      - {source_labels: [__meta_kubernetes_pod_container_name], target_label: container}
      - {target_label: job, replacement: graft/graft-agent}
`;
      await writeFile(path.join(dir, "prometheus.yml"), config);
      await mkdir(path.join(dir, "data"));
      const port = await freePort();
      const url = `http://${nodeIP}:${port}`;
      // Upstream's, built with its Kubernetes discovery (Debian's has none): test/node/prometheus.
      const binary = (
        await must("test/node/prometheus/build.sh", bash([`${repo}test/node/prometheus/build.sh`]))
      ).trim();
      prometheus = startProcess(binary, [
        `--config.file=${path.join(dir, "prometheus.yml")}`,
        `--storage.tsdb.path=${path.join(dir, "data")}`,
        `--web.listen-address=${nodeIP}:${port}`,
        "--log.level=warn",
      ]);
      await waitFor("prometheus ready", async () => (await fetch(`${url}/-/ready`)).ok, {
        process: prometheus,
        timeoutMs: 60_000,
      });

      type Sample = { metric: Record<string, string>; value: [number, string] };
      const query = async (promql: string): Promise<Sample[]> => {
        const response = await fetch(`${url}/api/v1/query?query=${encodeURIComponent(promql)}`);
        const doc = (await response.json()) as { data: { result: Sample[] } };
        return doc.data.result;
      };
      const names = pods.map((p) => p.metadata?.name ?? "").sort();
      const targets = await eventually(
        "both agents scraped, their git check OK",
        async () => {
          const up = await query(`graft_check_up{namespace="${namespace}",check="git"}`);
          return up.length === 2 && up.every((s) => s.value[1] === "1") ? up : undefined;
        },
        { timeoutMs: 90_000, intervalMs: 1000 },
      );
      expect(targets.map((s) => s.metric.pod).sort()).toEqual(names);
      for (const sample of targets) {
        const pod = pods.find((p) => p.metadata?.name === sample.metric.pod);
        expect(sample.metric).toMatchObject({ container: AGENT, job: "graft/graft-agent" });
        // Scraped at the pod's IP, on the agent's port: the host reaches the pod subnet.
        expect(sample.metric.instance).toBe(`${pod?.status?.podIP}:${AGENT_PORT}`);
      }
      // Only agents' ports are targets: never the Jupyter server's 8888 nor the git server's 8099.
      const scraped = await query(`up{namespace="${namespace}"}`);
      expect(scraped.length).toBeGreaterThanOrEqual(2);
      expect(
        scraped.filter((s) => s.metric.container !== AGENT || !s.metric.instance?.endsWith(`:${AGENT_PORT}`)),
      ).toEqual([]);

      // The console from manifests/console, in the cluster, reading this Prometheus.
      await must("kubectl apply -k manifests/console", kubectl(["apply", "-k", `${repo}manifests/console`]));
      await must(
        "point the console at the host's Prometheus",
        kubectl([
          "-n",
          GRAFT,
          "patch",
          "deployment",
          "graft-console",
          "--type=json",
          `-p=${JSON.stringify([{ op: "replace", path: "/spec/template/spec/containers/0/args/2", value: `--prometheus-url=${url}` }])}`,
        ]),
      );
      const consolePod = await eventually(
        "a Ready graft-console pod reading the host's Prometheus",
        async () => {
          const list = await core.listNamespacedPod({
            namespace: GRAFT,
            labelSelector: "app.kubernetes.io/component=console",
          });
          return list.items.find(
            (p) =>
              !p.metadata?.deletionTimestamp &&
              isReady(p) &&
              p.spec?.containers[0]?.args?.includes(`--prometheus-url=${url}`),
          );
        },
        { timeoutMs: 120_000, intervalMs: 1000 },
      );
      type Report = {
        services: { source: string; pods: { namespace: string; pod: string; shown: string }[] }[];
      };
      const tile = await eventually(
        "the console's tile for the git check with both pods OK",
        async () => {
          const response = await fetch(`http://${consolePod.status?.podIP}:8080/api/health`, {
            signal: AbortSignal.timeout(10_000),
          });
          if (response.status !== 200) return undefined;
          const report = (await response.json()) as Report;
          const pods = report.services.flatMap((s) => s.pods.map((p) => ({ ...p, source: s.source })));
          const ours = pods.filter((p) => p.namespace === namespace && names.includes(p.pod));
          return ours.length === 2 && ours.every((p) => p.shown === "OK") ? ours : undefined;
        },
        { timeoutMs: 60_000, intervalMs: 1000 },
      );
      expect(tile.map((p) => p.pod).sort()).toEqual(names);
    });
  });
});
