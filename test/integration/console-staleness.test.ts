/**
 * Staleness as PNDA showed it, against real parts: two real agents scraped by a real Prometheus,
 * the console over it with a 5 s window (the default is 3 minutes) and the page in headless
 * Chromium. One agent is stopped: its checks turn grey with the reason and stay in the view,
 * the overall light follows; started again on the same port, they turn green.
 */
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Agent, startAgent } from "../../agent/main.js";
import { COLOURS } from "../../console/health.js";
import { resolvedChecks, tcpCheck } from "../services/agent.js";
import { launchChromium } from "../services/chromium.js";
import { rgb, startConsoleOnPrometheus, type TestConsole } from "../services/console.js";
import { type PrometheusServer, startPrometheus } from "../services/prometheus.js";
import { waitFor } from "../services/spawn.js";
import { startHttpTarget, type Target } from "./agent-targets.js";

const STALE_AFTER_MS = 5_000;

describe("a dead agent in the console: grey with the reason, then green again", () => {
  let target: Target & { url: string };
  let kafkaAgent: Agent | undefined;
  let zookeeperAgent: Agent;
  let kafkaPort: number;
  let prometheus: PrometheusServer;
  let graftConsole: TestConsole;
  let browser: Browser;
  let page: Page;

  const startKafkaAgent = async (port: number) => {
    const agent = await startAgent({
      checks: resolvedChecks([tcpCheck("kafka-broker", target.port, "kafka")]),
      port,
      host: "127.0.0.1",
      processMetrics: false,
    });
    await agent.ready;
    return agent;
  };

  const report = () => graftConsole.report();
  const tile = async (source: string) => (await report()).services.find((s) => s.source === source);

  beforeAll(async () => {
    target = await startHttpTarget((_, response) => response.end("ok"));
    kafkaAgent = await startKafkaAgent(0);
    kafkaPort = kafkaAgent.port;
    zookeeperAgent = await startAgent({
      checks: resolvedChecks([tcpCheck("zk", target.port, "zookeeper")]),
      port: 0,
      host: "127.0.0.1",
      processMetrics: false,
    });
    prometheus = await startPrometheus([
      { job: "kafka", address: `127.0.0.1:${kafkaPort}`, labels: { namespace: "apps", pod: "kafka-0" } },
      {
        job: "zookeeper",
        address: `127.0.0.1:${zookeeperAgent.port}`,
        labels: { namespace: "apps", pod: "zookeeper-0" },
      },
    ]);
    graftConsole = await startConsoleOnPrometheus(prometheus.url, {
      staleAfterMs: STALE_AFTER_MS,
      lookbackMs: 60_000,
    });
    browser = await launchChromium();
    page = await browser.newPage();
  });

  afterAll(async () => {
    await browser?.close();
    await graftConsole?.close();
    await prometheus?.stop();
    await kafkaAgent?.stop();
    await zookeeperAgent?.stop();
    await target?.stop();
  });

  it("shows both agents' checks OK to begin with", async () => {
    await waitFor(
      "both agents OK in the console",
      async () => (await report()).overall === "OK" && (await report()).services.length === 2,
      { timeoutMs: 30_000 },
    );
    await page.goto(graftConsole.url);
    await page.locator('.tile[data-source="kafka"][data-shown="OK"]').waitFor();
  });

  it("greys a stopped agent's checks within the window, with the reason, and keeps them in view", async () => {
    await kafkaAgent!.stop();
    kafkaAgent = undefined;
    const stoppedAt = Date.now();
    await waitFor("kafka to turn stale", async () => (await tile("kafka"))?.shown === "STALE", {
      timeoutMs: STALE_AFTER_MS + 10_000,
    });
    const elapsed = Date.now() - stoppedAt;
    const health = await report();
    // Nothing disappears: both tiles stay, the living agent stays green, the light follows.
    expect(health.services.map((s) => [s.source, s.shown])).toEqual([
      ["kafka", "STALE"],
      ["zookeeper", "OK"],
    ]);
    expect(health.overall).toBe("STALE");
    const row = health.services[0]?.pods[0]?.checks[0];
    expect(row?.staleReason).toMatch(/^agent not scraped since \d\d:\d\d:\d\d UTC$/);
    // The agent is seen as down at the next scrape (every second), not only after the window.
    expect(elapsed).toBeLessThan(STALE_AFTER_MS + 5_000);

    const kafkaTile = page.locator('.tile[data-source="kafka"]');
    await page.locator('.tile[data-source="kafka"][data-shown="STALE"]').waitFor();
    const background = await kafkaTile.evaluate(
      // Runs in the page; this file is compiled without the DOM's types.
      (node) =>
        (
          globalThis as unknown as { getComputedStyle: (element: unknown) => { backgroundColor: string } }
        ).getComputedStyle(node).backgroundColor,
    );
    expect(background).toBe(rgb(COLOURS.STALE));
    expect(await kafkaTile.innerText()).toContain("no recent update · 1 pod");
    await kafkaTile.click();
    const cells = await page.locator('#detail-rows tr[data-check="kafka-broker"] td').allInnerTexts();
    expect(cells[3]).toBe("STALE");
    expect(cells[5]).toMatch(/^no recent update: agent not scraped since \d\d:\d\d:\d\d UTC$/);
    expect(await page.locator("#overall").evaluate((node) => node.getAttribute("data-shown"))).toBe("STALE");
  });

  it("turns the agent green again once it is back", async () => {
    kafkaAgent = await startKafkaAgent(kafkaPort);
    await waitFor("kafka to be OK again", async () => (await report()).overall === "OK", {
      timeoutMs: 30_000,
    });
    expect((await tile("kafka"))?.pods[0]?.checks[0]?.staleReason).toBeUndefined();
    await page.locator('.tile[data-source="kafka"][data-shown="OK"]').waitFor({ timeout: 10_000 });
  });
});
