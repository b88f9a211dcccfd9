import { describe, expect, it } from "vitest";
import { dataLoggerBodies, fitEvent, type PndaEvent, pushedSource } from "./pnda.js";

const event = (i: number, causeLength: number): PndaEvent => ({
  source: `s${i}`,
  metric: `s${i}.health`,
  value: "ERROR",
  causes: Array.from({ length: 10 }, () => "é".repeat(causeLength)),
  timestamp: i,
});

describe("dataLoggerBodies", () => {
  it("splits events into bodies of at most the limit (UTF-8 bytes), keeping every event in order", () => {
    const events = Array.from({ length: 40 }, (_, i) => event(i, 400));
    const bodies = dataLoggerBodies(events, 1, 20_000);
    expect(bodies.length).toBeGreaterThan(1);
    for (const body of bodies) expect(Buffer.byteLength(body)).toBeLessThanOrEqual(20_000);
    const metrics = bodies.flatMap((body) =>
      (JSON.parse(body) as { data: PndaEvent[] }).data.map((e) => e.metric),
    );
    expect(metrics).toEqual(events.map((e) => e.metric));
  });

  it("sends an event too large alone with a note instead of its causes", () => {
    const fitted = fitEvent(event(1, 5_000), 2_000);
    expect(fitted?.event.causes).toEqual(["10 causes left out: over the data logger's body limit"]);
    expect(fitEvent(event(1, 10), 10)).toBeUndefined();
  });
});

describe("pushedSource", () => {
  it("is the type's PNDA component for a check under its default source, else the source given", () => {
    expect(pushedSource({ name: "nn", type: "hdfs", source: "nn" })).toBe("hadoop.HDFS");
    expect(pushedSource({ name: "nn", type: "hdfs", source: "storage" })).toBe("storage");
    expect(pushedSource({ name: "web", type: "http", source: "web" })).toBe("web");
  });
});
