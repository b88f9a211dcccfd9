/**
 * A pod deleted from the cluster, as the console's Prometheus source sees it, against real parts:
 * two real agents scraped by a real Prometheus, the console over it with a 3 s stale window and a
 * 15 s lookback (defaults: 3 and 10 minutes). Both agents are targets of one job, as a
 * PodMonitor's pods are. The kafka pod is deleted: its agent stops and service discovery drops
 * its target from the job. Its check turns grey with the reason within the window and
 * stays in view until the lookback has passed since its last scrape, then leaves /api/health;
 * the other agent's check stays green throughout and the overall light is OK again after.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Agent, startAgent } from "../../agent/main.js";
import type { HealthReport } from "../../console/health.js";
import { resolvedChecks, tcpCheck } from "../services/agent.js";
import { startConsoleOnPrometheus, type TestConsole } from "../services/console.js";
import { type PrometheusServer, type ScrapeTarget, startPrometheus } from "../services/prometheus.js";
import { waitFor } from "../services/spawn.js";
import { startHttpTarget, type Target } from "./agent-targets.js";

const STALE_AFTER_MS = 3_000;
const LOOKBACK_MS = 15_000;

describe("a deleted pod leaves the console once the lookback has passed (Prometheus source)", () => {
  let target: Target & { url: string };
  let kafkaAgent: Agent | undefined;
  let zookeeperAgent: Agent;
  let zookeeperTarget: ScrapeTarget;
  let prometheus: PrometheusServer;
  let graftConsole: TestConsole;

  const agentFor = async (check: string, source: string) => {
    const agent = await startAgent({
      checks: resolvedChecks([tcpCheck(check, target.port, source)]),
      port: 0,
      host: "127.0.0.1",
      processMetrics: false,
    });
    await agent.ready;
    return agent;
  };

  const report = () => graftConsole.report();
  const shown = (health: HealthReport) => health.services.map((s) => [s.source, s.shown]);

  beforeAll(async () => {
    target = await startHttpTarget((_, response) => response.end("ok"));
    kafkaAgent = await agentFor("kafka-broker", "kafka");
    zookeeperAgent = await agentFor("zk", "zookeeper");
    zookeeperTarget = {
      job: "graft-agent",
      address: `127.0.0.1:${zookeeperAgent.port}`,
      labels: { namespace: "apps", pod: "zookeeper-0" },
    };
    prometheus = await startPrometheus([
      {
        job: "graft-agent",
        address: `127.0.0.1:${kafkaAgent.port}`,
        labels: { namespace: "apps", pod: "kafka-0" },
      },
      zookeeperTarget,
    ]);
    graftConsole = await startConsoleOnPrometheus(prometheus.url, {
      staleAfterMs: STALE_AFTER_MS,
      lookbackMs: LOOKBACK_MS,
    });
  });

  afterAll(async () => {
    await graftConsole?.close();
    await prometheus?.stop();
    await kafkaAgent?.stop();
    await zookeeperAgent?.stop();
    await target?.stop();
  });

  it("greys the deleted pod's check with the reason, keeps it in view for the lookback, then drops it", async () => {
    await waitFor(
      "both agents OK in the console",
      async () => JSON.stringify(shown(await report())) === '[["kafka","OK"],["zookeeper","OK"]]',
      { timeoutMs: 30_000 },
    );
    // When Prometheus last scraped the kafka agent: the lookback counts from there.
    const lastScrape = async () =>
      Number((await prometheus.query('timestamp(up{pod="kafka-0"} == 1)'))[0]?.value[1] ?? 0) * 1000;
    const scrapedBefore = await lastScrape();

    // The pod is deleted: its agent stops, and discovery no longer lists its target.
    await kafkaAgent!.stop();
    kafkaAgent = undefined;
    await prometheus.retarget([zookeeperTarget]);

    // Grey within the window, saying why. (For a moment it may say "last run 3 s ago": Prometheus
    // marks a dropped target's series stale only once its scrape loop has ended.)
    const kafkaRow = (health: HealthReport) =>
      health.services.find((s) => s.source === "kafka")?.pods[0]?.checks[0];
    await waitFor(
      "kafka to turn stale, its agent not scraped",
      async () =>
        /^agent not scraped since \d\d:\d\d:\d\d UTC$/.test(kafkaRow(await report())?.staleReason ?? ""),
      { timeoutMs: STALE_AFTER_MS + 15_000 },
    );
    const stale = await report();
    expect(shown(stale)).toEqual([
      ["kafka", "STALE"],
      ["zookeeper", "OK"],
    ]);
    expect(stale.overall).toBe("STALE");

    // It stays, grey, until the lookback has passed since its last scrape; then it is gone.
    let lastSeenStaleAt = Date.now();
    await waitFor(
      "kafka to leave the view",
      async () => {
        const health = await report();
        const kafka = health.services.find((s) => s.source === "kafka");
        if (kafka) {
          expect(kafka.shown).toBe("STALE");
          lastSeenStaleAt = Date.now();
          return false;
        }
        return true;
      },
      { timeoutMs: LOOKBACK_MS + 30_000 },
    );
    // Not before the lookback (its last sample is at most one scrape older than scrapedBefore+1 s).
    expect(lastSeenStaleAt - scrapedBefore).toBeGreaterThanOrEqual(LOOKBACK_MS - 2_000);
    const after = await report();
    expect(shown(after)).toEqual([["zookeeper", "OK"]]);
    expect(after.overall).toBe("OK");
  }, 120_000);
});
