// A real cert-manager (controller and cainjector built from github.com/cert-manager/cert-manager
// by test/cluster/tools.sh, run as processes; its CRDs from the same module, rendered by the real
// helm) issuing graft's certificates on the kube-apiserver of test/cluster:
// - manifests/overlays/cert-manager applied: the CA and the serving Certificate are issued, and
//   cainjector fills every webhook's caBundle of MutatingWebhookConfiguration graft;
// - charts/graft with tls.mode=certManager: the same, in another namespace;
// - the API server then calls a running `graft webhook` (the built CLI, registered by URL: kwok
//   runs no pods) whose serving certificate cert-manager issued from the chart's CA, with the
//   caBundle cainjector injected; the certificate is renewed every ~30 s (duration 90s) and the
//   running webhook picks each renewal up without a restart while pods are admitted throughout.
import { X509Certificate } from "node:crypto";
import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { connect } from "node:tls";
import * as k8s from "@kubernetes/client-node";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { errorMessage } from "../../core/result.js";
import { renderMutatingWebhookConfiguration } from "../../webhook/install/webhook-configuration.js";
import { chartDir, helm, helmBinary, parseManifests, repo } from "../helm/chart.js";
import { run, type Started, startProcess, tempDir } from "../services/spawn.js";
import { startWebhookCli, type WebhookCli } from "../services/webhook-cli.js";
import { eventually, kubeConfig, kubeconfigPath, kubectl, uniqueName } from "./kube.js";

const kc = kubeConfig();
const core = kc.makeApiClient(k8s.CoreV1Api);
const admission = kc.makeApiClient(k8s.AdmissionregistrationV1Api);
const custom = kc.makeApiClient(k8s.CustomObjectsApi);

const chartNamespace = uniqueName("graft-cm");
const appNamespace = uniqueName("graft-cm-apps");
const run_ = appNamespace.slice("graft-cm-apps-".length);
const RUN_LABEL = "graft-e2e-cert-manager";
const configurationName = `graft-cm-${run_}`;
let home: { dir: string; remove: () => Promise<void> };
let processes: Started[] = [];
let webhook: WebhookCli | undefined;
const timings: Record<string, number> = {};

const pem = (b64?: string) => Buffer.from(b64 ?? "", "base64").toString();

async function certificateReady(namespace: string, name: string): Promise<boolean> {
  const cert = (await custom.getNamespacedCustomObject({
    group: "cert-manager.io",
    version: "v1",
    namespace,
    plural: "certificates",
    name,
  })) as { status?: { conditions?: { type: string; status: string }[] } };
  return cert.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") ?? false;
}

/** Every webhook's caBundle of `name`, once cainjector has filled them all with the same CA. */
async function injectedBundle(name: string): Promise<string | false> {
  const configuration = await admission.readMutatingWebhookConfiguration({ name });
  const bundles = new Set((configuration.webhooks ?? []).map((w) => pem(w.clientConfig.caBundle)));
  const [only] = [...bundles];
  return bundles.size === 1 && only ? only : false;
}

/** cert-manager's CRDs from its module's deploy/crds: Helm templates, rendered with their chart's values. */
async function renderCrds(crdDir: string): Promise<string> {
  const chart = path.join(home.dir, "cert-manager-crds");
  await mkdir(path.join(chart, "templates"), { recursive: true });
  await writeFile(path.join(chart, "Chart.yaml"), "apiVersion: v2\nname: cert-manager\nversion: 1.18.6\n");
  await writeFile(
    path.join(chart, "templates", "_helpers.tpl"),
    [
      // The three helpers the CRD templates call; crd-check guards upstream's chart upgrades only.
      '{{- define "cert-manager.name" -}}cert-manager{{- end -}}',
      '{{- define "labels" -}}app.kubernetes.io/version: v1.18.6{{- end -}}',
      '{{- define "cert-manager.crd-check" -}}{{- end -}}',
    ].join("\n"),
  );
  for (const file of await readdir(crdDir)) {
    await writeFile(path.join(chart, "templates", file), await readFile(path.join(crdDir, file), "utf8"));
  }
  const ran = await helm(["template", "cert-manager", chart, "--set", "crds.enabled=true"], {
    home: home.dir,
  });
  if (ran.code !== 0) throw new Error(`rendering cert-manager's CRDs failed:\n${ran.stderr}`);
  return ran.stdout;
}

/** The serial number of the certificate the webhook serves right now. */
function servedSerial(base: string): Promise<string> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: hostname, port: Number(port), rejectUnauthorized: false }, () => {
      resolve(socket.getPeerCertificate().serialNumber);
      socket.end();
    });
    socket.on("error", reject);
  });
}

