// manifests/overlays/provided-certs/install.sh run for real, twice, against a control plane of its
// own: it registers the cluster-wide MutatingWebhookConfiguration `graft` (failurePolicy Fail),
// which must never meet the shared e2e cluster's other tests. The second cluster is the same
// test/cluster build with a separate state directory (about 12 s to start here).
// The first run installs: Secret graft-webhook-tls holds a serving certificate for
// graft-webhook.graft.svc signed by the CA in every webhook's caBundle, and the Deployment rolls
// out. The second run rotates: the caBundle trusts the new CA and the one it replaces.
import { X509Certificate } from "node:crypto";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import * as k8s from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Ran, run, tempDir } from "../services/spawn.js";

const repo = fileURLToPath(new URL("../../", import.meta.url));
const clusterScript = fileURLToPath(new URL("../cluster/cluster.sh", import.meta.url));
const installScript = fileURLToPath(
  new URL("../../manifests/overlays/provided-certs/install.sh", import.meta.url),
);

function bash(args: string[], env: NodeJS.ProcessEnv): Promise<Ran> {
  return run("bash", args, { cwd: repo, env });
}

/** The PEM certificates of a bundle, in order. */
function certificates(pem: string): X509Certificate[] {
  return (pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? []).map(
    (block) => new X509Certificate(block),
  );
}

describe("manifests/overlays/provided-certs/install.sh on a cluster of its own", () => {
  let state: Awaited<ReturnType<typeof tempDir>>;
  let clusterEnv: NodeJS.ProcessEnv;
  let installEnv: NodeJS.ProcessEnv;
  let admission: k8s.AdmissionregistrationV1Api;
  let core: k8s.CoreV1Api;
  let apps: k8s.AppsV1Api;

  beforeAll(async () => {
    state = await tempDir("install-cluster");
    clusterEnv = { GRAFT_CLUSTER_DIR: state.dir };
    const up = await bash([clusterScript, "up"], clusterEnv);
    if (up.code !== 0)
      throw new Error(`cluster.sh up (state ${state.dir}) failed:\n${up.stderr.slice(-3000)}`);
    const kubeconfig = /^KUBECONFIG=(.+)$/m.exec(up.stdout)?.[1]?.trim() ?? "";
    const bin = /GRAFT_CLUSTER_BIN=(.+)$/m.exec((await bash([clusterScript, "env"], clusterEnv)).stdout)?.[1];
    installEnv = {
      KUBECTL: `${bin?.trim()}/kubectl --kubeconfig ${kubeconfig}`,
      // This checkout's build (scripts/setup.sh runs `npm run build`).
      GRAFT: existsSync(`${repo}dist/cli/main.js`) ? `node ${repo}bin/graft.js` : "",
    };
    const kc = new k8s.KubeConfig();
    kc.loadFromFile(kubeconfig);
    admission = kc.makeApiClient(k8s.AdmissionregistrationV1Api);
    core = kc.makeApiClient(k8s.CoreV1Api);
    apps = kc.makeApiClient(k8s.AppsV1Api);
  });

  afterAll(async () => {
    if (!state) return;
    const down = await bash([clusterScript, "down"], clusterEnv);
    if (down.code === 0) await state.remove();
    else process.stderr.write(`cluster.sh down (state ${state.dir}) failed:\n${down.stderr}\n`);
  });

  async function caBundles(): Promise<string[]> {
    const configuration = await admission.readMutatingWebhookConfiguration({ name: "graft" });
    return (configuration.webhooks ?? []).map((w) =>
      Buffer.from(w.clientConfig.caBundle ?? "", "base64").toString(),
    );
  }

  async function servingSecret(): Promise<{ cert: X509Certificate; ca: X509Certificate }> {
    const secret = await core.readNamespacedSecret({ name: "graft-webhook-tls", namespace: "graft" });
    const field = (key: string) => Buffer.from(secret.data?.[key] ?? "", "base64").toString();
    expect(secret.type).toBe("kubernetes.io/tls");
    expect(field("tls.key")).toContain("PRIVATE KEY");
    return { cert: new X509Certificate(field("tls.crt")), ca: new X509Certificate(field("ca.crt")) };
  }

  it("installs graft: a certificate for graft-webhook.graft.svc whose CA every webhook trusts, and a rolled-out Deployment", async () => {
    const result = await bash([installScript], installEnv);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('deployment "graft-webhook" successfully rolled out');

    const { cert, ca } = await servingSecret();
    expect(cert.checkHost("graft-webhook.graft.svc")).toBe("graft-webhook.graft.svc");
    expect(cert.verify(ca.publicKey)).toBe(true);
    const bundles = await caBundles();
    expect(bundles).toHaveLength(3);
    for (const bundle of bundles) {
      expect(certificates(bundle).map((c) => c.fingerprint256)).toEqual([ca.fingerprint256]);
    }
    const deployment = await apps.readNamespacedDeployment({ name: "graft-webhook", namespace: "graft" });
    expect(deployment.status?.availableReplicas).toBe(2);
  });

  it("run again, rotates: a new CA first in every caBundle, the replaced one after it, the Secret on the new pair", async () => {
    const before = await servingSecret();
    const result = await bash([installScript], installEnv);
    expect(result.code, result.stderr).toBe(0);

    const after = await servingSecret();
    expect(after.ca.fingerprint256).not.toBe(before.ca.fingerprint256);
    expect(after.cert.verify(after.ca.publicKey)).toBe(true);
    for (const bundle of await caBundles()) {
      expect(certificates(bundle).map((c) => c.fingerprint256)).toEqual([
        after.ca.fingerprint256,
        before.ca.fingerprint256,
      ]);
    }
  });
});
