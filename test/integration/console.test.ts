/**
 * The console against real parts: two real agents, a real Prometheus scraping them (with the
 * `namespace` and `pod` labels Kubernetes discovery gives), and the page in headless Chromium.
 */
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Agent } from "../../agent/main.js";
import { runConsoleCli } from "../../console/cli.js";
import { COLOURS } from "../../console/health.js";
import { agentEndpoints, agentStatusResults, kubernetesCheckResults } from "../../console/sources/agents.js";
import { prometheusCheckResults } from "../../console/sources/prometheus.js";
import { startAgentWith, tcpCheck } from "../services/agent.js";
import { launchChromium } from "../services/chromium.js";
import { rgb, startConsoleOnPrometheus, type TestConsole } from "../services/console.js";
import { type PrometheusServer, startPrometheus } from "../services/prometheus.js";
import { waitFor } from "../services/spawn.js";
import { startHttpTarget, startSilentTcpTarget, stoppedPort, type Target } from "./agent-targets.js";
import { ABORT_SLACK_MS } from "./run-check.js";

describe("graft console, from a real Prometheus scraping real agents", () => {
  let web: Target & { url: string };
  let driver: Agent;
  let jobManager: Agent;
  let prometheus: PrometheusServer;
  let console: TestConsole;
  let browser: Browser;

  beforeAll(async () => {
    web = await startHttpTarget((_, response) => response.end("ok"));
    const closed = await stoppedPort();
    const kafkaApi = { name: "kafka-api", type: "http", url: `${web.url}/`, source: "kafka" };
    // Their app and component as the webhook passes them (GRAFT_APP, GRAFT_COMPONENT): metric labels.
    driver = await startAgentWith(
      [{ ...kafkaApi, interval: "1s", timeout: "500ms" }, tcpCheck("zk", closed, "zookeeper")],
      { app: "pipeline", component: "driver" },
    );
    jobManager = await startAgentWith([{ ...kafkaApi, interval: "1s", timeout: "500ms" }], {
      app: "pipeline",
      component: "jobmanager",
    });
    prometheus = await startPrometheus([
      {
        job: "driver",
        address: driver.url.replace("http://", ""),
        labels: { namespace: "apps", pod: "spark-driver" },
      },
      {
        job: "jm",
        address: jobManager.url.replace("http://", ""),
        labels: { namespace: "apps", pod: "flink-jm" },
      },
    ]);
    console = await startConsoleOnPrometheus(prometheus.url);
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await console?.close();
    await prometheus?.stop();
    await driver?.stop();
    await jobManager?.stop();
    await web?.stop();
  });

  const report = () => console.report();

  it("reports a tile per source, as bad as its worst pod, once Prometheus has scraped both agents", async () => {
    await waitFor(
      "both agents in Prometheus",
      async () => (await report()).services.find((s) => s.source === "kafka")?.pods.length === 2,
      { timeoutMs: 30_000 },
    );
    const health = await report();
    expect(health.overall).toBe("ERROR");
    expect(health.services.map((s) => [s.source, s.shown])).toEqual([
      ["kafka", "OK"],
      ["zookeeper", "ERROR"],
    ]);
    expect(health.services[0]?.pods.map((p) => `${p.namespace}/${p.pod}`)).toEqual([
      "apps/flink-jm",
      "apps/spark-driver",
    ]);
    const zk = health.services[1]?.pods[0]?.checks[0];
    expect(zk).toMatchObject({ check: "zk", type: "tcp", shown: "ERROR", reason: "refused" });
    expect(zk?.ageMs).toBeLessThan(60_000);
  });

  it("reports each application with its components, as bad as their worst pod, from the agents' app and component labels", async () => {
    const health = await report();
    expect(
      health.applications.map((a) => [
        a.app,
        a.shown,
        a.components.map((c) => [c.component, c.shown, c.pods.length]),
      ]),
    ).toEqual([
      [
        "pipeline",
        "ERROR",
        [
          ["driver", "ERROR", 1],
          ["jobmanager", "OK", 1],
        ],
      ],
    ]);
    expect(health.applications[0]?.components[0]?.pods[0]?.checks.map((c) => [c.check, c.shown])).toEqual([
      ["kafka-api", "OK"],
      ["zk", "ERROR"],
    ]);
  });

  describe("the page in headless Chromium", () => {
    let page: Page;
    const errors: string[] = [];

    beforeAll(async () => {
      page = await browser.newPage();
      page.on("console", (message) => {
        if (message.type() === "error") errors.push(message.text());
      });
      page.on("pageerror", (error) => errors.push(error.message));
      await page.goto(console.url);
      await page.locator('.tile[data-source="zookeeper"]').waitFor();
    });

    // One evaluation in the page, so the element read is the one found: the page redraws itself.
    const background = (selector: string) =>
      page.evaluate((css) => {
        // Runs in the page; this file is compiled without the DOM's types.
        const dom = globalThis as unknown as {
          document: { querySelector: (selector: string) => unknown };
          getComputedStyle: (element: unknown) => { backgroundColor: string };
        };
        const element = dom.document.querySelector(css);
        return element ? dom.getComputedStyle(element).backgroundColor : `no element ${css}`;
      }, selector);

    it("colours the tiles and the overall light as PNDA's console did, under a strict CSP", async () => {
      expect(await background('.tile[data-source="kafka"]')).toBe(rgb(COLOURS.OK));
      expect(await background('.tile[data-source="zookeeper"]')).toBe(rgb(COLOURS.ERROR));
      expect(await background("#overall")).toBe(rgb(COLOURS.ERROR));
      expect(await page.locator('.tile[data-source="kafka"]').innerText()).toContain("OK · 2 pods");
      expect(errors, errors.join("\n")).toEqual([]);
    });

    it("drills down into a tile: each pod's checks, health and age", async () => {
      await page.locator('.tile[data-source="zookeeper"]').click();
      const row = page.locator('#detail-rows tr[data-pod="apps/spark-driver"][data-check="zk"]');
      await row.waitFor();
      const cells = await row.locator("td").allInnerTexts();
      expect(cells.slice(0, 4)).toEqual(["apps/spark-driver", "zk", "tcp", "ERROR"]);
      expect(cells[4]).toMatch(/^\d+ s ago$/);
      // Prometheus has no causes, only the reason code: nothing listens on zk's port.
      expect(cells[5]).toBe("refused");
      expect(await background('#detail-rows tr[data-check="zk"] td.health')).toBe(rgb(COLOURS.ERROR));

      await page.locator('.tile[data-source="kafka"]').click();
      await expect(page.locator("#detail-rows tr").count()).resolves.toBe(2);
      expect(await page.locator("#detail-title").innerText()).toBe("kafka");
    });

    it("lists applications and their components in PNDA's colours, and drills down into a component", async () => {
      const app = '#apps .app[data-app="pipeline"]';
      await page.locator(app).waitFor();
      expect(await background(app)).toBe(rgb(COLOURS.ERROR));
      expect(await background(`${app} .component[data-component="driver"]`)).toBe(rgb(COLOURS.ERROR));
      expect(await background(`${app} .component[data-component="jobmanager"]`)).toBe(rgb(COLOURS.OK));
      expect(await page.locator(`${app} .component[data-component="jobmanager"]`).innerText()).toBe(
        "jobmanager · OK · 1 pod",
      );

      await page.locator(`${app} .component[data-component="driver"]`).click();
      await page.locator('#detail-rows tr[data-pod="apps/spark-driver"][data-check="zk"]').waitFor();
      expect(await page.locator("#detail-title").innerText()).toBe("pipeline / driver");
      const rows = await page
        .locator("#detail-rows tr")
        .evaluateAll((trs) =>
          trs.map((tr) => [
            (tr as unknown as { getAttribute: (n: string) => string }).getAttribute("data-check"),
            (tr as unknown as { querySelector: (s: string) => { textContent: string } }).querySelector(
              "td.health",
            ).textContent,
          ]),
        );
      expect(rows).toEqual([
        ["kafka-api", "OK"],
        ["zk", "ERROR"],
      ]);
      // Back to the tiles: selecting a tile replaces the component's drill-down.
      await page.locator('.tile[data-source="kafka"]').click();
      await expect(page.locator("#detail-title").innerText()).resolves.toBe("kafka");
      expect(await page.locator('.component[aria-pressed="true"]').count()).toBe(0);
      expect(errors, errors.join("\n")).toEqual([]);
    });

    it("keeps the focus on a tile across refreshes while nothing it shows changes", async () => {
      await page.locator('.tile[data-source="kafka"]').focus();
      const focused = () =>
        page.evaluate(() => {
          const { document } = globalThis as unknown as {
            document: { activeElement: { getAttribute: (name: string) => string | null } | null };
          };
          return document.activeElement?.getAttribute("data-source");
        });
      // Every refresh rewrites #updated (even with the same text): count the rewrites.
      await page.evaluate(() => {
        const scope = globalThis as unknown as {
          document: { getElementById: (id: string) => unknown };
          MutationObserver: new (
            callback: () => void,
          ) => { observe: (node: unknown, options: { childList: boolean }) => void };
          graftRedraws: number;
        };
        scope.graftRedraws = 0;
        new scope.MutationObserver(() => {
          scope.graftRedraws += 1;
        }).observe(scope.document.getElementById("updated"), { childList: true });
      });
      await page.waitForFunction(
        () => (globalThis as unknown as { graftRedraws: number }).graftRedraws >= 2,
        null,
        {
          timeout: 10_000,
        },
      );
      expect(await focused()).toBe("kafka");
    });

    it("says so and greys everything when Prometheus stops answering, and keeps serving", async () => {
      await prometheus.stop();
      const response = await fetch(`${console.url}/api/health`);
      expect(response.status).toBe(503);
      expect(((await response.json()) as { message: string }).message).toMatch(
        new RegExp(`^Prometheus at ${prometheus.url} could not be queried`),
      );
      await page.locator("#problem").waitFor({ state: "visible", timeout: 5_000 });
      expect(await page.locator("#problem").innerText()).toContain("could not be queried");
      expect(await background('.tile[data-source="zookeeper"]')).toBe(rgb(COLOURS.STALE));
      expect(await background('.app[data-app="pipeline"]')).toBe(rgb(COLOURS.STALE));
      expect(await background('.component[data-component="driver"]')).toBe(rgb(COLOURS.STALE));
      expect(await page.locator('.component[data-component="driver"]').innerText()).toContain(
        "no recent update",
      );
      expect(await background("#overall")).toBe(rgb(COLOURS.STALE));
      expect((await fetch(`${console.url}/healthz`)).status).toBe(200);
    });
  });
});

