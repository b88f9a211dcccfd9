// manifests/monitoring only queries metrics graft exports: every PromQL expression of the alert
// rules and the Grafana dashboard is parsed with Prometheus' own grammar, and each metric it
// selects must be registered by the agent's or the webhook's metrics modules (built here as
// `graft agent` and `graft webhook` build them), so renaming a metric breaks this test rather
// than an alert nobody sees firing.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parser } from "@prometheus-io/lezer-promql";
import { collectDefaultMetrics, Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { Exposition } from "../../agent/exposition.js";
import { createAgentMetrics } from "../../agent/metrics.js";
import { createPropertiesMetrics } from "../../webhook/io/properties/properties-metrics.js";
import { createCertificateMetrics, createWebhookMetrics } from "../../webhook/server/metrics.js";

const monitoring = (file: string) =>
  readFileSync(fileURLToPath(new URL(`../../manifests/monitoring/${file}`, import.meta.url)), "utf8");

/** Series Prometheus itself writes for every target; not graft's to register. */
const PROMETHEUS_SERIES = new Set(["up"]);

/** What each PromQL selector may name: a histogram is queried through _bucket, _sum and _count. */
function seriesNames(name: string, type: string): string[] {
  if (type === "histogram") return [name, `${name}_bucket`, `${name}_sum`, `${name}_count`];
  if (type === "summary") return [name, `${name}_sum`, `${name}_count`];
  return [name];
}

async function exportedNames(registry: Registry): Promise<string[]> {
  const metrics = await registry.getMetricsAsJSON();
  return metrics.flatMap(({ name, type }) => seriesNames(name, String(type)));
}

/** The agent's, from the text it serves (its # TYPE lines). */
function exportedByAgent(exposition: Exposition): string[] {
  return Array.from(exposition.render().matchAll(/^# TYPE (\S+) (\S+)$/gm), ([, name, type]) =>
    seriesNames(name!, type!),
  ).flat();
}

async function graftMetricNames(): Promise<Set<string>> {
  const agent = new Exposition();
  createAgentMetrics(agent, []);
  // As webhook/server/cli.ts builds its registry.
  const webhook = new Registry();
  collectDefaultMetrics({ register: webhook, prefix: "graft_webhook_" });
  createWebhookMetrics(webhook);
  createCertificateMetrics(webhook);
  createPropertiesMetrics(webhook);
  return new Set([...exportedByAgent(agent), ...(await exportedNames(webhook))]);
}

/** Grafana's own variables are not PromQL; a range variable stands for some duration. */
function withoutGrafanaVariables(expression: string): string {
  return expression.replace(/\$__(rate_interval|interval|range)/g, "5m");
}

/** The metric names an expression selects; throws on a syntax error, naming where. */
function metricNames(expression: string): string[] {
  const names: string[] = [];
  parser.parse(expression).iterate({
    enter(node) {
      if (node.type.isError) {
        throw new Error(`PromQL syntax error at ${node.from} in: ${expression}`);
      }
      if (node.name === "Identifier" && node.node.parent?.name === "VectorSelector") {
        names.push(expression.slice(node.from, node.to));
      }
    },
  });
  return names;
}

type Rule = { alert?: string; record?: string; expr: string; for?: string; labels?: Record<string, string> };
type Panel = { title?: string; targets?: { expr?: string }[]; panels?: Panel[] };

const rule = parse(monitoring("prometheusrule.yaml")) as {
  spec: { groups: { name: string; rules: Rule[] }[] };
};
const rules = rule.spec.groups.flatMap((group) => group.rules);
const dashboard = JSON.parse(monitoring("dashboards/graft.json")) as {
  panels: Panel[];
  templating: { list: { name: string; query?: string | { query: string } }[] };
};

function dashboardQueries(): { where: string; expr: string }[] {
  const fromPanels = (panels: Panel[]): { where: string; expr: string }[] =>
    panels.flatMap((panel) => [
      ...(panel.targets ?? []).flatMap((t) =>
        t.expr ? [{ where: `panel "${panel.title}"`, expr: t.expr }] : [],
      ),
      ...fromPanels(panel.panels ?? []),
    ]);
  const fromVariables = dashboard.templating.list.flatMap(({ name, query }) => {
    const text = typeof query === "string" ? query : query?.query;
    // label_values(<selector>, <label>): the selector is PromQL.
    const selector = text && /^label_values\((.+),\s*\w+\)$/.exec(text)?.[1];
    return selector ? [{ where: `variable $${name}`, expr: selector }] : [];
  });
  return [...fromPanels(dashboard.panels), ...fromVariables];
}

const queries = [
  ...rules.map((r) => ({ where: `alert ${r.alert ?? r.record}`, expr: r.expr })),
  ...dashboardQueries(),
];

describe("metricNames (Prometheus' PromQL grammar)", () => {
  it("finds the selected metrics, not functions, labels or keywords", () => {
    expect(
      metricNames(
        'sum by (le) (rate(a_bucket{route="/x"}[5m])) > on() group_left max without (pod) (b) or absent(c)',
      ),
    ).toEqual(["a_bucket", "b", "c"]);
  });

  it("refuses an expression that is not PromQL", () => {
    expect(() => metricNames("sum(rate(a[5m])")).toThrow(/syntax error/);
  });
});

describe("manifests/monitoring queries", () => {
  it("include the alert rules and the dashboard's panels and variables", () => {
    expect(rules.length).toBeGreaterThanOrEqual(5);
    expect(queries.filter((q) => q.where.startsWith("panel")).length).toBeGreaterThanOrEqual(8);
    expect(queries.some((q) => q.where.startsWith("variable"))).toBe(true);
  });

  it.each(queries)("$where selects only metrics graft exports", async ({ expr }) => {
    const exported = await graftMetricNames();
    const names = metricNames(withoutGrafanaVariables(expr));
    expect(names.length).toBeGreaterThan(0);
    for (const name of names) {
      expect(exported.has(name) || PROMETHEUS_SERIES.has(name), `${name} in ${expr}`).toBe(true);
    }
  });
});

describe("manifests/monitoring alerts", () => {
  const alert = (name: string) => {
    const found = rules.find((r) => r.alert === name);
    if (!found) throw new Error(`no alert ${name} in prometheusrule.yaml`);
    return found;
  };

  it("fire on a check ERROR for 5 minutes and WARN for 15 (graft_check_health 2 and 1)", () => {
    expect(alert("GraftCheckError")).toMatchObject({ for: "5m", labels: { severity: "critical" } });
    expect(alert("GraftCheckError").expr).toMatch(/graft_check_health\) == 2$/);
    expect(alert("GraftCheckWarn")).toMatchObject({ for: "15m", labels: { severity: "warning" } });
    expect(alert("GraftCheckWarn").expr).toMatch(/graft_check_health\) == 1$/);
  });

  it("fire when the webhook is down, denies in bulk, or answers slower than 1 s at p99", () => {
    expect(alert("GraftWebhookDown").expr).toContain('up{job="graft-webhook"}');
    expect(alert("GraftWebhookDenialsSpike").expr).toContain("graft_webhook_denials_total");
    expect(alert("GraftWebhookSlow").expr).toMatch(/^histogram_quantile\(0\.99,[\s\S]*\)\s*> 1$/);
  });
});

describe("manifests/monitoring dashboard", () => {
  it("colours health as PNDA's console: OK #7bd47d, WARN #ffc05f, ERROR #ff8b8e", () => {
    const text = monitoring("dashboards/graft.json");
    const health = dashboard.panels.filter((p) =>
      p.targets?.some((t) => t.expr?.includes("graft_check_health")),
    );
    expect(health.length).toBeGreaterThanOrEqual(3);
    for (const panel of health) {
      const mappings = JSON.stringify((panel as { fieldConfig?: unknown }).fieldConfig);
      expect(mappings, panel.title).toContain('"0":{"text":"OK","color":"#7bd47d"');
      expect(mappings, panel.title).toContain('"1":{"text":"WARN","color":"#ffc05f"');
      expect(mappings, panel.title).toContain('"2":{"text":"ERROR","color":"#ff8b8e"');
    }
    expect(text).toContain("graft_webhook_request_duration_seconds_bucket");
    expect(text).toContain("graft_webhook_requests_total");
  });
});
