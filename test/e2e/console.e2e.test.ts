// graft console without Prometheus, through the real kube-apiserver: it finds agent pods by their
// graft-metrics port and reads each one's /status. The pods are hostNetwork pods on the kwok node,
// whose IP is 127.0.0.1, and their "agents" are real agents listening there on the pods' ports.
import * as k8s from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Agent } from "../../agent/main.js";
import { runConsoleCli } from "../../console/cli.js";
import type { HealthReport } from "../../console/health.js";
import { stoppedPort } from "../integration/agent-targets.js";
import { startAgentWith, tcpCheck } from "../services/agent.js";
import { eventually, kubeConfig, kubeconfigPath, uniqueName } from "./kube.js";

function agentPod(name: string, port: number): k8s.V1Pod {
  return {
    metadata: { name },
    spec: {
      hostNetwork: true,
      containers: [
        { name: "app", image: "registry.example/app:1" },
        {
          name: "graft-agent",
          image: "ghcr.io/graft/graft:0.1.0",
          ports: [{ name: "graft-metrics", containerPort: port }],
        },
      ],
    },
  };
}

describe("graft console, agents found through the Kubernetes API", () => {
  const core = kubeConfig().makeApiClient(k8s.CoreV1Api);
  const namespace = uniqueName("graft-e2e-console");
  const agents: Agent[] = [];
  let closedPort: number;
  let stop = () => {};
  let finished: Promise<number>;
  let consoleUrl: string;

  beforeAll(async () => {
    await core.createNamespace({ body: { metadata: { name: namespace } } });
    await eventually("ServiceAccount default", () =>
      core.readNamespacedServiceAccount({ name: "default", namespace }).then(() => true),
    );
    closedPort = await stoppedPort();
    const kafka = await startAgentWith([
      {
        name: "kafka-api",
        type: "http",
        url: "http://127.0.0.1:9/",
        source: "kafka",
        interval: "1s",
        timeout: "500ms",
      },
    ]);
    const zookeeper = await startAgentWith([tcpCheck("zk", closedPort, "zookeeper")]);
    agents.push(kafka, zookeeper);
    await core.createNamespacedPod({ namespace, body: agentPod("spark-driver", kafka.port) });
    await core.createNamespacedPod({ namespace, body: agentPod("zk-client", zookeeper.port) });
    // A pod with no agent is not asked.
    await core.createNamespacedPod({
      namespace,
      body: {
        metadata: { name: "plain" },
        spec: { hostNetwork: true, containers: [{ name: "app", image: "registry.example/app:1" }] },
      },
    });
    await eventually("the pods Running on 127.0.0.1", async () => {
      const pods = (await core.listNamespacedPod({ namespace })).items;
      return (
        pods.length === 3 &&
        pods.every((pod) => pod.status?.phase === "Running" && pod.status.podIP === "127.0.0.1")
      );
    });

    const out: string[] = [];
    finished = runConsoleCli(["--port", "0", "--host", "127.0.0.1", "--kubeconfig", kubeconfigPath()], {
      env: {},
      stdout: (text) => out.push(text),
      stderr: (text) => out.push(text),
      stopSignal: new Promise<void>((resolve) => {
        stop = resolve;
      }),
    });
    const line = await eventually("the console to listen", async () =>
      out.find((text) => text.includes("listening")),
    );
    consoleUrl = `http://127.0.0.1:${(JSON.parse(line) as { port: number }).port}`;
  });

  afterAll(async () => {
    stop();
    await finished;
    for (const agent of agents) await agent.stop();
    await core.deleteNamespace({ name: namespace }).catch(() => undefined);
  });

  it("reports each agent pod's sources with their causes, and leaves pods without an agent out", async () => {
    const report = await eventually("both agents in the report", async () => {
      const body = (await (await fetch(`${consoleUrl}/api/health`)).json()) as HealthReport;
      const ours = body.services.flatMap((s) =>
        s.pods.filter((p) => p.namespace === namespace).map((p) => [s.source, p.pod]),
      );
      return ours.length === 2 ? body : undefined;
    });
    const pods = report.services.flatMap((service) =>
      service.pods
        .filter((pod) => pod.namespace === namespace)
        .map((pod) => ({
          source: service.source,
          pod: pod.pod,
          shown: pod.shown,
          causes: pod.checks[0]?.causes,
        })),
    );
    expect(pods).toEqual([
      {
        source: "kafka",
        pod: "spark-driver",
        shown: "ERROR",
        causes: [expect.stringContaining("127.0.0.1:9")],
      },
      {
        source: "zookeeper",
        pod: "zk-client",
        shown: "ERROR",
        causes: [expect.stringContaining(`127.0.0.1:${closedPort}`)],
      },
    ]);
  });
});
