/** The agent pushes PNDA events to a console data logger, and stays bounded when it is down. */
import type http from "node:http";
import { afterAll, describe, expect, it } from "vitest";
import { type Agent, type AgentOptions, startAgent } from "../../agent/main.js";
import { resolvedChecks } from "../services/agent.js";
import { waitFor } from "../services/spawn.js";
import { startHttpTarget, startSilentTcpTarget, stoppedPort, type Target } from "./agent-targets.js";

const stops: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const stop of stops.reverse()) await stop();
});

async function agentWith(checks: unknown[], options: Partial<AgentOptions>): Promise<Agent> {
  const parsed = resolvedChecks(checks);
  const agent = await startAgent({ checks: parsed, port: 0, host: "127.0.0.1", ...options });
  stops.push(agent.stop);
  return agent;
}

function kept<T extends Target>(target: T): T {
  stops.push(target.stop);
  return target;
}

async function metric(agent: Agent, name: string): Promise<number> {
  const text = await (await fetch(`${agent.url}/metrics`)).text();
  const escaped = name.replace(/[{}()[\]\\.*+?^$|]/g, "\\$&");
  const match = new RegExp(`^${escaped} (\\S+)$`, "m").exec(text);
  if (!match) throw new Error(`${name} not in /metrics`);
  return Number(match[1]);
}

/**
 * PNDA's console data logger, as its source reads a push (pndaproject/platform-console-backend):
 * - console-backend-data-logger/app.js (commit 2febbf3876a2c0a63cc3f1a066f88c71341d2d20):
 *   `app.use(bodyParser.json())` — the body is parsed only when its content-type is
 *   application/json (anything else leaves `req.body` empty: the push is answered 200 and
 *   stored nowhere), and body-parser's default limit refuses bodies over 100 kB with 413.
 * - console-backend-data-logger/routes/metrics.js (commit 569630dd01b1927d270538a96677918b2611c405):
 *   `async.each(req.body.data, …)`; an item whose `metric` is null or "" fails the request
 *   (500); every other item is stored whole by `dbManager.create('metric:' + item.metric, item)`.
 * - console-backend-utils/dbManager.js (commit fe53695d638af40e0b46030b848729d9537c6e8b):
 *   `redisClient.hmset(id, data)` — one Redis hash per metric, each field the string of its
 *   value (node_redis turns an array or object into "a,b" or "[object Object]"), the last write
 *   of a metric replacing its fields.
 * This receiver does the same, and the test asserts on what it stored.
 */
const PNDA_BODY_LIMIT = 100 * 1024;
type StoredHash = Record<string, string>;

function pndaDataLogger(store: Map<string, StoredHash>, problems: string[]) {
  return (request: http.IncomingMessage, response: http.ServerResponse) => {
    if (request.method !== "POST" || request.url !== "/metrics") {
      // Not the data logger's route: the target of the test's own http check.
      response.end("ok");
      return;
    }
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      const raw = Buffer.concat(chunks);
      const type = (request.headers["content-type"] ?? "").split(";")[0]!.trim();
      if (type !== "application/json") {
        problems.push(`content-type ${type}: body-parser leaves the body unread`);
        response.writeHead(200).end("OK");
        return;
      }
      if (raw.length > PNDA_BODY_LIMIT) {
        problems.push(`${raw.length} bytes: over body-parser's 100kb limit`);
        response.writeHead(413).end();
        return;
      }
      const body = JSON.parse(raw.toString("utf8")) as { data?: unknown };
      const items = Array.isArray(body.data) ? (body.data as Record<string, unknown>[]) : [];
      for (const item of items) {
        if (item.metric === null || item.metric === "" || item.metric === undefined) {
          problems.push(`an item without metric: ${JSON.stringify(item)}`);
          response.writeHead(500).end("Internal Server Error");
          return;
        }
        const hash: StoredHash = {};
        for (const [field, value] of Object.entries(item)) {
          if (typeof value === "object" && value !== null) {
            problems.push(`field ${field} of ${String(item.metric)} is not a string or number`);
          }
          hash[field] = String(value);
        }
        store.set(`metric:${String(item.metric)}`, {
          ...store.get(`metric:${String(item.metric)}`),
          ...hash,
        });
      }
      response.writeHead(200).end("OK");
    });
  };
}

