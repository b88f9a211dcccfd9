/**
 * `graft console --push-url`: the aggregate PNDA's console draws its tiles from. Agents of several
 * replicas push `<source>.<pod>.health` (agent/main.ts, `--replica`); only something that sees
 * every replica can write `<source>.health` so that the worst wins. Every `everyMs` the console
 * reads its source, builds the report with checks regrouped under PNDA's component names, and
 * POSTs one `<source>.health` per tile (value the tile's worst, causes naming the pods that are not
 * OK) in bodies under PNDA's 100 kB limit. A tile that is stale is not pushed: PNDA greys it
 * itself after 3 minutes without an update. A failed POST is logged and the next round sends the
 * state of then (nothing queues).
 */
import { capCauses, dataLoggerBodies, type PndaEvent, pushedSource } from "../core/pnda.js";
import { errorMessage } from "../core/result.js";
import { type CheckResult, type HealthReport, healthReport, type ReportOptions } from "./health.js";

/** Results regrouped under the sources PNDA's console knows (core/pnda.ts). */
export function underPndaSources(results: readonly CheckResult[]): CheckResult[] {
  return results.map((result) => ({
    ...result,
    source: pushedSource({ name: result.check, type: result.type, source: result.source }),
  }));
}

/** One `<source>.health` per tile that is not stale; causes name each pod that is not OK, and why. */
export function tileEvents(report: HealthReport): PndaEvent[] {
  const events: PndaEvent[] = [];
  for (const service of report.services) {
    if (service.shown === "STALE") continue;
    const causes: string[] = [];
    let timestamp = 0;
    for (const pod of service.pods) {
      for (const check of pod.checks) {
        if (check.shown !== "STALE") timestamp = Math.max(timestamp, check.at);
        if (check.shown === "OK") continue;
        const why = check.staleReason ?? (check.causes?.length ? check.causes.join("; ") : check.reason);
        const where = pod.namespace ? `${pod.namespace}/${pod.pod}` : pod.pod;
        causes.push(`${where}: ${check.check} ${check.shown}${why ? `: ${why}` : ""}`);
      }
    }
    events.push({
      source: service.source,
      metric: `${service.source}.health`,
      value: service.shown,
      causes: capCauses(causes),
      timestamp,
    });
  }
  return events;
}

export type ConsolePushOptions = {
  url: string;
  everyMs: number;
  readResults: () => Promise<CheckResult[]>;
  report?: ReportOptions;
  now?: () => number;
  log?: (line: string) => void;
  timeoutMs?: number;
};

/** One round: read, aggregate, POST. Resolves with the statuses the data logger answered. */
export async function pushTiles(options: ConsolePushOptions): Promise<number[]> {
  const now = (options.now ?? Date.now)();
  const report = healthReport(underPndaSources(await options.readResults()), now, options.report);
  const statuses: number[] = [];
  for (const body of dataLoggerBodies(tileEvents(report), now)) {
    const response = await fetch(options.url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body,
      signal: AbortSignal.timeout(options.timeoutMs ?? 5_000),
    });
    await response.body?.cancel();
    statuses.push(response.status);
  }
  return statuses;
}

/** Pushes every `everyMs` until stopped; a failed round is logged, never retried. */
export function startConsolePush(options: ConsolePushOptions): { stop: () => void } {
  const log = options.log ?? (() => {});
  let running = false;
  const round = () => {
    if (running) return;
    running = true;
    pushTiles(options)
      .then((statuses) => {
        const refused = statuses.filter((status) => status < 200 || status >= 300);
        if (refused.length > 0) log(`push to ${options.url}: answered ${refused.join(", ")}`);
      })
      .catch((error: unknown) => log(`push to ${options.url} failed: ${errorMessage(error)}`))
      .finally(() => {
        running = false;
      });
  };
  const timer = setInterval(round, options.everyMs);
  round();
  return { stop: () => clearInterval(timer) };
}
