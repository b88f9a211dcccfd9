import type { V1Pod } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { agentEndpoints } from "./agents.js";

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
