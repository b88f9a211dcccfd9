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
  it("is the worst level, stale being worse than OK and better than WARN", () => {
    expect(worst(["OK", "WARN", "STALE"])).toBe("WARN");
    expect(worst(["OK", "ERROR", "WARN"])).toBe("ERROR");
    expect(worst(["STALE", "OK"])).toBe("STALE");
    expect(worst(["OK", "OK"])).toBe("OK");
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

  it("greys a result older than 3 minutes, saying how old, and the overall light follows", () => {
    const report = healthReport(
      [
        result({ pod: "old", health: "ERROR", at: NOW - STALE_AFTER_MS - 60_000 }),
        result({ pod: "fresh", health: "OK", at: NOW - STALE_AFTER_MS }),
      ],
      NOW,
    );
    const pods = report.services[0]?.pods ?? [];
    expect(pods.map((p) => [p.pod, p.shown, p.checks[0]?.ageMs, p.checks[0]?.staleReason])).toEqual([
      ["fresh", "OK", STALE_AFTER_MS, undefined],
      ["old", "STALE", STALE_AFTER_MS + 60_000, "last run 4 min ago"],
    ]);
    expect(report.overall).toBe("STALE");
  });

  it("greys every check of an agent that is not being scraped, however recent its last run", () => {
    const lastSeen = Date.UTC(2026, 11, 1, 12, 3, 10);
    const report = healthReport(
      [result({ health: "OK", at: lastSeen - 1_000, agentLastSeen: lastSeen })],
      lastSeen + 5_000,
    );
    const check = report.services[0]?.pods[0]?.checks[0];
    expect([check?.shown, check?.staleReason]).toEqual(["STALE", "agent not scraped since 12:03:10 UTC"]);
    expect(report.overall).toBe("STALE");
  });

  it("takes the staleness window it is given", () => {
    const results = [result({ at: NOW - 20_000 })];
    expect(healthReport(results, NOW, { staleAfterMs: 10_000 }).overall).toBe("STALE");
    expect(healthReport(results, NOW, { staleAfterMs: 30_000 }).overall).toBe("OK");
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
    expect(healthReport([], NOW)).toEqual({
      generatedAt: NOW,
      overall: "STALE",
      services: [],
      applications: [],
    });
  });

  it("lists applications, their components with the worst health of their pods, and the pods' checks", () => {
    const report = healthReport(
      [
        result({ app: "shop", component: "web", pod: "web-1", health: "OK" }),
        result({ app: "shop", component: "web", pod: "web-2", check: "db", source: "db", health: "WARN" }),
        result({ app: "shop", component: "worker", pod: "worker-1", at: NOW - STALE_AFTER_MS - 1 }),
        result({ app: "analytics", component: "wordcount", pod: "wc-1", health: "ERROR" }),
        result({ pod: "legacy" }),
      ],
      NOW,
    );
    expect(
      report.applications.map((a) => [a.app, a.shown, a.components.map((c) => [c.component, c.shown])]),
    ).toEqual([
      ["(no app)", "OK", [["(no component)", "OK"]]],
      ["analytics", "ERROR", [["wordcount", "ERROR"]]],
      [
        "shop",
        "WARN",
        [
          ["web", "WARN"],
          ["worker", "STALE"],
        ],
      ],
    ]);
    const web = report.applications[2]!.components[0]!;
    expect(web.pods.map((pod) => [pod.pod, pod.shown, pod.checks.map((check) => check.check)])).toEqual([
      ["web-1", "OK", ["kafka"]],
      ["web-2", "WARN", ["db"]],
    ]);
    expect(report.applications[2]!.components[1]!.pods[0]!.checks[0]!.staleReason).toBe("last run 3 min ago");
  });
});
