import { describe, expect, it } from "vitest";
import { assessApplications, assessMaster, assessStreaming, type MasterState } from "./spark.js";

describe("assessApplications", () => {
  const app = { id: "app-1", name: "ingest", attempts: [{ completed: false }] };

  it("is OK for a running application without failed jobs, counting jobs and executors", () => {
    const result = assessApplications(
      [app],
      [
        {
          name: "ingest",
          jobs: [
            { jobId: 0, name: "a", status: "SUCCEEDED" },
            { jobId: 1, name: "b", status: "RUNNING" },
          ],
          executors: [
            { id: "driver", isActive: true },
            { id: "1", isActive: false },
          ],
        },
      ],
      "d",
    );
    expect(result).toEqual({
      health: "OK",
      causes: [],
      values: {
        applications: 1,
        running_applications: 1,
        jobs_running: 1,
        jobs_failed: 0,
        executors_active: 1,
      },
    });
  });

  it("is WARN naming the application and its failed jobs, and when there is no application", () => {
    const failed = { name: "ingest", jobs: [{ jobId: 3, name: "c", status: "FAILED" }], executors: [] };
    expect(assessApplications([app], [failed], "d").causes).toEqual([
      'd: application "ingest" has 1 failed job(s) (ids 3)',
    ]);
    expect(assessApplications([], [], "d")).toMatchObject({
      health: "WARN",
      causes: ["d: no Spark application"],
    });
  });
});

describe("assessMaster", () => {
  const master = (status: string, states: string[]): MasterState => ({
    status,
    workers: states.map((state, i) => ({ id: `w${i}`, state })),
    cores: 4,
    coresused: 1,
    memory: 1024,
    memoryused: 512,
    activeapps: [],
  });

  it("is OK with alive workers; reports memory in bytes", () => {
    expect(assessMaster(master("ALIVE", ["ALIVE"]), "m")).toMatchObject({
      health: "OK",
      values: { workers_alive: 1, memory_bytes: 1024 * 1024 * 1024 },
    });
  });

  it("is WARN for dead workers or recovery, ERROR without alive workers", () => {
    expect(assessMaster(master("ALIVE", ["ALIVE", "DEAD"]), "m").causes).toEqual(["m: 1 dead worker(s)"]);
    expect(assessMaster(master("RECOVERING", ["ALIVE"]), "m").health).toBe("WARN");
    expect(assessMaster(master("ALIVE", []), "m").causes).toEqual(["m: no alive worker"]);
  });

  it("is OK for a standby master, which has no workers by design", () => {
    expect(assessMaster(master("STANDBY", []), "m")).toMatchObject({ health: "OK", values: { standby: 1 } });
  });
});

describe("assessStreaming (a sparkStreaming pod's default check)", () => {
  const batch = (batchId: number, schedulingDelay: number, processingTime: number, status = "COMPLETED") => ({
    batchId,
    status,
    schedulingDelay,
    processingTime,
  });

  it("is nothing to report while the latest completed batch keeps up with the interval", () => {
    expect(assessStreaming("wc", 5000, [batch(3, 10, 900), batch(2, 9000, 16000)], "http://d")).toEqual([]);
  });

  it("is WARN above the interval and ERROR above four intervals, judged by the latest completed batch", () => {
    const findings = assessStreaming(
      "wc",
      5000,
      [batch(4, 0, 0, "PROCESSING"), batch(3, 21000, 6000), batch(2, 0, 100)],
      "http://d",
    );
    expect(findings.map((f) => [f.health, f.cause])).toEqual([
      [
        "ERROR",
        'http://d: application "wc" is falling behind: the latest batch\'s scheduling delay was 21000 ms, batch interval 5000 ms',
      ],
      [
        "WARN",
        'http://d: application "wc" is falling behind: the latest batch\'s processing time was 6000 ms, batch interval 5000 ms',
      ],
    ]);
  });

  it("is nothing to report before the first batch completes", () => {
    expect(assessStreaming("wc", 5000, [batch(1, 0, 0, "QUEUED")], "http://d")).toEqual([]);
  });
});
