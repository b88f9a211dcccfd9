import { describe, expect, it } from "vitest";
import { parseIntent } from "./intent.js";

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
      intent: {
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

  it("treats no annotations as an empty intent", () => {
    expect(parseIntent(undefined)).toEqual({ ok: true, intent: {} });
  });

  it("ignores graft's own status annotation, whatever it holds", () => {
    expect(parseIntent({ "graft.pnda.io/status": "not json" })).toEqual({ ok: true, intent: {} });
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
      errors: [
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
    expect(result.ok ? [] : result.errors).toEqual([
      'annotation "graft.pnda.io/checks": check "api": missing field "url"',
      expect.stringMatching(
        /^annotation "graft.pnda.io\/checks": check "zk": field "servers.0" must match pattern/,
      ),
    ]);
  });

  it("shows the expected form when the checks are not a list at all", () => {
    expect(parseIntent({ "graft.pnda.io/checks": "name: api" })).toEqual({
      ok: false,
      errors: [
        'annotation "graft.pnda.io/checks": expected a list of checks',
        'annotation "graft.pnda.io/checks": expected a YAML or JSON list of checks such as [{name: api, type: http, url: "http://api:8080/healthz"}]',
      ],
    });
  });

  it("rejects an unknown graft annotation, suggesting the nearest known one", () => {
    const result = parseIntent({ "graft.pnda.io/chekcs": "[]" });
    expect(result.ok ? [] : result.errors).toEqual([
      'unknown annotation "graft.pnda.io/chekcs": did you mean "graft.pnda.io/checks"? graft reads graft.pnda.io/{component-type, app, component, properties, properties-configmap, properties-mount-path, properties-overrides, notebooks, notebooks-user, health, checks, checks-configmap}',
    ]);
  });

  it("says the inject label is a label, not an annotation", () => {
    const result = parseIntent({ "graft.pnda.io/inject": "enabled" });
    expect(result.ok ? [] : result.errors).toEqual([
      '"graft.pnda.io/inject" is a label, not an annotation: move it to metadata.labels (on a workload, spec.template.metadata.labels)',
    ]);
  });

  it("rejects checks given twice, and checks with health switched off", () => {
    const both = parseIntent({ "graft.pnda.io/checks": "[]", "graft.pnda.io/checks-configmap": "checks" });
    expect(both.ok ? [] : both.errors).toEqual([
      'annotations "graft.pnda.io/checks" and "graft.pnda.io/checks-configmap" are both set: keep one of them',
    ]);
    const off = parseIntent({ "graft.pnda.io/health": "false", "graft.pnda.io/checks": "[]" });
    expect(off.ok ? [] : off.errors).toEqual([
      'annotation "graft.pnda.io/health" is "false" but "graft.pnda.io/checks" is set: remove "graft.pnda.io/checks", or set "graft.pnda.io/health" to "true"',
    ]);
  });

  it("cuts a long bad value short in the message", () => {
    const result = parseIntent({ "graft.pnda.io/health": "x".repeat(500) });
    expect(result.ok ? "" : result.errors[0]).toBe(
      `annotation "graft.pnda.io/health" is "${"x".repeat(77)}...": expected "true" or "false"`,
    );
  });
});
