import { describe, expect, it } from "vitest";
import { ANNOTATION_LIMITS } from "../../core/annotations.js";
import { medianMsSideBySide } from "../../test/timing.js";
import { OVERRIDES_DEPTH, parseIntent } from "./intent.js";

describe("parseIntent", () => {
  it("reads every graft annotation into the intent and ignores other annotations", () => {
    const result = parseIntent({
      "graft.pnda.io/component-type": "sparkStreaming",
      "graft.pnda.io/app": "fraud-detect",
      "graft.pnda.io/component": "scorer",
      "graft.pnda.io/properties": "true",
      "graft.pnda.io/properties-configmap": "scorer-props",
      "graft.pnda.io/properties-mount-path": "/opt/app/conf",
      "graft.pnda.io/notebooks": "false",
      "graft.pnda.io/notebooks-user": "alice.smith",
      "graft.pnda.io/health": "true",
      "graft.pnda.io/checks": "- {name: zk, type: zookeeper, servers: ['zk:2181'], interval: 1m}",
      "kubectl.kubernetes.io/restartedAt": "2024-01-01T00:00:00Z",
    });
    expect(result).toEqual({
      ok: true,
      value: {
        componentType: "sparkStreaming",
        app: "fraud-detect",
        component: "scorer",
        properties: true,
        propertiesConfigMap: "scorer-props",
        propertiesMountPath: "/opt/app/conf",
        notebooks: false,
        notebooksUser: "alice.smith",
        health: true,
        checks: [{ name: "zk", type: "zookeeper", servers: ["zk:2181"], interval: "1m", source: "zk" }],
      },
    });
  });

  it("reads graft.pnda.io/agent-port as a port graft-agent can bind without privileges", () => {
    expect(parseIntent({ "graft.pnda.io/agent-port": "9500" })).toEqual({
      ok: true,
      value: { agentPort: 9500 },
    });
    expect(parseIntent({ "graft.pnda.io/agent-port": "1024" })).toEqual({
      ok: true,
      value: { agentPort: 1024 },
    });
    expect(parseIntent({ "graft.pnda.io/agent-port": "65535" })).toEqual({
      ok: true,
      value: { agentPort: 65535 },
    });
  });

  it.each([
    "80",
    "1023",
    "65536",
    "0",
    "-9500",
    "+9500",
    "09500",
    "9500.0",
    "9e3",
    "0x2500",
    " 9500",
    "9500\n",
    "",
    "graft-metrics",
    "99999999999999999999999",
    "9".repeat(1024),
  ])("refuses agent-port %j, naming the form expected", (value) => {
    const result = parseIntent({ "graft.pnda.io/agent-port": value });
    expect(result.ok).toBe(false);
    expect(result.ok ? [] : result.error).toEqual([
      `annotation "graft.pnda.io/agent-port" is ${JSON.stringify(value.length > 80 ? `${value.slice(0, 77)}...` : value)}: expected a port number from 1024 to 65535 (graft-agent runs without privileges)`,
    ]);
  });

  it("refuses an agent-port longer than graft reads before parsing it", () => {
    const result = parseIntent({ "graft.pnda.io/agent-port": "9".repeat(1025) });
    expect(result).toEqual({
      ok: false,
      error: ['annotation "graft.pnda.io/agent-port" is 1025 characters long, at most 1024 are read'],
    });
  });

  it("treats no annotations as an empty intent", () => {
    expect(parseIntent(undefined)).toEqual({ ok: true, value: {} });
  });

  it("ignores graft's own status annotation, whatever it holds", () => {
    expect(parseIntent({ "graft.pnda.io/status": "not json" })).toEqual({ ok: true, value: {} });
  });

  it("names the annotation, the value and the expected form of a bad value", () => {
    const result = parseIntent({
      "graft.pnda.io/health": "yes",
      "graft.pnda.io/component-type": "spark",
      "graft.pnda.io/app": "-bad-",
      "graft.pnda.io/checks-configmap": "My_Checks",
      "graft.pnda.io/properties-mount-path": "etc/graft",
      "graft.pnda.io/notebooks-user": "bob; rm -rf /",
    });
    expect(result).toEqual({
      ok: false,
      error: [
        'annotation "graft.pnda.io/health" is "yes": expected "true" or "false"',
        'annotation "graft.pnda.io/component-type" is "spark": expected one of sparkStreaming, flinkStreaming, jupyter, generic',
        'annotation "graft.pnda.io/app" is "-bad-": expected up to 63 letters, digits, "-", "_" or ".", beginning and ending with a letter or digit',
        'annotation "graft.pnda.io/checks-configmap" is "My_Checks": expected the name of a ConfigMap in the pod\'s namespace (lowercase letters, digits, "-" and ".")',
        'annotation "graft.pnda.io/properties-mount-path" is "etc/graft": expected an absolute directory path such as /etc/graft, without ".." or ":"',
        'annotation "graft.pnda.io/notebooks-user" is "bob; rm -rf /": expected a JupyterHub username: 1-64 of a-z 0-9 . _ - (not starting with . or -, no "..")',
      ],
    });
  });

  it("rejects mount paths that climb out or are the root", () => {
    for (const path of ["/", "/etc/../root", "/a:b"]) {
      expect(parseIntent({ "graft.pnda.io/properties-mount-path": path }).ok).toBe(false);
    }
  });

  it("reports each check that is wrong, by name and field", () => {
    const result = parseIntent({
      "graft.pnda.io/checks":
        '[{"name":"api","type":"http"},{"name":"zk","type":"zookeeper","servers":["nohost"]}]',
    });
    expect(result.ok ? [] : result.error).toEqual([
      'annotation "graft.pnda.io/checks": check "api": missing field "url"',
      expect.stringMatching(
        /^annotation "graft.pnda.io\/checks": check "zk": field "servers.0" must match pattern/,
      ),
    ]);
  });

  it("shows the expected form when the checks are not a list at all", () => {
    expect(parseIntent({ "graft.pnda.io/checks": "name: api" })).toEqual({
      ok: false,
      error: [
        'annotation "graft.pnda.io/checks": expected a list of checks',
        'annotation "graft.pnda.io/checks": expected a YAML or JSON list of checks such as [{name: api, type: http, url: "http://api:8080/healthz"}]',
      ],
    });
  });

  it("rejects an unknown graft annotation, suggesting the nearest known one", () => {
    const result = parseIntent({ "graft.pnda.io/chekcs": "[]" });
    expect(result.ok ? [] : result.error).toEqual([
      'unknown annotation "graft.pnda.io/chekcs": did you mean "graft.pnda.io/checks"? graft reads graft.pnda.io/{component-type, app, component, properties, properties-configmap, properties-mount-path, properties-overrides, notebooks, notebooks-user, health, checks, checks-configmap, agent-port}',
    ]);
  });

  it("says the inject label is a label, not an annotation", () => {
    const result = parseIntent({ "graft.pnda.io/inject": "enabled" });
    expect(result.ok ? [] : result.error).toEqual([
      '"graft.pnda.io/inject" is a label, not an annotation: move it to metadata.labels (on a workload, spec.template.metadata.labels)',
    ]);
  });

  it("rejects checks given twice, and checks with health switched off", () => {
    const both = parseIntent({ "graft.pnda.io/checks": "[]", "graft.pnda.io/checks-configmap": "checks" });
    expect(both.ok ? [] : both.error).toEqual([
      'annotations "graft.pnda.io/checks" and "graft.pnda.io/checks-configmap" are both set: keep one of them',
    ]);
    const off = parseIntent({ "graft.pnda.io/health": "false", "graft.pnda.io/checks": "[]" });
    expect(off.ok ? [] : off.error).toEqual([
      'annotation "graft.pnda.io/health" is "false" but "graft.pnda.io/checks" is set: remove "graft.pnda.io/checks", or set "graft.pnda.io/health" to "true"',
    ]);
  });

  it("cuts a long bad value short in the message", () => {
    const result = parseIntent({ "graft.pnda.io/health": "x".repeat(500) });
    expect(result.ok ? "" : result.error[0]).toBe(
      `annotation "graft.pnda.io/health" is "${"x".repeat(77)}...": expected "true" or "false"`,
    );
  });
});

