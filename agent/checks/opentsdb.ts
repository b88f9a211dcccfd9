/**
 * `opentsdb`: the TSD answers `/api/version` and `/api/stats`. Its stats are counters since
 * start, so they are exported as values, not judged.
 */
import { type Static, Type } from "@sinclair/typebox";
import { apiUrl, getJsonAs } from "./http-json.js";
import { failedWith, resultOf } from "./outcome.js";
import type { CheckResult, CheckRunner } from "./types.js";

export const Version = Type.Object({ version: Type.String() });

/** OpenTSDB sends stat values as strings ("0"); numbers are accepted too. */
export const Stats = Type.Array(
  Type.Object({
    metric: Type.String(),
    value: Type.Union([Type.String(), Type.Number()]),
    tags: Type.Optional(Type.Record(Type.String(), Type.String())),
  }),
);
export type Stats = Static<typeof Stats>;

/** value key → the stat (and tag filter) it sums. */
const EXPORTED: Record<string, { metric: string; tags?: Record<string, string> }> = {
  connections: { metric: "tsd.connectionmgr.connections" },
  datapoints_added: { metric: "tsd.datapoints.added" },
  hbase_errors: { metric: "tsd.rpc.errors", tags: { type: "hbase_errors" } },
  rpc_exceptions: { metric: "tsd.rpc.exceptions" },
};

export function assessStats(stats: Stats): CheckResult {
  const values: Record<string, number> = {};
  for (const [key, { metric, tags }] of Object.entries(EXPORTED)) {
    const matching = stats.filter(
      (stat) =>
        stat.metric === metric &&
        Object.entries(tags ?? {}).every(([tag, value]) => stat.tags?.[tag] === value) &&
        // 2.3+ splits connections into type=open/total: count the open ones.
        (metric !== "tsd.connectionmgr.connections" || (stat.tags?.type ?? "open") === "open"),
    );
    const numbers = matching.map((stat) => Number(stat.value)).filter(Number.isFinite);
    if (numbers.length > 0) values[key] = numbers.reduce((sum, value) => sum + value, 0);
  }
  return resultOf([], values);
}

export const checkOpentsdb: CheckRunner<"opentsdb"> = async (spec, { signal, replyBudget }) => {
  const request = { signal, timeoutMs: spec.timeoutMs, replyBudget };
  const [version, stats] = await Promise.all([
    getJsonAs(apiUrl(spec.url, "/api/version"), Version, request),
    getJsonAs(apiUrl(spec.url, "/api/stats"), Stats, request),
  ]);
  if (!version.ok) return failedWith(version.error);
  if (!stats.ok) return failedWith(stats.error);
  return assessStats(stats.value);
};
