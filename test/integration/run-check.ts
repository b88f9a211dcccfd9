/** Runs one check the way the agent does: a signal aborted at the timeout, a real clock. */

import type { CheckMemory, CheckResult, CheckRunner } from "../../agent/checks/types.js";
import type { CheckSpecOf, CheckType } from "../../core/checks.js";

export type TimedResult = CheckResult & { elapsedMs: number };

/**
 * How long after its timeout a check may take to give up: the bound is the behaviour (a check
 * that ignores its abort hangs on a silent server), with a margin for a loaded 2-core machine.
 */
export const ABORT_SLACK_MS = 2_500;

export async function runCheck<K extends CheckType>(
  runner: CheckRunner<K>,
  spec: CheckSpecOf<K>,
  options: {
    timeoutMs?: number;
    env?: Record<string, string | undefined>;
    /** The check's memory of its previous runs, as the scheduler keeps it (none: each run alone). */
    memory?: CheckMemory;
  } = {},
): Promise<TimedResult> {
  const timeoutMs = options.timeoutMs ?? 5000;
  const startedAt = Date.now();
  // A check that ignores its signal fails here, naming why, instead of at the test's timeout.
  const bound = timeoutMs + ABORT_SLACK_MS;
  let timer: NodeJS.Timeout | undefined;
  const overdue = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`check still running ${bound} ms after it started`)), bound);
  });
  try {
    const result = await Promise.race([
      runner(
        { ...spec, timeoutMs },
        {
          signal: AbortSignal.timeout(timeoutMs),
          env: options.env ?? {},
          now: Date.now,
          ...(options.memory ? { memory: options.memory } : {}),
        },
      ),
      overdue,
    ]);
    return { ...result, elapsedMs: Date.now() - startedAt };
  } finally {
    clearTimeout(timer);
  }
}
