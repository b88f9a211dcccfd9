import type { V1Pod } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
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
