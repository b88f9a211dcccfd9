/**
 * Check type → runner. One line per type, one module per type (agent/checks/<type>.ts).
 * A type missing here is refused at agent start-up, naming the check.
 */
import type { CheckType, ResolvedCheck } from "../../core/checks.js";
import { checkDns } from "./dns.js";
import { checkHttp } from "./http.js";
import { checkTcp } from "./tcp.js";
import type { CheckContext, CheckResult, CheckRunner } from "./types.js";

export type Runners = { [K in CheckType]?: CheckRunner<K> };

export const RUNNERS: Runners = {
  dns: checkDns,
  http: checkHttp,
  tcp: checkTcp,
};

/** A runner bound to one check, or undefined when this build has no runner for its type. */
export function bindRunner(
  check: ResolvedCheck,
  runners: Runners = RUNNERS,
): ((context: CheckContext) => Promise<CheckResult>) | undefined {
  // The lookup and the spec share `check.type`, which TypeScript cannot correlate across a union.
  const runner = runners[check.type] as CheckRunner<typeof check.type> | undefined;
  return runner && ((context) => runner(check, context));
}
