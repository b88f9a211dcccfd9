/**
 * `rabbitmq`: the management plugin's HTTP API — `/api/overview` (totals), `/api/nodes` (cluster
 * members running, network partitions) and `/api/health/checks/alarms` (memory or disk alarms,
 * which block every publisher). Credentials come from the env vars named by `usernameEnv` and
 * `passwordEnv`; without them, RabbitMQ's default guest/guest (accepted from localhost only).
 */
import { type Static, Type } from "@sinclair/typebox";
import { apiUrl, basicAuthFromEnv, getJsonAs } from "./http-json.js";
import { error, type Failure, type Finding, failedWith, resultOf, warn } from "./outcome.js";
import type { CheckResult, CheckRunner } from "./types.js";

const Count = Type.Integer({ minimum: 0 });

export const Overview = Type.Object({
  rabbitmq_version: Type.String(),
  object_totals: Type.Object({ connections: Count, channels: Count, queues: Count, consumers: Count }),
  // Empty until the first statistics are collected.
  queue_totals: Type.Optional(
    Type.Object({ messages: Type.Optional(Count), messages_unacknowledged: Type.Optional(Count) }),
  ),
});
export type Overview = Static<typeof Overview>;

export const Nodes = Type.Array(
  Type.Object({
    name: Type.String(),
    running: Type.Boolean(),
    partitions: Type.Optional(Type.Array(Type.String())),
  }),
);
export type Nodes = Static<typeof Nodes>;

export const Alarms = Type.Object({
  status: Type.Union([Type.Literal("ok"), Type.Literal("failed")]),
  alarms: Type.Optional(Type.Array(Type.Object({ node: Type.String(), resource: Type.String() }))),
});
export type Alarms = Static<typeof Alarms>;

export function assessBroker(overview: Overview, nodes: Nodes, alarms: Alarms, target: string): CheckResult {
  const findings: Finding[] = [];
  for (const alarm of alarms.alarms ?? []) {
    findings.push(error(`${target}: ${alarm.resource} alarm on ${alarm.node} (publishers are blocked)`));
  }
  if (alarms.status === "failed" && (alarms.alarms ?? []).length === 0) {
    findings.push(error(`${target}: alarms in effect`));
  }
  const partitioned = nodes.filter((node) => (node.partitions ?? []).length > 0);
  if (partitioned.length > 0) {
    findings.push(
      error(`${target}: network partition seen by ${partitioned.map((node) => node.name).join(", ")}`),
    );
  }
  const stopped = nodes.filter((node) => !node.running);
  if (stopped.length > 0) {
    findings.push(
      warn(`${target}: cluster node(s) not running: ${stopped.map((node) => node.name).join(", ")}`),
    );
  }
  const { connections, channels, queues, consumers } = overview.object_totals;
  return resultOf(findings, {
    nodes: nodes.length,
    nodes_running: nodes.length - stopped.length,
    connections,
    channels,
    queues,
    consumers,
    messages: overview.queue_totals?.messages ?? 0,
    messages_unacknowledged: overview.queue_totals?.messages_unacknowledged ?? 0,
  });
}

export const checkRabbitmq: CheckRunner<"rabbitmq"> = async (spec, { signal, env, replyBudget }) => {
  const auth = basicAuthFromEnv(spec, env, { username: "guest", password: "guest" });
  if (!auth.ok) return failedWith(`${spec.url}: ${auth.error.cause}`, "config");
  const request = { signal, timeoutMs: spec.timeoutMs, headers: auth.value, replyBudget };
  const [overview, nodes, alarms] = await Promise.all([
    getJsonAs(apiUrl(spec.url, "/api/overview"), Overview, request),
    getJsonAs(apiUrl(spec.url, "/api/nodes"), Nodes, request),
    // 503 is the endpoint's way of saying "alarms in effect"; its body lists them.
    getJsonAs(apiUrl(spec.url, "/api/health/checks/alarms"), Alarms, {
      ...request,
      acceptStatus: [200, 503],
    }),
  ]);
  if (!overview.ok) return failedRequest(overview.error);
  if (!nodes.ok) return failedRequest(nodes.error);
  if (!alarms.ok) return failedRequest(alarms.error);
  return assessBroker(overview.value, nodes.value, alarms.value, spec.url);
};

function failedRequest({ cause, reason }: Failure): CheckResult {
  const rejected = /: HTTP 401\b/.test(cause);
  if (rejected) return failedWith(`${cause} (check the credentials in usernameEnv/passwordEnv)`, "config");
  return failedWith(cause, reason);
}
