import { createServer } from "node:net";
import { describe, expect, it, vi } from "vitest";
import { resolvedChecks } from "../test/services/agent.js";
import { loadRunner, unsupportedChecks } from "./checks/index.js";
import { checkTcp } from "./checks/tcp.js";
import type { ExposedGc } from "./full-gc.js";
import { startAgent } from "./main.js";
import type { PndaEvents } from "./status.js";

/** A loopback port nothing listens on (bound, then released). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return typeof address === "object" && address ? address.port : 0;
}

const checks = () =>
  resolvedChecks("- {name: a, type: tcp, host: h, port: 1}\n- {name: b, type: dns, hostname: h}");

describe("check runners", () => {
  it("names each check whose type this build cannot run", () => {
    expect(unsupportedChecks(checks(), { tcp: async () => checkTcp })).toEqual([
      'check "b": type "dns" is not supported by this agent',
    ]);
  });

  it("runs its checks with the build's own runners when given none", async () => {
    const port = await closedPort();
    const agent = await startAgent({
      checks: resolvedChecks(`- {name: db, type: tcp, host: 127.0.0.1, port: ${port}, timeout: 2s}`),
      port: 0,
      host: "127.0.0.1",
      processMetrics: false,
    });
    try {
      await agent.ready;
      const status = (await (await fetch(`${agent.url}/status`)).json()) as PndaEvents;
      expect(status.data).toEqual([
        expect.objectContaining({ source: "db", metric: "db.health", value: "ERROR" }),
      ]);
      expect(JSON.stringify(status.data[0]?.causes)).toContain(`127.0.0.1:${port}`);
    } finally {
      await agent.stop();
    }
  });

  it("refuses to load a runner for a type it does not have", async () => {
    await expect(loadRunner(checks()[1]!, {})).rejects.toThrow('check "b": type "dns" is not supported');
  });
});

describe("app and component labels", () => {
  it("label every metric with the agent's app and component, one value each", async () => {
    const port = await closedPort();
    const agent = await startAgent({
      checks: resolvedChecks(`- {name: db, type: tcp, host: 127.0.0.1, port: ${port}, timeout: 2s}`),
      port: 0,
      host: "127.0.0.1",
      processMetrics: false,
      identity: { app: "shop", component: "web" },
    });
    try {
      await agent.ready;
      const text = await (await fetch(`${agent.url}/metrics`)).text();
      expect(text).toContain(
        'graft_check_health{check="db",type="tcp",source="db",app="shop",component="web"} 2',
      );
      const samples = text.split("\n").filter((line) => line !== "" && !line.startsWith("#"));
      expect(samples.length).toBeGreaterThan(0);
      for (const sample of samples) expect(sample).toContain('app="shop",component="web"');
    } finally {
      await agent.stop();
    }
  });
});

describe("full collections", () => {
  it("asks for one every period while it runs, and no more once stopped", async () => {
    const port = await closedPort();
    const gc = vi.fn<ExposedGc>(async () => {});
    const agent = await startAgent({
      checks: resolvedChecks(`- {name: db, type: tcp, host: 127.0.0.1, port: ${port}, timeout: 2s}`),
      port: 0,
      host: "127.0.0.1",
      processMetrics: false,
      gc,
      fullGcEveryMs: 10,
    });
    try {
      await vi.waitFor(() => expect(gc.mock.calls.length).toBeGreaterThanOrEqual(2));
      expect(gc).toHaveBeenCalledWith({ type: "major", execution: "async" });
    } finally {
      await agent.stop();
    }
    const calls = gc.mock.calls.length;
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(gc).toHaveBeenCalledTimes(calls);
  });
});
