// charts/graft installed, upgraded and uninstalled by the real helm (test/cluster/tools.sh, from
// helm.sh/helm/v3) on the real kube-apiserver of test/cluster (kwok node: the objects, not
// running pods). The upgrade keeps the CA and the caBundle: polled all through the upgrade, the
// caBundle the API server holds always verifies the serving certificate in the Secret.
import { X509Certificate } from "node:crypto";
import * as k8s from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { chartDir, helm, helmBinary } from "../helm/chart.js";
import { tempDir } from "../services/spawn.js";
import { eventually, kubeConfig, kubeconfigPath, uniqueName } from "./kube.js";

const release = "graft";
const namespace = uniqueName("graft-helm");
let home: { dir: string; remove: () => Promise<void> };
let core: k8s.CoreV1Api;
let admission: k8s.AdmissionregistrationV1Api;
let apps: k8s.AppsV1Api;

const kube = (args: string[], input?: string) =>
  helm([...args, "--kubeconfig", kubeconfigPath()], {
    home: home.dir,
    ...(input === undefined ? {} : { input }),
  });

type Tls = { ca: string; crt: string; bundle: string[] };

/** The Secret's CA and certificate, and the CAs of every webhook's caBundle, as the cluster has them now. */
async function tlsNow(): Promise<Tls> {
  const secret = await core.readNamespacedSecret({ name: "graft-webhook-tls", namespace });
  const configuration = await admission.readMutatingWebhookConfiguration({ name: "graft" });
  const pem = (b64?: string) => Buffer.from(b64 ?? "", "base64").toString();
  const bundles = new Set((configuration.webhooks ?? []).map((w) => pem(w.clientConfig.caBundle)));
  expect(bundles.size, "every webhook has the same caBundle").toBe(1);
  return {
    ca: splitPem(pem(secret.data?.["ca.crt"]))[0] ?? "",
    crt: splitPem(pem(secret.data?.["tls.crt"]))[0] ?? "",
    bundle: splitPem([...bundles][0] ?? ""),
  };
}

function splitPem(text: string): string[] {
  return text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
}

/** The API server would accept `crt` from graft: one CA of the bundle signed it, for graft's Service name. */
function trusted(bundle: string[], crt: string): boolean {
  const cert = new X509Certificate(crt);
  if (cert.checkHost(`graft-webhook.${namespace}.svc`) === undefined) return false;
  if (new Date(cert.validTo) < new Date()) return false;
  return bundle.some((ca) => cert.verify(new X509Certificate(ca).publicKey));
}

beforeAll(async () => {
  await helmBinary();
  home = await tempDir("helm-home");
  const kc = kubeConfig();
  core = kc.makeApiClient(k8s.CoreV1Api);
  admission = kc.makeApiClient(k8s.AdmissionregistrationV1Api);
  apps = kc.makeApiClient(k8s.AppsV1Api);
}, 1_800_000);

afterAll(async () => {
  await kube(["uninstall", release, "-n", namespace, "--ignore-not-found", "--wait"]);
  await core.deleteNamespace({ name: namespace }).catch(() => undefined);
  await home?.remove();
});

