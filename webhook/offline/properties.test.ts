import { describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { type InjectIO, run } from "./cli.js";
import { configMapsIn, platformFromFile } from "./properties.js";

const SPARK = `apiVersion: v1
kind: ConfigMap
metadata: {name: traffic-props, namespace: analytics}
data:
  properties.json: '{"main_class": "io.pnda.Aggregator"}'
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: traffic, namespace: analytics}
spec:
  selector: {matchLabels: {app: traffic}}
  template:
    metadata:
      labels: {app: traffic}
      annotations:
        graft.pnda.io/component-type: sparkStreaming
        graft.pnda.io/component: aggregator
        graft.pnda.io/properties-configmap: traffic-props
        graft.pnda.io/health: "false"
    spec:
      containers: [{name: driver, image: spark}]
`;

const PLATFORM = `apiVersion: v1
kind: ConfigMap
metadata: {name: graft-platform, namespace: graft}
data:
  kafka_brokers: kafka:9092
`;

function io(files: Record<string, string>) {
  const out: string[] = [];
  const err: string[] = [];
  const fake: InjectIO = {
    readFile: async (path) => {
      const text = files[path];
      if (text === undefined) throw new Error(`no file ${path}`);
      return text;
    },
    readStdin: async () => "",
    stdout: (text) => out.push(text),
    stderr: (text) => err.push(text),
  };
  return { fake, out, err };
}

describe("graft inject --platform", () => {
  it("prints the properties ConfigMap graft would create, merged from the platform file and the input's ConfigMap", async () => {
    const { fake, out, err } = io({ "app.yaml": SPARK, "platform.yaml": PLATFORM });
    expect(await run(["-f", "app.yaml", "--assume-opted-in", "--platform", "platform.yaml"], fake)).toBe(0);
    expect(err).toEqual([]);
    const documents = parseAllDocuments(out.join("")) as unknown as { toJS: () => Record<string, unknown> }[];
    const created = documents
      .map((d) => d.toJS())
      .find((o) => String((o.metadata as { name: string }).name).startsWith("graft-props-"));
    expect(created).toBeDefined();
    expect((created!.data as Record<string, string>)["application.properties"]).toContain(
      "\nenvironment.kafka_brokers=kafka:9092\ncomponent.main_class=io.pnda.Aggregator\n",
    );
  });

  it("denies, offline too, a pod whose properties ConfigMap is not among the documents", async () => {
    const { fake, err } = io({ "app.yaml": SPARK.split("---\n")[1]!, "platform.yaml": PLATFORM });
    expect(await run(["-f", "app.yaml", "--assume-opted-in", "--platform", "platform.yaml"], fake)).toBe(1);
    expect(err.join("")).toMatch(/names ConfigMap "traffic-props", which does not exist/);
  });
});

describe("platformFromFile", () => {
  it("reads a ConfigMap manifest or a .properties file", () => {
    expect([...platformFromFile(PLATFORM)]).toEqual([["kafka_brokers", "kafka:9092"]]);
    expect([...platformFromFile("kafka_brokers=k:9092\n# c\nzookeeper_quorum=zk\n")]).toEqual([
      ["kafka_brokers", "k:9092"],
      ["zookeeper_quorum", "zk"],
    ]);
  });
});

describe("configMapsIn", () => {
  it("finds ConfigMaps by name, in Lists too", () => {
    const list = `kind: List\nitems:\n  - {kind: ConfigMap, metadata: {name: a}, data: {k: v}}\n`;
    expect(configMapsIn(list)).toEqual(new Map([["a", { k: "v" }]]));
  });
});