const errorsOf = (annotations: unknown) => {
  const result = parseIntent(annotations as Record<string, string>);
  return result.ok ? [] : result.error;
};

/** The annotations of a pod as graft's users write them, most of them set. */
const usual = {
  "graft.pnda.io/component-type": "sparkStreaming",
  "graft.pnda.io/app": "fraud-detect",
  "graft.pnda.io/properties": "true",
  "graft.pnda.io/properties-overrides": '{"batch_size_seconds": "5"}',
  "graft.pnda.io/health": "true",
  "graft.pnda.io/checks": "- {name: zk, type: zookeeper, servers: ['zk:2181'], interval: 1m}",
};

describe("parseIntent limits (checked before any value is parsed or any hint computed)", () => {
  it("refuses more graft annotations than the key limit, without reading any", () => {
    const many = Object.fromEntries(
      Array.from({ length: 3013 }, (_, i) => [`graft.pnda.io/${String(i).padStart(63, "x")}`, "v"]),
    );
    const errors = errorsOf(many);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(
      new RegExp(
        `^3013 graft\\.pnda\\.io/\\* annotations, at most ${ANNOTATION_LIMITS.keys} are read: graft reads graft\\.pnda\\.io/\\{component-type, `,
      ),
    );
  });

  it("gives a did-you-mean hint to the first few unknown keys only, and counts the rest", () => {
    const unknown = Object.fromEntries(
      Array.from({ length: ANNOTATION_LIMITS.keys }, (_, i) => [`graft.pnda.io/chekcs${i}`, "v"]),
    );
    const errors = errorsOf(unknown);
    expect(errors).toHaveLength(ANNOTATION_LIMITS.hints + 1);
    expect(errors[0]).toMatch(
      /^unknown annotation "graft.pnda.io\/chekcs0": did you mean "graft.pnda.io\/checks"\?/,
    );
    expect(errors.at(-1)).toBe(
      `… and ${ANNOTATION_LIMITS.keys - ANNOTATION_LIMITS.hints} more unknown graft.pnda.io/* annotations`,
    );
  });

  it("refuses a key longer than Kubernetes allows, cutting it short in the message", () => {
    const key = `graft.pnda.io/${"k".repeat(1024 * 1024)}`;
    expect(errorsOf({ [key]: "v" })).toEqual([
      `annotation key "graft.pnda.io/${"k".repeat(63)}..." is ${key.length} characters long: Kubernetes allows 63 after "graft.pnda.io/"`,
    ]);
  });

  it("refuses a value longer than the annotation's limit before parsing it", () => {
    expect(errorsOf({ "graft.pnda.io/checks": "[".repeat(250_000) })).toEqual([
      'annotation "graft.pnda.io/checks" is 250000 characters long, at most 65536 are read',
    ]);
    expect(errorsOf({ "graft.pnda.io/app": "a".repeat(2000) })).toEqual([
      `annotation "graft.pnda.io/app" is 2000 characters long, at most ${ANNOTATION_LIMITS.value} are read`,
    ]);
    expect(errorsOf({ "graft.pnda.io/checks": "[".repeat(8000) })[0]).toMatch(
      /^annotation "graft.pnda.io\/checks": YAML with more than 256 "\[" and "\{"/,
    );
  });

  it("refuses values that are not strings and annotations that are not a map (a review written by hand)", () => {
    let deep: unknown = [];
    for (let i = 0; i < 100_000; i++) deep = [deep];
    expect(errorsOf({ "graft.pnda.io/health": deep, "graft.pnda.io/app": 7 })).toEqual([
      'annotation "graft.pnda.io/health" is not a string',
      'annotation "graft.pnda.io/app" is not a string',
    ]);
    for (const annotations of ["graft.pnda.io/health", ["graft.pnda.io/health"], 5]) {
      expect(errorsOf(annotations)).toEqual(["metadata.annotations is not a map of strings"]);
    }
  });

  it("refuses properties-overrides nested deeper than its limit", () => {
    const nested = (levels: number) => `{"a": ${"[".repeat(levels - 1)}1${"]".repeat(levels - 1)}}`;
    expect(parseIntent({ "graft.pnda.io/properties-overrides": nested(OVERRIDES_DEPTH) }).ok).toBe(true);
    expect(errorsOf({ "graft.pnda.io/properties-overrides": nested(OVERRIDES_DEPTH + 1) })[0]).toMatch(
      new RegExp(`expected at most ${OVERRIDES_DEPTH} levels of nested objects and lists$`),
    );
    expect(errorsOf({ "graft.pnda.io/properties-overrides": nested(30_000) })[0]).toMatch(/levels of nested/);
    // Brackets inside strings, escaped quotes included, are text, not levels.
    const brackets = `{"a": "${"[{".repeat(50)}\\"${"[".repeat(50)}"}`;
    expect(parseIntent({ "graft.pnda.io/properties-overrides": brackets })).toMatchObject({
      ok: true,
      value: { propertiesOverrides: { a: `${"[{".repeat(50)}"${"[".repeat(50)}` } },
    });
  });

  it("keeps the worst hostile annotations as cheap as reading the usual ones", () => {
    const hostile: Record<string, Record<string, unknown>> = {
      "3,013 unknown 63-character keys": Object.fromEntries(
        Array.from({ length: 3013 }, (_, i) => [`graft.pnda.io/${String(i).padStart(63, "x")}`, "v"]),
      ),
      "32 unknown 63-character keys": Object.fromEntries(
        Array.from({ length: ANNOTATION_LIMITS.keys }, (_, i) => [
          `graft.pnda.io/${String(i).padStart(63, "y")}`,
          "v",
        ]),
      ),
      "a 1 MB unknown key": { [`graft.pnda.io/${"k".repeat(1024 * 1024)}`]: "v" },
      "250,000 [ of checks": { "graft.pnda.io/checks": "[".repeat(250_000) },
      "64 KiB of { in checks": { "graft.pnda.io/checks": "{".repeat(65_536) },
      "64 KiB of [ in overrides": { "graft.pnda.io/properties-overrides": `{"a": ${"[".repeat(65_000)}}` },
    };
    for (const [name, annotations] of Object.entries(hostile)) {
      expect(parseIntent(annotations as Record<string, string>).ok, name).toBe(false);
      // Unbounded: 3,013 keys took 1.05 s, a 1 MB key 3.1 s, 250,000 "[" 1.46 s.
      const cost = medianMsSideBySide(
        () => parseIntent(annotations as Record<string, string>),
        () => parseIntent(usual),
      );
      expect(cost.subject, name).toBeLessThan(10 * cost.baseline + 20);
    }
  }, 60_000); // many timed calls: the bound is relative, not the wall time
});