beforeAll(async () => {
  home = await tempDir("cert-manager");
  const built = await run("bash", [`${repo}test/cluster/tools.sh`, "bin", "cert-manager"]);
  if (built.code !== 0) throw new Error(`tools.sh bin cert-manager failed:\n${built.stderr}`);
  const bin = built.stdout.trim();
  await helmBinary();

  let started = Date.now();
  const crds = await kubectl(
    ["apply", "--server-side", "--force-conflicts", "-f", "-"],
    await renderCrds(`${bin}/crds`),
  );
  if (crds.code !== 0) throw new Error(`applying cert-manager's CRDs failed:\n${crds.stderr}`);
  await kubectl([
    "wait",
    "--for=condition=Established",
    "--timeout=60s",
    "crd/certificates.cert-manager.io",
    "crd/issuers.cert-manager.io",
    "crd/certificaterequests.cert-manager.io",
  ]);
  timings.crds = Date.now() - started;

  started = Date.now();
  const kubeconfig = kubeconfigPath();
  processes = [
    startProcess(`${bin}/controller`, [
      "--kubeconfig",
      kubeconfig,
      "--cluster-resource-namespace",
      chartNamespace,
    ]),
    startProcess(`${bin}/cainjector`, ["--kubeconfig", kubeconfig]),
  ];
  timings.started = Date.now() - started;
}, 1_800_000);

// On a failure, what cert-manager said: its processes' last output.
afterEach((context) => {
  if (context.task.result?.state !== "fail") return;
  for (const [i, name] of ["controller", "cainjector"].entries()) {
    console.log(`--- cert-manager ${name} (last output) ---\n${processes[i]?.output().slice(-6000)}`);
  }
});

afterAll(async () => {
  if (webhook) await webhook.cleanup();
  await admission.deleteMutatingWebhookConfiguration({ name: configurationName }).catch(() => undefined);
  if (home) {
    await helm(
      [
        "uninstall",
        "graft",
        "-n",
        chartNamespace,
        "--ignore-not-found",
        "--wait",
        "--kubeconfig",
        kubeconfigPath(),
      ],
      {
        home: home.dir,
      },
    );
  }
  await kubectl(["delete", "-k", "manifests/overlays/cert-manager", "--ignore-not-found", "--wait=false"]);
  for (const namespace of [chartNamespace, appNamespace]) {
    await core.deleteNamespace({ name: namespace }).catch(() => undefined);
  }
  await Promise.all(processes.map((p) => p.stop(5_000)));
  await home?.remove();
  console.log(`[cert-manager e2e] timings (ms): ${JSON.stringify(timings)}`);
});

describe("manifests/overlays/cert-manager with a real cert-manager", () => {
  it("issues graft's CA and serving certificate, and cainjector fills every webhook's caBundle with the CA", async () => {
    const started = Date.now();
    const applied = await kubectl(["apply", "-k", "manifests/overlays/cert-manager"]);
    expect(applied.code, applied.stderr).toBe(0);
    await eventually(
      "Certificate graft/graft-webhook Ready",
      () => certificateReady("graft", "graft-webhook"),
      {
        timeoutMs: 120_000,
      },
    );
    timings.overlayIssued = Date.now() - started;
    const secret = await core.readNamespacedSecret({ name: "graft-webhook-tls", namespace: "graft" });
    const ca = pem(secret.data?.["ca.crt"]);
    const serving = new X509Certificate(pem(secret.data?.["tls.crt"]));
    expect(serving.verify(new X509Certificate(ca).publicKey)).toBe(true);
    expect(serving.checkHost("graft-webhook.graft.svc")).toBe("graft-webhook.graft.svc");
    const bundle = await eventually("cainjector to fill graft's caBundle", () => injectedBundle("graft"), {
      timeoutMs: 120_000,
    });
    timings.overlayInjected = Date.now() - started;
    expect(bundle.trim()).toBe(ca.trim());
    // Registered by Service, graft-webhook.graft.svc cannot run on kwok: out of the way before
    // anything here opts pods in.
    const deleted = await kubectl(["delete", "-k", "manifests/overlays/cert-manager", "--wait=false"]);
    expect(deleted.code, deleted.stderr).toBe(0);
  }, 300_000);
});

