// graft installed from manifests/ onto the real node, the way a user installs it, and running:
// graft's image built from its Dockerfile (scripts/image.sh) and imported into the node's
// containerd, then manifests/overlays/provided-certs/install.sh (graft certs on the host, then
// `kubectl apply -k`, the caBundle, the Secret, the rollout). Nothing else runs on the host: the
// API server calls the webhook pods through their Service, the kubelet starts the injected
// agent sidecar from the same image and probes it.
//
// The install registers the cluster-wide MutatingWebhookConfiguration `graft` (failurePolicy
// Fail); its selectors only match namespaces or pods that opt in, and afterAll uninstalls it.
import * as k8s from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, isStatus, kubeConfig, uniqueName } from "../e2e/kube.js";
import { AGENT, AGENT_PORT, GRAFT, installGraft, kubectl, must, repo, uninstallGraft } from "./graft.js";
import { namespaceReady, testbox } from "./helpers.js";

const kc = kubeConfig();
const core = kc.makeApiClient(k8s.CoreV1Api);
const apps = kc.makeApiClient(k8s.AppsV1Api);
const batch = kc.makeApiClient(k8s.BatchV1Api);
const policy = kc.makeApiClient(k8s.PolicyV1Api);
const admission = kc.makeApiClient(k8s.AdmissionregistrationV1Api);

const WEBHOOK = "graft-webhook";
const WEBHOOK_PODS = "app.kubernetes.io/name=graft,app.kubernetes.io/component=webhook";
const namespace = uniqueName("graft-install");
const ready = (conditions: { type: string; status: string }[] | undefined) =>
  conditions?.some((c) => c.type === "Ready" && c.status === "True") ?? false;

/** Seconds between two API timestamps (they have one-second resolution). */
const seconds = (from: Date | undefined, to: Date | undefined) =>
  from && to ? (new Date(to).getTime() - new Date(from).getTime()) / 1000 : Number.NaN;

/** GET http://POD_IP:9464/PATH from the host (it reaches pod IPs through the node's bridge). */
async function fromAgent(podIP: string, path: string): Promise<{ status: number; body: string }> {
  const response = await fetch(`http://${podIP}:${AGENT_PORT}${path}`, { signal: AbortSignal.timeout(5000) });
  return { status: response.status, body: await response.text() };
}

/**
 * Creates pods in the opted-in namespace one after another (server-side dry runs: each goes
 * through the webhook, since it declares sideEffects NoneOnDryRun, and none runs) while `action`
 * runs; returns how many were admitted and injected, and every failure.
 */
async function admittingPodsDuring(
  action: () => Promise<void>,
): Promise<{ created: number; failures: string[] }> {
  const failures: string[] = [];
  let created = 0;
  let stop = false;
  const stream = (async () => {
    for (let i = 0; !stop; i++) {
      try {
        const pod = await core.createNamespacedPod({
          namespace,
          dryRun: "All",
          body: {
            metadata: { name: `stream-${i}`, annotations: { "graft.pnda.io/checks": CHECKS } },
            spec: { containers: [testbox("main", ["sleep"])] },
          },
        });
        if (!pod.spec?.initContainers?.some((c) => c.name === AGENT))
          failures.push(`stream-${i}: not injected`);
        created++;
      } catch (err) {
        failures.push(`stream-${i}: ${err instanceof k8s.ApiException ? err.body : String(err)}`);
      }
    }
  })();
  try {
    await eventually("a few pods admitted first", async () => created >= 5);
    await action();
  } finally {
    stop = true;
    await stream;
  }
  return { created, failures };
}

/** Waits until the webhook has 2 Ready pods, nothing else, and `done(pods)` holds. */
async function webhookSettled(done: (pods: k8s.V1Pod[]) => boolean): Promise<void> {
  await eventually(
    "the webhook back at exactly 2 Ready pods",
    async () => {
      const pods = (await core.listNamespacedPod({ namespace: GRAFT, labelSelector: WEBHOOK_PODS })).items;
      return pods.length === 2 && pods.every((p) => ready(p.status?.conditions)) && done(pods);
    },
    { timeoutMs: 180_000, intervalMs: 500 },
  );
}

