/**
 * The agent's push against a receiver that enforces PNDA's data logger limits and stores events
 * as it does, in a real Redis (test/services/pnda-data-logger.ts cites the upstream files): bodies
 * stay under 100 kB however many long causes, replicas never overwrite each other's health, and
 * checks keep PNDA's component names.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Agent, startAgent } from "../../agent/main.js";
import { createPusher } from "../../agent/push.js";
import { systemClock } from "../../agent/scheduler.js";
import type { PndaEvent } from "../../agent/status.js";
import { pushTiles } from "../../console/push.js";
import { agentStatusResults } from "../../console/sources/agents.js";
import { resolvedChecks } from "../services/agent.js";
import { type DataLogger, PNDA_BODY_LIMIT_BYTES, startPndaDataLogger } from "../services/pnda-data-logger.js";
import { type RedisServer, startRedis } from "../services/redis.js";
import { waitFor } from "../services/spawn.js";
import { startHttpTarget, stoppedPort, type Target } from "./agent-targets.js";

let redis: RedisServer;
let logger: DataLogger;
let target: Target & { url: string };
const agents: Agent[] = [];

beforeAll(async () => {
  redis = await startRedis();
  logger = await startPndaDataLogger(redis);
  target = await startHttpTarget((_, response) => response.end("ok"));
});

afterAll(async () => {
  for (const agent of agents) await agent.stop();
  await target?.stop();
  await logger?.stop();
  await redis?.stop();
});

async function agentWith(checks: unknown[], replica?: string): Promise<Agent> {
  const agent = await startAgent({
    checks: resolvedChecks(checks),
    port: 0,
    host: "127.0.0.1",
    pushUrl: logger.url,
    processMetrics: false,
    ...(replica ? { replica } : {}),
  });
  agents.push(agent);
  return agent;
}

/** 25 health events with 10 causes of 500 characters each: ~130 kB as one body. */
function longEvents(prefix: string): PndaEvent[] {
  return Array.from({ length: 25 }, (_, i) => ({
    source: `${prefix}${i}`,
    metric: `${prefix}${i}.health`,
    value: "ERROR" as const,
    causes: Array.from({ length: 10 }, (_, c) => `cause ${c}: ${"x".repeat(490)}`),
    timestamp: 1_700_000_000_000 + i,
  }));
}

