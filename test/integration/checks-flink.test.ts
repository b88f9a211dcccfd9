/**
 * The flink check against a real Flink: Flink 1.20's MiniCluster (test/services/flink.ts), a
 * JobManager with its REST endpoint and one TaskManager on 127.0.0.1, running a streaming job.
 * The failures are made real: a job that throws twice, restarted by its fixed-delay strategy and
 * then running again (its restart count climbs, seen across runs of one check); a job whose every
 * record throws, restarted and then FAILED; the TaskManager terminated; the JobManager stopped.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkFlink } from "../../agent/checks/flink.js";
import type { RestartMemory } from "../../agent/checks/flink-restarts.js";
import type { CheckMemory } from "../../agent/checks/types.js";
import { startAgent } from "../../agent/main.js";
import type { PndaEvents } from "../../agent/status.js";
import { resolvedChecks } from "../services/agent.js";
import { type Flink, startFlink } from "../services/flink.js";
import { waitFor } from "../services/spawn.js";
import { runCheck, type TimedResult } from "./run-check.js";

const spec = (url: string) => ({ name: "flink", type: "flink" as const, url });
type FlinkSpec = ReturnType<typeof spec> & { restartWindow?: string };

async function checkUntil(
  url: string,
  what: string,
  condition: (result: TimedResult) => boolean,
  options: { spec?: FlinkSpec; memory?: CheckMemory; seen?: TimedResult[] } = {},
) {
  let result: TimedResult | undefined;
  await waitFor(
    what,
    async () => {
      result = await runCheck(checkFlink, options.spec ?? spec(url), {
        ...(options.memory ? { memory: options.memory } : {}),
      });
      options.seen?.push(result);
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

  it("is WARN while a job's restart count climbs from one run to the next, and OK a window after it stops", async () => {
    // One memory across the runs, as the agent's scheduler keeps it for one check.
    const memory: CheckMemory = { value: undefined };
    const windowed: FlinkSpec = { ...spec(flink.url), restartWindow: "8s" };
    const flaky = () =>
      Object.values((memory.value as RestartMemory | undefined)?.jobs ?? {}).find(
        (job) => job.name === "graft-flaky",
      );
    await flink.submitFlakyJob();
    // The first run that reads graft-flaky's count takes it as the baseline: OK.
    const baseline = await checkUntil(flink.url, "graft-flaky's baseline", () => flaky() !== undefined, {
      spec: windowed,
      memory,
    });
    expect(baseline).toMatchObject({ health: "OK", values: { jobs_running: 2, restarts_in_window: 0 } });
    expect(flaky()?.restarts).toBe(0);

    await flink.crashFlakyJob();
    const seen: TimedResult[] = [];
    const restartCause = (r: TimedResult) => r.causes.find((c) => c.includes('job "graft-flaky" restarted'));
    const climbing = await checkUntil(flink.url, "the restarts to be seen", (r) => !!restartCause(r), {
      spec: windowed,
      memory,
      seen,
    });
    expect(climbing.health).toBe("WARN");
    expect(restartCause(climbing)).toMatch(
      new RegExp(
        `^${flink.url}: job "graft-flaky" restarted [12] time\\(s\\) in the last 8s \\([12] restarts in all\\)$`,
      ),
    );
    // Both restarts counted and the job RUNNING again: the count alone keeps the check WARN.
    const stillWarn = await checkUntil(
      flink.url,
      "both restarts counted, the job running",
      (r) => flaky()?.restarts === 2 && r.values?.jobs_restarting === 0,
      { spec: windowed, memory, seen },
    );
    expect(stillWarn.health).toBe("WARN");
    expect(stillWarn.causes).toHaveLength(1);
    expect(stillWarn.causes[0]).toMatch(
      /: job "graft-flaky" restarted [12] time\(s\) in the last 8s \(2 restarts in all\)$/,
    );
    expect(stillWarn.values).toMatchObject({ jobs_running: 2, jobs_restarting: 0 });
    const recovered = await checkUntil(flink.url, "the check to be OK again", (r) => r.health === "OK", {
      spec: windowed,
      memory,
      seen,
    });
    expect(recovered).toMatchObject({ causes: [], values: { jobs_running: 2, restarts_in_window: 0 } });
    expect(flaky()?.restarts).toBe(2);
    // From the first run that saw the count climb until OK, every run was WARN naming the restarts.
    const fromClimb = seen.slice(
      seen.findIndex((r) => !!restartCause(r)),
      -1,
    );
    expect(fromClimb.length).toBeGreaterThanOrEqual(2);
    expect(fromClimb.every((r) => r.health === "WARN" && !!restartCause(r))).toBe(true);

    // Without a memory (each run alone), the same job is OK: only the memory saw it restart.
    expect((await runCheck(checkFlink, windowed)).health).toBe("OK");

    // The agent itself, its scheduler holding the memory: /status goes WARN on a crash, then OK.
    const agent = await startAgent({
      checks: resolvedChecks([{ ...windowed, interval: "1s", timeout: "900ms" }]),
      port: 0,
      host: "127.0.0.1",
      processMetrics: false,
    });
    try {
      const health = async () => {
        const status = (await (await fetch(`${agent.url}/status`)).json()) as PndaEvents;
        return status.data.find((event) => event.metric === "flink.health");
      };
      await waitFor("the agent's first run (the baseline)", async () => (await health())?.value === "OK");
      await flink.crashFlakyJob();
      await waitFor("the agent to report the restarts", async () =>
        ((await health())?.causes ?? []).some((cause) => cause.includes('job "graft-flaky" restarted')),
      );
      expect((await health())?.value).toBe("WARN");
      await waitFor("the agent to be OK again", async () => (await health())?.value === "OK");
    } finally {
      await agent.stop();
    }
    await flink.cancelFlakyJob();
  }, 120_000);

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
