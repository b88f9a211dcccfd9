import { describe, expect, it } from "vitest";
import { parseChecksSpec } from "./checks.js";

describe("parseChecksSpec", () => {
  it("accepts YAML and applies defaults", () => {
    const result = parseChecksSpec("- {name: kafka, type: kafka, brokers: ['127.0.0.1:9092']}");
    expect(result).toEqual({
      ok: true,
      checks: [
        {
          name: "kafka",
          type: "kafka",
          brokers: ["127.0.0.1:9092"],
          intervalMs: 30_000,
          timeoutMs: 5_000,
          source: "kafka",
        },
      ],
    });
  });

  it("names the check and field that are wrong", () => {
    const result = parseChecksSpec('[{"name":"zk","type":"zookeeper","servers":["nohost"]}]');
    expect(result.ok).toBe(false);
    expect(!result.ok && result.errors[0]).toMatch(/check "zk": field "servers.0"/);
  });

  it("rejects unknown types, unknown fields and a timeout not shorter than the interval", () => {
    const result = parseChecksSpec([
      { name: "a", type: "mystery" },
      { name: "b", type: "tcp", host: "h", port: 1, extra: true },
      { name: "c", type: "tcp", host: "h", port: 1, interval: "5s", timeout: "5s" },
    ]);
    expect(result.ok ? [] : result.errors).toEqual([
      expect.stringMatching(/check "a": field "type" must be one of http, tcp/),
      'check "b": unknown field "extra"',
      'check "c": field "timeout" (5s) must be shorter than "interval"',
    ]);
  });

  it("rejects text that is not a list, and broken YAML", () => {
    expect(parseChecksSpec("name: x").ok).toBe(false);
    expect(parseChecksSpec("[unclosed").ok).toBe(false);
  });
});

describe("parseChecksSpec error messages", () => {
  it("say the expected form of a field", () => {
    const result = parseChecksSpec([{ name: "zk", type: "zookeeper", servers: ["nohost"] }]);
    expect(result.ok ? [] : result.errors).toEqual([expect.stringContaining("(host:port)")]);
  });
});

describe("dns check server", () => {
  it("is an IP address with an optional port, since the agent cannot look up its own resolver", () => {
    const spec = (server: string) => parseChecksSpec([{ name: "d", type: "dns", hostname: "kafka", server }]);
    for (const server of ["10.0.0.10", "127.0.0.1:5353", "[::1]:53"]) expect(spec(server).ok).toBe(true);
    const result = spec("kube-dns.kube-system:53");
    expect(result.ok ? [] : result.errors).toEqual([
      expect.stringMatching(/check "d": field "server" .*an IP address/),
    ]);
  });
});
