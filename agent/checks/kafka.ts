/**
 * `kafka`: cluster metadata through the Kafka protocol only (kafkajs admin), so it works the same
 * on KRaft clusters, which have no ZooKeeper to ask. No controller or an offline partition (no
 * leader): ERROR. An under-replicated partition (ISR smaller than its replicas): WARN. With
 * `roundTripTopic`, a message is produced and consumed back, and its round trip timed.
 */
import { randomUUID } from "node:crypto";
import net from "node:net";
import tls from "node:tls";
import {
  type Admin,
  type ISocketFactory,
  type ITopicMetadata,
  Kafka,
  logLevel,
  Partitioners,
  type RetryOptions,
} from "kafkajs";
import { TooLargeError } from "../../core/bytes.js";
import {
  describeNetworkError,
  error,
  type Finding,
  failedWith,
  reasonOfError,
  resultOf,
  warn,
} from "./outcome.js";
import type { CheckResult, CheckRunner } from "./types.js";

export type ClusterFacts = {
  brokers: number;
  controller: number | null;
  topics: Pick<ITopicMetadata, "name" | "partitions">[];
};

const MAX_NAMED_PARTITIONS = 5;
/**
 * The largest Kafka response the check reads. kafkajs buffers whatever size a response's prefix
 * announces (it has no option to bound it), so the socket it is given is cut off first. Metadata
 * for ~50,000 partitions fits; the round trip's fetches are asked for at most 1 MiB.
 */
export const MAX_RESPONSE_BYTES = 4 * 1024 * 1024;
const MAX_FETCH_BYTES = 1024 * 1024;
const ROUND_TRIP_KEY = "graft-round-trip";
/**
 * A topic being auto-created, or the group coordinator's topic on first use, answers "unknown
 * topic" for a moment: the round trip retries briefly (and the signal bounds it anyway).
 */
const RETRY_WHILE_CREATING: RetryOptions = { retries: 8, initialRetryTime: 100, maxRetryTime: 1000 };

function named(partitions: string[]): string {
  const more =
    partitions.length > MAX_NAMED_PARTITIONS ? ` and ${partitions.length - MAX_NAMED_PARTITIONS} more` : "";
  return partitions.slice(0, MAX_NAMED_PARTITIONS).join(", ") + more;
}

export function assessCluster(facts: ClusterFacts, target: string): CheckResult {
  const offline: string[] = [];
  const underReplicated: string[] = [];
  let partitions = 0;
  for (const topic of facts.topics) {
    for (const partition of topic.partitions) {
      partitions += 1;
      const name = `${topic.name}-${partition.partitionId}`;
      if (partition.leader < 0) offline.push(name);
      else if (partition.isr.length < partition.replicas.length) underReplicated.push(name);
    }
  }
  const findings: Finding[] = [];
  if (facts.brokers === 0) findings.push(error(`${target}: no broker in the cluster metadata`));
  if (facts.controller === null || facts.controller < 0)
    findings.push(error(`${target}: no active controller`));
  if (offline.length > 0) {
    findings.push(error(`${target}: ${offline.length} offline partition(s) (no leader): ${named(offline)}`));
  }
  if (underReplicated.length > 0) {
    findings.push(
      warn(`${target}: ${underReplicated.length} under-replicated partition(s): ${named(underReplicated)}`),
    );
  }
  return resultOf(findings, {
    brokers: facts.brokers,
    controller_present: facts.controller === null || facts.controller < 0 ? 0 : 1,
    topics: facts.topics.length,
    partitions,
    offline_partitions: offline.length,
    under_replicated_partitions: underReplicated.length,
  });
}

/**
 * Follows the size prefixes of the responses on a connection (each an int32 byte count, then that
 * many bytes) and calls `refuse` with the first size that is negative or over `limitBytes`.
 */
export function watchResponseSizes(limitBytes: number, refuse: (announced: number) => void) {
  let remaining = 0;
  let prefix: number[] = [];
  let refused = false;
  return (chunk: Buffer): void => {
    let offset = 0;
    while (!refused && offset < chunk.length) {
      if (remaining > 0) {
        const taken = Math.min(remaining, chunk.length - offset);
        remaining -= taken;
        offset += taken;
        continue;
      }
      prefix.push(chunk[offset++]!);
      if (prefix.length < 4) continue;
      const announced = Buffer.from(prefix).readInt32BE(0);
      prefix = [];
      if (announced < 0 || announced > limitBytes) {
        refused = true;
        refuse(announced);
      }
      remaining = announced;
    }
  };
}

