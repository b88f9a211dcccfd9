import { readFile } from "node:fs/promises";
import type { V1Pod } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { AGENT_PORT_NAME } from "../../core/agent-endpoint.js";
import { defaultWebhookConfig } from "../../webhook/model/config.js";
import { injectPod } from "../../webhook/pipeline/admission.js";
import { agentEndpoints, mapConcurrently } from "./agents.js";

function pod(
  name: string,
  overrides: { phase?: string; ip?: string; native?: boolean; port?: string } = {},
): V1Pod {
  const agent = {
    name: "graft-agent",
    ports: [{ name: overrides.port ?? "graft-metrics", containerPort: 9464 }],
  };
  return {
    metadata: { name, namespace: "apps" },
    spec: {
      containers: [
        { name: "app", ports: [{ name: "http", containerPort: 8080 }] },
        ...(overrides.native ? [] : [agent]),
      ],
      ...(overrides.native ? { initContainers: [{ ...agent, restartPolicy: "Always" }] } : {}),
    },
    status: { phase: overrides.phase ?? "Running", podIP: overrides.ip ?? "10.0.0.7" },
  };
}

describe("agentEndpoints", () => {
  it("finds the agent's port by name, as a container or a native sidecar", () => {
    expect(agentEndpoints([pod("a"), pod("b", { native: true, ip: "10.0.0.8" })])).toEqual([
      { namespace: "apps", pod: "a", url: "http://10.0.0.7:9464" },
      { namespace: "apps", pod: "b", url: "http://10.0.0.8:9464" },
    ]);
  });

  it("reads the app and component the webhook passed the agent (GRAFT_APP, GRAFT_COMPONENT)", () => {
    const labelled = pod("web-1");
    const agent = labelled.spec!.containers[1]!;
    agent.env = [
      { name: "GRAFT_APP", value: "shop" },
      { name: "GRAFT_COMPONENT", value: "web" },
    ];
    expect(agentEndpoints([labelled])).toEqual([
      { namespace: "apps", pod: "web-1", url: "http://10.0.0.7:9464", app: "shop", component: "web" },
    ]);
  });

  it("skips pods not running, without an IP, or without a graft-metrics port", () => {
    expect(
      agentEndpoints([
        pod("pending", { phase: "Pending" }),
        pod("no-ip", { ip: "" }),
        pod("other", { port: "metrics" }),
      ]),
    ).toEqual([]);
  });

  it("follows the port graft injected the agent on (graft.pnda.io/agent-port), as the PodMonitor does", async () => {
    const injected = injectPod(
      {
        metadata: {
          name: "web",
          labels: { "graft.pnda.io/inject": "enabled" },
          annotations: {
            "graft.pnda.io/agent-port": "9500",
            "graft.pnda.io/checks": '[{"name":"web","type":"tcp","host":"127.0.0.1","port":80}]',
          },
        },
        spec: { containers: [{ name: "web", image: "nginx", ports: [{ containerPort: 9464 }] }] },
      },
      "apps",
      { config: defaultWebhookConfig(), nativeSidecars: true },
    );
    if (injected.kind !== "injected") throw new Error(`not injected: ${JSON.stringify(injected)}`);
    const running = { ...(injected.pod as V1Pod), status: { phase: "Running", podIP: "10.0.0.9" } };
    expect(agentEndpoints([running])).toEqual([
      { namespace: "", pod: "web", component: "web", url: "http://10.0.0.9:9500" },
    ]);
    // The PodMonitor selects the same port by its name, never by number.
    const monitor = parseYaml(
      await readFile(new URL("../../manifests/monitoring/podmonitor.yaml", import.meta.url), "utf8"),
    ) as { spec: { podMetricsEndpoints: Array<Record<string, unknown>> } };
    expect(monitor.spec.podMetricsEndpoints.map((endpoint) => endpoint.port)).toEqual([AGENT_PORT_NAME]);
    expect(monitor.spec.podMetricsEndpoints.some((endpoint) => "targetPort" in endpoint)).toBe(false);
  });

  it("brackets an IPv6 address", () => {
    expect(agentEndpoints([pod("v6", { ip: "fd00::7" })])[0]?.url).toBe("http://[fd00::7]:9464");
  });
});

describe("mapConcurrently", () => {
  it("runs at most `limit` at once and keeps the items' order", async () => {
    let running = 0;
    let most = 0;
    const results = await mapConcurrently(
      Array.from({ length: 100 }, (_, i) => i),
      7,
      async (item) => {
        running++;
        most = Math.max(most, running);
        await new Promise((resolve) => setTimeout(resolve, item % 3));
        running--;
        return item * 2;
      },
    );
    expect(results).toEqual(Array.from({ length: 100 }, (_, i) => i * 2));
    expect(most).toBe(7);
  });

  it("resolves an empty list at once", async () => {
    expect(await mapConcurrently([], 32, async () => 1)).toEqual([]);
  });
});
