// A real JVM (java/javac from test/services/jdk/install.sh) started with the env graft gives an
// injected container, and the ConfigMap's file at the mount path (a temp dir standing in for the
// kubelet's mount), finds application.properties through its class loader.
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { propertiesConfigMap } from "../../webhook/features/properties/configmap.js";
import { renderPropertiesMount } from "../../webhook/features/properties/mount.js";
import { mergeApplicationProperties } from "../../webhook/features/properties/pnda-format.js";
import { platformVariables } from "../../webhook/features/properties/sources.js";
import type { PodLike } from "../../webhook/model/kube.js";

const run = promisify(execFile);

const READER = `
import java.io.InputStream;
import java.util.Properties;

public class ReadProperties {
  public static void main(String[] args) throws Exception {
    Properties properties = new Properties();
    try (InputStream in = ReadProperties.class.getResourceAsStream("/application.properties")) {
      if (in == null) throw new IllegalStateException("application.properties is not on the class path");
      properties.load(in);
    }
    System.out.println("url=" + ReadProperties.class.getClassLoader().getResource("application.properties"));
    System.out.println("kafka_brokers=" + properties.getProperty("environment.kafka_brokers"));
    System.out.println("job_name=" + properties.getProperty("component.job_name"));
    System.out.println("file=" + System.getenv("GRAFT_PROPERTIES_FILE"));
  }
}
`;

let work: string;
let mountPath: string;
let jar: string;

async function javaTools(): Promise<void> {
  try {
    await run("javac", ["-version"]);
  } catch {
    throw new Error("javac is not installed: run test/services/jdk/install.sh");
  }
}

beforeAll(async () => {
  await javaTools();
  work = await mkdtemp(join(tmpdir(), "graft-jvm-"));
  mountPath = join(work, "etc-graft");
  const classes = join(work, "classes");
  await mkdir(mountPath);
  await mkdir(classes);
  await writeFile(join(work, "ReadProperties.java"), READER);
  await run("javac", ["-d", classes, join(work, "ReadProperties.java")]);
  // The application's jar carries its own application.properties, as PNDA packages did.
  await writeFile(join(classes, "application.properties"), "environment.kafka_brokers=from-the-jar:9092\n");
  jar = join(work, "app.jar");
  await run("jar", ["cfe", jar, "ReadProperties", "-C", classes, "."]);
}, 120_000);

afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

/** What graft puts in the ConfigMap and the app container's env, for a pod with `existingEnv`. */
async function inject(existingEnv: { name: string; value: string }[]): Promise<Record<string, string>> {
  const content = mergeApplicationProperties({
    ownText: "input.topic=traffic\n",
    platform: platformVariables({ kafka_brokers: "kafka-0.kafka:9092,kafka-1.kafka:9092" }),
    componentProperties: new Map([["main_class", "ReadProperties"]]),
    overrides: new Map(),
    application: "traffic",
    component: "aggregator",
    user: "pnda",
    kubernetes: new Map([["namespace", "analytics"]]),
  });
  const configMap = propertiesConfigMap({
    namespace: "analytics",
    app: "traffic",
    component: "aggregator",
    content,
  });
  await writeFile(join(mountPath, "application.properties"), configMap.data!["application.properties"]!);

  const pod: PodLike = { spec: { containers: [{ name: "app", image: "java", env: existingEnv }] } };
  renderPropertiesMount(pod, {
    configMapName: configMap.metadata.name,
    mountPath,
    skipContainers: new Set(),
  });
  const env: Record<string, string> = { PATH: process.env.PATH ?? "/usr/bin:/bin" };
  for (const variable of pod.spec!.containers[0]!.env ?? []) env[variable.name] = variable.value ?? "";
  return env;
}

function output(stdout: string): Record<string, string> {
  return Object.fromEntries(
    stdout
      .trim()
      .split("\n")
      .map((line) => line.split(/=(.*)/s).slice(0, 2)),
  );
}

describe("a JVM started with graft's env", () => {
  it("reads environment.kafka_brokers from the mounted file through the class loader (java -cp)", async () => {
    const env = await inject([]);
    const { stdout } = await run("java", ["-cp", jar, "ReadProperties"], { env });
    expect(output(stdout)).toEqual({
      url: `file:${mountPath}/application.properties`,
      kafka_brokers: "kafka-0.kafka:9092,kafka-1.kafka:9092",
      job_name: "traffic-aggregator-job",
      file: `${mountPath}/application.properties`,
    });
  });

  it("finds the merged file ahead of the jar's own copy (java -jar), as PNDA's jar update did", async () => {
    const env = await inject([]);
    const { stdout } = await run("java", ["-jar", jar], { env });
    expect(output(stdout).kafka_brokers).toBe("kafka-0.kafka:9092,kafka-1.kafka:9092");
  });

  it("keeps the container's own JAVA_TOOL_OPTIONS working alongside", async () => {
    const env = await inject([{ name: "JAVA_TOOL_OPTIONS", value: "-Xmx64m -Dgraft.test=1" }]);
    expect(env.JAVA_TOOL_OPTIONS).toBe(`-Xmx64m -Dgraft.test=1 -Xbootclasspath/a:${mountPath}`);
    const { stdout, stderr } = await run("java", ["-jar", jar], { env });
    expect(stderr).toContain("Picked up JAVA_TOOL_OPTIONS: -Xmx64m -Dgraft.test=1");
    expect(output(stdout).kafka_brokers).toBe("kafka-0.kafka:9092,kafka-1.kafka:9092");
  });

  it("without graft's env, the same jar reads only its own copy (the test can tell the difference)", async () => {
    await inject([]);
    const { stdout } = await run("java", ["-jar", jar], { env: { PATH: process.env.PATH ?? "" } });
    expect(output(stdout).kafka_brokers).toBe("from-the-jar:9092");
  });
});
