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

  /**
   * Runs `body` on fake timers, then stops the scheduler (advancing `settleMs` so its runs end)
   * and returns to real ones, whether `body` passed or not.
   */
  async function onFakeTimers(body: () => Promise<void>, settleMs = 1000): Promise<void> {
    vi.useFakeTimers();
    try {
      await body();
    } finally {
      const stopping = scheduler?.stop();
      await vi.advanceTimersByTimeAsync(settleMs);
      await stopping;
      scheduler = undefined;
      vi.useRealTimers();
    }
  }

  function start(jobs: Job[]) {
    const outcomes: Outcome[] = [];
    scheduler = startScheduler({ jobs, onOutcome: (outcome) => outcomes.push(outcome) });
    return { outcomes, of: (name: string) => outcomes.filter((o) => o.name === name), scheduler };
  }

  it("runs a check again every interval, at a fixed rate", async () => {
    // Fake timers: on a loaded machine one late real timer would make any bound on the gaps flaky.
    await onFakeTimers(async () => {
      // Each run takes 15 ms: a fixed delay would space the starts 55 ms apart, a fixed rate 40.
      const takes15ms = () => new Promise<CheckResult>((resolve) => setTimeout(() => resolve(OK), 15));
      const { of } = start([job("steady", takes15ms, 40)]);
      await vi.advanceTimersByTimeAsync(200);
      const starts = of("steady").map((o) => o.startedAt);
      expect(starts.length).toBeGreaterThanOrEqual(5);
      const gaps = starts.slice(1).map((at, i) => at - starts[i]!);
      expect(gaps).toEqual(gaps.map(() => 40));
    });
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
    expect(outcome!.result.reason).toBe("timeout");
    expect(signals[0]!.aborted).toBe(true);
  });

  it("ends the run at its timeout, not before and not later", async () => {
    // Fake timers: the exact moment, which real timers on a loaded machine cannot show.
    await onFakeTimers(async () => {
      const { of } = start([job("hung", () => new Promise(() => {}), 1000, 50)]);
      await vi.advanceTimersByTimeAsync(49);
      expect(of("hung")).toEqual([]);
      await vi.advanceTimersByTimeAsync(1);
      expect(of("hung")).toMatchObject([{ timedOut: true, durationMs: 50 }]);
    });
  });

  it("keeps other checks on time while one target is slow", async () => {
    // Fake timers: "on time" as the clock says, whatever the load on the machine.
    await onFakeTimers(async () => {
      const { of } = start([job("slow", untilAborted, 2000, 1500), job("fast", async () => OK, 30, 20)]);
      await vi.advanceTimersByTimeAsync(200);
      expect(of("fast").map((o) => o.startedAt - of("fast")[0]!.startedAt)).toEqual([
        0, 30, 60, 90, 120, 150, 180,
      ]);
      expect(of("slow")).toHaveLength(0);
    }, 2000);
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
      reason: "unhealthy",
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

  it("gives every result a reason code: the check's own, else its health's default", async () => {
    const { of } = start([
      job("ok", async () => ({ health: "OK", causes: [], reason: "refused" })),
      job("warn", async () => ({ health: "WARN", causes: ["w"] })),
      job("named", async () => ({ health: "ERROR", causes: ["e"], reason: "http_status" })),
      job("unnamed", async () => ({ health: "ERROR", causes: ["e"] })),
    ]);
    await vi.waitFor(() =>
      expect(["ok", "warn", "named", "unnamed"].every((n) => of(n).length > 0)).toBe(true),
    );
    expect(of("ok")[0]!.result.reason).toBe("ok");
    expect(of("warn")[0]!.result.reason).toBe("degraded");
    expect(of("named")[0]!.result.reason).toBe("http_status");
    expect(of("unnamed")[0]!.result.reason).toBe("unhealthy");
  });

  it("hands each check its own memory, kept from one run to the next (a run that threw included)", async () => {
    await onFakeTimers(async () => {
      const seen: Record<string, unknown[]> = { a: [], b: [] };
      const counting =
        (name: "a" | "b", throwOn?: number): Job["run"] =>
        async ({ memory }) => {
          const runs = (memory?.value as number | undefined) ?? 0;
          seen[name]!.push(memory?.value);
          if (runs === throwOn) {
            // A run that fails before judging leaves the memory as it was.
            throwOn = undefined;
            throw new Error("target gone");
          }
          if (memory) memory.value = runs + 1;
          return OK;
        };
      start([job("a", counting("a", 1), 40), job("b", counting("b"), 40)]);
      await vi.advanceTimersByTimeAsync(170);
      expect(seen.a).toEqual([undefined, 1, 1, 2, 3]);
      expect(seen.b).toEqual([undefined, 1, 2, 3, 4]);
    });
  });
});