/** kafkajs' own socket factory, with every response's announced size checked before kafkajs buffers it. */
export function boundedSocketFactory(limitBytes: number): ISocketFactory {
  return ({ host, port, ssl, onConnect }) => {
    const socket = ssl
      ? tls.connect({ host, port, ...(net.isIP(host) ? {} : { servername: host }), ...ssl }, onConnect)
      : net.connect({ host, port }, onConnect);
    socket.setKeepAlive(true, 60_000);
    // Added before kafkajs' own listener: the chunk that announces too much is the last one read.
    socket.on(
      "data",
      watchResponseSizes(limitBytes, (announced) =>
        socket.destroy(
          announced < 0
            ? new Error(`not a Kafka response (size prefix ${announced})`)
            : new TooLargeError("a response", limitBytes, announced),
        ),
      ),
    );
    return socket;
  };
}

/** Rejects as soon as `signal` aborts, so a hung broker never holds the check past its timeout. */
function untilAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    if (signal.aborted) return onAbort();
    signal.addEventListener("abort", onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}

async function readCluster(admin: Admin): Promise<ClusterFacts> {
  await admin.connect();
  const cluster = await admin.describeCluster();
  const { topics } = await admin.fetchTopicMetadata();
  return { brokers: cluster.brokers.length, controller: cluster.controller, topics };
}

/** Produces one message to `topic` and consumes it back; resolves with the seconds it took. */
async function roundTrip(
  kafka: Kafka,
  topic: string,
  groupId: string,
  { signal, now }: { signal: AbortSignal; now: () => number },
): Promise<number> {
  const token = randomUUID();
  const startedAt = now();
  const producer = kafka.producer({
    createPartitioner: Partitioners.DefaultPartitioner,
    allowAutoTopicCreation: true,
  });
  const consumer = kafka.consumer({
    groupId,
    maxBytes: MAX_FETCH_BYTES,
    maxBytesPerPartition: MAX_FETCH_BYTES,
    retry: { retries: 0, restartOnFailure: async () => false },
  });
  try {
    await producer.connect();
    const [sent] = await producer.send({
      topic,
      acks: -1,
      messages: [{ key: ROUND_TRIP_KEY, value: token }],
    });
    if (sent === undefined) throw new Error(`producing to ${topic} returned no offset`);
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: false });
    const received = untilAborted(
      new Promise<number>((resolve) => {
        void consumer.run({
          autoCommit: false,
          eachMessage: async ({ message }) => {
            if (message.value?.toString() === token) resolve((now() - startedAt) / 1000);
          },
        });
      }),
      signal,
    );
    consumer.seek({ topic, partition: sent.partition, offset: sent.baseOffset ?? sent.offset ?? "0" });
    return await received;
  } finally {
    await Promise.allSettled([consumer.disconnect(), producer.disconnect()]);
  }
}

export const checkKafka: CheckRunner<"kafka"> = async (spec, { signal, now }) => {
  const target = spec.brokers.join(",");
  const client = (retry: RetryOptions) =>
    new Kafka({
      clientId: "graft-agent",
      brokers: spec.brokers,
      logLevel: logLevel.NOTHING,
      connectionTimeout: spec.timeoutMs,
      requestTimeout: spec.timeoutMs,
      enforceRequestTimeout: true,
      socketFactory: boundedSocketFactory(MAX_RESPONSE_BYTES),
      retry,
    });
  const admin = client({ retries: 0 }).admin({ retry: { retries: 0 } });
  let result: CheckResult;
  try {
    result = assessCluster(await untilAborted(readCluster(admin), signal), target);
  } catch (caught) {
    return failedWith(
      `${target}: ${describeKafkaError(caught, signal, spec.timeoutMs)}`,
      reasonOfError(caught, signal),
    );
  } finally {
    void admin.disconnect().catch(() => {});
  }
  if (spec.roundTripTopic === undefined) return result;
  try {
    const seconds = await untilAborted(
      roundTrip(client(RETRY_WHILE_CREATING), spec.roundTripTopic, `graft-agent-${spec.name}`, {
        signal,
        now,
      }),
      signal,
    );
    return { ...result, values: { ...result.values, round_trip_seconds: seconds } };
  } catch (caught) {
    const cause = `${target}: round trip on topic ${spec.roundTripTopic} failed: ${describeKafkaError(caught, signal, spec.timeoutMs)}`;
    return {
      health: "ERROR",
      causes: [cause, ...result.causes],
      reason: reasonOfError(caught, signal),
      ...(result.values ? { values: result.values } : {}),
    };
  }
};

function describeKafkaError(caught: unknown, signal: AbortSignal, timeoutMs: number): string {
  if (signal.aborted) return describeNetworkError(caught, signal, timeoutMs);
  const { message, cause } = caught as { message?: string; cause?: { message?: string } };
  // kafkajs wraps the last connection error ("Connection error: connect ECONNREFUSED …").
  const parts = [message, cause?.message].filter((part): part is string => Boolean(part));
  return [...new Set(parts)].join(": ") || String(caught);
}
