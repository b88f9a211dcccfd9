import { afterEach, describe, expect, it, vi } from "vitest";
import type { CheckContext, CheckResult } from "./checks/types.js";
import {
  type Clock,
  type Job,
  type Outcome,
  type Scheduler,
  startScheduler,
  systemClock,
} from "./scheduler.js";

const OK: CheckResult = { health: "OK", causes: [] };

function job(name: string, run: Job["run"], intervalMs = 40, timeoutMs = 30): Job {
  return { name, target: `${name}.example:1`, intervalMs, timeoutMs, run };
}

/** Resolves when the signal aborts, like a check waiting on a target that never answers. */
function untilAborted({ signal }: CheckContext): Promise<CheckResult> {
  return new Promise((_, reject) => signal.addEventListener("abort", () => reject(signal.reason)));
}

describe("startScheduler", () => {
  let scheduler: Scheduler | undefined;
  afterEach(async () => {
    await scheduler?.stop();
    scheduler = undefined;
  });

  function start(jobs: Job[]) {
    const outcomes: Outcome[] = [];
    scheduler = startScheduler({ jobs, onOutcome: (outcome) => outcomes.push(outcome) });
    return { outcomes, of: (name: string) => outcomes.filter((o) => o.name === name), scheduler };
  }

  it("runs a check again every interval", async () => {
    const startedAt = Date.now();
    const { of } = start([job("steady", async () => OK, 40)]);
    await vi.waitFor(() => expect(of("steady").length).toBeGreaterThanOrEqual(4), { timeout: 2000 });
    // Fixed rate: run i never starts before its planned time, start + i × interval (a run that
    // started late, the event loop being busy, is followed by one planned from its planned start,
    // so the gap between two starts may be shorter than the interval on a loaded machine).
    const starts = of("steady").map((o) => o.startedAt);
    for (let i = 1; i < starts.length; i++) expect(starts[i]! - startedAt).toBeGreaterThanOrEqual(i * 40 - 1);
  });

  it("ends a run that outlives its timeout with ERROR naming the target, and aborts its signal", async () => {
    const signals: AbortSignal[] = [];
    const { of } = start([
      job(
        "hung",
        (context) => {
          signals.push(context.signal);
          return new Promise(() => {});
        },
        1000,
        50,
      ),
    ]);
    await vi.waitFor(() => expect(of("hung")).toHaveLength(1), { timeout: 2000 });
    const [outcome] = of("hung");
    expect(outcome).toMatchObject({ timedOut: true, result: { health: "ERROR" } });
    expect(outcome!.result.causes).toEqual(["hung.example:1: no result within the 50ms timeout"]);
    expect(outcome!.durationMs).toBeGreaterThanOrEqual(45);
    expect(outcome!.durationMs).toBeLessThan(500);
    expect(signals[0]!.aborted).toBe(true);
  });

  it("keeps other checks on time while one target is slow", async () => {
    const { of } = start([job("slow", untilAborted, 2000, 1500), job("fast", async () => OK, 30, 20)]);
    await vi.waitFor(() => expect(of("fast").length).toBeGreaterThanOrEqual(5), { timeout: 1000 });
    expect(of("slow")).toHaveLength(0);
  });

  it("never starts a run while the previous one is still going, even one that ignores its abort", async () => {
    let running = 0;
    let most = 0;
    let runs = 0;
    const ignoresAbort = () =>
      new Promise<CheckResult>((resolve) => {
        running++;
        runs++;
        most = Math.max(most, running);
        setTimeout(() => {
          running--;
          resolve(OK);
        }, 150);
      });
    const { of } = start([job("stubborn", ignoresAbort, 30, 20)]);
    await vi.waitFor(() => expect(runs).toBeGreaterThanOrEqual(3), { timeout: 3000 });
    expect(most).toBe(1);
    expect(of("stubborn").every((o) => o.timedOut)).toBe(true);
  });

  it("reports a check that throws as ERROR with the error", async () => {
    const { of } = start([
      job("broken", async () => {
        throw new Error("boom");
      }),
    ]);
    await vi.waitFor(() => expect(of("broken").length).toBeGreaterThanOrEqual(1));
    expect(of("broken")[0]!.result).toEqual({
      health: "ERROR",
      causes: ["broken.example:1: check failed: boom"],
    });
  });

  it("resolves firstRound once every check has reported", async () => {
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const { scheduler: running, of } = start([
      job("quick", async () => OK, 1000, 500),
      job("gated", async () => gate.then(() => OK), 1000, 500),
    ]);
    let done = false;
    void running.firstRound.then(() => {
      done = true;
    });
    await vi.waitFor(() => expect(of("quick")).toHaveLength(1));
    expect(done).toBe(false);
    release();
    await running.firstRound;
  });

  it("leaves no timer behind after stop", async () => {
    const pending = new Set<unknown>();
    const clock: Clock = {
      now: () => systemClock.now(),
      setTimeout: (callback, ms) => {
        const handle = systemClock.setTimeout(() => {
          pending.delete(handle);
          callback();
        }, ms);
        pending.add(handle);
        return handle;
      },
      clearTimeout: (handle) => {
        pending.delete(handle);
        systemClock.clearTimeout(handle);
      },
    };
    const outcomes: Outcome[] = [];
    scheduler = startScheduler({
      jobs: [job("a", async () => OK, 20, 10)],
      onOutcome: (o) => outcomes.push(o),
      clock,
    });
    await vi.waitFor(() => expect(outcomes.length).toBeGreaterThanOrEqual(2));
    await scheduler.stop();
    expect(pending.size).toBe(0);
  });
});
