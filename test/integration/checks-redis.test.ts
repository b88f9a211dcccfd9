/** The redis check against a real redis-server (Debian's), started on a free port. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkRedis } from "../../agent/checks/redis.js";
import { closedPort, serveBytes, serveSilence } from "../services/recorded.js";
import { type RedisServer, startRedis } from "../services/redis.js";
import { tcpExchange } from "../services/spawn.js";
import { ABORT_SLACK_MS, runCheck } from "./run-check.js";

const spec = (port: number, passwordEnv?: string) => ({
  name: "redis",
  type: "redis" as const,
  host: "127.0.0.1",
  port,
  ...(passwordEnv ? { passwordEnv } : {}),
});

describe("redis check against a real redis-server", () => {
  let open: RedisServer;
  let guarded: RedisServer;
  beforeAll(async () => {
    [open, guarded] = await Promise.all([startRedis(), startRedis({ password: "s3cret" })]);
  });
  afterAll(async () => {
    await Promise.all([open?.stop(), guarded?.stop()]);
  });

  it("is OK with its gauges", async () => {
    await tcpExchange(open.port, "SET graft-key 1\r\nQUIT\r\n");
    const result = await runCheck(checkRedis, spec(open.port));
    expect(result).toMatchObject({ health: "OK", causes: [] });
    expect(result.values).toMatchObject({ keys: 1, connected_clients: 1 });
    expect(result.values?.used_memory_bytes).toBeGreaterThan(0);
  });

  it("authenticates with the password from the env var named by passwordEnv", async () => {
    const result = await runCheck(checkRedis, spec(guarded.port, "REDIS_PW"), {
      env: { REDIS_PW: "s3cret" },
    });
    expect(result.health).toBe("OK");
  });

  it("is ERROR saying a password is needed, or was rejected, or is not in the env", async () => {
    const target = `127.0.0.1:${guarded.port}`;
    expect((await runCheck(checkRedis, spec(guarded.port))).causes).toEqual([
      `${target}: requires a password (name the env var holding it in passwordEnv)`,
    ]);
    const wrong = await runCheck(checkRedis, spec(guarded.port, "REDIS_PW"), { env: { REDIS_PW: "nope" } });
    expect(wrong).toMatchObject({
      health: "ERROR",
      causes: [expect.stringMatching(/password rejected: WRONGPASS/)],
    });
    expect((await runCheck(checkRedis, spec(guarded.port, "REDIS_PW"))).causes).toEqual([
      `${target}: env var REDIS_PW (passwordEnv) is not set`,
    ]);
  });

  it("is ERROR naming the target when the server is stopped", async () => {
    const stopped = await startRedis();
    await stopped.stop();
    expect(await runCheck(checkRedis, spec(stopped.port))).toMatchObject({
      health: "ERROR",
      causes: [`127.0.0.1:${stopped.port}: connection refused`],
    });
  });
});

describe("redis check against misbehaving targets", () => {
  it("is ERROR naming the target when nothing listens", async () => {
    const port = await closedPort();
    expect((await runCheck(checkRedis, spec(port))).causes).toEqual([
      `127.0.0.1:${port}: connection refused`,
    ]);
  });

  it("is ERROR by timeout, within the bound, when the target accepts and never answers", async () => {
    const silent = await serveSilence();
    const result = await runCheck(checkRedis, spec(silent.port), { timeoutMs: 500 });
    await silent.stop();
    expect(result.causes).toEqual([`127.0.0.1:${silent.port}: no answer within 500ms`]);
    expect(result.elapsedMs).toBeLessThan(500 + ABORT_SLACK_MS);
  });

  it("is ERROR when the target answers something that is not RESP", async () => {
    const http = await serveBytes("HTTP/1.1 400 Bad Request\r\n\r\n");
    const result = await runCheck(checkRedis, spec(http.port));
    await http.stop();
    expect(result.causes).toEqual([`127.0.0.1:${http.port}: not a Redis reply: "HTTP/1.1 400 Bad Request"`]);
  });
});
