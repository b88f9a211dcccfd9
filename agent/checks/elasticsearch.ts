/**
 * `elasticsearch`: `/_cluster/health` — green OK, yellow WARN (replicas unassigned), red ERROR.
 * Basic auth (on by default since 8.0) from the env vars named by `usernameEnv`/`passwordEnv`.
 */
import { type Static, Type } from "@sinclair/typebox";
import { apiUrl, basicAuthFromEnv, getJsonAs } from "./http-json.js";
import { error, type Finding, failedWith, resultOf, warn } from "./outcome.js";
import type { CheckResult, CheckRunner } from "./types.js";

const Count = Type.Integer({ minimum: 0 });

export const ClusterHealth = Type.Object({
  cluster_name: Type.String(),
  status: Type.Union([Type.Literal("green"), Type.Literal("yellow"), Type.Literal("red")]),
  number_of_nodes: Count,
  number_of_data_nodes: Count,
  active_shards: Count,
  relocating_shards: Count,
  initializing_shards: Count,
  unassigned_shards: Count,
});
export type ClusterHealth = Static<typeof ClusterHealth>;

export function assessClusterHealth(health: ClusterHealth, target: string): CheckResult {
  const findings: Finding[] = [];
  const where = `${target}: cluster "${health.cluster_name}" is ${health.status}`;
  const unassigned = `${health.unassigned_shards} unassigned shards`;
  if (health.status === "red")
    findings.push(error(`${where} (a primary shard is unassigned; ${unassigned})`));
  if (health.status === "yellow") findings.push(warn(`${where} (replicas unassigned; ${unassigned})`));
  return resultOf(findings, {
    nodes: health.number_of_nodes,
    data_nodes: health.number_of_data_nodes,
    active_shards: health.active_shards,
    relocating_shards: health.relocating_shards,
    initializing_shards: health.initializing_shards,
    unassigned_shards: health.unassigned_shards,
  });
}

export const checkElasticsearch: CheckRunner<"elasticsearch"> = async (
  spec,
  { signal, env, replyBudget },
) => {
  const url = apiUrl(spec.url, "/_cluster/health");
  const auth = basicAuthFromEnv(spec, env);
  if (!auth.ok) return failedWith(`${spec.url}: ${auth.error.cause}`, "config");
  // 408: the health API's own wait timed out; its body still says how the cluster is.
  const reply = await getJsonAs(url, ClusterHealth, {
    signal,
    timeoutMs: spec.timeoutMs,
    replyBudget,
    acceptStatus: [200, 408],
  });
  return reply.ok ? assessClusterHealth(reply.value, spec.url) : failedWith(reply.error);
};
