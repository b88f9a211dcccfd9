import { describe, expect, it } from "vitest";
import { type CheckResult, healthReport, STALE_AFTER_MS, worst } from "./health.js";

const NOW = 1_800_000_000_000;

function result(overrides: Partial<CheckResult>): CheckResult {
  return {
    namespace: "apps",
    pod: "spark-1",
    check: "kafka",
    type: "kafka",
    source: "kafka",
    health: "OK",
    at: NOW - 10_000,
    ...overrides,
  };
}

describe("worst", () => {
  it("is the worst fresh level, and STALE only when nothing is fresh", () => {
    expect(worst(["OK", "WARN", "STALE"])).toBe("WARN");
    expect(worst(["OK", "ERROR", "WARN"])).toBe("ERROR");
    expect(worst(["STALE", "OK"])).toBe("OK");
    expect(worst(["STALE"])).toBe("STALE");
    expect(worst([])).toBe("STALE");
  });
});

describe("healthReport", () => {
  it("makes a tile per source coloured by its worst pod, and an overall light that is the worst tile", () => {
    const report = healthReport(
      [
        result({ pod: "spark-1", health: "OK" }),
        result({ pod: "spark-2", health: "WARN" }),
        result({ check: "zk", type: "zookeeper", source: "zookeeper", health: "OK" }),
      ],
      NOW,
    );
    expect(report.services.map((s) => [s.source, s.shown])).toEqual([
      ["kafka", "WARN"],
      ["zookeeper", "OK"],
    ]);
    expect(report.services[0]?.pods.map((p) => [p.pod, p.shown])).toEqual([
      ["spark-1", "OK"],
      ["spark-2", "WARN"],
    ]);
    expect(report.overall).toBe("WARN");
  });

  it("greys a result older than 3 minutes, which then counts for nothing", () => {
    const report = healthReport(
      [
        result({ pod: "old", health: "ERROR", at: NOW - STALE_AFTER_MS - 1 }),
        result({ pod: "fresh", health: "OK", at: NOW - STALE_AFTER_MS }),
      ],
      NOW,
    );
    const pods = report.services[0]?.pods ?? [];
    expect(pods.map((p) => [p.pod, p.shown, p.checks[0]?.ageMs])).toEqual([
      ["fresh", "OK", STALE_AFTER_MS],
      ["old", "STALE", STALE_AFTER_MS + 1],
    ]);
    expect(report.overall).toBe("OK");
  });

  it("shows a tile whose every result is stale as STALE", () => {
    const report = healthReport([result({ at: NOW - 10 * 60_000 })], NOW);
    expect(report.services[0]?.shown).toBe("STALE");
    expect(report.overall).toBe("STALE");
  });

  it("keeps a pod's checks of one source together, by name, with their causes", () => {
    const report = healthReport(
      [
        result({ check: "kafka-produce", health: "ERROR", causes: ["no leader for topic t"] }),
        result({ check: "kafka-brokers" }),
      ],
      NOW,
    );
    expect(report.services).toHaveLength(1);
    expect(report.services[0]?.pods[0]?.checks.map((c) => [c.check, c.shown, c.causes])).toEqual([
      ["kafka-brokers", "OK", undefined],
      ["kafka-produce", "ERROR", ["no leader for topic t"]],
    ]);
  });

  it("tells pods of the same name in two namespaces apart", () => {
    const report = healthReport(
      [result({ namespace: "a" }), result({ namespace: "b", health: "ERROR" })],
      NOW,
    );
    expect(report.services[0]?.pods.map((p) => `${p.namespace}/${p.pod}:${p.shown}`)).toEqual([
      "a/spark-1:OK",
      "b/spark-1:ERROR",
    ]);
  });

  it("is an empty, stale report when no agent reports", () => {
    expect(healthReport([], NOW)).toEqual({ generatedAt: NOW, overall: "STALE", services: [] });
  });
});