describe("PNDA push, against a data logger's limits and store (real Redis)", () => {
  it("refuses a body over 100 kB, as PNDA's data logger does", async () => {
    const response = await fetch(logger.url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ data: [], pad: "x".repeat(PNDA_BODY_LIMIT_BYTES) }),
    });
    expect(response.status).toBe(413);
  });

  it("splits events with long causes into bodies under 100 kB, and every event is stored", async () => {
    const seen = logger.statuses.length;
    const sent: number[] = [];
    const pusher = createPusher({
      url: logger.url,
      clock: systemClock,
      metrics: {
        setQueued: () => {},
        countSent: (n) => sent.push(n),
        countDropped: () => {},
        countRequest: () => {},
      },
    });
    const events = longEvents("split");
    pusher.enqueue(events);
    await waitFor("every event accepted", async () => sent.reduce((a, b) => a + b, 0) === events.length, {
      timeoutMs: 20_000,
    });
    pusher.stop();
    const statuses = logger.statuses.slice(seen);
    const sizes = logger.bodyBytes.slice(seen);
    expect(statuses.every((status) => status === 200)).toBe(true);
    expect(statuses.length).toBeGreaterThanOrEqual(2);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(100_000);
    // Stored as PNDA's data logger stores them: a hash per metric, causes a JSON-encoded string.
    const last = await logger.stored("split24.health");
    expect(last).toEqual({
      source: "split24",
      metric: "split24.health",
      value: "ERROR",
      causes: JSON.stringify(events[24]!.causes),
      timestamp: String(events[24]!.timestamp),
    });
  });

  it("keeps each replica's health under its own name: one replica's OK never overwrites another's ERROR", async () => {
    const down = await stoppedPort();
    const check = (port: number) => ({
      name: "broker",
      type: "tcp",
      host: "127.0.0.1",
      port,
      source: "kafka",
      interval: "500ms",
      timeout: "400ms",
    });
    await agentWith([check(target.port)], "kafka-0");
    await agentWith([check(down)], "kafka-1");
    await waitFor(
      "both replicas stored",
      async () =>
        (await logger.stored("kafka.kafka-0.health")).value === "OK" &&
        (await logger.stored("kafka.kafka-1.health")).value === "ERROR",
      { timeoutMs: 20_000 },
    );
    // Several rounds of both replicas later, the ERROR is still there.
    const stamp = Number((await logger.stored("kafka.kafka-1.health")).timestamp);
    await waitFor(
      "more rounds",
      async () => Number((await logger.stored("kafka.kafka-0.health")).timestamp) > stamp + 1_500,
      { timeoutMs: 20_000 },
    );
    expect((await logger.stored("kafka.kafka-1.health")).value).toBe("ERROR");
    expect(JSON.parse((await logger.stored("kafka.kafka-1.health")).causes ?? "[]")).toEqual([
      `127.0.0.1:${down}: ECONNREFUSED`,
    ]);
    expect((await logger.stored("kafka.health")).value).toBeNull();
  });

  it("pushes a check under its type's PNDA component name unless it names its source", async () => {
    const down = await stoppedPort();
    await agentWith([
      {
        name: "zk-ensemble",
        type: "zookeeper",
        servers: [`127.0.0.1:${down}`],
        interval: "1s",
        timeout: "500ms",
      },
      {
        name: "zk-named",
        type: "zookeeper",
        servers: [`127.0.0.1:${down}`],
        source: "my-zk",
        interval: "1s",
        timeout: "500ms",
      },
    ]);
    await waitFor(
      "zookeeper.health and my-zk.health stored",
      async () =>
        (await logger.stored("zookeeper.health")).value === "ERROR" &&
        (await logger.stored("my-zk.health")).value === "ERROR",
      { timeoutMs: 20_000 },
    );
    expect((await logger.stored("zookeeper.health")).source).toBe("zookeeper");
    expect((await logger.stored("zk-ensemble.health")).value).toBeNull();
  });
});

describe("graft console's push: each tile's <source>.health, the worst of every replica", () => {
  it("writes kafka.health ERROR naming the failing replica while the other replica is OK", async () => {
    const down = await stoppedPort();
    const check = (port: number) => ({
      name: "kafka-broker",
      type: "kafka",
      brokers: [`127.0.0.1:${port}`],
      interval: "1s",
      timeout: "500ms",
    });
    // A kafka check under its default source (its name): pushed under PNDA's `kafka` all the same.
    const ok = await agentWith([
      {
        name: "kafka-broker",
        type: "tcp",
        host: "127.0.0.1",
        port: target.port,
        source: "kafka",
        interval: "1s",
        timeout: "500ms",
      },
    ]);
    const failing = await agentWith([check(down)]);
    const endpoints = [
      { namespace: "apps", pod: "kafka-0", url: ok.url },
      { namespace: "apps", pod: "kafka-1", url: failing.url },
    ];
    const readResults = async () =>
      (
        await Promise.all(
          endpoints.map(async (endpoint) =>
            (
              await agentStatusResults(endpoint)
            ).map((result) => ({ ...result, type: "kafka", check: "kafka-broker" })),
          ),
        )
      ).flat();
    // Push once both agents have run their check (the first round may still be out on a busy machine).
    await waitFor("both agents to report their check", async () => (await readResults()).length === 2);
    const statuses = await pushTiles({ url: logger.url, everyMs: 1_000, readResults });
    expect(statuses).toEqual([200]);
    const stored = await logger.stored("kafka.health");
    expect(stored.value).toBe("ERROR");
    const causes = JSON.parse(stored.causes ?? "[]") as string[];
    expect(causes).toHaveLength(1);
    expect(causes[0]).toMatch(/^apps\/kafka-1: kafka-broker ERROR: /);
  });
});
