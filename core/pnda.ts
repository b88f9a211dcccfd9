/**
 * PNDA's event contract, shared by the agent (its /status and push) and the console (its push of
 * each tile): the event, its causes' cap, the body PNDA's data logger takes and its size limit,
 * and PNDA's component names.
 */
import type { Health } from "./health.js";

export type PndaEvent = {
  source: string;
  metric: string;
  value: Health | number;
  causes: string[];
  timestamp: number;
};

/** Causes are capped so one chatty target cannot grow /status or the push queue without bound. */
export const MAX_CAUSES = 10;
export const MAX_CAUSE_LENGTH = 512;

export function capCauses(causes: string[]): string[] {
  const kept = causes
    .slice(0, MAX_CAUSES)
    .map((cause) => (cause.length > MAX_CAUSE_LENGTH ? `${cause.slice(0, MAX_CAUSE_LENGTH - 1)}…` : cause));
  if (causes.length > MAX_CAUSES) kept.push(`… and ${causes.length - MAX_CAUSES} more`);
  return kept;
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

/** PNDA's data logger refuses bodies over body-parser's 100kb (102,400 bytes): keep a margin. */
export const MAX_BODY_BYTES = 100_000;

/**
 * `events` as data logger bodies of at most `maxBytes` each, in order (an event that cannot fit
 * alone is cut by fitEvent, or left out when even that does not fit).
 */
export function dataLoggerBodies(events: PndaEvent[], now: number, maxBytes = MAX_BODY_BYTES): string[] {
  const envelope = Buffer.byteLength(dataLoggerBody([], now)) + 1;
  const bodies: string[] = [];
  let batch: PndaEvent[] = [];
  let bytes = envelope;
  for (const event of events) {
    const fitted = fitEvent(event, maxBytes - envelope);
    if (fitted === undefined) continue;
    if (batch.length > 0 && bytes + fitted.bytes + 1 > maxBytes) {
      bodies.push(dataLoggerBody(batch, now));
      batch = [];
      bytes = envelope;
    }
    batch.push(fitted.event);
    bytes += fitted.bytes + 1;
  }
  if (batch.length > 0) bodies.push(dataLoggerBody(batch, now));
  return bodies;
}

/**
 * PNDA's component names. PNDA's console frontend draws a health tile only for the components it
 * knows (`zookeeper.health`, `kafka.health`, `hadoop.HDFS.health`, …: platform-console-frontend,
 * console-frontend/js/filters.js `metricNameForDisplay`, and the names of its component views), so
 * a check pushed to PNDA's data logger under its default source (its own name) is pushed under
 * its type's component name instead. /status and the metrics keep the check's source.
 */
export const PNDA_COMPONENTS: Readonly<Record<string, string>> = {
  zookeeper: "zookeeper",
  kafka: "kafka",
  hdfs: "hadoop.HDFS",
  hbase: "hadoop.HBASE",
  hive: "hadoop.HIVE",
  spark: "hadoop.SPARK_ON_YARN",
  opentsdb: "opentsdb",
  flink: "flink",
  "deployment-manager": "deployment-manager",
};

/** The source a check's events are pushed under: its own when set, else its type's PNDA component. */
export function pushedSource(check: { name: string; type: string; source: string }): string {
  if (check.source !== check.name) return check.source;
  return PNDA_COMPONENTS[check.type] ?? check.source;
}
