import fc from "fast-check";
import * as prom from "prom-client";
import { describe, expect, it } from "vitest";
import {
  type Counter,
  EXPOSITION_CONTENT_TYPE,
  Exposition,
  type FamilyDefinition,
  type Gauge,
  type Histogram,
  type Labels,
} from "./exposition.js";
import { createAgentMetrics } from "./metrics.js";

/**
 * An Exposition that does everything it is asked on a prom-client registry too, so one sequence
 * of calls (the agent's own, through createAgentMetrics) renders in both.
 */
class MirroredExposition extends Exposition {
  readonly prom = new prom.Registry();

  override setDefaultLabels(labels: Readonly<Record<string, string>>): void {
    super.setDefaultLabels(labels);
    this.prom.setDefaultLabels({ ...labels });
  }

  override gauge<L extends string = never>(definition: FamilyDefinition<L>): Gauge<L> {
    const own = super.gauge(definition);
    const mirror = new prom.Gauge({ ...this.#config(definition) });
    return {
      set: (labels, value) => {
        own.set(labels, value);
        mirror.set({ ...labels }, value);
      },
      remove: (labels) => {
        own.remove(labels);
        mirror.remove({ ...labels });
      },
    };
  }

  override counter<L extends string = never>(definition: FamilyDefinition<L>): Counter<L> {
    const own = super.counter(definition);
    const mirror = new prom.Counter({ ...this.#config(definition) });
    return {
      inc: (labels, by = 1) => {
        own.inc(labels, by);
        mirror.inc({ ...labels }, by);
      },
    };
  }

  override histogram<L extends string = never>(
    definition: FamilyDefinition<L> & { buckets: readonly number[] },
  ): Histogram<L> {
    const own = super.histogram(definition);
    const mirror = new prom.Histogram({ ...this.#config(definition), buckets: [...definition.buckets] });
    return {
      observe: (labels, value) => {
        own.observe(labels, value);
        mirror.observe({ ...labels }, value);
      },
    };
  }

  override reading(
    definition: { name: string; help: string },
    type: "gauge" | "counter",
    read: () => number,
  ): void {
    super.reading(definition, type, read);
    if (type === "gauge") new prom.Gauge({ ...definition, registers: [this.prom] }).set(read());
    else new prom.Counter({ ...definition, registers: [this.prom] }).inc(read());
  }

  #config<L extends string>(definition: FamilyDefinition<L>) {
    return {
      name: definition.name,
      help: definition.help,
      labelNames: [...(definition.labelNames ?? [])],
      registers: [this.prom],
    };
  }
}

const web = { name: "web", type: "http", source: "frontend", intervalMs: 30_000 };
const kafka = { name: "kafka-0.brokers", type: "kafka", source: "kafka", intervalMs: 5_000 };
const run = { durationMs: 12, finishedAt: 1_700_000_000_123, timedOut: false };

describe("Exposition", () => {
  it("renders the agent's metrics byte for byte as prom-client does, default labels included", async () => {
    const exposition = new MirroredExposition();
    exposition.setDefaultLabels({ app: "shop", component: "api" });
    const metrics = createAgentMetrics(exposition, [web, kafka], { processMetrics: false });
    metrics.observeRun(web, {
      ...run,
      result: { health: "OK", causes: [], values: { status_code: 200, tls_expiry_seconds: 86_400.5 } },
    });
    metrics.observeRun(kafka, {
      ...run,
      durationMs: 5000,
      timedOut: true,
      result: { health: "ERROR", causes: ["timeout"], reason: "timeout" },
    });
    metrics.observeRun(web, {
      ...run,
      durationMs: 0.3,
      result: { health: "WARN", causes: ["slow"], reason: "degraded", values: { status_code: 200 } },
    });
    metrics.observeRun(kafka, { ...run, durationMs: 45_000, result: { health: "OK", causes: [] } });
    metrics.push.setQueued(3);
    metrics.push.countSent(7);
    metrics.push.countDropped(0);
    metrics.push.countRequest("ok");
    metrics.push.countRequest("error");

    const text = exposition.render();
    expect(text).toBe(await exposition.prom.metrics());
    expect(text).toContain(
      'graft_check_health{check="web",type="http",source="frontend",app="shop",component="api"} 1',
    );
    expect(exposition.contentType).toBe(exposition.prom.contentType);
  });

  it("renders the process readings as prom-client does", async () => {
    const exposition = new MirroredExposition();
    exposition.reading({ name: "rss_bytes", help: "Resident memory." }, "gauge", () => 52_428_800);
    exposition.reading({ name: "cpu_seconds_total", help: "CPU." }, "counter", () => 1.25);
    expect(exposition.render()).toBe(await exposition.prom.metrics());
  });

  it("escapes backslash, double quote and line feed in label values, backslash and line feed in HELP", () => {
    const exposition = new Exposition();
    exposition.setDefaultLabels({ app: 'a"b' });
    exposition
      .gauge({ name: "g", help: "a \\ back\nslash", labelNames: ["check"] })
      .set({ check: 'q"\\\n' }, 1);
    expect(exposition.render()).toBe(
      '# HELP g a \\\\ back\\nslash\n# TYPE g gauge\ng{check="q\\"\\\\\\n",app="a\\"b"} 1\n',
    );
  });

  it("matches prom-client for any sequence of sets, removals, increments and observations", async () => {
    const labelValue = fc.oneof(
      fc.constantFrom("web", "", "a\\b", 'say "hi"', "two\nlines", "ünï\u2028còdé", '{x="y"}'),
      fc.string({ maxLength: 12 }),
    );
    const operation = fc.oneof(
      fc.record({ op: fc.constant("set" as const), check: labelValue, value: fc.double() }),
      fc.record({ op: fc.constant("remove" as const), check: labelValue }),
      fc.record({
        op: fc.constant("inc" as const),
        check: labelValue,
        by: fc.double({ min: 0, max: 1e9, noNaN: true }),
      }),
      fc.record({
        op: fc.constant("observe" as const),
        check: labelValue,
        value: fc.double({ min: -1, max: 100, noNaN: true }),
      }),
      fc.record({ op: fc.constant("queued" as const), value: fc.integer() }),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.option(labelValue, { nil: undefined }),
        fc.array(operation, { maxLength: 40 }),
        async (app, ops) => {
          const exposition = new MirroredExposition();
          if (app !== undefined) exposition.setDefaultLabels({ app, check: "a default" });
          const gauge = exposition.gauge({
            name: "g",
            help: 'A gauge\\with "help"\n.',
            labelNames: ["check"],
          });
          const counter = exposition.counter({
            name: "c_total",
            help: "A counter.",
            labelNames: ["check", "result"],
          });
          const histogram = exposition.histogram({
            name: "h",
            help: "A histogram.",
            labelNames: ["check"],
            buckets: [0.1, 1, 10],
          });
          const queued = exposition.gauge({ name: "queued", help: "No labels." });
          for (const step of ops) {
            const labels: Labels<"check"> = { check: "check" in step ? step.check : "" };
            if (step.op === "set") gauge.set(labels, step.value);
            else if (step.op === "remove") gauge.remove(labels);
            else if (step.op === "inc") counter.inc({ ...labels, result: "ok" }, step.by);
            else if (step.op === "observe") histogram.observe(labels, step.value);
            else queued.set({}, step.value);
          }
          expect(exposition.render()).toBe(await exposition.prom.metrics());
        },
      ),
      { numRuns: 300 },
    );
  });

  it("refuses what would render a wrong exposition: a missing label, a counter going down, a name twice", () => {
    const exposition = new Exposition();
    const gauge = exposition.gauge({ name: "g", help: "g", labelNames: ["check", "key"] });
    expect(() => gauge.set({ check: "a" } as unknown as Labels<"check" | "key">, 1)).toThrow(
      'label "key" has no value',
    );
    const counter = exposition.counter({ name: "c", help: "c" });
    expect(() => counter.inc({}, -1)).toThrow("a counter goes up");
    expect(() => counter.inc({}, Number.NaN)).toThrow("a counter goes up");
    expect(() => exposition.gauge({ name: "c", help: "again" })).toThrow("c exists already");
    expect(() =>
      exposition.histogram({ name: "h", help: "h", buckets: [1] }).observe({}, Number.NaN),
    ).toThrow("cannot observe NaN");
    expect(exposition.render()).toBe(
      '# HELP g g\n# TYPE g gauge\n\n# HELP c c\n# TYPE c counter\nc 0\n\n# HELP h h\n# TYPE h histogram\nh_bucket{le="1"} 0\nh_bucket{le="+Inf"} 0\nh_sum 0\nh_count 0\n',
    );
  });

  it("stays linear: 64 checks' series render in a few milliseconds", () => {
    const exposition = new Exposition();
    const checks = Array.from({ length: 64 }, (_, i) => ({ ...web, name: `check-${i}` }));
    const metrics = createAgentMetrics(exposition, checks, { processMetrics: false });
    for (const check of checks)
      metrics.observeRun(check, {
        ...run,
        result: { health: "OK", causes: [], values: { a: 1, b: 2, c: 3 } },
      });
    const started = performance.now();
    const text = exposition.render();
    expect(performance.now() - started).toBeLessThan(50);
    expect(text.split("\n").length).toBeGreaterThan(64 * 20);
    expect(EXPOSITION_CONTENT_TYPE).toBe("text/plain; version=0.0.4; charset=utf-8");
  });
});
