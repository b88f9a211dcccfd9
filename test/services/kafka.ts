/**
 * Real Kafka brokers in KRaft mode (no ZooKeeper): the broker jars from Maven Central (installed
 * by kafka/install.sh) run with `java -cp … kafka.Kafka`, storage formatted first as
 * `kafka-storage format` does (kafka.tools.StorageTool). Node 1 is broker and sole controller;
 * further nodes are brokers only, so stopping them never costs the cluster its controller.
 */
import { randomBytes } from "node:crypto";
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { Kafka, logLevel } from "kafkajs";
import { errorMessage } from "../../core/result.js";
import { cacheDir, freePort, runCommand, type Started, startProcess, tempDir, waitFor } from "./spawn.js";

export type KafkaBroker = { id: number; address: string; process: Started; stop: () => Promise<void> };
export type KafkaCluster = { brokers: KafkaBroker[]; addresses: string[]; stop: () => Promise<void> };

const LIBS = path.join(cacheDir(), "kafka", "libs");
const JVM = ["-Xmx256m", "-Xms64m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-cp", `${LIBS}/*`];

function brokerConfig(options: {
  id: number;
  port: number;
  controllerPort: number;
  isController: boolean;
  logDir: string;
  brokers: number;
}): string {
  const controllerVoter = `1@127.0.0.1:${options.controllerPort}`;
  const lines = [
    `process.roles=${options.isController ? "broker,controller" : "broker"}`,
    `node.id=${options.id}`,
    `controller.quorum.voters=${controllerVoter}`,
    options.isController
      ? `listeners=PLAINTEXT://127.0.0.1:${options.port},CONTROLLER://127.0.0.1:${options.controllerPort}`
      : `listeners=PLAINTEXT://127.0.0.1:${options.port}`,
    `advertised.listeners=PLAINTEXT://127.0.0.1:${options.port}`,
    "controller.listener.names=CONTROLLER",
    "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
    "inter.broker.listener.name=PLAINTEXT",
    `log.dirs=${options.logDir}`,
    "num.partitions=1",
    `offsets.topic.replication.factor=${options.brokers}`,
    "offsets.topic.num.partitions=1",
    "transaction.state.log.replication.factor=1",
    "transaction.state.log.min.isr=1",
    "group.initial.rebalance.delay.ms=0",
    "replica.lag.time.max.ms=3000",
    "broker.session.timeout.ms=3000",
    "broker.heartbeat.interval.ms=500",
    "auto.create.topics.enable=true",
  ];
  return `${lines.join("\n")}\n`;
}

/**
 * A random KRaft cluster id. Like Kafka's own `Uuid.randomUuid()`, it never starts with "-",
 * which the storage tool's argument parser would read as an option.
 */
export function kafkaClusterId(): string {
  for (;;) {
    const id = randomBytes(16).toString("base64url");
    if (!id.startsWith("-")) return id;
  }
}

/** Starts `brokers` KRaft nodes and resolves once each accepts Kafka connections. */
export async function startKafka(options: { brokers?: number } = {}): Promise<KafkaCluster> {
  const count = options.brokers ?? 1;
  const data = await tempDir("kafka");
  const clusterId = kafkaClusterId();
  const controllerPort = await freePort();
  const log4j = path.join(data.dir, "log4j.properties");
  await writeFile(
    log4j,
    "log4j.rootLogger=WARN, stdout\nlog4j.appender.stdout=org.apache.log4j.ConsoleAppender\n" +
      "log4j.appender.stdout.layout=org.apache.log4j.PatternLayout\nlog4j.appender.stdout.layout.ConversionPattern=%d %p %c: %m%n\n",
  );
  const nodes = await Promise.all(
    Array.from({ length: count }, async (_, i) => {
      const id = i + 1;
      const dir = path.join(data.dir, `node-${id}`);
      await mkdir(dir, { recursive: true });
      const port = await freePort();
      const config = path.join(dir, "server.properties");
      await writeFile(
        config,
        brokerConfig({
          id,
          port,
          controllerPort,
          isController: id === 1,
          logDir: path.join(dir, "logs"),
          brokers: count,
        }),
      );
      return { id, port, config };
    }),
  );
  const jvm = [...JVM, `-Dlog4j.configuration=file:${log4j}`];
  for (const node of nodes) {
    await runCommand("java", [
      ...jvm,
      "kafka.tools.StorageTool",
      "format",
      "-t",
      clusterId,
      "-c",
      node.config,
    ]);
  }
  const brokers: KafkaBroker[] = nodes.map((node) => {
    const process = startProcess("java", [...jvm, "kafka.Kafka", node.config]);
    return { id: node.id, address: `127.0.0.1:${node.port}`, process, stop: () => process.stop(20_000) };
  });
  const stopAll = async () => {
    // Brokers first, then the controller they would otherwise wait for while shutting down.
    await Promise.all(brokers.slice(1).map((broker) => broker.stop()));
    await brokers[0]?.stop();
    await data.remove();
  };
  const kafka = new Kafka({
    brokers: [brokers[0]!.address],
    logLevel: logLevel.NOTHING,
    retry: { retries: 0 },
  });
  const admin = kafka.admin();
  try {
    await waitFor(
      `${count} Kafka broker(s) registered`,
      async () => {
        await admin.connect();
        return (await admin.describeCluster()).brokers.length === count;
      },
      { process: brokers[0]!.process, timeoutMs: 120_000 },
    );
  } catch (caught) {
    await stopAll();
    throw new Error(
      `${errorMessage(caught)}\n${brokers.map((broker) => broker.process.output()).join("\n")}`,
    );
  } finally {
    await admin.disconnect();
  }
  return { brokers, addresses: brokers.map((broker) => broker.address), stop: stopAll };
}
