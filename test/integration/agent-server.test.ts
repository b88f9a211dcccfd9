/** The agent's endpoints, served while its targets fail in every way a target can. */
import { afterAll, describe, expect, it } from "vitest";
import { type Agent, startAgent } from "../../agent/main.js";
import type { PndaEvents } from "../../agent/status.js";
import { resolvedChecks } from "../services/agent.js";
import { waitFor } from "../services/spawn.js";
import {
  startDnsTarget,
  startGarbageTcpTarget,
  startHttpTarget,
  startSilentTcpTarget,
  stoppedPort,
  type Target,
} from "./agent-targets.js";

const stops: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const stop of stops.reverse()) await stop();
});

async function agentWith(checks: unknown[]): Promise<Agent> {
  const agent = await startAgent({ checks: resolvedChecks(checks), port: 0, host: "127.0.0.1" });
  stops.push(agent.stop);
  return agent;
}

function kept<T extends Target>(target: T): T {
  stops.push(target.stop);
  return target;
}

describe("agent endpoints", () => {
  it("is live at once and ready only after every check has reported once", async () => {
    const silent = kept(await startSilentTcpTarget());
    const agent = await agentWith([
      { name: "slow", type: "http", url: `http://127.0.0.1:${silent.port}/`, interval: "5s", timeout: "1s" },
    ]);
    expect((await fetch(`${agent.url}/healthz`)).status).toBe(200);
    const early = await fetch(`${agent.url}/readyz`);
    expect(early.status).toBe(503);
    expect(await early.text()).toContain("waiting for the first round of checks");
    await agent.ready;
    expect((await fetch(`${agent.url}/readyz`)).status).toBe(200);
  });

  it("reports garbage, silent and stopped targets as ERROR in /status while it keeps serving", async () => {
    const garbage = kept(await startGarbageTcpTarget());
    const silent = kept(await startSilentTcpTarget());
    const dns = kept(await startDnsTarget({}));
    dns.setMode("garbage");
    const web = kept(await startHttpTarget((_, response) => response.end("fine")));
    const stopped = await stoppedPort();
    const every = { interval: "2s", timeout: "500ms" };
    const agent = await agentWith([
      { name: "garbage-http", type: "http", url: `http://127.0.0.1:${garbage.port}/`, ...every },
      { name: "silent-http", type: "http", url: `http://127.0.0.1:${silent.port}/`, ...every },
      { name: "garbage-dns", type: "dns", hostname: "x.graft.test", server: dns.server, ...every },
      { name: "stopped-tcp", type: "tcp", host: "127.0.0.1", port: stopped, ...every },
      { name: "web", type: "http", url: `${web.url}/`, source: "frontend", ...every },
    ]);
    await agent.ready;

    const before = Date.now();
    const status = (await (await fetch(`${agent.url}/status`)).json()) as PndaEvents;
    const health = Object.fromEntries(
      status.data.filter((e) => e.metric.endsWith(".health")).map((e) => [e.metric, [e.value, e.causes]]),
    );
    expect(health).toEqual({
      "garbage-http.health": [
        "ERROR",
        [expect.stringMatching(`^http://127.0.0.1:${garbage.port}/: not an HTTP reply`)],
      ],
      "silent-http.health": ["ERROR", [expect.stringMatching(`^http://127.0.0.1:${silent.port}/: no `)]],
      "garbage-dns.health": ["ERROR", [expect.stringMatching(`^x.graft.test \\(A via ${dns.server}\\): `)]],
      "stopped-tcp.health": ["ERROR", [`127.0.0.1:${stopped}: ECONNREFUSED`]],
      "frontend.health": ["OK", []],
    });
    expect(status.timestamp).toBeGreaterThanOrEqual(before);
    for (const event of status.data) {
      expect(Object.keys(event).sort()).toEqual(["causes", "metric", "source", "timestamp", "value"]);
      expect(Number.isInteger(event.timestamp) && event.timestamp > before - 60_000).toBe(true);
    }
    expect(status.data).toContainEqual(
      expect.objectContaining({ source: "frontend", metric: "frontend.web.status_code", value: 200 }),
    );

    for (const path of ["/healthz", "/readyz", "/metrics"])
      expect((await fetch(`${agent.url}${path}`)).status).toBe(200);
    expect((await fetch(`${agent.url}/nothing`)).status).toBe(404);
    expect((await fetch(`${agent.url}/status`, { method: "POST" })).status).toBe(405);
  });

  it("keeps serving while a target answers garbage round after round", async () => {
    const garbage = kept(await startGarbageTcpTarget());
    const agent = await agentWith([
      {
        name: "garbage",
        type: "http",
        url: `http://127.0.0.1:${garbage.port}/`,
        interval: "100ms",
        timeout: "50ms",
      },
    ]);
    const runs = async () => {
      const text = await (await fetch(`${agent.url}/metrics`)).text();
      return Number(/graft_check_runs_total\{check="garbage",result="error"\} (\d+)/.exec(text)?.[1] ?? 0);
    };
    await waitFor("ten rounds against the garbage target", async () => (await runs()) >= 10, {
      timeoutMs: 10_000,
    });
    expect((await fetch(`${agent.url}/healthz`)).status).toBe(200);
  });
});
