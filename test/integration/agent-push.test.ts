/** The agent pushes PNDA events to a console data logger, and stays bounded when it is down. */
import { afterAll, describe, expect, it } from "vitest";
import { type Agent, type AgentOptions, startAgent } from "../../agent/main.js";
import { parseChecksSpec } from "../../core/checks.js";
import { waitFor } from "../services/spawn.js";
import { startHttpTarget, startSilentTcpTarget, stoppedPort, type Target } from "./agent-targets.js";

const stops: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const stop of stops.reverse()) await stop();
});

async function agentWith(checks: unknown[], options: Partial<AgentOptions>): Promise<Agent> {
  const parsed = parseChecksSpec(checks);
  if (!parsed.ok) throw new Error(parsed.errors.join("\n"));
  const agent = await startAgent({ checks: parsed.checks, port: 0, host: "127.0.0.1", ...options });
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

describe("push to a PNDA console data logger", () => {
  it("POSTs /metrics bodies in PNDA's exact shape: causes a JSON-encoded string, times in ms", async () => {
    const bodies: { path: string; type: string; body: unknown }[] = [];
    const receiver = kept(
      await startHttpTarget((request, response) => {
        if (request.method !== "POST") {
          response.end("ok");
          return;
        }
        let text = "";
        request.on("data", (chunk: Buffer) => {
          text += chunk.toString("utf8");
        });
        request.on("end", () => {
          const type = request.headers["content-type"] ?? "";
          bodies.push({ path: request.url ?? "", type, body: JSON.parse(text) });
          response.end("ok");
        });
      }),
    );
    const down = await stoppedPort();
    const before = Date.now();
    await agentWith(
      [
        { name: "db", type: "tcp", host: "127.0.0.1", port: down, interval: "5s", timeout: "1s" },
        { name: "web", type: "http", url: `${receiver.url}/`, interval: "5s", timeout: "1s" },
      ],
      { pushUrl: `${receiver.url}/metrics` },
    );

    type Posted = { data: Record<string, unknown>[]; timestamp: number };
    const posted = () => bodies.filter((b) => b.path === "/metrics").map((b) => b.body as Posted);
    const events = () => posted().flatMap((b) => b.data);
    await waitFor("both checks' health pushed", async () =>
      ["db.health", "web.health"].every((m) => events().some((e) => e.metric === m)),
    );

    expect(bodies.every((b) => b.type === "application/json")).toBe(true);
    for (const body of posted()) {
      expect(Object.keys(body).sort()).toEqual(["data", "timestamp"]);
      expect(Number.isInteger(body.timestamp) && body.timestamp >= before).toBe(true);
      for (const event of body.data) {
        expect(Object.keys(event).sort()).toEqual(["causes", "metric", "source", "timestamp", "value"]);
        expect(typeof event.causes).toBe("string");
        expect(Number.isInteger(event.timestamp) && (event.timestamp as number) >= before).toBe(true);
      }
    }
    const db = events().find((e) => e.metric === "db.health")!;
    expect(db).toMatchObject({ source: "db", value: "ERROR" });
    expect(JSON.parse(db.causes as string)).toEqual([`127.0.0.1:${down}: ECONNREFUSED`]);
    expect(events().find((e) => e.metric === "web.health")).toMatchObject({
      source: "web",
      value: "OK",
      causes: "[]",
    });
    expect(events().find((e) => e.metric === "web.status_code")).toMatchObject({ value: 200, causes: "[]" });
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
