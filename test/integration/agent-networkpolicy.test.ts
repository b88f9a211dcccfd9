/**
 * What the agent-port NetworkPolicies admit — manifests/monitoring/agent-networkpolicy*.yaml and
 * the chart's (monitoring.agentNetworkPolicy, rendered by the real helm for several agent ports)
 * — read as the API defines it: a pod selected by an Ingress policy admits only what some rule of
 * some policy admits; a rule without `from` admits every source on its ports; a named port admits
 * the pod's container port of that name, wherever it is.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { AGENT_PORT, AGENT_PORT_NAME } from "../../core/agent-endpoint.js";
import { helmBinary, type Manifest, template } from "../helm/chart.js";

type Port = { protocol: string; port: number | string; endPort?: number };
type Peer = {
  namespaceSelector?: { matchLabels: Record<string, string> };
  podSelector?: { matchLabels: Record<string, string> };
};
type Spec = { podSelector: object; policyTypes: string[]; ingress: { from?: Peer[]; ports: Port[] }[] };
type Policy = { kind: string; metadata: { name: string; namespace?: string }; spec: Spec };

const policy = (file: string) =>
  parse(
    readFileSync(fileURLToPath(new URL(`../../manifests/monitoring/${file}`, import.meta.url)), "utf8"),
  ) as Policy;

/** Whether `rule` admits `protocol`/`port` on a container port named `name` (if any). */
const admits = (rule: { ports: Port[] }, protocol: string, port: number, name?: string) =>
  rule.ports.some(
    (p) =>
      p.protocol === protocol &&
      (typeof p.port === "string" ? p.port === name : port >= p.port && port <= (p.endPort ?? p.port)),
  );

const PROMETHEUS: Peer = {
  namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "monitoring" } },
  podSelector: { matchLabels: { "app.kubernetes.io/name": "prometheus" } },
};
const CONSOLE: Peer = {
  namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "graft" } },
  podSelector: {
    matchLabels: { "app.kubernetes.io/name": "graft", "app.kubernetes.io/component": "console" },
  },
};

/**
 * The promises every agent-port policy keeps, for an agent on `port`: it is admitted (by number
 * and by its name) from Prometheus and the console only; with `open`, every other port stays open
 * to every source, without, nothing is open to every source.
 */
function expectAgentPolicy(spec: Spec, port: number, open: boolean, readers = [PROMETHEUS, CONSOLE]) {
  expect(spec.podSelector).toEqual({});
  expect(spec.policyTypes).toEqual(["Ingress"]);
  const agentRules = spec.ingress.filter((rule) => rule.from !== undefined);
  expect(agentRules).toHaveLength(1);
  expect(agentRules[0]?.from).toEqual(readers);
  expect(agentRules[0]?.ports).toEqual([
    { protocol: "TCP", port },
    { protocol: "TCP", port: AGENT_PORT_NAME },
  ]);
  const fromAnywhere = spec.ingress.filter((rule) => rule.from === undefined);
  if (!open) {
    expect(fromAnywhere).toEqual([]);
    return;
  }
  // The agent's port, named as the webhook names it, is never open to every source.
  expect(fromAnywhere.some((rule) => admits(rule, "TCP", port, AGENT_PORT_NAME))).toBe(false);
  const closed = [];
  for (let other = 1; other <= 65_535; other++) {
    if (!fromAnywhere.some((rule) => admits(rule, "TCP", other))) closed.push(other);
  }
  expect(closed).toEqual([port]);
  for (const protocol of ["UDP", "SCTP"]) {
    for (const other of [1, 53, port, 65_535]) {
      expect(
        fromAnywhere.some((rule) => admits(rule, protocol, other)),
        `${protocol} ${other}`,
      ).toBe(true);
    }
  }
}

describe.each([
  ["agent-networkpolicy.yaml", true],
  ["agent-networkpolicy-isolated.yaml", false],
])("%s", (file, open) => {
  const { kind, metadata, spec } = policy(file);

  it("is a NetworkPolicy for the namespace it is applied in, over every pod of it, for ingress", () => {
    expect(kind).toBe("NetworkPolicy");
    expect(metadata.namespace).toBeUndefined();
  });

  it(`admits the agent's port (${AGENT_PORT} and its name, wherever it was moved) from Prometheus and the console only${open ? "; every other port from anywhere" : ""}`, () => {
    expectAgentPolicy(spec, AGENT_PORT, open);
  });

  it("admits a pod's agent moved to another port (graft.pnda.io/agent-port) by its name, from its readers only", () => {
    const moved = 9500;
    const readersOnly = spec.ingress.filter((rule) => rule.from !== undefined);
    expect(readersOnly.some((rule) => admits(rule, "TCP", moved, AGENT_PORT_NAME))).toBe(true);
    expect(readersOnly.some((rule) => admits(rule, "TCP", moved))).toBe(false);
  });
});

describe("the chart's monitoring.agentNetworkPolicy (helm template)", () => {
  beforeAll(async () => {
    await helmBinary();
  }, 1_800_000);

  const render = async (values: object, namespace = "graft") =>
    (await template(values, namespace)).filter(
      (o): o is Manifest & Policy => o.kind === "NetworkPolicy" && o.metadata.name === "graft-agent-port",
    );

  it("renders none by default", async () => {
    expect(await render({})).toEqual([]);
  });

  it.each([
    [AGENT_PORT, false],
    [9500, false],
    [1024, false],
    [65_535, false],
    [9500, true],
  ])("follows config.agent.port %i (isolated: %s) in every namespace listed", async (port, isolated) => {
    const policies = await render({
      config: { agent: { port } },
      monitoring: { agentNetworkPolicy: { namespaces: ["apps", "streaming"], isolated } },
    });
    expect(policies.map((p) => p.metadata.namespace)).toEqual(["apps", "streaming"]);
    for (const { spec } of policies) expectAgentPolicy(spec, port, !isolated);
  });

  it("names graft's namespace for the console and the Prometheus it is given", async () => {
    const [policy] = await render(
      {
        monitoring: {
          agentNetworkPolicy: {
            namespaces: ["apps"],
            prometheus: { namespace: "observability", podLabels: { app: "prom", tier: "metrics" } },
          },
        },
      },
      "platform-graft",
    );
    expect(policy?.spec.ingress[0]?.from).toEqual([
      {
        namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "observability" } },
        podSelector: { matchLabels: { app: "prom", tier: "metrics" } },
      },
      {
        namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "platform-graft" } },
        podSelector: CONSOLE.podSelector,
      },
    ]);
  });

  it("refuses a namespace or label that is not one, naming it", async () => {
    await expect(
      render({ monitoring: { agentNetworkPolicy: { namespaces: ["Not A Namespace"] } } }),
    ).rejects.toThrow(/agentNetworkPolicy.*namespaces/s);
    await expect(
      render({
        monitoring: { agentNetworkPolicy: { prometheus: { podLabels: { app: "not a label value" } } } },
      }),
    ).rejects.toThrow(/podLabels/);
  });
});