describe("push to a PNDA console data logger", () => {
  it("POSTs what PNDA's data logger stores: one hash per metric, causes a JSON string, times in ms", async () => {
    const store = new Map<string, StoredHash>();
    const problems: string[] = [];
    const receiver = kept(await startHttpTarget(pndaDataLogger(store, problems)));
    const down = await stoppedPort();
    const before = Date.now();
    await agentWith(
      [
        { name: "db", type: "tcp", host: "127.0.0.1", port: down, interval: "5s", timeout: "1s" },
        { name: "web", type: "http", url: `${receiver.url}/`, interval: "5s", timeout: "1s" },
      ],
      { pushUrl: `${receiver.url}/metrics` },
    );

    // A push the data logger would not store (wrong type, too large, no metric) ends the wait.
    await waitFor(
      "both checks' health stored",
      async () =>
        problems.length > 0 ||
        ["metric:db.health", "metric:web.health", "metric:web.status_code"].every((key) => store.has(key)),
      { timeoutMs: 30_000 },
    );
    expect(problems).toEqual([]);
    const db = store.get("metric:db.health")!;
    expect(db).toMatchObject({ source: "db", metric: "db.health", value: "ERROR" });
    // The console's frontend parses `causes` back into a list.
    expect(JSON.parse(db.causes!)).toEqual([`127.0.0.1:${down}: ECONNREFUSED`]);
    expect(Number(db.timestamp)).toBeGreaterThanOrEqual(before);
    expect(Number.isInteger(Number(db.timestamp))).toBe(true);
    expect(store.get("metric:web.health")).toMatchObject({
      source: "web",
      metric: "web.health",
      value: "OK",
      causes: "[]",
    });
    expect(store.get("metric:web.status_code")).toMatchObject({ metric: "web.status_code", value: "200" });
  });

  for (const [down, console] of [
    ["refuses connections", async () => `http://127.0.0.1:${await stoppedPort()}/metrics`],
    [
      "accepts and never answers",
      async () => `http://127.0.0.1:${kept(await startSilentTcpTarget()).port}/metrics`,
    ],
  ] as const) {
    it(`keeps running with a bounded queue while the console ${down}`, async () => {
      const web = kept(await startHttpTarget((_, response) => response.end("ok")));
      const maxQueuedEvents = 20;
      const maxBatchEvents = 5;
      const checks = Array.from({ length: 5 }, (_, i) => ({
        name: `web-${i}`,
        type: "http",
        url: `${web.url}/`,
        interval: "50ms",
        timeout: "40ms",
      }));
      const agent = await agentWith(checks, {
        pushUrl: await console(),
        push: {
          maxQueuedEvents,
          maxBatchEvents,
          initialBackoffMs: 20,
          maxBackoffMs: 100,
          requestTimeoutMs: 100,
        },
      });
      // 5 checks × 2 events every 50ms: far more than the queue holds within a second.
      await waitFor(
        "the queue to overflow",
        async () => (await metric(agent, "graft_push_dropped_events_total")) > 100,
        {
          timeoutMs: 20_000,
        },
      );
      const bound = maxQueuedEvents + maxBatchEvents;
      for (let i = 0; i < 5; i++) {
        expect(agent.pusher!.held()).toBeLessThanOrEqual(bound);
        expect(await metric(agent, "graft_push_queued_events")).toBeLessThanOrEqual(bound);
        expect((await fetch(`${agent.url}/healthz`)).status).toBe(200);
      }
      expect(await metric(agent, "graft_push_sent_events_total")).toBe(0);
      expect(await metric(agent, 'graft_push_requests_total{result="error"}')).toBeGreaterThan(0);
    });
  }
});
