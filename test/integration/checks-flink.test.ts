/**
 * The flink check against a real Flink: Flink 1.20's MiniCluster (test/services/flink.ts), a
 * JobManager with its REST endpoint and one TaskManager on 127.0.0.1, running a streaming job.
 * The failures are made real: a job whose every record throws, restarted by its fixed-delay
 * strategy and then FAILED; the TaskManager terminated; the JobManager stopped.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkFlink } from "../../agent/checks/flink.js";
import { type Flink, startFlink } from "../services/flink.js";
import { waitFor } from "../services/spawn.js";
import { runCheck, type TimedResult } from "./run-check.js";

const spec = (url: string) => ({ name: "flink", type: "flink" as const, url });

async function checkUntil(url: string, what: string, condition: (result: TimedResult) => boolean) {
  let result: TimedResult | undefined;
  await waitFor(
    what,
    async () => {
      result = await runCheck(checkFlink, spec(url));
      return condition(result);
    },
    { timeoutMs: 60_000 },
  );
  return result as TimedResult;
}

describe("flink check against a real JobManager and TaskManager", () => {
  let flink: Flink;
  beforeAll(async () => {
    flink = await startFlink();
  });
  afterAll(async () => {
    await flink?.stop();
  });

  it("is OK with the TaskManager registered and the job running, with the JobManager's figures", async () => {
    const result = await runCheck(checkFlink, spec(flink.url));
    expect(result).toMatchObject({
      health: "OK",
      causes: [],
      values: {
        taskmanagers: 1,
        slots_total: 2,
        slots_available: 1,
        jobs_running: 1,
        jobs_failed: 0,
        jobs_restarting: 0,
      },
    });
  });

  it("is WARN naming a job while it fails and restarts, and once it has failed for good", async () => {
    await flink.submitFailingJob();
    const restarting = await checkUntil(flink.url, "the job to be RESTARTING", (r) => r.health !== "OK");
    expect(restarting.health).toBe("WARN");
    expect(restarting.causes).toEqual([`${flink.url}: 1 job(s) not healthy: "graft-failing" RESTARTING`]);
    expect(restarting.values?.jobs_restarting).toBe(1);

    const failed = await checkUntil(flink.url, "the job to be FAILED", (r) => r.values?.jobs_failed === 1);
    expect(failed.health).toBe("WARN");
    expect(failed.causes).toEqual([`${flink.url}: 1 job(s) not healthy: "graft-failing" FAILED`]);
    expect(failed.values).toMatchObject({ jobs_running: 1, jobs_restarting: 0 });
  }, 90_000);

  it("is ERROR once no TaskManager is registered", async () => {
    await flink.stopTaskManager();
    const result = await checkUntil(flink.url, "the TaskManager to be gone", (r) => r.health === "ERROR");
    expect(result.causes[0]).toBe(`${flink.url}: no TaskManager is registered`);
    expect(result.values).toMatchObject({ taskmanagers: 0, slots_total: 0 });
  });

  it("is ERROR naming the JobManager once it is stopped", async () => {
    await flink.stop();
    const result = await runCheck(checkFlink, spec(flink.url));
    expect(result.health).toBe("ERROR");
    expect(result.causes).toEqual([`${flink.url}/overview: connection refused`]);
  });
});