describe("the Prometheus source, against a server that is not a good Prometheus", () => {
  it("names a reply that is not a query result", async () => {
    const garbage = await startHttpTarget((_, response) => response.end("<html>proxy error</html>"));
    try {
      await expect(prometheusCheckResults({ url: garbage.url })).rejects.toThrow(
        `Prometheus at ${garbage.url} answered with something other than a query result`,
      );
    } finally {
      await garbage.stop();
    }
  });

  it("gives up on a server that accepts and never answers, within its timeout", async () => {
    const silent = await startSilentTcpTarget();
    const url = `http://127.0.0.1:${silent.port}`;
    const started = performance.now();
    try {
      await expect(prometheusCheckResults({ url, timeoutMs: 500 })).rejects.toThrow(
        `Prometheus at ${url} could not be queried: no answer in time`,
      );
      expect(performance.now() - started).toBeLessThan(500 + ABORT_SLACK_MS);
    } finally {
      await silent.stop();
    }
  });
});

describe("the agents source (no Prometheus), against real agents", () => {
  it("reads each agent's PNDA events, with the causes Prometheus never has", async () => {
    const closed = await stoppedPort();
    const agent = await startAgentWith([tcpCheck("zk", closed, "zookeeper")]);
    try {
      const results = await agentStatusResults({ namespace: "apps", pod: "spark-driver", url: agent.url });
      expect(results).toEqual([
        expect.objectContaining({
          namespace: "apps",
          pod: "spark-driver",
          source: "zookeeper",
          health: "ERROR",
        }),
      ]);
      expect(results[0]?.causes?.join(" ")).toContain(`127.0.0.1:${closed}`);
    } finally {
      await agent.stop();
    }
  });

  it("files an agent it cannot read as an ERROR of graft-agent, naming the pod and why, and reads the rest", async () => {
    const agent = await startAgentWith([
      { name: "web", type: "http", url: "http://127.0.0.1:9/", interval: "1s", timeout: "500ms" },
    ]);
    const garbage = await startHttpTarget((_, response) => response.end("not json"));
    const silent = await startSilentTcpTarget();
    try {
      const pods = [
        { name: "good", url: agent.url },
        { name: "garbled", url: garbage.url },
        { name: "hung", url: `http://127.0.0.1:${silent.port}` },
      ].map(({ name, url }) => ({
        metadata: { name, namespace: "apps" },
        spec: {
          containers: [
            {
              name: "graft-agent",
              ports: [{ name: "graft-metrics", containerPort: Number(new URL(url).port) }],
            },
          ],
        },
        status: { phase: "Running", podIP: "127.0.0.1" },
      }));
      const started = performance.now();
      const results = await kubernetesCheckResults({
        listAgents: async () => agentEndpoints(pods),
        timeoutMs: 500,
      });
      expect(performance.now() - started).toBeLessThan(500 + ABORT_SLACK_MS);
      expect(results.map((r) => [r.pod, r.source, r.health])).toEqual([
        ["good", "web", "ERROR"],
        ["garbled", "graft-agent", "ERROR"],
        ["hung", "graft-agent", "ERROR"],
      ]);
      expect(results[1]?.causes?.[0]).toBe(
        `the agent of apps/garbled at ${garbage.url} answered with something other than PNDA events`,
      );
      expect(results[2]?.causes?.[0]).toMatch(/apps\/hung .* could not be read: no answer in time$/);
    } finally {
      await agent.stop();
      await garbage.stop();
      await silent.stop();
    }
  });

  it("says when the Kubernetes API cannot list pods", async () => {
    await expect(
      kubernetesCheckResults({
        listAgents: async () => {
          throw new Error("pods is forbidden");
        },
      }),
    ).rejects.toThrow("the Kubernetes API could not list pods: pods is forbidden");
  });
});

