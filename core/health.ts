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
} as const;
