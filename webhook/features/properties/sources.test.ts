import { describe, expect, it } from "vitest";
import { jsonObject } from "../../model/value-forms.js";
import { componentSource, parseJavaProperties, platformVariables } from "./sources.js";

describe("platformVariables", () => {
  it("reads each key as a variable, and key=value lines of an application.properties key, sorted by name", () => {
    const variables = platformVariables({
      zookeeper_quorum: "zk",
      "application.properties": "environment.kafka_brokers=k:9092\nopentsdb=tsdb:4242\n",
    });
    expect([...variables]).toEqual([
      ["kafka_brokers", "k:9092"],
      ["opentsdb", "tsdb:4242"],
      ["zookeeper_quorum", "zk"],
    ]);
  });

  it("lets a separate key win over a line of the file", () => {
    const variables = platformVariables({
      kafka_brokers: "key:9092",
      "application.properties": "kafka_brokers=file:9092",
    });
    expect(variables.get("kafka_brokers")).toBe("key:9092");
  });

  it("is empty when there is no graft-platform", () => {
    expect(platformVariables(undefined).size).toBe(0);
  });
});

describe("parseJavaProperties", () => {
  it("reads the forms java.util.Properties reads", () => {
    const text = [
      "# comment",
      "! also a comment",
      "  spaced.key = spaced value",
      "colon:value",
      "blank value",
      "multi=one, \\",
      "      two",
      "escaped\\=key=a\\tb\\u0041",
      "",
      "empty=",
    ].join("\r\n");
    expect(Object.fromEntries(parseJavaProperties(text))).toEqual({
      "spaced.key": "spaced value",
      colon: "value",
      blank: "value",
      multi: "one, two",
      "escaped=key": "a\tbA",
      empty: "",
    });
  });
});

describe("componentSource", () => {
  const where = { namespace: "analytics", name: "traffic-props" };

  it("takes application.properties and properties.json, in file order", () => {
    const source = componentSource(where, { "properties.json": '{"b": "1", "a": 2}' });
    expect(source).toEqual({
      ok: true,
      value: {
        ownText: "",
        componentProperties: new Map<string, unknown>([
          ["b", "1"],
          ["a", 2],
        ]),
      },
    });
  });

  it("names the ConfigMap and key when properties.json is not a JSON object", () => {
    const source = componentSource(where, { "properties.json": "[1]" });
    expect(source).toEqual({
      ok: false,
      error: expect.stringMatching(
        /^ConfigMap "traffic-props" in namespace "analytics", key "properties.json": expected a JSON object/,
      ),
    });
  });

  it("says what to add when the ConfigMap has neither key", () => {
    const source = componentSource(where, { other: "x" });
    expect(!source.ok && source.error).toMatch(
      /has neither key "application.properties" nor "properties.json"/,
    );
  });
});

describe("jsonObject", () => {
  it("rejects text that is not JSON", () => {
    expect(jsonObject("{nope").ok).toBe(false);
  });
});