describe("graft console (CLI)", () => {
  const io = () => {
    const out: string[] = [];
    let stop = () => {};
    return {
      out,
      stop: () => stop(),
      io: {
        env: {},
        stdout: (text: string) => out.push(text),
        stderr: (text: string) => out.push(text),
        stopSignal: new Promise<void>((resolve) => {
          stop = resolve;
        }),
      },
    };
  };

  it("refuses to start without an http(s) Prometheus URL, saying which option", async () => {
    const run = io();
    expect(await runConsoleCli(["--prometheus-url", "prometheus:9090"], run.io)).toBe(2);
    expect(run.out.join("")).toContain('--prometheus-url must be an http(s) URL, got "prometheus:9090"');
  });

  it("serves the page and /api/health until asked to stop", async () => {
    const run = io();
    const finished = runConsoleCli(
      ["--port", "0", "--host", "127.0.0.1", "--prometheus-url", "http://127.0.0.1:9"],
      run.io,
    );
    await waitFor("the console to listen", async () => run.out.join("").includes("listening"), {
      timeoutMs: 10_000,
    });
    const { port } = JSON.parse(run.out.join("").trim()) as { port: number };
    const page = await fetch(`http://127.0.0.1:${port}/`);
    expect(page.headers.get("content-security-policy")).toContain("default-src 'self'");
    expect(await page.text()).toContain("<title>graft — platform health</title>");
    // Nothing listens on port 9: the page's data says so rather than failing.
    const health = await fetch(`http://127.0.0.1:${port}/api/health`);
    expect(health.status).toBe(503);
    run.stop();
    expect(await finished).toBe(0);
  });
});