/** A Deployment + Service `name` of testbox servers on 8080 (Service port 80), never injected. */
async function target(name: string): Promise<void> {
  const labels = { app: name, "graft.pnda.io/inject": "disabled" };
  await apps.createNamespacedDeployment({
    namespace,
    body: {
      metadata: { name },
      spec: {
        replicas: 1,
        selector: { matchLabels: { app: name } },
        template: {
          metadata: { labels },
          spec: {
            terminationGracePeriodSeconds: 2,
            containers: [
              testbox("web", ["serve", ":8080"], {
                readinessProbe: { httpGet: { path: "/healthz", port: 8080 }, periodSeconds: 1 },
              }),
            ],
          },
        },
      },
    },
  });
  await core.createNamespacedService({
    namespace,
    body: { metadata: { name }, spec: { selector: { app: name }, ports: [{ port: 80, targetPort: 8080 }] } },
  });
}

/** The checks annotation of the workloads below: an http and a tcp check against Service `target`. */
const CHECKS = [
  `- {name: target-http, type: http, url: "http://target.${namespace}.svc/healthz", interval: 2s, timeout: 1s}`,
  "- {name: target-tcp, type: tcp, host: target, port: 80, interval: 2s, timeout: 1s}",
].join("\n");

beforeAll(async () => {
  // graft's image and the notebook git server's, built (or reused by content key) and imported
  // into the node's containerd, then install.sh.
  await installGraft("install", { testImages: false });
  await core.createNamespace({
    body: { metadata: { name: namespace, labels: { "graft.pnda.io/inject": "enabled" } } },
  });
  await namespaceReady(core, namespace);
  await target("target");
}, 600_000);

afterAll(async () => {
  // Uninstall: the webhook configuration first, so nothing is refused while the pods go.
  await uninstallGraft("install", [namespace]);
});

