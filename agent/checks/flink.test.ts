import { describe, expect, it } from "vitest";
import { assessFlink, type ClusterOverview } from "./flink.js";

const overview = (taskmanagers: number): ClusterOverview => ({
  taskmanagers,
  "slots-total": taskmanagers * 4,
  "slots-available": 1,
  "jobs-running": 1,
  "jobs-failed": 0,
});
const job = (name: string, state: string) => ({ jid: name, name, state });

describe("assessFlink", () => {
  it("is OK with TaskManagers and running jobs", () => {
    expect(assessFlink(overview(2), { jobs: [job("a", "RUNNING"), job("b", "FINISHED")] }, "f").health).toBe(
      "OK",
    );
  });

  it("is ERROR without a TaskManager", () => {
    expect(assessFlink(overview(0), { jobs: [] }, "http://jm:8081").causes).toEqual([
      "http://jm:8081: no TaskManager is registered",
    ]);
  });

  it("is WARN naming failed, failing and restarting jobs, at most five by name", () => {
    const jobs = ["FAILED", "RESTARTING", "FAILING", "FAILED", "FAILED", "FAILED", "RUNNING"].map(
      (state, i) => job(`j${i}`, state),
    );
    const result = assessFlink(overview(1), { jobs }, "f");
    expect(result.health).toBe("WARN");
    expect(result.causes[0]).toBe(
      'f: 6 job(s) not healthy: "j0" FAILED, "j1" RESTARTING, "j2" FAILING, "j3" FAILED, "j4" FAILED and 1 more',
    );
    expect(result.values).toMatchObject({ jobs_restarting: 1, taskmanagers: 1 });
  });
});
