/** The kafka check against real Kafka brokers in KRaft mode (no ZooKeeper), jars from Maven Central. */
import { Kafka, logLevel } from "kafkajs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkKafka } from "../../agent/checks/kafka.js";
import { type KafkaCluster, startKafka } from "../services/kafka.js";
import { closedPort, serveBytes, serveSilence } from "../services/recorded.js";
import { waitFor } from "../services/spawn.js";
import { ABORT_SLACK_MS, runCheck, type TimedResult } from "./run-check.js";

const spec = (brokers: string[], roundTripTopic?: string) => ({
  name: "kafka",
  type: "kafka" as const,
  brokers,
  ...(roundTripTopic ? { roundTripTopic } : {}),
});

describe("kafka check against a real KRaft broker", () => {
  let cluster: KafkaCluster;
  beforeAll(async () => {
    cluster = await startKafka();
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  it("is OK with the cluster's gauges", async () => {
    const result = await runCheck(checkKafka, spec(cluster.addresses));
    expect(result).toMatchObject({ health: "OK", causes: [] });
    expect(result.values).toMatchObject({ brokers: 1, controller_present: 1, offline_partitions: 0 });
  });

  it("produces and consumes a message on roundTripTopic and times it", async () => {
    const result = await runCheck(checkKafka, spec(cluster.addresses, "graft-health"), { timeoutMs: 20_000 });
    expect(result).toMatchObject({ health: "OK", causes: [] });
    expect(result.values?.round_trip_seconds).toBeGreaterThan(0);
    // A second run finds its own message, not the first one's, and now sees the topic (and the
    // consumer offsets topic the round trip's group brought in).
    const again = await runCheck(checkKafka, spec(cluster.addresses, "graft-health"), { timeoutMs: 20_000 });
    expect(again).toMatchObject({ health: "OK", values: { topics: 2, partitions: 2 } });
  });
});

describe("kafka check against two real KRaft brokers", () => {
  let cluster: KafkaCluster;
  beforeAll(async () => {
    cluster = await startKafka({ brokers: 2 });
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  it("is WARN naming the partition when a replica's broker stops (under-replicated)", async () => {
    const admin = new Kafka({ brokers: cluster.addresses, logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    await admin.createTopics({
      topics: [{ topic: "replicated", numPartitions: 1, replicationFactor: 2 }],
      waitForLeaders: true,
    });
    await admin.disconnect();
    await waitFor(
      "both replicas in sync",
      async () => (await runCheck(checkKafka, spec(cluster.addresses))).health === "OK",
    );

    await cluster.brokers[1]!.stop();
    let result: TimedResult | undefined;
    await waitFor("the check to see the lost replica", async () => {
      result = await runCheck(checkKafka, spec([cluster.addresses[0]!]));
      return result.health !== "OK";
    });
    expect(result).toMatchObject({
      health: "WARN",
      causes: [`${cluster.addresses[0]}: 1 under-replicated partition(s): replicated-0`],
      values: { brokers: 1, under_replicated_partitions: 1, offline_partitions: 0 },
    });
  });
});

describe("kafka check against misbehaving targets", () => {
  it("is ERROR naming the broker when nothing listens", async () => {
    const address = `127.0.0.1:${await closedPort()}`;
    const result = await runCheck(checkKafka, spec([address]));
    expect(result.health).toBe("ERROR");
    expect(result.causes[0]).toMatch(new RegExp(`^${address}: .*ECONNREFUSED`));
  });

  it("is ERROR by timeout, within the bound, when the broker accepts and never answers", async () => {
    const silent = await serveSilence();
    const result = await runCheck(checkKafka, spec([`127.0.0.1:${silent.port}`]), { timeoutMs: 800 });
    await silent.stop();
    expect(result.health).toBe("ERROR");
    expect(result.causes[0]).toMatch(new RegExp(`^127.0.0.1:${silent.port}: `));
    expect(result.elapsedMs).toBeLessThan(800 + ABORT_SLACK_MS);
  });

  it("is ERROR when the target answers something that is not Kafka", async () => {
    const garbage = await serveBytes("HTTP/1.1 400 Bad Request\r\n\r\n");
    const result = await runCheck(checkKafka, spec([`127.0.0.1:${garbage.port}`]));
    await garbage.stop();
    expect(result.health).toBe("ERROR");
    expect(result.causes[0]).toMatch(new RegExp(`^127.0.0.1:${garbage.port}: `));
  });
});
