// The alert rules of manifests/monitoring/prometheusrule.yaml evaluated by Prometheus' own rule
// engine (`promtool test rules`, Debian's prometheus package: test/services/prometheus/install.sh)
// on series shaped like graft's metrics: each alert stays quiet until its `for` has passed, then
// fires with the labels and the message an operator reads.
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import { tempDir } from "../services/spawn.js";

const run = promisify(execFile);
const ruleFile = fileURLToPath(new URL("../../manifests/monitoring/prometheusrule.yaml", import.meta.url));

type AlertTest = {
  eval_time: string;
  alertname: string;
  exp_alerts: { exp_labels: Record<string, string>; exp_annotations?: Record<string, string> }[];
};

async function promtool(...args: string[]): Promise<{ code: number; output: string }> {
  try {
    const { stdout, stderr } = await run("promtool", args);
    return { code: 0, output: stdout + stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { code: failed.code ?? 1, output: `${failed.stdout ?? ""}${failed.stderr ?? ""}` };
  }
}

const check = { namespace: "apps", pod: "spark-driver-0", check: "kafka", source: "kafka" };
const checkSeries = `{namespace="apps",pod="spark-driver-0",check="kafka",source="kafka",type="kafka"}`;
const checkDescription = (health: string, minutes: number) =>
  `The graft-agent check kafka has reported ${health} for more than ${minutes} minutes. ` +
  "Its causes are in the agent's /status (its port graft-metrics, 9464 unless moved) and on graft's console.";

/** One promtool test case: the input series and what must (not) fire when. */
const cases: Record<string, { series: { series: string; values: string }[]; alerts: AlertTest[] }> = {
  "a check ERROR for 5 minutes": {
    series: [{ series: `graft_check_health${checkSeries}`, values: "2x20" }],
    alerts: [
      { eval_time: "4m", alertname: "GraftCheckError", exp_alerts: [] },
      {
        eval_time: "6m",
        alertname: "GraftCheckError",
        exp_alerts: [
          {
            exp_labels: { severity: "critical", ...check },
            exp_annotations: {
              summary: "kafka is ERROR (kafka in apps/spark-driver-0)",
              description: checkDescription("ERROR", 5),
            },
          },
        ],
      },
      { eval_time: "20m", alertname: "GraftCheckWarn", exp_alerts: [] },
    ],
  },
  "a check WARN for 15 minutes": {
    series: [{ series: `graft_check_health${checkSeries}`, values: "1x20" }],
    alerts: [
      { eval_time: "14m", alertname: "GraftCheckWarn", exp_alerts: [] },
      {
        eval_time: "16m",
        alertname: "GraftCheckWarn",
        exp_alerts: [
          {
            exp_labels: { severity: "warning", ...check },
            exp_annotations: {
              summary: "kafka is WARN (kafka in apps/spark-driver-0)",
              description: checkDescription("WARN", 15),
            },
          },
        ],
      },
      { eval_time: "16m", alertname: "GraftCheckError", exp_alerts: [] },
    ],
  },
  "a check that recovers": {
    series: [{ series: `graft_check_health${checkSeries}`, values: "2x3 0x10" }],
    alerts: [{ eval_time: "10m", alertname: "GraftCheckError", exp_alerts: [] }],
  },
  "no webhook replica scraped": {
    series: [{ series: `up{job="graft-webhook",pod="graft-webhook-a"}`, values: "1 1 0x10" }],
    alerts: [
      { eval_time: "1m", alertname: "GraftWebhookDown", exp_alerts: [] },
      {
        eval_time: "5m",
        alertname: "GraftWebhookDown",
        exp_alerts: [
          {
            exp_labels: { severity: "critical" },
            exp_annotations: {
              summary: "No graft webhook replica is being scraped",
              description:
                "Pods that opted in to graft are refused while no replica answers (failurePolicy Fail). " +
                "Check `kubectl -n graft get pods,endpoints graft-webhook`.",
            },
          },
        ],
      },
    ],
  },
  "one webhook replica of two down": {
    series: [
      { series: `up{job="graft-webhook",pod="graft-webhook-a"}`, values: "1x10" },
      { series: `up{job="graft-webhook",pod="graft-webhook-b"}`, values: "0x10" },
    ],
    alerts: [{ eval_time: "10m", alertname: "GraftWebhookDown", exp_alerts: [] }],
  },
  "a burst of denials": {
    series: [{ series: `graft_webhook_denials_total{kind="Deployment"}`, values: "0+3x20" }],
    alerts: [
      {
        eval_time: "15m",
        alertname: "GraftWebhookDenialsSpike",
        exp_alerts: [
          {
            exp_labels: { severity: "warning", kind: "Deployment" },
            exp_annotations: {
              summary: "graft denied 30 Deployment objects in 10 minutes",
              description:
                "Many admissions were refused for invalid graft.pnda.io annotations: a release with a " +
                "bad annotation is probably being retried. The denial message names the annotation.",
            },
          },
        ],
      },
    ],
  },
  "a few denials": {
    series: [{ series: `graft_webhook_denials_total{kind="Pod"}`, values: "0+0.5x20" }],
    alerts: [{ eval_time: "15m", alertname: "GraftWebhookDenialsSpike", exp_alerts: [] }],
  },
  "admission p99 above 1 s for 10 minutes": {
    // 100 reviews a minute, 1 of them under 1 s, the rest under 2.5 s.
    series: [
      {
        series: `graft_webhook_request_duration_seconds_bucket{route="/mutate/pod",le="1"}`,
        values: "0+1x30",
      },
      {
        series: `graft_webhook_request_duration_seconds_bucket{route="/mutate/pod",le="2.5"}`,
        values: "0+100x30",
      },
      {
        series: `graft_webhook_request_duration_seconds_bucket{route="/mutate/pod",le="+Inf"}`,
        values: "0+100x30",
      },
    ],
    alerts: [
      { eval_time: "9m", alertname: "GraftWebhookSlow", exp_alerts: [] },
      {
        eval_time: "15m",
        alertname: "GraftWebhookSlow",
        exp_alerts: [
          {
            exp_labels: { severity: "warning", route: "/mutate/pod" },
            exp_annotations: {
              summary: "graft admission p99 latency on /mutate/pod is 2.485s",
              description:
                "Every pod that opted in waits for graft; above 5 s the API server fails the request.",
            },
          },
        ],
      },
    ],
  },
  "admission p99 under 1 s": {
    series: [
      {
        series: `graft_webhook_request_duration_seconds_bucket{route="/mutate/pod",le="0.05"}`,
        values: "0+100x30",
      },
      {
        series: `graft_webhook_request_duration_seconds_bucket{route="/mutate/pod",le="+Inf"}`,
        values: "0+100x30",
      },
    ],
    alerts: [{ eval_time: "20m", alertname: "GraftWebhookSlow", exp_alerts: [] }],
  },
};

describe("manifests/monitoring alert rules under Prometheus' rule engine (promtool)", () => {
  let dir: string;
  let remove: () => Promise<void>;
  let rules: string;

  beforeAll(async () => {
    ({ dir, remove } = await tempDir("rules"));
    // A PrometheusRule's spec is a Prometheus rule file.
    const rule = parse(readFileSync(ruleFile, "utf8")) as { spec: { groups: unknown[] } };
    rules = path.join(dir, "rules.yml");
    await writeFile(rules, stringify({ groups: rule.spec.groups }));
  });

  afterAll(async () => {
    await remove?.();
  });

  it("are valid rules (promtool check rules)", async () => {
    const { code, output } = await promtool("check", "rules", rules);
    expect(code, output).toBe(0);
    expect(output).toMatch(/SUCCESS: \d+ rules found/);
  });

  it("pass their promtool test files (manifests/monitoring/tests/*.test.yaml: agent down, certificate expiry)", async () => {
    const script = fileURLToPath(new URL("../../manifests/monitoring/tests/run.sh", import.meta.url));
    try {
      const { stdout } = await run("bash", [script]);
      expect(stdout.match(/SUCCESS/g)).toHaveLength(3);
    } catch (error) {
      const failed = error as { stdout?: string; stderr?: string };
      expect.fail(`${failed.stdout ?? ""}${failed.stderr ?? ""}`);
    }
  });

  it.each(Object.keys(cases))("%s", async (name) => {
    const { series, alerts } = cases[name]!;
    const file = path.join(dir, `${name.replace(/\W+/g, "-")}.test.yml`);
    await writeFile(
      file,
      stringify({
        rule_files: [rules],
        evaluation_interval: "1m",
        tests: [{ interval: "1m", input_series: series, alert_rule_test: alerts }],
      }),
    );
    const { code, output } = await promtool("test", "rules", file);
    expect(code, output).toBe(0);
  });
});
