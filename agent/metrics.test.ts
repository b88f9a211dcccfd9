import { describe, expect, it } from "vitest";
import { Exposition } from "./exposition.js";
import { createAgentMetrics } from "./metrics.js";

const web = { name: "web", type: "http", source: "frontend", intervalMs: 30_000 };

async function exposition(run: (metrics: ReturnType<typeof createAgentMetrics>) => void): Promise<string> {
  const registry = new Exposition();
  const metrics = createAgentMetrics(registry, [web], { processMetrics: false });
  run(metrics);
  return registry.render();
}

describe("createAgentMetrics", () => {
  it("exports health as 0/1/2, up, the run count by result and the last-run time in seconds", async () => {
    const text = await exposition((m) =>
      m.observeRun(web, {
        result: { health: "WARN", causes: ["web: slow"] },
        durationMs: 250,
        finishedAt: 1_700_000_000_000,
        timedOut: false,
      }),
    );
    expect(text).toContain('graft_check_health{check="web",type="http",source="frontend"} 1');
    expect(text).toContain('graft_check_up{check="web"} 1');
    expect(text).toContain('graft_check_runs_total{check="web",result="warn"} 1');
    expect(text).toContain('graft_check_runs_total{check="web",result="error"} 0');
    expect(text).toContain('graft_check_last_run_timestamp_seconds{check="web"} 1700000000');
    expect(text).toContain('graft_check_interval_seconds{check="web"} 30');
    expect(text).toContain('graft_check_duration_seconds_bucket{le="0.25",check="web"} 1');
    expect(text).not.toContain("slow");
  });

  it("removes a value the latest run did not read instead of leaving it stale", async () => {
    const text = await exposition((m) => {
      const run = { durationMs: 1, finishedAt: 0, timedOut: false };
      m.observeRun(web, {
        ...run,
        result: { health: "OK", causes: [], values: { status_code: 200, tls_expiry_seconds: 9 } },
      });
      m.observeRun(web, { ...run, result: { health: "ERROR", causes: ["down"] } });
    });
    expect(text).not.toContain("graft_check_value{");
    expect(text).toContain('graft_check_up{check="web"} 0');
  });

  it("counts timeouts", async () => {
    const text = await exposition((m) =>
      m.observeRun(web, {
        result: { health: "ERROR", causes: [] },
        durationMs: 5000,
        finishedAt: 0,
        timedOut: true,
      }),
    );
    expect(text).toContain('graft_check_timeouts_total{check="web"} 1');
  });

  it("exports the latest reason code as graft_check_reason, one series a check", async () => {
    const text = await exposition((m) => {
      const run = { durationMs: 1, finishedAt: 0, timedOut: false };
      m.observeRun(web, { ...run, result: { health: "ERROR", causes: ["web: refused"], reason: "refused" } });
      m.observeRun(web, { ...run, result: { health: "ERROR", causes: ["web: 503"], reason: "http_status" } });
    });
    expect(text).toContain('graft_check_reason{check="web",reason="http_status"} 1');
    expect(text).not.toContain('reason="refused"');
  });
});
