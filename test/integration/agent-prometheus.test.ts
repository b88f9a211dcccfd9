/** A real Prometheus scrapes the agent; the exposition passes `promtool check metrics`. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Agent, startAgent } from "../../agent/main.js";
import { resolvedChecks } from "../services/agent.js";
import { type PrometheusServer, promtoolCheckMetrics, startPrometheus } from "../services/prometheus.js";
import { waitFor } from "../services/spawn.js";
import { startHttpTarget, stoppedPort, type Target } from "./agent-targets.js";

describe("agent metrics", () => {
  let web: Target & { url: string };
  let agent: Agent;
  let prometheus: PrometheusServer | undefined;

  beforeAll(async () => {
    web = await startHttpTarget((_, response) => response.end("ok"));
    agent = await startAgent({
      checks: resolvedChecks([
        { name: "web", type: "http", url: `${web.url}/`, interval: "1s", timeout: "500ms" },
        {
          name: "db",
          type: "tcp",
          host: "127.0.0.1",
          port: await stoppedPort(),
          interval: "1s",
          timeout: "500ms",
        },
      ]),
      port: 0,
      host: "127.0.0.1",
    });
    await agent.ready;
  });

  afterAll(async () => {
    await prometheus?.stop();
    await agent?.stop();
    await web?.stop();
  });

  it("passes promtool check metrics", async () => {
    const exposition = await (await fetch(`${agent.url}/metrics`)).text();
    expect(exposition).toContain('graft_check_health{check="web",type="http",source="web"} 0');
    const { code, output } = await promtoolCheckMetrics(exposition);
    expect(output).toBe("");
    expect(code).toBe(0);
  });

  it("is scraped by a real Prometheus, whose API returns the graft_ series", async () => {
    prometheus = await startPrometheus([{ job: "graft-agent", address: agent.url.replace("http://", "") }]);
    const running = prometheus;
    const sample = async (promql: string) => (await running.query(promql))[0]?.value[1];

    await waitFor(
      "Prometheus to scrape the agent",
      async () => (await sample('up{job="graft-agent"}')) === "1",
      {
        timeoutMs: 30_000,
      },
    );
    expect(await sample('graft_check_health{check="web",type="http"}')).toBe("0");
    expect(await sample('graft_check_health{check="db",type="tcp"}')).toBe("2");
    expect(await sample('graft_check_up{check="db"}')).toBe("0");
    expect(await sample('graft_check_value{check="web",key="status_code"}')).toBe("200");
    expect(Number(await sample('graft_check_runs_total{check="web",result="ok"}'))).toBeGreaterThanOrEqual(1);
    expect(await sample('count(graft_check_duration_seconds_bucket{check="db"})')).toBe("13");
  });
});