describe("graft installed from manifests/ on a real node", () => {
  it("runs the webhook Deployment: 2 replicas Available through HTTPS probes, a PDB, the webhooks by Service", async () => {
    const deployment = await apps.readNamespacedDeployment({ name: WEBHOOK, namespace: GRAFT });
    expect(deployment.status?.availableReplicas).toBe(2);
    expect(deployment.status?.conditions?.find((c) => c.type === "Available")?.status).toBe("True");

    const pods = await core.listNamespacedPod({
      namespace: GRAFT,
      labelSelector: "app.kubernetes.io/name=graft,app.kubernetes.io/component=webhook",
    });
    const running = pods.items.filter((p) => !p.metadata?.deletionTimestamp);
    expect(running).toHaveLength(2);
    for (const pod of running) {
      expect(pod.status?.phase).toBe("Running");
      expect(ready(pod.status?.conditions)).toBe(true);
      const container = pod.spec?.containers[0];
      // The kubelet's own probes passed over HTTPS: Ready needs the readiness probe.
      expect(container?.readinessProbe?.httpGet?.scheme).toBe("HTTPS");
      expect(container?.livenessProbe?.httpGet?.scheme).toBe("HTTPS");
      const status = pod.status?.containerStatuses?.[0];
      expect(status?.ready).toBe(true);
      expect(status?.restartCount).toBe(0);
      expect(status?.image).toContain("ghcr.io/graft/graft:");
    }

    const pdb = await policy.readNamespacedPodDisruptionBudget({ name: WEBHOOK, namespace: GRAFT });
    expect(pdb.status?.currentHealthy).toBe(2);
    expect(pdb.status?.disruptionsAllowed).toBe(1);

    const configuration = await admission.readMutatingWebhookConfiguration({ name: GRAFT });
    expect(configuration.webhooks?.length).toBeGreaterThan(0);
    for (const webhook of configuration.webhooks ?? []) {
      expect(webhook.clientConfig.service).toMatchObject({ namespace: GRAFT, name: WEBHOOK, port: 443 });
      expect(webhook.clientConfig.url).toBeUndefined();
      expect(webhook.clientConfig.caBundle).toBeTruthy();
    }
  });

  it("injects a Deployment's pods whose graft-agent the kubelet starts, probes and keeps Ready; /metrics and /status answer on the pod IP", async () => {
    const labels = { app: "app" };
    await apps.createNamespacedDeployment({
      namespace,
      body: {
        metadata: { name: "app" },
        spec: {
          replicas: 2,
          selector: { matchLabels: labels },
          template: {
            metadata: { labels, annotations: { "graft.pnda.io/checks": CHECKS } },
            spec: { terminationGracePeriodSeconds: 2, containers: [testbox("main", ["serve", ":8080"])] },
          },
        },
      },
    });
    await eventually(
      "Deployment app Available with 2 ready replicas",
      async () => {
        const d = await apps.readNamespacedDeployment({ name: "app", namespace });
        return d.status?.readyReplicas === 2 && d.status.updatedReplicas === 2;
      },
      { timeoutMs: 120_000, intervalMs: 1000 },
    );

    const pods = (await core.listNamespacedPod({ namespace, labelSelector: "app=app" })).items.filter(
      (p) => !p.metadata?.deletionTimestamp,
    );
    expect(pods).toHaveLength(2);
    for (const pod of pods) {
      const name = pod.metadata?.name;
      expect(pod.status?.phase, name).toBe("Running");
      expect(ready(pod.status?.conditions), name).toBe(true);
      // A native sidecar: an init container with restartPolicy Always, started by the kubelet.
      const agent = pod.spec?.initContainers?.find((c) => c.name === AGENT);
      expect(agent?.restartPolicy).toBe("Always");
      expect(agent?.startupProbe?.httpGet?.path).toBe("/healthz");
      expect(agent?.readinessProbe?.httpGet?.path).toBe("/readyz");
      const status = pod.status?.initContainerStatuses?.find((s) => s.name === AGENT);
      expect(status?.started, `${name}: ${JSON.stringify(status)}`).toBe(true);
      expect(status?.ready, `${name}: ${JSON.stringify(status)}`).toBe(true);
      expect(status?.state?.running).toBeDefined();
      expect(status?.restartCount).toBe(0);
      expect(pod.metadata?.annotations?.["prometheus.io/port"]).toBe(String(AGENT_PORT));

      const podIP = pod.status?.podIP ?? "";
      expect(podIP).toMatch(/^10\.213\.\d+\.\d+$/);
      // Both checks reach Service `target` from inside the pod (kube-proxy + CoreDNS): OK.
      const statusDoc = await eventually(
        `${name} /status with both checks OK`,
        async () => {
          const { status: code, body } = await fromAgent(podIP, "/status");
          const doc = JSON.parse(body) as { data: { metric: string; value: unknown }[] };
          const health = (source: string) => doc.data.find((e) => e.metric === `${source}.health`)?.value;
          return code === 200 && health("target-http") === "OK" && health("target-tcp") === "OK"
            ? doc
            : undefined;
        },
        { timeoutMs: 30_000, intervalMs: 1000 },
      );
      expect(statusDoc.data.length).toBeGreaterThanOrEqual(2);
      const metrics = await fromAgent(podIP, "/metrics");
      expect(metrics.status).toBe(200);
      expect(metrics.body).toMatch(/^graft_check_up\{[^}]*check="target-http"[^}]*\} 1$/m);
      expect(metrics.body).toMatch(/^graft_check_up\{[^}]*check="target-tcp"[^}]*\} 1$/m);
    }
  });

  it("completes a Job with the native-sidecar agent within seconds of its main container's exit", async () => {
    await batch.createNamespacedJob({
      namespace,
      body: {
        metadata: { name: "once" },
        spec: {
          backoffLimit: 0,
          template: {
            metadata: { annotations: { "graft.pnda.io/checks": CHECKS } },
            spec: {
              // The default grace period (30 s): a sidecar that ignored SIGTERM would hold the
              // Job that long.
              restartPolicy: "Never",
              containers: [testbox("main", ["sleep", "3"])],
            },
          },
        },
      },
    });
    const job = await eventually(
      "Job once Complete",
      async () => {
        const j = await batch.readNamespacedJob({ name: "once", namespace });
        const failed = j.status?.conditions?.find((c) => c.type === "Failed" && c.status === "True");
        if (failed) throw new Error(`Job failed: ${failed.reason} ${failed.message}`);
        return j.status?.conditions?.some((c) => c.type === "Complete" && c.status === "True")
          ? j
          : undefined;
      },
      { timeoutMs: 120_000, intervalMs: 500 },
    );
    const [pod] = (await core.listNamespacedPod({ namespace, labelSelector: "job-name=once" })).items;
    expect(pod?.spec?.initContainers?.find((c) => c.name === AGENT)?.restartPolicy).toBe("Always");
    const main = pod?.status?.containerStatuses?.find((s) => s.name === "main")?.state?.terminated;
    const agent = pod?.status?.initContainerStatuses?.find((s) => s.name === AGENT)?.state?.terminated;
    expect(main?.exitCode).toBe(0);
    // The kubelet stops the sidecar with SIGTERM once the main container has exited; the agent
    // exits at once, so the pod ends and the Job completes within seconds, not the grace period.
    expect(agent, JSON.stringify(pod?.status?.initContainerStatuses)).toBeDefined();
    const complete = job.status?.conditions?.find((c) => c.type === "Complete")?.lastTransitionTime;
    const agentStop = seconds(main?.finishedAt, agent?.finishedAt);
    const toComplete = seconds(main?.finishedAt, complete);
    process.stdout.write(
      `[install] Job: main exited → agent exited ${agentStop} s (code ${agent?.exitCode}) → Job Complete ${toComplete} s\n`,
    );
    expect(agent?.exitCode).toBe(0);
    expect(agentStop).toBeLessThanOrEqual(5);
    expect(toComplete).toBeLessThanOrEqual(10);
  });

  it("admits every pod of a stream while one of the webhook's 2 replicas is deleted", async () => {
    const [victim] = (await core.listNamespacedPod({ namespace: GRAFT, labelSelector: WEBHOOK_PODS })).items;
    const victimName = victim?.metadata?.name ?? "";
    const { created, failures } = await admittingPodsDuring(async () => {
      await core.deleteNamespacedPod({ name: victimName, namespace: GRAFT });
      // Until the replacement is Ready and the victim is gone (its preStop sleep and drain included).
      await webhookSettled((pods) => !pods.some((p) => p.metadata?.name === victimName));
    });
    process.stdout.write(`[install] ${created} pods admitted while a webhook replica was replaced\n`);
    expect(failures).toEqual([]);
    expect(created).toBeGreaterThan(20);
  });

  it("admits every pod of a stream during a rollout of the webhook Deployment", async () => {
    const before = new Set(
      (await core.listNamespacedPod({ namespace: GRAFT, labelSelector: WEBHOOK_PODS })).items.map(
        (p) => p.metadata?.name,
      ),
    );
    const { created, failures } = await admittingPodsDuring(async () => {
      // What `kubectl rollout restart` does: a new template, so every pod is replaced.
      await must(
        "kubectl rollout restart",
        kubectl(["-n", GRAFT, "rollout", "restart", `deployment/${WEBHOOK}`]),
      );
      await webhookSettled((pods) => !pods.some((p) => before.has(p.metadata?.name)));
    });
    process.stdout.write(`[install] ${created} pods admitted during a rollout of the webhook\n`);
    expect(failures).toEqual([]);
    expect(created).toBeGreaterThan(20);
  });

  it("runs the console from manifests/console: Available, its page answering on the pod IP", async () => {
    await must("kubectl apply -k manifests/console", kubectl(["apply", "-k", `${repo}manifests/console`]));
    const pod = await eventually(
      "a Ready graft-console pod",
      async () => {
        const pods = await core.listNamespacedPod({
          namespace: GRAFT,
          labelSelector: "app.kubernetes.io/component=console",
        });
        return pods.items.find((p) => !p.metadata?.deletionTimestamp && ready(p.status?.conditions));
      },
      { timeoutMs: 120_000, intervalMs: 1000 },
    );
    expect(pod.status?.containerStatuses?.[0]?.restartCount).toBe(0);
    const response = await fetch(`http://${pod.status?.podIP}:8080/`, {
      signal: AbortSignal.timeout(10_000),
    });
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toContain("text/html");
    await response.text();
  });

  it("runs the notebook git server from manifests/notebooks (its own image): Available, nginx and fcgiwrap probed, a repository served, stopped in seconds", async () => {
    await must(
      "kubectl apply -k test/node/notebooks",
      kubectl(["-n", namespace, "apply", "-k", `${repo}test/node/notebooks`]),
    );
    await eventually(
      "Deployment deployment-manager-git Available",
      async () => {
        const d = await apps.readNamespacedDeployment({ name: "deployment-manager-git", namespace });
        return d.status?.availableReplicas === 1;
      },
      { timeoutMs: 120_000, intervalMs: 1000 },
    );
    const [pod] = (
      await core.listNamespacedPod({
        namespace,
        labelSelector: "app.kubernetes.io/name=deployment-manager-git",
      })
    ).items;
    for (const status of pod?.status?.containerStatuses ?? []) {
      expect(status.ready, status.name).toBe(true);
      expect(status.restartCount, status.name).toBe(0);
    }
    expect(pod?.status?.containerStatuses?.map((s) => s.name).sort()).toEqual(["fcgiwrap", "nginx"]);
    // The whole path, nginx → fcgiwrap → git-http-backend: a repository made as the README says
    // is served for clones; an absent one is a 404.
    await must(
      "git init --bare in the pod",
      kubectl([
        "-n",
        namespace,
        "exec",
        pod?.metadata?.name ?? "",
        "-c",
        "fcgiwrap",
        "--",
        "git",
        "init",
        "--bare",
        "--initial-branch=main",
        "/srv/git/jupyter-alice",
      ]),
    );
    const refs = (repository: string) =>
      fetch(`http://${pod?.status?.podIP}:8099/${repository}/info/refs?service=git-upload-pack`, {
        signal: AbortSignal.timeout(10_000),
      });
    const served = await refs("jupyter-alice");
    await served.text();
    expect(served.status).toBe(200);
    expect(served.headers.get("content-type")).toBe("application/x-git-upload-pack-advertisement");
    const absent = await refs("jupyter-nobody");
    await absent.text();
    expect(absent.status).toBe(404);

    // Both containers stop on SIGTERM: the pod is gone in seconds, not the 30 s grace period
    // (fcgiwrap as PID 1 ignored SIGTERM until it ran under tini).
    const name = pod?.metadata?.name ?? "";
    const started = Date.now();
    await core.deleteNamespacedPod({ name, namespace });
    await eventually(
      `pod ${name} gone`,
      () =>
        core.readNamespacedPod({ name, namespace }).then(
          () => false,
          (err: unknown) => isStatus(err, 404),
        ),
      { timeoutMs: 60_000, intervalMs: 250 },
    );
    const gone = (Date.now() - started) / 1000;
    process.stdout.write(`[install] notebook git server pod deleted in ${gone.toFixed(1)} s\n`);
    expect(gone).toBeLessThan(15);
  });
});
