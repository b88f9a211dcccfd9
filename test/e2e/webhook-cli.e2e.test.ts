// `graft webhook` (the built CLI, in a child process) as its Deployment runs it: POD_NAME and
// POD_NAMESPACE from the Downward API, a kubeconfig for the real kube-apiserver. The agent it
// injects runs the webhook's own image, read from its pod, when config.yaml names none.
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import * as k8s from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAuthority, issueServingCert } from "../../certs/authority.js";
import { podReview, post } from "../integration/webhook-client.js";
import { eventually, kubeConfig, kubeconfigPath, uniqueName } from "./kube.js";

const root = fileURLToPath(new URL("../..", import.meta.url));
const OWN_IMAGE = "registry.example/graft:7.7.7";

type LogLine = { msg?: string; agentImage?: string };

describe("graft webhook in its pod", () => {
  const core = kubeConfig().makeApiClient(k8s.CoreV1Api);
  const namespace = uniqueName("graft-e2e-webhook-cli");
  const now = new Date();
  const ca = createAuthority({ now });
  const serving = issueServingCert(ca, { ipAddresses: ["127.0.0.1"], now });
  const logs: LogLine[] = [];
  let dir: string;
  let child: ChildProcess;
  let base = "";

  beforeAll(async () => {
    const build = spawnSync("npm", ["run", "build"], { cwd: root, encoding: "utf8" });
    if (!existsSync(join(root, "dist/webhook/cli.js"))) {
      throw new Error(`npm run build produced no dist/webhook/cli.js:\n${build.stdout}${build.stderr}`);
    }
    await core.createNamespace({ body: { metadata: { name: namespace } } });
    await eventually("ServiceAccount default", () =>
      core.readNamespacedServiceAccount({ name: "default", namespace }).then(() => true),
    );
    await core.createNamespacedPod({
      namespace,
      body: {
        metadata: { name: "graft-webhook-7d9f" },
        spec: { containers: [{ name: "webhook", image: OWN_IMAGE }] },
      },
    });
    dir = await mkdtemp(join(tmpdir(), "graft-webhook-cli-"));
    await writeFile(join(dir, "tls.crt"), serving.cert);
    await writeFile(join(dir, "tls.key"), serving.key);
    // manifests/base/config.yaml's choice: no agent.image.
    await writeFile(join(dir, "config.yaml"), "nativeSidecars: never\n");
    child = spawn(
      process.execPath,
      [
        "bin/graft.js",
        "webhook",
        ...["--host", "127.0.0.1", "--port", "0", "--kubeconfig", kubeconfigPath()],
        ...[
          "--tls-cert",
          join(dir, "tls.crt"),
          "--tls-key",
          join(dir, "tls.key"),
          "--config",
          join(dir, "config.yaml"),
        ],
      ],
      {
        cwd: root,
        env: { ...process.env, POD_NAME: "graft-webhook-7d9f", POD_NAMESPACE: namespace },
        stdio: ["ignore", "pipe", "inherit"],
      },
    );
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on("line", (line) => {
      try {
        logs.push(JSON.parse(line) as LogLine);
      } catch {
        logs.push({ msg: line });
      }
    });
    base = await eventually("the webhook to listen", async () =>
      logs
        .find((line) => line.msg?.startsWith("Server listening at "))
        ?.msg?.replace("Server listening at ", ""),
    );
  });

  afterAll(async () => {
    if (child && child.exitCode === null) child.kill("SIGTERM");
    if (dir) await rm(dir, { recursive: true, force: true });
    await core.deleteNamespace({ name: namespace }).catch(() => undefined);
  });

  it("injects the agent with the image of its own pod, and says so at start-up", async () => {
    expect(logs.find((line) => line.msg === "agent image decided")?.agentImage).toBe(OWN_IMAGE);
    const reply = await post(`${base}/mutate/namespace`, JSON.stringify(podReview("uid-own-image")), {
      ca: ca.cert,
    });
    expect(reply.status).toBe(200);
    const { response } = reply.json() as { response: { patch: string } };
    const patch = JSON.parse(Buffer.from(response.patch, "base64").toString()) as {
      path: string;
      value: unknown;
    }[];
    const agent = patch
      .flatMap((op) => (Array.isArray(op.value) ? op.value : [op.value]))
      .find((value) => (value as { name?: string } | null)?.name === "graft-agent") as
      | { image?: string }
      | undefined;
    expect(agent?.image).toBe(OWN_IMAGE);
  });
});
