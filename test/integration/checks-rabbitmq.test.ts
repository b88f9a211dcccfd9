/** The rabbitmq check against a real RabbitMQ (Debian's) with the management plugin, run as its own node. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkRabbitmq } from "../../agent/checks/rabbitmq.js";
import { type RabbitMq, startRabbitMq } from "../services/rabbitmq.js";
import { closedPort, serveRoutes, serveSilence } from "../services/recorded.js";
import { waitFor } from "../services/spawn.js";
import { ABORT_SLACK_MS, runCheck, type TimedResult } from "./run-check.js";

const spec = (url: string, credentials = false) => ({
  name: "mq",
  type: "rabbitmq" as const,
  url,
  ...(credentials ? { usernameEnv: "MQ_USER", passwordEnv: "MQ_PASSWORD" } : {}),
});

describe("rabbitmq check against a real broker", () => {
  let broker: RabbitMq;
  beforeAll(async () => {
    broker = await startRabbitMq();
  });
  afterAll(async () => {
    await broker?.stop();
  });

  it("is OK with its node running and no alarm, using guest/guest by default", async () => {
    const result = await runCheck(checkRabbitmq, spec(broker.url));
    expect(result).toMatchObject({
      health: "OK",
      causes: [],
      values: { nodes: 1, nodes_running: 1, queues: 0 },
    });
  });

  it("is ERROR asking to check the credentials when the broker rejects them", async () => {
    const env = { MQ_USER: "guest", MQ_PASSWORD: "wrong" };
    const result = await runCheck(checkRabbitmq, spec(broker.url, true), { env });
    expect(result.health).toBe("ERROR");
    expect(result.causes[0]).toMatch(/: HTTP 401.*\(check the credentials in usernameEnv\/passwordEnv\)$/);
    expect((await runCheck(checkRabbitmq, spec(broker.url, true))).causes).toEqual([
      `${broker.url}: env var MQ_USER (usernameEnv) is not set`,
    ]);
  });

  it("is ERROR naming the alarm when a memory alarm blocks publishers", async () => {
    await broker.ctl("set_vm_memory_high_watermark", "0.0000001");
    let result: TimedResult | undefined;
    await waitFor("the memory alarm", async () => {
      result = await runCheck(checkRabbitmq, spec(broker.url));
      return result.health !== "OK";
    });
    expect(result?.health).toBe("ERROR");
    expect(result?.causes).toEqual([
      expect.stringMatching(/: memory alarm on graft-test-\d+@localhost \(publishers are blocked\)$/),
    ]);
    await broker.ctl("set_vm_memory_high_watermark", "0.4");
  });

  it("is ERROR naming the broker once it is stopped", async () => {
    await broker.stop();
    expect((await runCheck(checkRabbitmq, spec(broker.url))).causes).toEqual([
      `${broker.url}/api/overview: connection refused`,
    ]);
  });
});

describe("rabbitmq check against misbehaving targets", () => {
  it("is ERROR naming the target when nothing listens", async () => {
    const url = `http://127.0.0.1:${await closedPort()}`;
    expect((await runCheck(checkRabbitmq, spec(url))).causes).toEqual([
      `${url}/api/overview: connection refused`,
    ]);
  });

  it("is ERROR by timeout, within the bound, when the target accepts and never answers", async () => {
    const silent = await serveSilence();
    const result = await runCheck(checkRabbitmq, spec(silent.url), { timeoutMs: 500 });
    await silent.stop();
    expect(result.causes).toEqual([`${silent.url}/api/overview: no answer within 500ms`]);
    expect(result.elapsedMs).toBeLessThan(500 + ABORT_SLACK_MS);
  });

  it("is ERROR when the target answers garbage", async () => {
    const garbage = await serveRoutes({
      "/api/overview": { status: 200, text: '{"rabbitmq_version": 3}' },
      "/api/nodes": { status: 200, text: "[]" },
      "/api/health/checks/alarms": { status: 200, text: '{"status":"ok"}' },
    });
    const result = await runCheck(checkRabbitmq, spec(garbage.url));
    await garbage.stop();
    expect(result.health).toBe("ERROR");
    expect(result.causes[0]).toMatch(/\/api\/overview: unexpected reply: field "/);
  });
});
