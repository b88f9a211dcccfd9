import { describe, expect, it, vi } from "vitest";
import { backoffMs, createPusher } from "./push.js";
import { systemClock } from "./scheduler.js";
import type { PndaEvent } from "./status.js";

const event = (i: number): PndaEvent => ({
  source: "s",
  metric: `s.m${i}`,
  value: i,
  causes: [],
  timestamp: i,
});

describe("createPusher", () => {
  it("POSTs queued events as one PNDA body", async () => {
    const bodies: unknown[] = [];
    const pusher = createPusher({
      url: "http://console:3001/metrics",
      clock: systemClock,
      send: async (_url, body) => {
        bodies.push(JSON.parse(body));
      },
    });
    pusher.enqueue([event(1), event(2)]);
    await vi.waitFor(() => expect(bodies).toHaveLength(1));
    expect(bodies[0]).toMatchObject({ data: [{ metric: "s.m1", causes: "[]" }, { metric: "s.m2" }] });
    expect(pusher.held()).toBe(0);
    pusher.stop();
  });

  it("retries a batch with growing waits, then drops it after maxAttempts", async () => {
    const attempts: number[] = [];
    const dropped: number[] = [];
    const pusher = createPusher({
      url: "http://console:3001/metrics",
      clock: systemClock,
      initialBackoffMs: 10,
      maxAttempts: 3,
      metrics: {
        setQueued: () => {},
        countSent: () => {},
        countRequest: () => {},
        countDropped: (n) => dropped.push(n),
      },
      send: async () => {
        attempts.push(Date.now());
        throw new Error("connection refused");
      },
    });
    pusher.enqueue([event(1)]);
    await vi.waitFor(() => expect(dropped).toEqual([1]), { timeout: 2000 });
    expect(attempts).toHaveLength(3);
    expect(attempts[2]! - attempts[1]!).toBeGreaterThanOrEqual(18);
    expect(pusher.held()).toBe(0);
    pusher.stop();
  });

  it("holds at most maxQueuedEvents plus one batch while the console is down, dropping the oldest", async () => {
    let sent: string | undefined;
    const pusher = createPusher({
      url: "http://console:3001/metrics",
      clock: systemClock,
      maxQueuedEvents: 50,
      maxBatchEvents: 10,
      initialBackoffMs: 60_000,
      send: async (_url, body) => {
        sent ??= body;
        throw new Error("down");
      },
    });
    for (let i = 0; i < 1000; i++) pusher.enqueue([event(i)]);
    await vi.waitFor(() => expect(sent).toBeDefined());
    expect(pusher.held()).toBeLessThanOrEqual(60);
    pusher.stop();
  });
});

describe("backoffMs", () => {
  it("doubles from the initial wait up to the maximum", () => {
    expect([0, 1, 2, 3, 10, 1000].map((n) => backoffMs(n, 1000, 60_000))).toEqual([
      0, 1000, 2000, 4000, 60_000, 60_000,
    ]);
  });
});
