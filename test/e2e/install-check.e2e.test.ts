// `graft check` (the built CLI) against test/cluster's kube-apiserver: charts/graft installed by
// the real helm (tls.mode=provided, a CA of the test's own), and, since kwok runs no containers,
// the webhook configuration pointed at a `graft webhook` process on this host serving the same
// certificate (it names graft-webhook.<ns>.svc and 127.0.0.1). Healthy, every check passes and the
// exit code is 0; then each broken state it claims to detect is made, seen failing (exit 1, the
// fix printed), and undone.
import { spawn } from "node:child_process";
import { X509Certificate } from "node:crypto";
import { writeFile } from "node:fs/promises";
import { connect } from "node:tls";
import * as k8s from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAuthority, issueServingCert } from "../../certs/authority.js";
import { chartDir, helm, helmBinary, repo } from "../helm/chart.js";
import { startAgentProcess } from "../services/agent.js";
import { startPrometheus } from "../services/prometheus.js";
import { tempDir } from "../services/spawn.js";
import { startWebhookCli, type WebhookCli } from "../services/webhook-cli.js";
import { eventually, kubeConfig, kubeconfigPath, uniqueName } from "./kube.js";

type Check = { name: string; ok: boolean; detail: string; fix?: string };

const kc = kubeConfig();
const core = kc.makeApiClient(k8s.CoreV1Api);
const apps = kc.makeApiClient(k8s.AppsV1Api);
const admission = kc.makeApiClient(k8s.AdmissionregistrationV1Api);
const namespace = uniqueName("graft-e2e-chk");
let home: { dir: string; remove: () => Promise<void> };
let webhook: WebhookCli | undefined;

function graftCheck(...args: string[]): Promise<{ code: number; stdout: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ["bin/graft.js", "check", "--kubeconfig", kubeconfigPath(), "--namespace", namespace, ...args],
      { cwd: repo, stdio: ["ignore", "pipe", "inherit"] },
    );
    let stdout = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      stdout += chunk;
    });
    child.on("error", reject);
    child.on("close", (code) => resolve({ code: code ?? 1, stdout }));
  });
}

async function checks(...args: string[]): Promise<{ code: number; failed: Check[]; all: Check[] }> {
  const ran = await graftCheck("--output", "json", ...args);
  const report = JSON.parse(ran.stdout) as { ok: boolean; checks: Check[] };
  expect(report.ok).toBe(ran.code === 0);
  return { code: ran.code, failed: report.checks.filter((c) => !c.ok), all: report.checks };
}

const servedSerial = (base: string) =>
  new Promise<string>((resolve, reject) => {
    const { hostname, port } = new URL(base);
    const socket = connect({ host: hostname, port: Number(port), rejectUnauthorized: false }, () => {
      resolve(socket.getPeerCertificate().serialNumber);
      socket.end();
    });
    socket.on("error", reject);
  });

beforeAll(async () => {
  await helmBinary();
  home = await tempDir("graft-check");
  const now = new Date();
  const ca = createAuthority({ now });
  const serving = issueServingCert(ca, {
    now,
    dnsNames: [`graft-webhook.${namespace}.svc`],
    ipAddresses: ["127.0.0.1"],
  });
  await core.createNamespace({ body: { metadata: { name: namespace } } });
  await core.createNamespacedSecret({
    namespace,
    body: {
      metadata: { name: "graft-webhook-tls" },
      type: "kubernetes.io/tls",
      stringData: { "tls.crt": serving.cert, "tls.key": serving.key, "ca.crt": ca.cert },
    },
  });
  const installed = await helm(
    [
      "install",
      "graft",
      chartDir,
      "-n",
      namespace,
      "--kubeconfig",
      kubeconfigPath(),
      "--set",
      "tls.mode=provided",
      "--wait",
    ],
    { home: home.dir },
  );
  if (installed.code !== 0) throw new Error(`helm install failed:\n${installed.stderr}`);

  webhook = await startWebhookCli({
    config: `namespace: ${namespace}\nnativeSidecars: never\n`,
    args: ["--kubeconfig", kubeconfigPath()],
  });
  const cli = webhook;
  await writeFile(cli.keyFile, serving.key);
  await writeFile(cli.certFile, serving.cert);
  const serial = new X509Certificate(serving.cert).serialNumber.toUpperCase();
  await eventually(
    "the webhook serving the install's certificate",
    async () => (await servedSerial(cli.base)).toUpperCase() === serial,
  );
  // kwok runs no pods: the API server calls the process on this host instead of the Service.
  const configuration = await admission.readMutatingWebhookConfiguration({ name: "graft" });
  for (const w of configuration.webhooks ?? []) {
    const path = w.clientConfig.service?.path ?? "";
    w.clientConfig = { url: `${cli.base}${path}`, caBundle: w.clientConfig.caBundle };
  }
  await admission.replaceMutatingWebhookConfiguration({ name: "graft", body: configuration });
}, 1_800_000);

