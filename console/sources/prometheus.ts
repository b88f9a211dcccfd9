/**
 * Check results from Prometheus' HTTP API (`/api/v1/query`): every agent's `graft_check_health`
 * joined with its `graft_check_last_run_timestamp_seconds`. `namespace` and `pod` are the labels
 * the PodMonitor (manifests/monitoring) gives each target; a target without them is named by its
 * `instance`. Causes are not in Prometheus (they are never labels): the agents' /status has them;
 * the reason code (`graft_check_reason`, a bounded label) says why in one word.
 */
import { type Static, Type } from "@sinclair/typebox";
import { Ajv } from "ajv";
import { healthOfValue, isReasonCode, METRIC } from "../../core/health.js";
import type { CheckResult } from "../health.js";
import { fetchText, parseJson, SourceError } from "./error.js";

const QueryResponse = Type.Union([
  Type.Object({
    status: Type.Literal("success"),
    data: Type.Object({
      resultType: Type.Literal("vector"),
      result: Type.Array(
        Type.Object({
          metric: Type.Record(Type.String(), Type.String()),
          value: Type.Tuple([Type.Number(), Type.String()]),
        }),
      ),
    }),
  }),
  Type.Object({ status: Type.Literal("error"), error: Type.String() }),
]);
type QueryResponse = Static<typeof QueryResponse>;
type Sample = { metric: Record<string, string>; value: number };

const validateResponse = new Ajv({ strict: true }).compile<QueryResponse>(QueryResponse);

export type PrometheusSource = {
  url: string;
  timeoutMs?: number;
  maxBytes?: number;
  /** How far back to look for checks (default 10 minutes); keep it longer than the stale window. */
  lookbackMs?: number;
  /** The step at which the last good scrape is searched for (default 15 s, the scrape interval or less). */
  resolutionMs?: number;
};

/**
 * A query result is ~200 bytes a series once only the labels read here are kept: 32 MiB is
 * ~160,000 checks (5,000 pods with 5 checks each answer ~5 MiB).
 */
export const MAX_QUERY_BYTES = 32 * 1024 * 1024;
/** Only the labels the console reads: Prometheus drops the rest (job, container, endpoint, …). */
const KEPT_LABELS = "namespace, pod, instance, check, type, source, app, component";

async function query(source: PrometheusSource, promql: string): Promise<Sample[]> {
  const endpoint = new URL("api/v1/query", source.url.endsWith("/") ? source.url : `${source.url}/`);
  endpoint.searchParams.set("query", promql);
  const body = parseJson(
    await fetchText(
      endpoint,
      source.timeoutMs ?? 5_000,
      `Prometheus at ${source.url} could not be queried`,
      source.maxBytes ?? MAX_QUERY_BYTES,
    ),
  );
  if (!validateResponse(body)) {
    throw new SourceError(`Prometheus at ${source.url} answered with something other than a query result`);
  }
  if (body.status === "error")
    throw new SourceError(`Prometheus at ${source.url} refused the query: ${body.error}`);
  return body.data.result.map(({ metric, value }) => ({ metric, value: Number(value[1]) }));
}

const identity = (metric: Record<string, string>) =>
  `${metric.namespace ?? ""}\n${metric.pod ?? metric.instance ?? ""}\n${metric.check ?? ""}`;
const agentOf = (metric: Record<string, string>) =>
  `${metric.namespace ?? ""}\n${metric.pod ?? metric.instance ?? ""}`;

/** How far back the console looks for checks: an agent gone for longer leaves the view. */
export const DEFAULT_LOOKBACK_MS = 10 * 60 * 1000;

/** PromQL's duration for `ms`, in whole seconds (at least 1). */
const seconds = (ms: number) => `${Math.max(1, Math.round(ms / 1000))}s`;

/**
 * The latest result of every check of every agent Prometheus scraped within the lookback. A
 * check whose agent is not being scraped now (its `up` is 0, or gone) keeps its last result and
 * carries `agentLastSeen`, the time of its agent's last good scrape: it stays in the view, stale,
 * until the lookback has passed.
 */
export async function prometheusCheckResults(source: PrometheusSource): Promise<CheckResult[]> {
  const lookback = seconds(source.lookbackMs ?? DEFAULT_LOOKBACK_MS);
  const agents = "namespace, pod, instance";
  const [health, lastRun, reasons, up, lastUp] = await Promise.all([
    query(source, `max by (${KEPT_LABELS}) (last_over_time(${METRIC.checkHealth}[${lookback}]))`),
    query(source, `max by (${KEPT_LABELS}) (last_over_time(${METRIC.checkLastRun}[${lookback}]))`),
    query(source, `max by (${agents}, check, reason) (${METRIC.checkReason} == 1)`),
    query(source, `max by (${agents}) (up)`),
    // The time of each target's last good scrape: the timestamps of its samples of up == 1.
    query(
      source,
      `max by (${agents}) (max_over_time((timestamp(up) and up == 1)[${lookback}:${seconds(source.resolutionMs ?? 15_000)}]))`,
    ),
  ]);
  const runAt = new Map(lastRun.map((sample) => [identity(sample.metric), sample.value * 1000]));
  const reasonOf = new Map(
    reasons.flatMap(({ metric }) =>
      isReasonCode(metric.reason) ? [[identity(metric), metric.reason] as const] : [],
    ),
  );
  const scraped = new Set(up.filter((sample) => sample.value === 1).map((sample) => agentOf(sample.metric)));
  const lastSeen = new Map(lastUp.map((sample) => [agentOf(sample.metric), sample.value * 1000]));
  const results: CheckResult[] = [];
  for (const { metric, value } of health) {
    const level = healthOfValue(value);
    if (level === undefined || metric.check === undefined) continue;
    // Without a last run (an agent older than that series) the result counts as stale.
    const at = runAt.get(identity(metric)) ?? 0;
    const agent = agentOf(metric);
    const reason = scraped.has(agent) ? reasonOf.get(identity(metric)) : undefined;
    results.push({
      ...(reason ? { reason } : {}),
      ...(scraped.has(agent) ? {} : { agentLastSeen: lastSeen.get(agent) ?? 0 }),
      namespace: metric.namespace ?? "",
      pod: metric.pod ?? metric.instance ?? "",
      check: metric.check,
      type: metric.type ?? "",
      source: metric.source ?? metric.check,
      health: level,
      at,
      ...(metric.app ? { app: metric.app } : {}),
      ...(metric.component ? { component: metric.component } : {}),
    });
  }
  return results;
}
