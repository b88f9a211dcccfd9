/**
 * The agent's Prometheus metrics, on a registry the caller owns. Labels are bounded: `check`,
 * `type` and `source` come from the validated spec (at most MAX_CHECKS checks), `key` from each
 * check type's fixed set of values, `result` from a fixed list. Causes never become labels;
 * they are in /status.
 */
import { defaultReason, healthValue, METRIC } from "../core/health.js";
import type { CheckResult } from "./checks/types.js";
import type { Exposition } from "./exposition.js";

export type CheckIdentity = { name: string; type: string; source: string; intervalMs: number };

export type AgentMetrics = {
  observeRun: (
    check: CheckIdentity,
    run: { result: CheckResult; durationMs: number; finishedAt: number; timedOut: boolean },
  ) => void;
  push: PushMetrics;
};

export type PushMetrics = {
  setQueued: (events: number) => void;
  countSent: (events: number) => void;
  countDropped: (events: number) => void;
  countRequest: (result: "ok" | "error") => void;
};

export function createAgentMetrics(
  registry: Exposition,
  checks: CheckIdentity[],
  { processMetrics = true }: { processMetrics?: boolean } = {},
): AgentMetrics {
  if (processMetrics) registerProcessMetrics(registry);

  const health = registry.gauge({
    name: METRIC.checkHealth,
    help: "Latest health of each check: 0 OK, 1 WARN, 2 ERROR (PNDA's <source>.health).",
    labelNames: ["check", "type", "source"],
  });
  const up = registry.gauge({
    name: METRIC.checkUp,
    help: "1 when the check's latest run was OK or WARN, 0 when it was ERROR.",
    labelNames: ["check"],
  });
  const duration = registry.histogram({
    name: METRIC.checkDuration,
    help: "Time each check run took, up to its timeout.",
    labelNames: ["check"],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
  });
  const runs = registry.counter({
    name: METRIC.checkRuns,
    help: "Check runs, by check and result (ok, warn, error).",
    labelNames: ["check", "result"],
  });
  const timeouts = registry.counter({
    name: METRIC.checkTimeouts,
    help: "Check runs cut off by their timeout.",
    labelNames: ["check"],
  });
  const values = registry.gauge({
    name: METRIC.checkValue,
    help: "Values a check reads from its target (its own fixed set of keys, in base units).",
    labelNames: ["check", "key"],
  });
  const reason = registry.gauge({
    name: METRIC.checkReason,
    help: "1 for the reason code of each check's latest result (ok, timeout, refused, dns, tls, http_status, protocol, unhealthy, degraded, config); other codes are absent.",
    labelNames: ["check", "reason"],
  });
  const lastRun = registry.gauge({
    name: METRIC.checkLastRun,
    help: "When each check's latest run finished, in seconds since the epoch.",
    labelNames: ["check"],
  });
  const interval = registry.gauge({
    name: METRIC.checkInterval,
    help: "How often each check runs; compare with the last-run timestamp to find stale checks.",
    labelNames: ["check"],
  });

  const queued = registry.gauge({
    name: "graft_push_queued_events",
    help: "PNDA events waiting to be pushed to the console's data logger.",
  });
  const sent = registry.counter({
    name: "graft_push_sent_events_total",
    help: "PNDA events the console's data logger accepted.",
  });
  const dropped = registry.counter({
    name: "graft_push_dropped_events_total",
    help: "PNDA events dropped: the queue was full or every retry failed.",
  });
  const requests = registry.counter({
    name: "graft_push_requests_total",
    help: "POSTs to the console's data logger, by result (ok, error).",
    labelNames: ["result"],
  });

  for (const check of checks) {
    interval.set({ check: check.name }, check.intervalMs / 1000);
    for (const result of ["ok", "warn", "error"]) runs.inc({ check: check.name, result }, 0);
    timeouts.inc({ check: check.name }, 0);
  }
  const keysByCheck = new Map<string, Set<string>>();
  const reasonByCheck = new Map<string, string>();

  return {
    observeRun: (check, run) => {
      const { result } = run;
      health.set({ check: check.name, type: check.type, source: check.source }, healthValue(result.health));
      up.set({ check: check.name }, result.health === "ERROR" ? 0 : 1);
      duration.observe({ check: check.name }, run.durationMs / 1000);
      runs.inc({ check: check.name, result: result.health.toLowerCase() });
      if (run.timedOut) timeouts.inc({ check: check.name });
      lastRun.set({ check: check.name }, run.finishedAt / 1000);
      const code = result.reason ?? defaultReason(result.health);
      const before = reasonByCheck.get(check.name);
      if (before !== undefined && before !== code) reason.remove({ check: check.name, reason: before });
      reason.set({ check: check.name, reason: code }, 1);
      reasonByCheck.set(check.name, code);

      // A value the latest run did not read (its target was down) is removed, not left stale.
      const previous = keysByCheck.get(check.name) ?? new Set<string>();
      const current = new Set(Object.keys(result.values ?? {}));
      for (const key of previous) if (!current.has(key)) values.remove({ check: check.name, key });
      for (const [key, value] of Object.entries(result.values ?? {})) {
        if (Number.isFinite(value)) values.set({ check: check.name, key }, value);
      }
      keysByCheck.set(check.name, current);
    },
    push: {
      setQueued: (events) => queued.set({}, events),
      countSent: (events) => sent.inc({}, events),
      countDropped: (events) => dropped.inc({}, events),
      countRequest: (result) => requests.inc({ result }),
    },
  };
}

/**
 * The agent's own footprint, read at scrape time. Not prom-client's default metrics: those add
 * a GC observer and an event-loop monitor to every pod, and three of their gauges end in
 * `_total`, which `promtool check metrics` rejects.
 */
function registerProcessMetrics(registry: Exposition): void {
  registry.reading(
    { name: "graft_agent_resident_memory_bytes", help: "Resident memory of the agent process." },
    "gauge",
    () => process.memoryUsage.rss(),
  );
  registry.reading(
    { name: "graft_agent_heap_used_bytes", help: "V8 heap in use by the agent process." },
    "gauge",
    () => process.memoryUsage().heapUsed,
  );
  registry.reading(
    { name: "graft_agent_cpu_seconds_total", help: "User and system CPU time the agent process has used." },
    "counter",
    () => {
      const { user, system } = process.cpuUsage();
      return (user + system) / 1e6;
    },
  );
  const started = registry.gauge({
    name: "graft_agent_start_time_seconds",
    help: "When the agent process started, in seconds since the epoch.",
  });
  started.set({}, Math.round(Date.now() / 1000 - process.uptime()));
}