afterAll(async () => {
  await webhook?.cleanup();
  if (home) {
    await helm(
      [
        "uninstall",
        "graft",
        "-n",
        namespace,
        "--wait",
        "--ignore-not-found",
        "--kubeconfig",
        kubeconfigPath(),
      ],
      {
        home: home.dir,
      },
    );
  }
  await core.deleteNamespace({ name: namespace }).catch(() => undefined);
  await home?.remove();
});

describe("graft check", () => {
  it("passes every check on a healthy install and exits 0", async () => {
    const { code, failed, all } = await checks();
    expect(failed).toEqual([]);
    expect(code).toBe(0);
    expect(all.map((c) => c.name)).toEqual([
      "webhook Deployment available",
      "webhook endpoints ready",
      "caBundle trusts the serving certificate",
      "RBAC and write policy in place",
      "graft-platform present",
      "opted-in namespaces",
      "a dry-run pod in an opted-in namespace is injected",
      "webhook and agents run one image",
    ]);
    expect(all.find((c) => c.name.startsWith("caBundle"))?.detail).toMatch(/expires in 36[45] days/);
  });

  it("no replica available: the Deployment and endpoint checks fail (text output: ✘ and the fix)", async () => {
    await apps.patchNamespacedDeploymentScale(
      { name: "graft-webhook", namespace, body: { spec: { replicas: 0 } } },
      k8s.setHeaderOptions("Content-Type", k8s.PatchStrategy.MergePatch),
    );
    try {
      await eventually(
        "no webhook replica",
        async () =>
          !(await apps.readNamespacedDeployment({ name: "graft-webhook", namespace })).status
            ?.availableReplicas,
      );
      const { code, failed } = await eventually("both checks failing", async () => {
        const result = await checks();
        return result.failed.length >= 2 ? result : false;
      });
      expect(code).toBe(1);
      expect(failed.map((c) => c.name)).toEqual(["webhook Deployment available", "webhook endpoints ready"]);
      const text = await graftCheck();
      expect(text.stdout).toMatch(
        /✘ webhook Deployment available: 0\/0 replicas available\n {4}fix: kubectl/,
      );
      expect(text.stdout).toMatch(/✔ graft-platform present/);
    } finally {
      await apps.patchNamespacedDeploymentScale(
        { name: "graft-webhook", namespace, body: { spec: { replicas: 2 } } },
        k8s.setHeaderOptions("Content-Type", k8s.PatchStrategy.MergePatch),
      );
      await eventually("replicas back", async () => (await checks()).code === 0);
    }
  });

  it("a serving certificate the caBundle did not sign fails the TLS check", async () => {
    const secret = await core.readNamespacedSecret({ name: "graft-webhook-tls", namespace });
    const other = createAuthority({ now: new Date() });
    const stranger = issueServingCert(other, {
      now: new Date(),
      dnsNames: [`graft-webhook.${namespace}.svc`],
    });
    await core.replaceNamespacedSecret({
      name: "graft-webhook-tls",
      namespace,
      body: { ...secret, data: { ...secret.data, "tls.crt": Buffer.from(stranger.cert).toString("base64") } },
    });
    try {
      const { code, failed } = await checks();
      expect(code).toBe(1);
      expect(failed.map((c) => c.name)).toEqual(["caBundle trusts the serving certificate"]);
      expect(failed[0]?.detail).toMatch(/did not sign/);
    } finally {
      const now = await core.readNamespacedSecret({ name: "graft-webhook-tls", namespace });
      await core.replaceNamespacedSecret({
        name: "graft-webhook-tls",
        namespace,
        body: { ...now, data: secret.data },
      });
    }
  });

  it("a missing graft-platform, write policy: each named", async () => {
    const platform = await core.readNamespacedConfigMap({ name: "graft-platform", namespace });
    const policy = await admission.readValidatingAdmissionPolicy({ name: "graft-writes" });
    await core.deleteNamespacedConfigMap({ name: "graft-platform", namespace });
    await admission.deleteValidatingAdmissionPolicy({ name: "graft-writes" });
    try {
      const { code, failed } = await checks();
      expect(code).toBe(1);
      expect(failed.map((c) => c.name)).toEqual(["RBAC and write policy in place", "graft-platform present"]);
      expect(failed[0]?.detail).toBe("missing: ValidatingAdmissionPolicy graft-writes");
    } finally {
      const strip = <T extends { metadata?: k8s.V1ObjectMeta }>(o: T): T => ({
        ...o,
        metadata: {
          name: o.metadata?.name,
          labels: o.metadata?.labels,
          annotations: o.metadata?.annotations,
        },
      });
      await core.createNamespacedConfigMap({ namespace, body: strip(platform) });
      await admission.createValidatingAdmissionPolicy({ body: strip({ ...policy, status: undefined }) });
    }
  });

  it("an agent on another image than the webhook's fails the skew check", async () => {
    await core.createNamespacedPod({
      namespace,
      body: {
        metadata: { name: "old-agent" },
        spec: { containers: [{ name: "graft-agent", image: "ghcr.io/graft/graft:0.0.9" }] },
      },
    });
    try {
      const { failed } = await checks();
      expect(failed.map((c) => c.name)).toEqual(["webhook and agents run one image"]);
      expect(failed[0]?.detail).toContain("1 on ghcr.io/graft/graft:0.0.9");
    } finally {
      await core.deleteNamespacedPod({ name: "old-agent", namespace, gracePeriodSeconds: 0 });
    }
  });

  it("--prometheus-url: every running agent up in a real Prometheus passes; one it does not scrape is named", async () => {
    // kwok runs no containers: one real agent on this host stands in for every agent pod, a real
    // Prometheus scraping it once per pod with the labels the PodMonitor's scrape gives them.
    const image = (await apps.readNamespacedDeployment({ name: "graft-webhook", namespace })).spec?.template
      .spec?.containers[0]?.image;
    await core.createNamespacedPod({
      namespace,
      body: {
        metadata: { name: "scraped-agent" },
        spec: {
          containers: [
            { name: "app", image: "app:1" },
            { name: "graft-agent", image },
          ],
        },
      },
    });
    const agentPods = await eventually("the agent pod running", async () => {
      const pods = await core.listPodForAllNamespaces({ fieldSelector: "status.phase=Running" });
      const withAgent = pods.items.filter((p) => p.spec?.containers.some((c) => c.name === "graft-agent"));
      return withAgent.some((p) => p.metadata?.name === "scraped-agent") ? withAgent : false;
    });
    const agent = await startAgentProcess({ checks: [] });
    const prometheus = await startPrometheus(
      agentPods.map((pod) => ({
        job: `${pod.metadata?.namespace}/${pod.metadata?.name}`,
        address: new URL(agent.url).host,
        labels: { namespace: pod.metadata!.namespace!, pod: pod.metadata!.name!, container: "graft-agent" },
      })),
    );
    try {
      await eventually(
        "Prometheus to scrape every agent",
        async () => (await prometheus.query('up{container="graft-agent"} == 1')).length === agentPods.length,
      );
      const healthy = await checks("--prometheus-url", prometheus.url);
      expect(healthy.failed).toEqual([]);
      expect(healthy.all.at(-1)).toMatchObject({
        name: "agents scraped by Prometheus",
        ok: true,
        detail: `${agentPods.length}/${agentPods.length} running agents up in Prometheus`,
      });

      await core.createNamespacedPod({
        namespace,
        body: {
          metadata: { name: "unscraped-agent" },
          spec: { containers: [{ name: "graft-agent", image }] },
        },
      });
      const { code, failed } = await eventually("the unscraped agent named", async () => {
        const result = await checks("--prometheus-url", prometheus.url);
        return result.failed.length > 0 ? result : false;
      });
      expect(code).toBe(1);
      expect(failed.map((c) => c.name)).toEqual(["agents scraped by Prometheus"]);
      expect(failed[0]?.detail).toContain(`not scraped: ${namespace}/unscraped-agent`);
      expect(failed[0]?.fix).toMatch(/release=/);
    } finally {
      await prometheus.stop();
      await agent.stop();
      for (const name of ["scraped-agent", "unscraped-agent"])
        await core.deleteNamespacedPod({ name, namespace, gracePeriodSeconds: 0 }).catch(() => undefined);
    }
  });

  it("--prometheus-url at something that is not Prometheus fails that item with what it answered", async () => {
    const { failed } = await checks("--prometheus-url", "http://127.0.0.1:9/");
    expect(failed.map((c) => c.name)).toEqual(["agents scraped by Prometheus"]);
    expect(failed[0]?.detail).toMatch(/fetch failed|ECONNREFUSED/);
  });

  it("the webhook unreachable: the dry-run pod is refused and the injection check fails", async () => {
    webhook?.child.kill("SIGKILL");
    await webhook?.exited;
    const { code, failed } = await checks();
    expect(code).toBe(1);
    expect(failed.map((c) => c.name)).toEqual(["a dry-run pod in an opted-in namespace is injected"]);
    expect(failed[0]?.detail).toMatch(/failed calling webhook/);
    const left = await core.listNamespace({});
    expect(
      left.items.filter((n) => n.metadata?.name?.startsWith("graft-check-") && n.status?.phase === "Active"),
    ).toEqual([]);
  });
});
