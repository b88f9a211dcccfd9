/**
 * The console's model, pure: check results (one per agent pod and check) in, the health page's
 * report out. PNDA's console rules hold: a tile per source (kafka, zookeeper, …), coloured by the
 * worst of its checks; a result older than 3 minutes, or whose agent is not being scraped, is
 * stale (grey, "no recent update", with the reason); the overall light is the worst of all, where
 * stale is worse than OK (a health nobody reports is not a good one) and better than WARN.
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

/** PNDA greyed a health older than this (the default of `staleAfterMs`). */
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
  /**
   * Set when the check's agent is not being scraped (down, or gone): the last time it was, ms
   * since the epoch. Such a result is stale whatever its age.
   */
  agentLastSeen: Type.Optional(Type.Number()),
  /** Why, as a reason code (core/health.ts), when the source knows (Prometheus' graft_check_reason). */
  reason: Type.Optional(Type.Union(REASON_CODES.map((code) => Type.Literal(code)))),
  /** The agent's app and component (GRAFT_APP, GRAFT_COMPONENT: metric labels, or the pod's agent env). */
  app: Type.Optional(Type.String()),
  component: Type.Optional(Type.String()),
});
export type CheckResult = Static<typeof CheckResultSchema>;

const CheckRowSchema = Type.Intersect([
  CheckResultSchema,
  Type.Object({
    shown: ShownSchema,
    ageMs: Type.Number(),
    /** Why a STALE row is stale: "agent not scraped since 12:03:10 UTC", "last run 4 min ago". */
    staleReason: Type.Optional(Type.String()),
  }),
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

const ComponentHealthSchema = Type.Object({
  component: Type.String(),
  shown: ShownSchema,
  pods: Type.Array(PodHealthSchema),
});
export type ComponentHealth = Static<typeof ComponentHealthSchema>;
/** PNDA's Applications view: an app, its components and their worst health, their pods and checks. */
const ApplicationHealthSchema = Type.Object({
  app: Type.String(),
  shown: ShownSchema,
  components: Type.Array(ComponentHealthSchema),
});
export type ApplicationHealth = Static<typeof ApplicationHealthSchema>;

/** Where a check of an agent without app (or component) is listed. */
export const NO_APP = "(no app)";
export const NO_COMPONENT = "(no component)";

/** `/api/health`: the page's data, and the JSON for anything else that wants it. */
export const HealthReportSchema = Type.Object({
  /** ms since the epoch */
  generatedAt: Type.Number(),
  overall: ShownSchema,
  services: Type.Array(ServiceHealthSchema),
  applications: Type.Array(ApplicationHealthSchema),
});
export type HealthReport = Static<typeof HealthReportSchema>;

const RANK: Record<Shown, number> = { OK: 0, STALE: 1, WARN: 2, ERROR: 3 };

/** The worst of `shown`, stale being worse than OK only; STALE when there is nothing. */
export function worst(shown: Iterable<Shown>): Shown {
  let result: Shown | undefined;
  for (const item of shown) if (result === undefined || RANK[item] > RANK[result]) result = item;
  return result ?? "STALE";
}

/** "12:03:10 UTC" */
function clockTime(ms: number): string {
  return `${new Date(ms).toISOString().slice(11, 19)} UTC`;
}

/** "42 s", "4 min", "3 h" */
export function roughAge(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 90) return `${s} s`;
  const min = Math.round(s / 60);
  return min < 90 ? `${min} min` : `${Math.round(min / 60)} h`;
}

/** Why a result is stale as of `now`, or undefined when it is fresh. */
export function staleReason(result: CheckResult, now: number, staleAfterMs: number): string | undefined {
  if (result.agentLastSeen !== undefined) {
    return result.agentLastSeen > 0
      ? `agent not scraped since ${clockTime(result.agentLastSeen)}`
      : "agent not scraped";
  }
  const ageMs = now - result.at;
  if (ageMs <= staleAfterMs) return undefined;
  return result.at > 0 ? `last run ${roughAge(ageMs)} ago` : "no run reported";
}

export type ReportOptions = { staleAfterMs?: number };

function byName<T>(key: (item: T) => string): (a: T, b: T) => number {
  return (a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0);
}

function addTo<K>(groups: Map<K, Map<string, CheckRow[]>>, key: K, row: CheckRow): void {
  const pods = groups.get(key) ?? new Map<string, CheckRow[]>();
  groups.set(key, pods);
  const podKey = `${row.namespace}/${row.pod}`;
  const checks = pods.get(podKey);
  if (checks) checks.push(row);
  else pods.set(podKey, [row]);
}

function podList(pods: Map<string, CheckRow[]>): PodHealth[] {
  const list = [...pods.values()].map((checks) => ({
    namespace: checks[0]!.namespace,
    pod: checks[0]!.pod,
    shown: worst(checks.map((check) => check.shown)),
    checks: checks.sort(byName((check) => check.check)),
  }));
  return list.sort(byName((pod) => `${pod.namespace}/${pod.pod}`));
}

/**
 * Groups results into tiles (by source) and pods, and into applications (by app, then
 * component) and pods, sorted by name, with staleness as of `now`.
 */
export function healthReport(
  results: readonly CheckResult[],
  now: number,
  { staleAfterMs = STALE_AFTER_MS }: ReportOptions = {},
): HealthReport {
  const services = new Map<string, Map<string, CheckRow[]>>();
  const components = new Map<string, Map<string, CheckRow[]>>();
  for (const result of results) {
    const ageMs = Math.max(0, now - result.at);
    const stale = staleReason(result, now, staleAfterMs);
    const row: CheckRow =
      stale === undefined
        ? { ...result, ageMs, shown: result.health }
        : { ...result, ageMs, shown: "STALE", staleReason: stale };
    addTo(services, result.source, row);
    addTo(components, JSON.stringify([result.app ?? NO_APP, result.component ?? NO_COMPONENT]), row);
  }
  const serviceList: ServiceHealth[] = [...services].map(([source, pods]) => {
    const list = podList(pods);
    return { source, shown: worst(list.map((pod) => pod.shown)), pods: list };
  });
  serviceList.sort(byName((service) => service.source));
  const apps = new Map<string, ComponentHealth[]>();
  for (const [key, pods] of components) {
    const [app, component] = JSON.parse(key) as [string, string];
    const list = podList(pods);
    const entry = { component, shown: worst(list.map((pod) => pod.shown)), pods: list };
    const known = apps.get(app);
    if (known) known.push(entry);
    else apps.set(app, [entry]);
  }
  const applications: ApplicationHealth[] = [...apps].map(([app, list]) => ({
    app,
    shown: worst(list.map((component) => component.shown)),
    components: list.sort(byName((component) => component.component)),
  }));
  applications.sort(byName((application) => application.app));
  return {
    generatedAt: now,
    overall: worst(serviceList.map((service) => service.shown)),
    services: serviceList,
    applications,
  };
}