describe("charts/graft with tls.mode=certManager and a real cert-manager", () => {
  it("installs: Certificate Ready, caBundle injected from it", async () => {
    // The overlay's cluster-wide objects (same names) gone first, whatever the test above did.
    await kubectl(["delete", "-k", "manifests/overlays/cert-manager", "--ignore-not-found", "--wait=true"]);
    const started = Date.now();
    const ran = await helm(
      [
        "install",
        "graft",
        chartDir,
        "-n",
        chartNamespace,
        "--create-namespace",
        "--kubeconfig",
        kubeconfigPath(),
        "--set",
        "tls.mode=certManager",
        "--set",
        `config.excludedNamespaces={${appNamespace}}`,
      ],
      { home: home.dir },
    );
    expect(ran.code, ran.stderr).toBe(0);
    await eventually(
      "the chart's Certificate Ready",
      () => certificateReady(chartNamespace, "graft-webhook"),
      {
        timeoutMs: 120_000,
      },
    );
    const secret = await core.readNamespacedSecret({ name: "graft-webhook-tls", namespace: chartNamespace });
    const bundle = await eventually(
      "cainjector to fill the chart's caBundle",
      () => injectedBundle("graft"),
      {
        timeoutMs: 120_000,
      },
    );
    timings.chartInjected = Date.now() - started;
    expect(bundle.trim()).toBe(pem(secret.data?.["ca.crt"]).trim());
  }, 300_000);

  it("the API server calls graft with the injected caBundle, and each renewal reaches the running webhook without a restart or a failed admission", async () => {
    // A serving certificate for 127.0.0.1 (the webhook runs on this host) from the chart's CA
    // Issuer, renewed every ~30 s.
    const issued = parseManifests(`
apiVersion: cert-manager.io/v1
kind: Certificate
metadata: { name: graft-e2e-serving, namespace: ${chartNamespace} }
spec:
  secretName: graft-e2e-serving
  ipAddresses: [127.0.0.1]
  duration: 90s
  renewBefore: 60s
  usages: [server auth, digital signature]
  privateKey: { algorithm: ECDSA, size: 256, rotationPolicy: Always }
  issuerRef: { group: cert-manager.io, kind: Issuer, name: graft-ca }
`)[0];
    await custom.createNamespacedCustomObject({
      group: "cert-manager.io",
      version: "v1",
      namespace: chartNamespace,
      plural: "certificates",
      body: issued,
    });
    await eventually(
      "Certificate graft-e2e-serving Ready",
      () => certificateReady(chartNamespace, "graft-e2e-serving"),
      {
        timeoutMs: 120_000,
      },
    );

    webhook = await startWebhookCli({
      config: "nativeSidecars: never\n",
      args: ["--kubeconfig", kubeconfigPath()],
    });
    const cli = webhook;
    // What the kubelet does for a Secret volume: the files follow the Secret.
    let written = "";
    const sync = async () => {
      const secret = await core.readNamespacedSecret({
        name: "graft-e2e-serving",
        namespace: chartNamespace,
      });
      const crt = pem(secret.data?.["tls.crt"]);
      if (crt === written || !crt) return;
      await writeFile(cli.keyFile, pem(secret.data?.["tls.key"]));
      await writeFile(cli.certFile, crt);
      written = crt;
    };
    await sync();
    const firstSerial = new X509Certificate(written).serialNumber;
    await eventually(
      "the webhook serving cert-manager's certificate",
      async () => (await servedSerial(cli.base)).toUpperCase() === firstSerial.toUpperCase(),
    );

    await core.createNamespace({
      body: {
        metadata: { name: appNamespace, labels: { "graft.pnda.io/inject": "enabled", [RUN_LABEL]: run_ } },
      },
    });
    await admission.createMutatingWebhookConfiguration({
      body: renderMutatingWebhookConfiguration({
        name: configurationName,
        target: { url: cli.base },
        graftNamespace: chartNamespace,
        onlyNamespacesLabelled: { [RUN_LABEL]: run_ },
        annotations: { "cert-manager.io/inject-ca-from": `${chartNamespace}/graft-e2e-serving` },
      }),
    });
    await eventually(
      "cainjector to fill the test webhook's caBundle",
      () => injectedBundle(configurationName),
      {
        timeoutMs: 120_000,
      },
    );
    await eventually(`ServiceAccount default in ${appNamespace}`, () =>
      core.readNamespacedServiceAccount({ name: "default", namespace: appNamespace }).then(() => true),
    );

    const admit = async (i: number) => {
      const pod = await core.createNamespacedPod({
        namespace: appNamespace,
        dryRun: "All",
        body: {
          metadata: {
            name: `probe-${i}`,
            annotations: { "graft.pnda.io/checks": "[{name: api, type: tcp, host: 127.0.0.1, port: 8080}]" },
          },
          spec: { containers: [{ name: "main", image: "registry.invalid/app:1" }] },
        },
      });
      return [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])].some(
        (c) => c.name === "graft-agent",
      );
    };
    expect(await admit(0), "a pod admitted through the API server is injected").toBe(true);

    // Renewals: two new certificates served, pods admitted all the while.
    const serials = new Set([firstSerial.toUpperCase()]);
    const failures: string[] = [];
    let admitted = 0;
    const started = Date.now();
    const pid = cli.child.pid;
    while (serials.size < 3 && Date.now() - started < 150_000) {
      await sync();
      try {
        if (await admit(++admitted)) serials.add((await servedSerial(cli.base)).toUpperCase());
        else failures.push(`pod ${admitted} not injected`);
      } catch (error) {
        failures.push(`pod ${admitted}: ${errorMessage(error)}`);
      }
    }
    timings.twoRenewals = Date.now() - started;
    timings.admittedDuringRenewals = admitted;
    expect(failures).toEqual([]);
    expect(serials.size, "certificates served (first + renewals)").toBe(3);
    expect(cli.child.exitCode).toBeNull();
    expect(cli.child.pid).toBe(pid);
    expect(cli.logs.filter((line) => line.msg?.includes("reload")).length).toBeGreaterThanOrEqual(2);
  }, 300_000);
});
