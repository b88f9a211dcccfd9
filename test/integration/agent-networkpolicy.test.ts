/**
 * What the agent-port NetworkPolicies (manifests/monitoring/agent-networkpolicy*.yaml) admit,
 * read as the API defines it: a pod selected by an Ingress policy admits only what some rule of
 * some policy admits; a rule without `from` admits every source on its ports.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { AGENT_PORT } from "../../core/agent-endpoint.js";

type Port = { protocol: string; port: number; endPort?: number };
type Peer = {
  namespaceSelector?: { matchLabels: Record<string, string> };
  podSelector?: { matchLabels: Record<string, string> };
};
type Policy = {
  kind: string;
  metadata: { name: string; namespace?: string };
  spec: { podSelector: object; policyTypes: string[]; ingress: { from?: Peer[]; ports: Port[] }[] };
};

const policy = (file: string) =>
  parse(
    readFileSync(fileURLToPath(new URL(`../../manifests/monitoring/${file}`, import.meta.url)), "utf8"),
  ) as Policy;

/** Whether `rule` admits `protocol`/`port`. */
const admits = (rule: { ports: Port[] }, protocol: string, port: number) =>
  rule.ports.some((p) => p.protocol === protocol && port >= p.port && port <= (p.endPort ?? p.port));

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

describe.each(["agent-networkpolicy.yaml", "agent-networkpolicy-isolated.yaml"])("%s", (file) => {
  const { kind, metadata, spec } = policy(file);

  it("is a NetworkPolicy for the namespace it is applied in, over every pod of it, for ingress", () => {
    expect(kind).toBe("NetworkPolicy");
    expect(metadata.namespace).toBeUndefined();
    expect(spec.podSelector).toEqual({});
    expect(spec.policyTypes).toEqual(["Ingress"]);
  });

  it("admits the agent's port from Prometheus and the graft console only", () => {
    const rules = spec.ingress.filter((rule) => admits(rule, "TCP", AGENT_PORT));
    expect(rules).toHaveLength(1);
    expect(rules[0]?.from).toEqual([PROMETHEUS, CONSOLE]);
    expect(rules[0]?.ports).toEqual([{ protocol: "TCP", port: AGENT_PORT }]);
  });
});

describe("agent-networkpolicy.yaml (a namespace without policies of its own)", () => {
  const { spec } = policy("agent-networkpolicy.yaml");
  const fromAnywhere = spec.ingress.filter((rule) => rule.from === undefined);

  it("keeps every other TCP port open to every source", () => {
    const closed = [];
    for (let port = 1; port <= 65_535; port++) {
      if (!fromAnywhere.some((rule) => admits(rule, "TCP", port))) closed.push(port);
    }
    expect(closed).toEqual([AGENT_PORT]);
  });

  it("keeps every UDP and SCTP port open to every source", () => {
    for (const protocol of ["UDP", "SCTP"]) {
      for (const port of [1, 53, AGENT_PORT, 65_535]) {
        expect(
          fromAnywhere.some((rule) => admits(rule, protocol, port)),
          `${protocol} ${port}`,
        ).toBe(true);
      }
    }
  });
});

describe("agent-networkpolicy-isolated.yaml (a namespace that isolates its pods itself)", () => {
  it("opens nothing to every source: only the agent's port, to its two readers", () => {
    const { spec } = policy("agent-networkpolicy-isolated.yaml");
    expect(spec.ingress.every((rule) => rule.from !== undefined)).toBe(true);
    expect(spec.ingress.flatMap((rule) => rule.ports)).toEqual([{ protocol: "TCP", port: AGENT_PORT }]);
  });
});
