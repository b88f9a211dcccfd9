/**
 * PNDA events: what platform-testing POSTed to the console's data logger, and what /status
 * serves. `<source>.health` carries OK / WARN / ERROR with its causes; each value a check reads
 * is a further metric `<source>.<key>` (or `<source>.<check>.<key>` when the check is not named
 * after its source). Timestamps are milliseconds since the epoch.
 */
import { worstHealth } from "../core/health.js";
import {
  capCauses,
  dataLoggerBody,
  fitEvent,
  MAX_CAUSE_LENGTH,
  MAX_CAUSES,
  type PndaEvent,
} from "../core/pnda.js";
import type { CheckResult } from "./checks/types.js";

export { capCauses, dataLoggerBody, fitEvent, MAX_CAUSE_LENGTH, MAX_CAUSES, type PndaEvent, worstHealth };

export type PndaEvents = { data: PndaEvent[]; timestamp: number };

/** One check's latest result, as kept by the agent. */
export type LatestRun = { name: string; source: string; result: CheckResult; finishedAt: number };

/**
 * Events for the latest runs: one `<source>.health` per source (the worst of the checks that
 * report under it, their causes together, the newest timestamp), then each check's values.
 */
export function toPndaEvents(runs: Iterable<LatestRun>): PndaEvent[] {
  const bySource = new Map<string, LatestRun[]>();
  for (const run of runs) bySource.set(run.source, [...(bySource.get(run.source) ?? []), run]);

  const events: PndaEvent[] = [];
  for (const [source, sourceRuns] of bySource) {
    events.push({
      source,
      metric: `${source}.health`,
      value: worstHealth(sourceRuns.map((run) => run.result.health)),
      causes: capCauses(sourceRuns.flatMap((run) => run.result.causes)),
      timestamp: Math.max(...sourceRuns.map((run) => run.finishedAt)),
    });
  }
  for (const [source, sourceRuns] of bySource) {
    for (const run of sourceRuns) {
      const prefix = run.name === source ? source : `${source}.${run.name}`;
      for (const [key, value] of Object.entries(run.result.values ?? {})) {
        if (!Number.isFinite(value)) continue;
        events.push({ source, metric: `${prefix}.${key}`, value, causes: [], timestamp: run.finishedAt });
      }
    }
  }
  return events;
}

export function statusDocument(runs: Iterable<LatestRun>, now: number): PndaEvents {
  return { data: toPndaEvents(runs), timestamp: now };
}

/**
 * The events a replica pushes: each metric named with the replica after its source
 * (`kafka.health` of pod kafka-0 is `kafka.kafka-0.health`), so that in the data logger, where
 * the last write to a metric name wins, one replica never overwrites another's ERROR.
 */
export function forReplica(events: PndaEvent[], replica: string): PndaEvent[] {
  return events.map((event) => ({
    ...event,
    metric: `${event.source}.${replica}${event.metric.slice(event.source.length)}`,
  }));
}