describe("helm install / upgrade / uninstall of charts/graft", () => {
  it("refuses wrong values before creating anything", async () => {
    const ran = await kube(
      ["install", release, chartDir, "-n", namespace, "--create-namespace", "--values", "-"],
      JSON.stringify({ tls: { mode: "vault" } }),
    );
    expect(ran.code).not.toBe(0);
    expect(ran.stderr).toMatch(/tls.*mode/);
    const list = await kube(["list", "-A", "-q"]);
    expect(list.stdout).not.toMatch(new RegExp(`^${release}$`, "m"));
  });

  it("installs (self-managed TLS): Deployment Available on the kwok node, every webhook trusting the served certificate", async () => {
    const ran = await kube([
      "install",
      release,
      chartDir,
      "-n",
      namespace,
      "--create-namespace",
      "--wait",
      "--timeout",
      "3m",
    ]);
    expect(ran.code, ran.stderr).toBe(0);
    const deployment = await apps.readNamespacedDeployment({ name: "graft-webhook", namespace });
    expect(deployment.status?.availableReplicas).toBe(2);
    const tls = await tlsNow();
    expect(tls.bundle).toEqual([tls.ca]);
    expect(trusted(tls.bundle, tls.crt)).toBe(true);
  });

  it("upgrades with new values keeping the CA and the caBundle: at no moment does the bundle distrust the served certificate", async () => {
    const before = await tlsNow();
    let polls = 0;
    let done = false;
    const watcher = (async () => {
      const failures: string[] = [];
      while (!done) {
        const now = await tlsNow();
        polls++;
        if (!trusted(now.bundle, now.crt)) failures.push(`poll ${polls}: caBundle does not verify tls.crt`);
      }
      return failures;
    })();
    const ran = await kube([
      "upgrade",
      release,
      chartDir,
      "-n",
      namespace,
      "--wait",
      "--timeout",
      "3m",
      "--set",
      "replicas=3",
      "--set",
      "image.tag=0.1.1",
      "--set",
      "webhook.failurePolicy=Ignore",
    ]);
    done = true;
    expect(ran.code, ran.stderr).toBe(0);
    expect(await watcher).toEqual([]);
    expect(polls).toBeGreaterThan(0);
    const after = await tlsNow();
    expect(after).toEqual(before);
    const configuration = await admission.readMutatingWebhookConfiguration({ name: "graft" });
    expect(configuration.webhooks?.[0]?.failurePolicy).toBe("Ignore");
    const deployment = await apps.readNamespacedDeployment({ name: "graft-webhook", namespace });
    expect(deployment.spec?.template.spec?.containers[0]?.image).toBe("ghcr.io/graft/graft:0.1.1");
  });

  it("renews on request (tls.selfManaged.renew): a new CA and certificate, the bundle trusting the old certificate too", async () => {
    const before = await tlsNow();
    const ran = await kube([
      "upgrade",
      release,
      chartDir,
      "-n",
      namespace,
      "--reuse-values",
      "--set",
      "tls.selfManaged.renew=true",
    ]);
    expect(ran.code, ran.stderr).toBe(0);
    const after = await tlsNow();
    expect(after.ca).not.toBe(before.ca);
    expect(after.bundle).toEqual([after.ca, before.ca]);
    expect(trusted(after.bundle, after.crt)).toBe(true);
    expect(trusted(after.bundle, before.crt), "pods still serving the old certificate stay trusted").toBe(
      true,
    );
    // The next plain upgrade keeps what renew made.
    const again = await kube([
      "upgrade",
      release,
      chartDir,
      "-n",
      namespace,
      "--reuse-values",
      "--set",
      "tls.selfManaged.renew=false",
    ]);
    expect(again.code, again.stderr).toBe(0);
    expect((await tlsNow()).ca).toBe(after.ca);
  });

  it("uninstalls every object it made, cluster-wide ones included", async () => {
    const ran = await kube(["uninstall", release, "-n", namespace, "--wait"]);
    expect(ran.code, ran.stderr).toBe(0);
    await eventually("the webhook configuration and the Deployment gone", async () => {
      const left = await admission
        .listMutatingWebhookConfiguration({ labelSelector: `app.kubernetes.io/instance=${release}` })
        .then((l) => l.items.length);
      const deployments = await apps.listNamespacedDeployment({ namespace }).then((l) => l.items.length);
      const secrets = await core
        .listNamespacedSecret({ namespace, labelSelector: "app.kubernetes.io/name=graft" })
        .then((l) => l.items.length);
      return left === 0 && deployments === 0 && secrets === 0;
    });
    const rbac = kubeConfig().makeApiClient(k8s.RbacAuthorizationV1Api);
    const roles = await rbac.listClusterRole({ labelSelector: `app.kubernetes.io/instance=${release}` });
    expect(roles.items.map((r) => r.metadata?.name)).toEqual([]);
  });
});
