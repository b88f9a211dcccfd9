/**
 * The console's sources against hostile peers and at scale: an "agent" or a "Prometheus" that
 * announces a huge body or streams forever is cut off at the byte cap, named in the cause; a
 * round over thousands of agents reads at most `concurrency` at once, and five viewers asking
 * at the same time share one round.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { HealthReport } from "../../console/health.js";
import { buildConsoleServer } from "../../console/server.js";
import {
  type AgentEndpoint,
  DEFAULT_CONCURRENCY,
  kubernetesCheckResults,
} from "../../console/sources/agents.js";
import { prometheusCheckResults } from "../../console/sources/prometheus.js";
import { sharedRefresh } from "../../console/sources/shared.js";
import { httpEndlessBody, httpHugeLength, startTcpPeer } from "./agent-hostile-targets.js";
import type { Target } from "./agent-targets.js";

const MiB = 1024 * 1024;

const peers: Target[] = [];
afterAll(async () => {
  await Promise.all(peers.map((target) => target.stop()));
});
async function peer(onConnection: Parameters<typeof startTcpPeer>[0]): Promise<string> {
  const target = await startTcpPeer(onConnection);
  peers.push(target);
  return `http://127.0.0.1:${target.port}`;
}

describe("the console's reads are capped in bytes", () => {
  it("an agent announcing 2 GiB or streaming forever is an ERROR naming the 1 MiB cap, memory stays flat", async () => {
    const [huge, endless] = await Promise.all([peer(httpHugeLength), peer(httpEndlessBody)]);
    const agents: AgentEndpoint[] = [
      { namespace: "apps", pod: "huge", url: huge },
      { namespace: "apps", pod: "endless", url: endless },
      { namespace: "apps", pod: "endless-2", url: endless },
    ];
    const before = process.memoryUsage().rss;
    const results = await kubernetesCheckResults({ listAgents: async () => agents, timeoutMs: 10_000 });
    const grown = process.memoryUsage().rss - before;
    expect(results.map((r) => [r.pod, r.source, r.health])).toEqual([
      ["huge", "graft-agent", "ERROR"],
      ["endless", "graft-agent", "ERROR"],
      ["endless-2", "graft-agent", "ERROR"],
    ]);
    expect(results[0]?.causes?.[0]).toBe(
      `the agent of apps/huge at ${huge} could not be read: the reply larger than the 1 MiB cap (2147483648 bytes announced)`,
    );
    expect(results[1]?.causes?.[0]).toMatch(/could not be read: the reply larger than the 1 MiB cap$/);
    // Before the cap, two such agents grew the console by 743 MB in 3 s.
    expect(grown, `RSS grew ${(grown / MiB).toFixed(1)} MiB`).toBeLessThan(64 * MiB);
  });

  it("a Prometheus streaming forever is a SourceError naming the 32 MiB cap", async () => {
    const endless = await peer(httpEndlessBody);
    await expect(prometheusCheckResults({ url: endless, timeoutMs: 10_000 })).rejects.toThrow(
      `Prometheus at ${endless} could not be queried: the reply larger than the 32 MiB cap`,
    );
  });
});

/**
 * Thousands of agents behind one listener: every pod points at it (each its own name), and
 * it counts the requests it is answering at once. Each reply waits a few ms, so unbounded
 * reads would pile up.
 */
async function startAgentFarm(): Promise<{
  url: string;
  inFlight: { now: number; max: number; total: number };
  stop: () => Promise<void>;
}> {
  const inFlight = { now: 0, max: 0, total: 0 };
  const status = JSON.stringify({
    data: [{ source: "kafka", metric: "kafka.health", value: "OK", causes: [], timestamp: Date.now() }],
    timestamp: Date.now(),
  });
  const server = http.createServer((_request, response) => {
    inFlight.now++;
    inFlight.total++;
    inFlight.max = Math.max(inFlight.max, inFlight.now);
    setTimeout(() => {
      inFlight.now--;
      response.writeHead(200, { "content-type": "application/json" }).end(status);
    }, 5);
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    inFlight,
    stop: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

describe("the Kubernetes source at 2,000 agents", () => {
  const AGENTS = 2_000;
  let farm: Awaited<ReturnType<typeof startAgentFarm>>;
  let agents: AgentEndpoint[];
  beforeAll(async () => {
    farm = await startAgentFarm();
    agents = Array.from({ length: AGENTS }, (_, i) => ({
      namespace: "apps",
      pod: `pod-${i}`,
      url: farm.url,
    }));
  });
  afterAll(async () => {
    await farm?.stop();
  });

  it(`reads at most ${DEFAULT_CONCURRENCY} agents at once, and every one of them`, async () => {
    farm.inFlight.max = 0;
    const results = await kubernetesCheckResults({ listAgents: async () => agents });
    expect(results).toHaveLength(AGENTS);
    expect(results.every((result) => result.health === "OK")).toBe(true);
    expect(farm.inFlight.max).toBeLessThanOrEqual(DEFAULT_CONCURRENCY);
    expect(farm.inFlight.max).toBeGreaterThan(1);
  });

  it("answers five viewers asking at once with one round over the agents", async () => {
    const readResults = sharedRefresh(() => kubernetesCheckResults({ listAgents: async () => agents }), {
      maxAgeMs: 10_000,
    });
    const app = buildConsoleServer({ readResults });
    await app.listen({ host: "127.0.0.1", port: 0 });
    const { port } = app.server.address() as AddressInfo;
    try {
      const before = farm.inFlight.total;
      const viewers = await Promise.all(
        Array.from({ length: 5 }, async () => {
          const response = await fetch(`http://127.0.0.1:${port}/api/health`);
          return { status: response.status, report: (await response.json()) as HealthReport };
        }),
      );
      for (const viewer of viewers) {
        expect(viewer.status).toBe(200);
        expect(viewer.report.services[0]?.pods).toHaveLength(AGENTS);
        expect(viewer.report.overall).toBe("OK");
      }
      expect(farm.inFlight.total - before).toBe(AGENTS);
      // A sixth viewer within the max age is answered from memory.
      expect((await fetch(`http://127.0.0.1:${port}/api/health`)).status).toBe(200);
      expect(farm.inFlight.total - before).toBe(AGENTS);
    } finally {
      await app.close();
    }
  });
});
