// The webhook container of manifests/base/deployment.yaml, run as the kubelet would run it: its
// args unchanged but for the port, its volumes laid out as the kubelet lays out Secret and
// ConfigMap volumes (files behind a `..data` symlink that is swapped on update), base/config.yaml
// as the config. kwok in the e2e cluster never runs containers, so this is where the manifest's
// command line, probes, metrics endpoint, certificate renewal and graceful stop meet the real
// `graft webhook` process.
import { spawn } from "node:child_process";
import { X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import { mkdir, rename, symlink, writeFile } from "node:fs/promises";
import https from "node:https";
import path from "node:path";
import tls from "node:tls";
import { fileURLToPath } from "node:url";
import type { V1Deployment } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { createAuthority, issueServingCert, type PemPair } from "../../certs/authority.js";
import { freePort, tempDir, waitFor } from "../services/spawn.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
// The sources through tsx, so the test needs no build; the image runs the same main() from dist/.
const MAIN = 'import { main } from "./cli/main.ts"; process.exitCode = await main(process.argv.slice(1));';

const deployment = parse(
  readFileSync(path.join(ROOT, "manifests/base/deployment.yaml"), "utf8"),
) as V1Deployment;
const pod = deployment.spec!.template.spec!;
const container = pod.containers.find((c) => c.name === "webhook")!;
const serviceMonitor = parse(
  readFileSync(path.join(ROOT, "manifests/monitoring/servicemonitor.yaml"), "utf8"),
) as {
  spec: { endpoints: { scheme: string; path: string }[] };
};

/** A Secret or ConfigMap volume as the kubelet writes it; `update` swaps every file at once. */
async function projectedVolume(dir: string, files: Record<string, string>) {
  await mkdir(dir, { recursive: true });
  let generation = 0;
  const update = async (content: Record<string, string>) => {
    const version = `..${Date.now()}_${generation++}`;
    await mkdir(path.join(dir, version));
    for (const [name, text] of Object.entries(content)) await writeFile(path.join(dir, version, name), text);
    await symlink(version, path.join(dir, "..data_tmp"));
    await rename(path.join(dir, "..data_tmp"), path.join(dir, "..data"));
  };
  await update(files);
  for (const name of Object.keys(files)) await symlink(path.join("..data", name), path.join(dir, name));
  return { update };
}

function servingPair(authority: PemPair): PemPair {
  return issueServingCert(authority, {
    dnsNames: ["graft-webhook.graft.svc"],
    ipAddresses: ["127.0.0.1"],
    now: new Date(),
  });
}

describe("the webhook container of manifests/base/deployment.yaml", () => {
  const first = createAuthority({ now: new Date(), commonName: "graft-ca-1" });
  const second = createAuthority({ now: new Date(), commonName: "graft-ca-2" });
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let tlsVolume: Awaited<ReturnType<typeof projectedVolume>>;
  let port: number;
  let child: ReturnType<typeof spawn>;
  let output = "";
  let exited: Promise<number | null>;

  const request = (urlPath: string) =>
    new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = https.get(
        { host: "127.0.0.1", port, path: urlPath, ca: [first.cert, second.cert], timeout: 5000 },
        (res) => {
          let body = "";
          res.setEncoding("utf8").on("data", (chunk: string) => {
            body += chunk;
          });
          res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
        },
      );
      req.on("error", reject);
    });

  const servedIssuer = () =>
    new Promise<string>((resolve, reject) => {
      const socket = tls.connect({ host: "127.0.0.1", port, ca: [first.cert, second.cert] }, () => {
        const issuer = new X509Certificate(socket.getPeerX509Certificate()!.raw).issuer;
        socket.end();
        resolve(issuer);
      });
      socket.on("error", reject);
    });

  beforeAll(async () => {
    dir = await tempDir("webhook-deployment");
    port = await freePort();
    // Every mount path of the container becomes a folder of this test.
    const mounted = new Map(
      (container.volumeMounts ?? []).map((m) => [m.mountPath, path.join(dir.dir, m.name)]),
    );
    const volumeOf = (name: string) => path.join(dir.dir, name);
    const secretName = pod.volumes?.find((v) => v.name === "tls")?.secret?.secretName;
    expect(secretName).toBe("graft-webhook-tls");
    const serving = servingPair(first);
    tlsVolume = await projectedVolume(volumeOf("tls"), {
      "tls.crt": serving.cert,
      "tls.key": serving.key,
      "ca.crt": first.cert,
    });
    await projectedVolume(volumeOf("config"), {
      "config.yaml": readFileSync(path.join(ROOT, "manifests/base/config.yaml"), "utf8"),
    });
    await mkdir(volumeOf("tmp"));
    // An API server that is not there: the webhook must serve without one (properties retry).
    const kubeconfig = path.join(dir.dir, "kubeconfig");
    await writeFile(
      kubeconfig,
      JSON.stringify({
        apiVersion: "v1",
        kind: "Config",
        clusters: [{ name: "none", cluster: { server: `https://127.0.0.1:${await freePort()}` } }],
        users: [{ name: "none", user: { token: "none" } }],
        contexts: [{ name: "none", context: { cluster: "none", user: "none" } }],
        "current-context": "none",
      }),
    );

    const args = (container.args ?? []).map((arg) => {
      if (arg.startsWith("--port=")) return `--port=${port}`;
      for (const [mountPath, local] of mounted) {
        if (arg.includes(`=${mountPath}/`)) return arg.replace(`=${mountPath}/`, `=${local}/`);
      }
      return arg;
    });
    expect(args.filter((a) => a.includes("/etc/"))).toEqual([]);
    child = spawn(
      process.execPath,
      [
        "--import",
        "tsx",
        "--input-type=module",
        "-e",
        MAIN,
        ...args,
        "--host=127.0.0.1",
        `--kubeconfig=${kubeconfig}`,
      ],
      { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] },
    );
    const keep = (chunk: Buffer) => {
      output = (output + chunk.toString("utf8")).slice(-20_000);
    };
    child.stdout?.on("data", keep);
    child.stderr?.on("data", keep);
    exited = new Promise((resolve) => child.once("exit", (code) => resolve(code)));
  });

  afterAll(async () => {
    if (child && child.exitCode === null) child.kill("SIGKILL");
    await dir?.remove();
  });

  it("becomes ready on its readiness probe and stays live on its liveness probe (HTTPS)", async () => {
    const readiness = container.readinessProbe!.httpGet!;
    const liveness = container.livenessProbe!.httpGet!;
    expect([readiness.scheme, liveness.scheme]).toEqual(["HTTPS", "HTTPS"]);
    await waitFor(
      "the readiness probe to pass",
      async () => (await request(readiness.path!).catch(() => ({ status: 0 }))).status === 200,
      { timeoutMs: 60_000 },
    ).catch((error: Error) => {
      throw new Error(`${error.message}\n${output}`);
    });
    expect((await request(liveness.path!)).status).toBe(200);
  });

  it("serves /metrics where the ServiceMonitor scrapes it", async () => {
    const [endpoint] = serviceMonitor.spec.endpoints;
    expect(endpoint?.scheme).toBe("https");
    const metrics = await request(endpoint!.path);
    expect(metrics.status).toBe(200);
    expect(metrics.body).toContain("# TYPE graft_webhook_request_duration_seconds histogram");
  });

  it("serves a renewed certificate once the kubelet swaps the Secret's files, without a restart", async () => {
    expect(await servedIssuer()).toContain("CN=graft-ca-1");
    const renewed = servingPair(second);
    await tlsVolume.update({ "tls.crt": renewed.cert, "tls.key": renewed.key, "ca.crt": second.cert });
    await waitFor(
      "the renewed certificate to be served",
      async () => (await servedIssuer()).includes("CN=graft-ca-2"),
      {
        timeoutMs: 20_000,
      },
    );
    expect(child.exitCode).toBeNull();
  });

  it("stops with exit code 0 on SIGTERM within the pod's termination grace period", async () => {
    const started = Date.now();
    child.kill("SIGTERM");
    expect(await exited).toBe(0);
    expect(Date.now() - started).toBeLessThan((pod.terminationGracePeriodSeconds ?? 30) * 1000);
  });
});
