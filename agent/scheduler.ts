/**
 * Runs each check on its own interval. A run is cut off by its timeout (an AbortSignal the check
 * honours, and a result the scheduler decides without waiting for it); a check never runs twice
 * at once; checks have independent timers, so one slow target delays no other check.
 */
import { defaultReason } from "../core/health.js";
import { reasonOfError } from "./checks/outcome.js";
import type { CheckContext, CheckResult } from "./checks/types.js";

/** Timers and time, passed in so tests can drive them. */
export type Clock = {
  now: () => number;
  setTimeout: (callback: () => void, ms: number) => unknown;
  clearTimeout: (handle: unknown) => void;
};

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

export type Job = {
  name: string;
  /** What causes name when the scheduler itself reports (timeout, crash). */
  target: string;
  intervalMs: number;
  timeoutMs: number;
  run: (context: CheckContext) => Promise<CheckResult>;
};

export type Outcome = {
  name: string;
  result: CheckResult;
  /** When the run started and how long it took until its result was decided (ms). */
  startedAt: number;
  durationMs: number;
  timedOut: boolean;
};

export type SchedulerOptions = {
  jobs: Job[];
  onOutcome: (outcome: Outcome) => void;
  clock?: Clock;
  env?: CheckContext["env"];
  /** Shared by every run: the agent's budget for reply bodies being received. */
  replyBudget?: CheckContext["replyBudget"];
  stopGraceMs?: number;
};

export type Scheduler = {
  /** Resolves once every job has reported at least once. */
  firstRound: Promise<void>;
  /**
   * Cancels timers and aborts runs in flight; resolves when no run is left, or after
   * `stopGraceMs` if a check ignores its abort.
   */
  stop: () => Promise<void>;
};

/** The result of a run that ran out of time or threw: the scheduler's own verdict. */
export function failedRun(job: Pick<Job, "target" | "timeoutMs">, error?: unknown): CheckResult {
  if (error === undefined) {
    return {
      health: "ERROR",
      causes: [`${job.target}: no result within the ${job.timeoutMs}ms timeout`],
      reason: "timeout",
    };
  }
  const message = error instanceof Error ? error.message : String(error);
  return {
    health: "ERROR",
    causes: [`${job.target}: check failed: ${message}`],
    reason: reasonOfError(error),
  };
}

/**
 * Every reported result carries a reason code: the check's own, else its health's default; an
 * OK result's is always `ok`.
 */
export function withReason(
  result: CheckResult,
): CheckResult & { reason: NonNullable<CheckResult["reason"]> } {
  if (result.health === "OK") return { ...result, reason: "ok" };
  const own = result.reason;
  return { ...result, reason: own === undefined || own === "ok" ? defaultReason(result.health) : own };
}

export function startScheduler({
  jobs,
  onOutcome,
  clock = systemClock,
  env = {},
  replyBudget,
  stopGraceMs = 1000,
}: SchedulerOptions): Scheduler {
  let stopped = false;
  const timers = new Set<unknown>();
  const inFlight = new Map<string, { controller: AbortController; settled: Promise<unknown> }>();
  // One memory per check, kept across its runs; runs of one check never overlap, so never raced.
  const memories = new Map(jobs.map((job) => [job.name, { value: undefined as unknown }]));
  let pendingFirst = jobs.length;
  let markFirstRound: () => void = () => {};
  const firstRound = new Promise<void>((resolve) => {
    markFirstRound = resolve;
  });
  if (pendingFirst === 0) markFirstRound();

  const report = (outcome: Outcome, first: boolean) => {
    if (stopped) return;
    onOutcome(outcome);
    if (first && --pendingFirst === 0) markFirstRound();
  };

  const schedule = (job: Job, at: number, first: boolean) => {
    if (stopped) return;
    const handle = clock.setTimeout(
      () => {
        timers.delete(handle);
        runOnce(job, at, first);
      },
      Math.max(0, at - clock.now()),
    );
    timers.add(handle);
  };

  const runOnce = (job: Job, plannedAt: number, first: boolean) => {
    if (stopped) return;
    // Fixed rate from the planned start, so runs do not drift; a run that is late (the event
    // loop was busy) starts now and the next is planned one interval after the planned start.
    const next = plannedAt + job.intervalMs;
    if (inFlight.has(job.name)) {
      // The previous run ignored its abort and is still going: skip, never overlap.
      schedule(job, Math.max(next, clock.now()), first);
      return;
    }
    const startedAt = clock.now();
    const controller = new AbortController();
    let decided = false;
    const decide = (result: CheckResult, timedOut: boolean) => {
      if (decided) return;
      decided = true;
      clock.clearTimeout(timeout);
      report(
        {
          name: job.name,
          result: withReason(result),
          startedAt,
          durationMs: clock.now() - startedAt,
          timedOut,
        },
        first,
      );
      schedule(job, Math.max(next, clock.now()), false);
    };
    const timeout = clock.setTimeout(() => {
      controller.abort(new Error(`timed out after ${job.timeoutMs}ms`));
      decide(failedRun(job), true);
    }, job.timeoutMs);

    let running: Promise<CheckResult>;
    try {
      running = job.run({
        signal: controller.signal,
        env,
        now: clock.now,
        ...(replyBudget ? { replyBudget } : {}),
        memory: memories.get(job.name) ?? { value: undefined },
      });
    } catch (error) {
      running = Promise.reject(error);
    }
    const settled = running.then(
      (result) => decide(result, false),
      (error: unknown) => decide(failedRun(job, error), false),
    );
    inFlight.set(job.name, { controller, settled });
    void settled.finally(() => inFlight.delete(job.name));
  };

  const start = clock.now();
  for (const job of jobs) schedule(job, start, true);

  return {
    firstRound,
    stop: async () => {
      stopped = true;
      for (const handle of timers) clock.clearTimeout(handle);
      timers.clear();
      const running = [...inFlight.values()];
      for (const { controller } of running) controller.abort(new Error("agent stopping"));
      let grace: unknown;
      await Promise.race([
        Promise.allSettled(running.map(({ settled }) => settled)),
        new Promise((resolve) => {
          grace = clock.setTimeout(() => resolve(undefined), stopGraceMs);
        }),
      ]);
      clock.clearTimeout(grace);
    },
  };
}
