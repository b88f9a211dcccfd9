import { describe, expect, it } from "vitest";
import {
  dataLoggerBody,
  type LatestRun,
  MAX_CAUSES,
  statusDocument,
  toPndaEvents,
  worstHealth,
} from "./status.js";

const run = (overrides: Partial<LatestRun> & Pick<LatestRun, "name">): LatestRun => ({
  source: overrides.name,
  result: { health: "OK", causes: [] },
  finishedAt: 1_700_000_000_000,
  ...overrides,
});

describe("PNDA events", () => {
  it("reports <source>.health with value, causes and a millisecond timestamp", () => {
    const document = statusDocument(
      [run({ name: "kafka", result: { health: "WARN", causes: ["1 under-replicated partition"] } })],
      1_700_000_000_500,
    );
    expect(document).toEqual({
      data: [
        {
          source: "kafka",
          metric: "kafka.health",
          value: "WARN",
          causes: ["1 under-replicated partition"],
          timestamp: 1_700_000_000_000,
        },
      ],
      timestamp: 1_700_000_000_500,
    });
  });

  it("gives a source reported by several checks the worst health, all causes and the newest time", () => {
    const events = toPndaEvents([
      run({ name: "hdfs-nn", source: "hdfs", finishedAt: 1, result: { health: "WARN", causes: ["a"] } }),
      run({ name: "hdfs-web", source: "hdfs", finishedAt: 2, result: { health: "ERROR", causes: ["b"] } }),
    ]);
    expect(events).toEqual([
      { source: "hdfs", metric: "hdfs.health", value: "ERROR", causes: ["a", "b"], timestamp: 2 },
    ]);
  });

  it("adds each value a check read as a further metric under its source", () => {
    const events = toPndaEvents([
      run({ name: "kafka", result: { health: "OK", causes: [], values: { brokers: 3 } } }),
      run({ name: "zk-a", source: "zookeeper", result: { health: "OK", causes: [], values: { nodes: 3 } } }),
    ]);
    expect(
      events.filter((e) => typeof e.value === "number").map((e) => [e.source, e.metric, e.value]),
    ).toEqual([
      ["kafka", "kafka.brokers", 3],
      ["zookeeper", "zookeeper.zk-a.nodes", 3],
    ]);
  });

  it("caps the causes so one target cannot grow the events without bound", () => {
    const causes = Array.from({ length: 50 }, (_, i) => `${i}:${"x".repeat(5000)}`);
    const [health] = toPndaEvents([run({ name: "web", result: { health: "ERROR", causes } })]);
    expect(health!.causes).toHaveLength(MAX_CAUSES + 1);
    expect(health!.causes.at(-1)).toBe("… and 40 more");
    expect(Math.max(...health!.causes.map((c) => c.length))).toBeLessThanOrEqual(512);
  });

  it("sends causes to the data logger JSON-encoded into a string, as PNDA did", () => {
    const body = JSON.parse(
      dataLoggerBody(
        toPndaEvents([run({ name: "web", result: { health: "ERROR", causes: ['h:1: said "no"'] } })]),
        42,
      ),
    );
    expect(body).toEqual({
      data: [
        {
          source: "web",
          metric: "web.health",
          value: "ERROR",
          causes: '["h:1: said \\"no\\""]',
          timestamp: 1_700_000_000_000,
        },
      ],
      timestamp: 42,
    });
  });

  it("ranks ERROR over WARN over OK", () => {
    expect(worstHealth([])).toBe("OK");
    expect(worstHealth(["OK", "WARN", "OK"])).toBe("WARN");
    expect(worstHealth(["ERROR", "WARN"])).toBe("ERROR");
  });
});
