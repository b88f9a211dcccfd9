/**
 * `hbase`: HBase's REST server, `/status/cluster` (the master's view: live region servers with
 * their regions, dead region servers by server name).
 * No live region server: ERROR. Dead region servers: WARN, naming them.
 */
import { type Static, Type } from "@sinclair/typebox";
import { apiUrl, getJsonAs } from "./http-json.js";
import { error, type Finding, failedWith, resultOf, warn } from "./outcome.js";
import type { CheckResult, CheckRunner } from "./types.js";

/** StorageClusterStatusModel as the REST server writes it in JSON; empty lists may be left out. */
export const ClusterStatus = Type.Object({
  LiveNodes: Type.Optional(Type.Array(Type.Object({ name: Type.String() }))),
  DeadNodes: Type.Optional(Type.Array(Type.String())),
  regions: Type.Integer({ minimum: 0 }),
  averageLoad: Type.Number(),
});
export type ClusterStatus = Static<typeof ClusterStatus>;

const MAX_NAMED_SERVERS = 5;

export function assessClusterStatus(status: ClusterStatus, target: string): CheckResult {
  const live = status.LiveNodes ?? [];
  const dead = status.DeadNodes ?? [];
  const findings: Finding[] = [];
  if (live.length === 0) findings.push(error(`${target}: no live region server`));
  if (dead.length > 0) {
    const more = dead.length > MAX_NAMED_SERVERS ? ` and ${dead.length - MAX_NAMED_SERVERS} more` : "";
    findings.push(
      warn(
        `${target}: ${dead.length} dead region server(s): ${dead.slice(0, MAX_NAMED_SERVERS).join(", ")}${more}`,
      ),
    );
  }
  return resultOf(findings, {
    live_regionservers: live.length,
    dead_regionservers: dead.length,
    regions: status.regions,
    average_load: status.averageLoad,
  });
}

export const checkHbase: CheckRunner<"hbase"> = async (spec, { signal, replyBudget }) => {
  const reply = await getJsonAs(apiUrl(spec.url, "/status/cluster"), ClusterStatus, {
    signal,
    timeoutMs: spec.timeoutMs,
    replyBudget,
  });
  return reply.ok ? assessClusterStatus(reply.value, spec.url) : failedWith(reply.error.cause);
};
