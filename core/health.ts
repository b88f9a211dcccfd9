/**
 * The health contract the agent writes and the console reads: PNDA's levels, how they are encoded
 * in `graft_check_health`, and the names of the series both sides use. Neither side may encode or
 * decode a level any other way.
 */

/** PNDA's health values, best first: `<source>.health` is one of these. */
export const HEALTH_LEVELS = ["OK", "WARN", "ERROR"] as const;
export type Health = (typeof HEALTH_LEVELS)[number];

/** A level's value in `graft_check_health`: higher is worse, so PromQL's `max` is the worst. */
export function healthValue(health: Health): number {
  return HEALTH_LEVELS.indexOf(health);
}

/** The level a `graft_check_health` sample encodes; undefined for any other number. */
export function healthOfValue(value: number): Health | undefined {
  return Number.isInteger(value) ? HEALTH_LEVELS[value] : undefined;
}

export function isHealth(value: unknown): value is Health {
  return (HEALTH_LEVELS as readonly unknown[]).includes(value);
}

/** The worst of `healths`; OK when there is none. */
export function worstHealth(healths: Iterable<Health>): Health {
  let worst: Health = "OK";
  for (const health of healths) if (healthValue(health) > healthValue(worst)) worst = health;
  return worst;
}

/** The series the agent exports and the console, alerts and dashboard query. */
export const METRIC = {
  checkHealth: "graft_check_health",
  checkUp: "graft_check_up",
  checkDuration: "graft_check_duration_seconds",
  checkRuns: "graft_check_runs_total",
  checkTimeouts: "graft_check_timeouts_total",
  checkValue: "graft_check_value",
  checkLastRun: "graft_check_last_run_timestamp_seconds",
  checkInterval: "graft_check_interval_seconds",
  checkReason: "graft_check_reason",
} as const;

/**
 * Why a check's result is what it is, from a small fixed set (a bounded metric label beside the
 * free-text causes): `ok`; the target could not be asked — `timeout`, `refused` (refused, reset,
 * unreachable), `dns`, `tls`; it answered wrongly — `http_status`, `protocol` (not the protocol,
 * garbage, over a cap); it answered that it is not well — `unhealthy` (ERROR), `degraded` (WARN);
 * or the check itself cannot run as configured — `config` (a missing secret, a rejected password).
 */
export const REASON_CODES = [
  "ok",
  "timeout",
  "refused",
  "dns",
  "tls",
  "http_status",
  "protocol",
  "unhealthy",
  "degraded",
  "config",
] as const;
export type ReasonCode = (typeof REASON_CODES)[number];

export function isReasonCode(value: unknown): value is ReasonCode {
  return (REASON_CODES as readonly unknown[]).includes(value);
}

/** The reason of a result that names none: what its health says. */
export function defaultReason(health: Health): ReasonCode {
  return health === "OK" ? "ok" : health === "WARN" ? "degraded" : "unhealthy";
}
