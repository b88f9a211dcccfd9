import { describe, expect, it } from "vitest";
import { medianMsSideBySide } from "../test/timing.js";
import { CHECKS_LIMITS, MAX_CHECKS, parseChecksAsWritten, parseChecksSpec } from "./checks.js";

describe("parseChecksSpec", () => {
  it("accepts YAML and applies defaults", () => {
    const result = parseChecksSpec("- {name: kafka, type: kafka, brokers: ['127.0.0.1:9092']}");
    expect(result).toEqual({
      ok: true,
      value: [
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

  it("gives the checks as written with their sources, or resolved, from one validation", () => {
    const text =
      '[{"name":"db","type":"tcp","host":"h","port":1,"timeout":"2s"},{"name":"s","type":"spark","url":"http://d:4040","source":"spark"}]';
    expect(parseChecksAsWritten(text)).toEqual({
      ok: true,
      value: [
        { name: "db", type: "tcp", host: "h", port: 1, timeout: "2s", source: "db" },
        { name: "s", type: "spark", url: "http://d:4040", source: "spark" },
      ],
    });
    const resolved = parseChecksSpec(text);
    expect(resolved.ok && resolved.value.map(({ intervalMs, timeoutMs }) => [intervalMs, timeoutMs])).toEqual(
      [
        [30_000, 2_000],
        [30_000, 5_000],
      ],
    );
    expect(parseChecksAsWritten('[{"name":"x","type":"tcp","host":"h","port":1,"timeout":"30s"}]')).toEqual({
      ok: false,
      error: ['check "x": field "timeout" (30s) must be shorter than "interval"'],
    });
  });

  it("names the check and field that are wrong", () => {
    const result = parseChecksSpec('[{"name":"zk","type":"zookeeper","servers":["nohost"]}]');
    expect(result.ok).toBe(false);
    expect(!result.ok && result.error[0]).toMatch(/check "zk": field "servers.0"/);
  });

  it("rejects unknown types, unknown fields and a timeout not shorter than the interval", () => {
    const result = parseChecksSpec([
      { name: "a", type: "mystery" },
      { name: "b", type: "tcp", host: "h", port: 1, extra: true },
      { name: "c", type: "tcp", host: "h", port: 1, interval: "5s", timeout: "5s" },
    ]);
    expect(result.ok ? [] : result.error).toEqual([
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
    expect(result.ok ? [] : result.error).toEqual([expect.stringContaining("(host:port)")]);
  });
});

describe("dns check server", () => {
  it("is an IP address with an optional port, since the agent cannot look up its own resolver", () => {
    const spec = (server: string) => parseChecksSpec([{ name: "d", type: "dns", hostname: "kafka", server }]);
    for (const server of ["10.0.0.10", "127.0.0.1:5353", "[::1]:53"]) expect(spec(server).ok).toBe(true);
    const result = spec("kube-dns.kube-system:53");
    expect(result.ok ? [] : result.error).toEqual([
      expect.stringMatching(/check "d": field "server" .*an IP address/),
    ]);
  });
});

/** A checks spec as a person writes it: 64 checks, YAML block style (the most the schema allows). */
function blockSpec(count = MAX_CHECKS): string {
  return Array.from(
    { length: count },
    (_, i) =>
      `- name: check-${i}\n  type: http\n  url: "http://svc-${i}.apps.svc:8080/healthz"\n  interval: 30s\n  timeout: 5s\n  expectStatus: [200, 204]\n`,
  ).join("");
}

const errorsOf = (input: unknown) => {
  const result = parseChecksSpec(input);
  return result.ok ? [] : result.error;
};

describe("parseChecksSpec limits (hostile text is refused before or within bounded parsing)", () => {
  it("accepts the largest spec a person writes: 64 checks in YAML block style, flow style and JSON", () => {
    expect(parseChecksSpec(blockSpec()).ok).toBe(true);
    const flow = `[${Array.from({ length: MAX_CHECKS }, (_, i) => `{name: c${i}, type: tcp, host: "[::1]", port: 80}`).join(",\n ")}]`;
    expect(parseChecksSpec(flow).ok).toBe(true);
    const checks = Array.from({ length: MAX_CHECKS }, (_, i) => ({
      name: `c${i}`,
      type: "http",
      url: "http://a/",
    }));
    expect(parseChecksSpec(JSON.stringify(checks, null, 2)).ok).toBe(true);
  });

  it("refuses text longer than the length limit, naming it", () => {
    expect(errorsOf(`${"#".repeat(CHECKS_LIMITS.length)}\n[]`)).toEqual([
      `the spec is ${CHECKS_LIMITS.length + 3} characters long, at most ${CHECKS_LIMITS.length} are read`,
    ]);
  });

  it('refuses 1-8 KB of "[" (which aborted the process) by counting them before the YAML parser runs', () => {
    for (const n of [1000, 4000, 8000]) {
      expect(errorsOf("[".repeat(n))).toEqual([
        `YAML with more than ${CHECKS_LIMITS.yamlFlowCollections} "[" and "{" (quoted ones count too) is refused, this has ${n}: write the spec as JSON, or in block style`,
      ]);
    }
    // A quote cannot hide one: the count is of every "[" and "{" in the text.
    expect(errorsOf(`- "${"]".repeat(300)}"\n- ${"[".repeat(300)}`)[0]).toMatch(
      /more than 256 "\[" and "\{"/,
    );
  });

  it("refuses lists and maps nested deeper than the depth limit, in JSON and in YAML of any style", () => {
    const tooDeep = `lists and maps nested more than ${CHECKS_LIMITS.depth} levels deep are refused (a spec needs 3)`;
    expect(errorsOf(`${"[".repeat(30_000)}${"]".repeat(30_000)}`)).toEqual([tooDeep]);
    expect(errorsOf("[[[[[1]]]]]")).toEqual([tooDeep]);
    expect(errorsOf("- - - - - x")).toEqual([tooDeep]);
    expect(errorsOf("- a:\n    b:\n      c:\n        d: x")).toEqual([tooDeep]);
    expect(errorsOf("a: a: a: a: a: x")[0]).toMatch(/nested more than 4 levels|not valid YAML/);
    expect(errorsOf([[[[[1]]]]])).toEqual([tooDeep]);
    // As deep as the schema goes is fine.
    expect(parseChecksSpec("- {name: a, type: http, url: 'http://a/', expectStatus: [200]}").ok).toBe(true);
  });

  it("refuses YAML with more tokens than the token limit, naming it", () => {
    const lines = "a\n".repeat(CHECKS_LIMITS.yamlTokens);
    expect(errorsOf(lines)).toEqual([
      `YAML with more than ${CHECKS_LIMITS.yamlTokens} tokens (lines, commas, quotes, brackets, indicators) is refused, this has ${CHECKS_LIMITS.yamlTokens + 1}: write the spec as JSON`,
    ]);
  });

  it("refuses aliases, anchors, tags and directives (no billion laughs, no type tricks)", () => {
    const laughs = [
      "a: &a [x, x, x, x, x, x, x, x, x]",
      ...Array.from({ length: 9 }, (_, i) => `b${i}: &b${i} [*a, *a, *a]`),
    ].join("\n");
    expect(errorsOf(laughs)).toEqual(["anchors (&a) are not allowed"]);
    expect(errorsOf("- *a")[0]).toMatch(/alias|not valid YAML/);
    expect(errorsOf("- &a {name: a}\n- *a")).toEqual(["anchors (&a) are not allowed"]);
    expect(errorsOf("- !!binary aGVsbG8=")).toEqual(["tags (tag:yaml.org,2002:binary) are not allowed"]);
    expect(errorsOf("- !custom {name: a}")).toEqual(["tags (!custom) are not allowed"]);
    expect(errorsOf("%YAML 1.1\n---\n- {name: a, type: tcp, host: h, port: 1}")).toEqual([
      "YAML directives are not allowed",
    ]);
    expect(errorsOf("- a\n---\n- b")).toEqual(["expected one YAML document, found more"]);
  });

  it("finds duplicate keys (in one pass, not by comparing every pair)", () => {
    expect(errorsOf("- {name: a, name: b}")).toEqual(['duplicate key "name"']);
    const many = `- {${Array.from({ length: 1500 }, (_, i) => `k${i}: 1`).join(", ")}, k0: 2}`;
    expect(errorsOf(many)).toEqual(['duplicate key "k0"']);
  });

  it("reports at most the error limit, counting the rest", () => {
    const check = {
      name: "a",
      type: "tcp",
      host: "h",
      port: 1,
      ...Object.fromEntries(Array.from({ length: 500 }, (_, i) => [`x${i}`, 1])),
    };
    const errors = errorsOf([check]);
    expect(errors).toHaveLength(CHECKS_LIMITS.errors + 1);
    expect(errors.at(-1)).toBe(`… and ${500 - CHECKS_LIMITS.errors} more errors`);
  });

  it("keeps the worst hostile text within the limits as cheap as a 64-check spec", () => {
    const room = CHECKS_LIMITS.yamlTokens - 2;
    const hostile: Record<string, string> = {
      "8 KB of [": "[".repeat(8000),
      "250,000 [": "[".repeat(250_000),
      "64 KiB of {": "{".repeat(CHECKS_LIMITS.length),
      "a comma per token": `[${",".repeat(room)}]`,
      "an anchor per token": `- ${"&a ".repeat(room)}x`,
      "a quote per token": '"a" '.repeat(room / 2),
      "a line per token": "- a\n".repeat(room),
      "an indicator per token": "? ".repeat(room),
      "deep JSON": `${"[".repeat(30_000)}${"]".repeat(30_000)}`,
      "1,500 keys": `- {${Array.from({ length: 1500 }, (_, i) => `k${i}: 1`).join(", ")}}`,
    };
    for (const [name, text] of Object.entries(hostile)) {
      expect(parseChecksSpec(text).ok, name).toBe(false);
      // Measured on a loaded 2-core machine: at most ~3x the baseline; unbounded, 8 KB of "["
      // aborted the process and 250,000 took 1.46 s.
      const cost = medianMsSideBySide(
        () => parseChecksSpec(text),
        () => parseChecksSpec(blockSpec()),
      );
      expect(cost.subject, name).toBeLessThan(10 * cost.baseline + 20);
    }
  }, 60_000); // many timed calls: the bound is relative, not the wall time
});
