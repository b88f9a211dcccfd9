/**
 * PNDA events: what platform-testing POSTed to the console's data logger, and what /status
 * serves. `<source>.health` carries OK / WARN / ERROR with its causes; each value a check reads
 * is a further metric `<source>.<key>` (or `<source>.<check>.<key>` when the check is not named
 * after its source). Timestamps are milliseconds since the epoch.
 */
import { worstHealth } from "../core/health.js";
import type { CheckResult, Health } from "./checks/types.js";

export { worstHealth };

export type PndaEvent = {
  source: string;
  metric: string;
  value: Health | number;
  causes: string[];
  timestamp: number;
};

export type PndaEvents = { data: PndaEvent[]; timestamp: number };

/** One check's latest result, as kept by the agent. */
export type LatestRun = { name: string; source: string; result: CheckResult; finishedAt: number };

/** Causes are capped so one chatty target cannot grow /status or the push queue without bound. */
export const MAX_CAUSES = 10;
export const MAX_CAUSE_LENGTH = 512;

function capCauses(causes: string[]): string[] {
  const kept = causes
    .slice(0, MAX_CAUSES)
    .map((cause) => (cause.length > MAX_CAUSE_LENGTH ? `${cause.slice(0, MAX_CAUSE_LENGTH - 1)}…` : cause));
  if (causes.length > MAX_CAUSES) kept.push(`… and ${causes.length - MAX_CAUSES} more`);
  return kept;
}

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
 * The body PNDA's platform-testing POSTed to the data logger: the same events, but `causes`
 * JSON-encoded into a string, as the console's data logger expects it.
 */
export function dataLoggerBody(events: PndaEvent[], now: number): string {
  return JSON.stringify({ data: events.map(wireEvent), timestamp: now });
}

/** One event as the data logger's body carries it: causes JSON-encoded into a string. */
function wireEvent(event: PndaEvent): Omit<PndaEvent, "causes"> & { causes: string } {
  return { ...event, causes: JSON.stringify(event.causes) };
}

/**
 * The event as it fits `maxBytes` in a data logger body (UTF-8, serialised), with its size: the
 * same event when it fits (capped causes always do: 11 × 512 characters), else with its causes
 * replaced by a note; undefined when even that does not fit.
 */
export function fitEvent(
  event: PndaEvent,
  maxBytes: number,
): { event: PndaEvent; bytes: number } | undefined {
  for (const candidate of [
    event,
    { ...event, causes: [`${event.causes.length} causes left out: over the data logger's body limit`] },
  ]) {
    const bytes = Buffer.byteLength(JSON.stringify(wireEvent(candidate)));
    if (bytes <= maxBytes) return { event: candidate, bytes };
  }
  return undefined;
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
