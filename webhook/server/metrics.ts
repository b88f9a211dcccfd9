/**
 * The webhook's Prometheus metrics, registered on a registry the caller owns (no global
 * registry: two servers in one process, as in the tests, keep their own counts).
 * Every label has a small fixed set of values; names of pods or namespaces never become labels.
 */
import { Counter, Gauge, Histogram, type Registry } from "prom-client";
import type { ReasonCode } from "../model/reasons.js";

/** What became of one request to an admission route. */
export type ReviewOutcome =
  /** allowed with a patch */
  | "patched"
  /** allowed without a patch (not opted in, already injected, or a valid workload) */
  | "allowed"
  /** refused with a message (invalid graft annotations) */
  | "denied"
  /** not an AdmissionReview graft can read: HTTP 4xx */
  | "invalid"
  /** graft failed (a bug, or objects it had to create could not be): HTTP 500, failurePolicy decides */
  | "error";

export type WebhookMetrics = {
  /** Counts one finished request and observes its duration. */
  observeReview: (route: string, outcome: ReviewOutcome, seconds: number) => void;
  /** Counts the features (agent, properties, notebooks, ...) one admission injected. */
  countInjections: (features: Iterable<string>) => void;
  /** Counts one denial, by the kind of object denied (Pod, Deployment, ...) and its first reason's code. */
  countDenial: (kind: string, reason: ReasonCode | undefined) => void;
};

export function createWebhookMetrics(registry: Registry): WebhookMetrics {
  const requests = new Counter({
    name: "graft_webhook_requests_total",
    help: "Admission requests handled, by route and outcome (patched, allowed, denied, invalid, error).",
    labelNames: ["route", "outcome"] as const,
    registers: [registry],
  });
  const injections = new Counter({
    name: "graft_webhook_injections_total",
    help: "Features grafted onto pods, by feature.",
    labelNames: ["feature"] as const,
    registers: [registry],
  });
  const denials = new Counter({
    name: "graft_webhook_denials_total",
    help: "Admission requests denied, by object kind and reason code (invalid-annotation, properties-unavailable, ...).",
    labelNames: ["kind", "reason"] as const,
    registers: [registry],
  });
  const latency = new Histogram({
    name: "graft_webhook_request_duration_seconds",
    help: "Time from receiving an AdmissionReview to sending the reply, by route.",
    labelNames: ["route"] as const,
    // The API server gives up after timeoutSeconds (5); the tail past 1s is what matters.
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });

  // Label values are few and fixed: bind each series once rather than hash labels per request.
  const requestSeries = bound((key) => {
    const [route = "", outcome = ""] = key.split(" ");
    return requests.labels({ route, outcome });
  });
  const latencySeries = bound((route) => latency.labels({ route }));
  return {
    observeReview: (route, outcome, seconds) => {
      requestSeries(`${route} ${outcome}`).inc();
      latencySeries(route).observe(seconds);
    },
    countInjections: (features) => {
      for (const feature of features) injections.inc({ feature });
    },
    countDenial: (kind, reason) =>
      denials.inc({ kind: KNOWN_KINDS.has(kind) ? kind : "other", reason: reason ?? "unknown" }),
  };
}

/** `make(key)` once per key. */
function bound<T>(make: (key: string) => T): (key: string) => T {
  const made = new Map<string, T>();
  return (key) => {
    let value = made.get(key);
    if (value === undefined) {
      value = make(key);
      made.set(key, value);
    }
    return value;
  };
}

/** Kinds the webhook is registered for; anything else (a misconfigured rule) is counted as "other". */
const KNOWN_KINDS = new Set([
  "Pod",
  "Deployment",
  "StatefulSet",
  "DaemonSet",
  "ReplicaSet",
  "Job",
  "CronJob",
]);

export type CertificateMetrics = {
  /** The pair now served (at start-up and after each reload). */
  serving: (pair: { notAfter: Date }) => void;
  /** Certificate files changed but were refused; the previous pair keeps serving. */
  reloadFailed: () => void;
};

export function createCertificateMetrics(registry: Registry): CertificateMetrics {
  const errors = new Counter({
    name: "graft_certificate_reload_errors_total",
    help: "Times the certificate files changed but did not form a usable pair (the previous pair kept serving).",
    registers: [registry],
  });
  const expiry = new Gauge({
    name: "graft_certificate_expiry_timestamp_seconds",
    help: "When the serving certificate expires (notAfter), in seconds since the Unix epoch.",
    registers: [registry],
  });
  return {
    serving: (pair) => expiry.set(pair.notAfter.getTime() / 1000),
    reloadFailed: () => errors.inc(),
  };
}
