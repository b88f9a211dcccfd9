// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${name} is PNDA's placeholder syntax, written literally
import { describe, expect, it } from "vitest";
import { jsonObject } from "../../model/value-forms.js";
import {
  type MergeInput,
  mergeApplicationProperties,
  propertyKey,
  pythonStr,
  safeSubstitute,
} from "./pnda-format.js";
import { componentSource, platformVariables } from "./sources.js";

/** The worked example of docs/application-properties.md. */
function workedExample(): MergeInput {
  const platform = platformVariables({
    kafka_brokers: "kafka-0.kafka:9092,kafka-1.kafka:9092",
    zookeeper_quorum: "zookeeper",
    zookeeper_port: "2181",
    name_node: "hdfs://namenode:8020",
    "application.properties":
      "# from PNDA's dm-config\nopentsdb=opentsdb:4242\nkafka_zookeeper = zookeeper:2181\n",
  });
  const source = componentSource(
    { namespace: "analytics", name: "traffic-aggregator" },
    {
      "application.properties":
        "# Spark job settings\ninput.topic=avro.internal.traffic\nbrokers=${environment_kafka_brokers}\n",
      "properties.json": JSON.stringify({
        main_jar: "traffic-aggregator.jar",
        main_class: "io.pnda.traffic.Aggregator",
        batch_size_seconds: "2",
        checkpoint: true,
        retries: 3,
      }),
    },
  );
  if (!source.ok) throw new Error(source.error);
  const overrides = jsonObject('{"batch_size_seconds": "5", "log_level": "DEBUG"}');
  if (!overrides.ok) throw new Error(overrides.error);
  return {
    ownText: source.value.ownText,
    platform,
    componentProperties: source.value.componentProperties,
    overrides: overrides.value,
    application: "traffic",
    component: "aggregator",
    user: "pnda",
    kubernetes: new Map([
      ["namespace", "analytics"],
      ["app", "traffic"],
      ["component", "aggregator"],
      ["component_type", "sparkStreaming"],
      ["service_account", "pnda"],
    ]),
  };
}

describe("mergeApplicationProperties", () => {
  it("writes the component's file, a blank line, then PNDA's keys in PNDA's order and the Kubernetes facts", () => {
    expect(mergeApplicationProperties(workedExample())).toBe(
      [
        "# Spark job settings",
        "input.topic=avro.internal.traffic",
        "brokers=kafka-0.kafka:9092,kafka-1.kafka:9092",
        "",
        "environment.kafka_brokers=kafka-0.kafka:9092,kafka-1.kafka:9092",
        "environment.kafka_zookeeper=zookeeper:2181",
        "environment.name_node=hdfs://namenode:8020",
        "environment.opentsdb=opentsdb:4242",
        "environment.zookeeper_port=2181",
        "environment.zookeeper_quorum=zookeeper",
        "component.main_jar=traffic-aggregator.jar",
        "component.main_class=io.pnda.traffic.Aggregator",
        "component.batch_size_seconds=5",
        "component.checkpoint=True",
        "component.retries=3",
        "component.log_level=DEBUG",
        "component.application=traffic",
        "component.name=aggregator",
        "component.job_name=traffic-aggregator-job",
        "application.hdfs_root=/pnda/system/deployment-manager/applications/pnda/traffic",
        "component.hdfs_root=/pnda/system/deployment-manager/applications/pnda/traffic/aggregator",
        "application.user=pnda",
        "kubernetes.namespace=analytics",
        "kubernetes.app=traffic",
        "kubernetes.component=aggregator",
        "kubernetes.component_type=sparkStreaming",
        "kubernetes.service_account=pnda",
        "",
      ].join("\n"),
    );
  });

  it("appends nothing when a component property no_auto_props exists, whatever its value, but still fills placeholders", () => {
    const input = workedExample();
    for (const value of [true, false, "yes"]) {
      const text = mergeApplicationProperties({
        ...input,
        overrides: new Map([...input.overrides, ["no_auto_props", value]]),
      });
      expect(text).toBe(
        "# Spark job settings\ninput.topic=avro.internal.traffic\nbrokers=kafka-0.kafka:9092,kafka-1.kafka:9092\n",
      );
    }
  });

  it("follows a file without a final newline directly, as PNDA's append did", () => {
    const text = mergeApplicationProperties({
      ...workedExample(),
      ownText: "a=1",
      platform: new Map([["kafka_brokers", "k:9092"]]),
      componentProperties: new Map(),
      overrides: new Map(),
      kubernetes: new Map(),
    });
    expect(text.split("\n").slice(0, 2)).toEqual(["a=1", "environment.kafka_brokers=k:9092"]);
  });

  it("starts with the blank line when the component has no file of its own", () => {
    const text = mergeApplicationProperties({ ...workedExample(), ownText: "" });
    expect(text.startsWith("\nenvironment.kafka_brokers=")).toBe(true);
  });

  it("is the same text for the same inputs", () => {
    expect(mergeApplicationProperties(workedExample())).toBe(mergeApplicationProperties(workedExample()));
  });
});

describe("propertyKey", () => {
  it("turns only the first underscore into a dot", () => {
    expect(propertyKey("environment_kafka_brokers")).toBe("environment.kafka_brokers");
    expect(propertyKey("component_no_auto_props")).toBe("component.no_auto_props");
    expect(propertyKey("plain")).toBe("plain");
  });
});

describe("safeSubstitute", () => {
  const mapping = new Map([["environment_kafka_brokers", "k:9092"]]);
  it("fills $name and ${name}, leaves unknown names and stray dollars, and unescapes $$", () => {
    expect(safeSubstitute("a=$environment_kafka_brokers b=${environment_kafka_brokers}x", mapping)).toBe(
      "a=k:9092 b=k:9092x",
    );
    expect(safeSubstitute("c=${nope} d=$nope e=$1 f=$$environment_kafka_brokers g=$", mapping)).toBe(
      "c=${nope} d=$nope e=$1 f=$environment_kafka_brokers g=$",
    );
  });
});

describe("pythonStr", () => {
  it("writes values as Python 3's '%s' does", () => {
    expect(pythonStr("text")).toBe("text");
    expect(pythonStr(true)).toBe("True");
    expect(pythonStr(null)).toBe("None");
    expect(pythonStr(3)).toBe("3");
    expect(pythonStr(2.5)).toBe("2.5");
    expect(pythonStr(0.0001)).toBe("0.0001");
    expect(pythonStr(0.00001)).toBe("1e-05");
    expect(pythonStr(1.5e20)).toBe("1.5e+20");
    expect(pythonStr(["a", 1, false])).toBe("['a', 1, False]");
    expect(pythonStr({ k: "it's" })).toBe(`{'k': "it's"}`);
  });
});
