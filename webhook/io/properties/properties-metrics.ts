/**
 * The properties feature's Prometheus metrics, on a registry the caller owns. Labels have small
 * fixed value sets; ConfigMap, pod and namespace names never become labels.
 */
import { Counter, type Registry } from "prom-client";

export type PropertiesApiOperation = "apply" | "add_owner" | "mark_used" | "read" | "list" | "delete";

export type PropertiesMetrics = {
  /** One call to the API server, and whether it succeeded. */
  apiCall: (operation: PropertiesApiOperation, ok: boolean) => void;
  /** A ConfigMap+owner already ensured (no API call) or not. */
  ensureCache: (hit: boolean) => void;
  /** The properties ConfigMap could not be read or made: the pod was denied, or admitted without it. */
  failure: (outcome: "denied" | "admitted") => void;
  /** An orphaned properties ConfigMap removed by the clean-up. */
  orphanDeleted: () => void;
  /** One clean-up sweep finished, or failed. */
  sweep: (ok: boolean) => void;
};

export function createPropertiesMetrics(registry: Registry): PropertiesMetrics {
  const calls = new Counter({
    name: "graft_properties_api_requests_total",
    help: "API server requests made for application.properties ConfigMaps, by operation and result.",
    labelNames: ["operation", "result"] as const,
    registers: [registry],
  });
  const cache = new Counter({
    name: "graft_properties_ensure_total",
    help: "Admissions that needed a properties ConfigMap, by whether it was already ensured for that owner (hit: no API call).",
    labelNames: ["cache"] as const,
    registers: [registry],
  });
  const failures = new Counter({
    name: "graft_properties_failures_total",
    help: "Admissions whose properties ConfigMap could not be read or created, by outcome (denied, or admitted without it).",
    labelNames: ["outcome"] as const,
    registers: [registry],
  });
  const orphans = new Counter({
    name: "graft_properties_orphans_deleted_total",
    help: "Properties ConfigMaps deleted by the clean-up: no owner and no pod mounting them after the grace period.",
    registers: [registry],
  });
  const sweeps = new Counter({
    name: "graft_properties_sweeps_total",
    help: "Clean-up sweeps over the properties ConfigMaps, by result (ok, or error: retried at the next one).",
    labelNames: ["result"] as const,
    registers: [registry],
  });
  for (const outcome of ["denied", "admitted"]) failures.inc({ outcome }, 0);
  for (const result of ["ok", "error"]) sweeps.inc({ result }, 0);
  return {
    apiCall: (operation, ok) => calls.inc({ operation, result: ok ? "ok" : "error" }),
    ensureCache: (hit) => cache.inc({ cache: hit ? "hit" : "miss" }),
    failure: (outcome) => failures.inc({ outcome }),
    orphanDeleted: () => orphans.inc(),
    sweep: (ok) => sweeps.inc({ result: ok ? "ok" : "error" }),
  };
}

/** For code paths (tests, `graft inject`) that count nothing. */
export const NO_METRICS: PropertiesMetrics = {
  apiCall: () => {},
  ensureCache: () => {},
  failure: () => {},
  orphanDeleted: () => {},
  sweep: () => {},
};
