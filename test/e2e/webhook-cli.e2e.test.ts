// `graft webhook` (the built CLI, in a child process) as its Deployment runs it: POD_NAME and
// POD_NAMESPACE from the Downward API, a kubeconfig for the real kube-apiserver. The agent it
// injects runs the webhook's own image, read from its pod, when config.yaml names none.
import * as k8s from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { podReview, post } from "../integration/webhook-client.js";
import { startWebhookCli, type WebhookCli } from "../services/webhook-cli.js";
import { eventually, kubeConfig, kubeconfigPath, uniqueName } from "./kube.js";

const OWN_IMAGE = "registry.example/graft:7.7.7";

describe("graft webhook in its pod", () => {
  const core = kubeConfig().makeApiClient(k8s.CoreV1Api);
  const namespace = uniqueName("graft-e2e-webhook-cli");
  let webhook: WebhookCli;

  beforeAll(async () => {
    // Opted in: the webhook checks the namespace's label before it injects for /mutate/namespace.
    await core.createNamespace({
      body: { metadata: { name: namespace, labels: { "graft.pnda.io/inject": "enabled" } } },
    });
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
    webhook = await startWebhookCli({
      // manifests/base/config.yaml's choice: no agent.image.
      config: "nativeSidecars: never\n",
      args: ["--kubeconfig", kubeconfigPath()],
      env: { POD_NAME: "graft-webhook-7d9f", POD_NAMESPACE: namespace },
    });
  });

  afterAll(async () => {
    await webhook?.cleanup();
    await core.deleteNamespace({ name: namespace }).catch(() => undefined);
  });

  it("injects the agent with the image of its own pod, and says so at start-up", async () => {
    expect(webhook.logs.find((line) => line.msg === "agent image decided")?.agentImage).toBe(OWN_IMAGE);
    const reply = await post(
      `${webhook.base}/mutate/namespace`,
      JSON.stringify(podReview("uid-own-image", namespace)),
      {
        ca: webhook.ca,
      },
    );
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

  it("exits 0 soon after SIGTERM, its watches on the API server closed", async () => {
    // A watch left open (one started twice, only the second stopped) kept the process alive.
    webhook.child.kill("SIGTERM");
    const code = await Promise.race([
      webhook.exited,
      new Promise<string>((resolve) => setTimeout(() => resolve("still running after 10 s"), 10_000).unref()),
    ]);
    expect(code).toBe(0);
  });
});
