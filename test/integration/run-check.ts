/** Runs one check the way the agent does: a signal aborted at the timeout, a real clock. */

import type { CheckResult, CheckRunner } from "../../agent/checks/types.js";
import type { CheckSpecOf, CheckType } from "../../core/checks.js";

export type TimedResult = CheckResult & { elapsedMs: number };

export async function runCheck<K extends CheckType>(
  runner: CheckRunner<K>,
  spec: CheckSpecOf<K>,
  options: { timeoutMs?: number; env?: Record<string, string | undefined> } = {},
): Promise<TimedResult> {
  const timeoutMs = options.timeoutMs ?? 5000;
  const startedAt = Date.now();
  const result = await runner(
    { ...spec, timeoutMs },
    { signal: AbortSignal.timeout(timeoutMs), env: options.env ?? {}, now: Date.now },
  );
  return { ...result, elapsedMs: Date.now() - startedAt };
}
