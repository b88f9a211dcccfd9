/**
 * The console's model, pure: check results (one per agent pod and check) in, the health page's
 * report out. PNDA's console rules hold: a tile per source (kafka, zookeeper, …), coloured by the
 * worst of its checks; a result older than 3 minutes is stale (grey) and counts for nothing; the
 * overall light is the worst of all.
 */

import { type Static, Type } from "@sinclair/typebox";
import { HEALTH_LEVELS, type Health, REASON_CODES } from "../core/health.js";

export type HealthLevel = Health;

const Level = Type.Union(HEALTH_LEVELS.map((level) => Type.Literal(level)));
/** What a tile or row shows: a level, or STALE when no fresh result backs it. */
const ShownSchema = Type.Union([...HEALTH_LEVELS, "STALE" as const].map((shown) => Type.Literal(shown)));
export type Shown = HealthLevel | "STALE";

/** PNDA console's colours, by what is shown. */
export const COLOURS: Record<Shown, string> = {
  OK: "#7bd47d",
  WARN: "#ffc05f",
  ERROR: "#ff8b8e",
  STALE: "#c8c8c8",
};

/** PNDA greyed a health older than this. */
export const STALE_AFTER_MS = 3 * 60 * 1000;

/** One check's latest result in one agent, as a source reports it. */
const CheckResultSchema = Type.Object({
  namespace: Type.String(),
  pod: Type.String(),
  check: Type.String(),
  type: Type.String(),
  /** PNDA's metric source (`<source>.health`): the tile the check belongs to. */
  source: Type.String(),
  health: Level,
  /** When the check last ran, ms since the epoch. */
  at: Type.Number(),
  /** Why it is not OK, when the source knows (an agent's /status does; Prometheus does not). */
  causes: Type.Optional(Type.Array(Type.String())),
  /** Why, as a reason code (core/health.ts), when the source knows (Prometheus' graft_check_reason). */
  reason: Type.Optional(Type.Union(REASON_CODES.map((code) => Type.Literal(code)))),
});
export type CheckResult = Static<typeof CheckResultSchema>;

const CheckRowSchema = Type.Intersect([
  CheckResultSchema,
  Type.Object({ shown: ShownSchema, ageMs: Type.Number() }),
]);
export type CheckRow = Static<typeof CheckRowSchema>;
const PodHealthSchema = Type.Object({
  namespace: Type.String(),
  pod: Type.String(),
  shown: ShownSchema,
  checks: Type.Array(CheckRowSchema),
});
export type PodHealth = Static<typeof PodHealthSchema>;
const ServiceHealthSchema = Type.Object({
  source: Type.String(),
  shown: ShownSchema,
  pods: Type.Array(PodHealthSchema),
});
export type ServiceHealth = Static<typeof ServiceHealthSchema>;

/** `/api/health`: the page's data, and the JSON for anything else that wants it. */
export const HealthReportSchema = Type.Object({
  /** ms since the epoch */
  generatedAt: Type.Number(),
  overall: ShownSchema,
  services: Type.Array(ServiceHealthSchema),
});
export type HealthReport = Static<typeof HealthReportSchema>;

const RANK: Record<Shown, number> = { STALE: 0, OK: 1, WARN: 2, ERROR: 3 };

/** The worst fresh level among `shown`; STALE when none is fresh (or there is none). */
export function worst(shown: Iterable<Shown>): Shown {
  let result: Shown = "STALE";
  for (const item of shown) if (RANK[item] > RANK[result]) result = item;
  return result;
}

function byName<T>(key: (item: T) => string): (a: T, b: T) => number {
  return (a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0);
}

/** Groups results into tiles (by source) and pods, sorted by name, with staleness as of `now`. */
export function healthReport(results: readonly CheckResult[], now: number): HealthReport {
  const services = new Map<string, Map<string, CheckRow[]>>();
  for (const result of results) {
    const ageMs = Math.max(0, now - result.at);
    const row: CheckRow = { ...result, ageMs, shown: ageMs > STALE_AFTER_MS ? "STALE" : result.health };
    const pods = services.get(result.source) ?? new Map<string, CheckRow[]>();
    services.set(result.source, pods);
    const podKey = `${result.namespace}/${result.pod}`;
    const checks = pods.get(podKey);
    if (checks) checks.push(row);
    else pods.set(podKey, [row]);
  }
  const serviceList: ServiceHealth[] = [...services].map(([source, pods]) => {
    const podList: PodHealth[] = [...pods.values()].map((checks) => ({
      namespace: checks[0]!.namespace,
      pod: checks[0]!.pod,
      shown: worst(checks.map((check) => check.shown)),
      checks: checks.sort(byName((check) => check.check)),
    }));
    podList.sort(byName((pod) => `${pod.namespace}/${pod.pod}`));
    return { source, shown: worst(podList.map((pod) => pod.shown)), pods: podList };
  });
  serviceList.sort(byName((service) => service.source));
  return {
    generatedAt: now,
    overall: worst(serviceList.map((service) => service.shown)),
    services: serviceList,
  };
}
