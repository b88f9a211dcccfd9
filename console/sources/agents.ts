/**
 * The console's fallback source, for clusters without Prometheus: agent pods found through the
 * Kubernetes API (running pods with a container port named graft-metrics, the PodMonitor's rule),
 * each asked for its PNDA events at `/status`. One result per pod and source, with the causes
 * Prometheus never has. An agent that cannot be read becomes an ERROR of source `graft-agent`
 * naming why, so a broken sidecar shows instead of vanishing.
 *
 * Bounded for thousands of pods: pods are listed a page at a time and only their endpoints are
 * kept; at most `concurrency` agents are read at once, each reply capped in bytes. (Callers
 * share one round through `sharedRefresh`: see cli.ts.)
 */
import { CoreV1Api, type KubeConfig, type V1Pod } from "@kubernetes/client-node";
import { type Static, Type } from "@sinclair/typebox";
import { Ajv } from "ajv";
import { AGENT_PORT_NAME } from "../../core/agent-endpoint.js";
import { isHealth } from "../../core/health.js";
import { errorMessage } from "../../core/result.js";
import type { CheckResult } from "../health.js";
import { fetchText, parseJson, SourceError } from "./error.js";

/** Where one agent serves, and whose it is. */
export type AgentEndpoint = { namespace: string; pod: string; url: string; app?: string; component?: string };

/** GRAFT_APP and GRAFT_COMPONENT as the webhook set them on the pod's agent container. */
function agentIdentity(pod: V1Pod): { app?: string; component?: string } {
  const agent = [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])].find(
    (container) => container.name === "graft-agent",
  );
  const value = (name: string) => agent?.env?.find((variable) => variable.name === name)?.value;
  const app = value("GRAFT_APP");
  const component = value("GRAFT_COMPONENT");
  return { ...(app ? { app } : {}), ...(component ? { component } : {}) };
}

/** The source the console files agents it could not read under. */
export const AGENT_SOURCE = "graft-agent";

/** Running pods' agents: their IP and the port named graft-metrics, in containers or init containers. */
export function agentEndpoints(pods: readonly V1Pod[]): AgentEndpoint[] {
  const endpoints: AgentEndpoint[] = [];
  for (const pod of pods) {
    const ip = pod.status?.podIP;
    if (pod.status?.phase !== "Running" || !ip) continue;
    const containers = [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])];
    const port = containers
      .flatMap((container) => container.ports ?? [])
      .find((candidate) => candidate.name === AGENT_PORT_NAME)?.containerPort;
    if (port === undefined) continue;
    const host = ip.includes(":") ? `[${ip}]` : ip;
    endpoints.push({
      namespace: pod.metadata?.namespace ?? "",
      pod: pod.metadata?.name ?? "",
      url: `http://${host}:${port}`,
      ...agentIdentity(pod),
    });
  }
  return endpoints;
}

const StatusDocument = Type.Object({
  data: Type.Array(
    Type.Object({
      source: Type.String(),
      metric: Type.String(),
      value: Type.Union([Type.String(), Type.Number()]),
      causes: Type.Array(Type.String()),
      timestamp: Type.Number(),
    }),
  ),
  timestamp: Type.Number(),
});
const validateStatus = new Ajv({ strict: true }).compile<Static<typeof StatusDocument>>(StatusDocument);

/**
 * An agent's /status is at most 64 checks × 10 causes × 512 characters (agent/status.ts), about
 * 400 KB: more is not an agent's.
 */
export const MAX_STATUS_BYTES = 1024 * 1024;
/** Agents read at once: 32 × 1 MiB bounds the bodies in flight, and 5,000 healthy agents take seconds. */
export const DEFAULT_CONCURRENCY = 32;
/** Pods a list request returns at a time: only their endpoints are kept between pages. */
export const POD_PAGE_SIZE = 500;

/** One agent's `<source>.health` events as results; throws a SourceError saying what went wrong. */
export async function agentStatusResults(endpoint: AgentEndpoint, timeoutMs = 3_000): Promise<CheckResult[]> {
  const where = `the agent of ${endpoint.namespace}/${endpoint.pod} at ${endpoint.url}`;
  const body = parseJson(
    await fetchText(`${endpoint.url}/status`, timeoutMs, `${where} could not be read`, MAX_STATUS_BYTES),
  );
  if (!validateStatus(body)) throw new SourceError(`${where} answered with something other than PNDA events`);
  return body.data
    .filter((event) => event.metric === `${event.source}.health` && isHealth(event.value))
    .map((event) => ({
      namespace: endpoint.namespace,
      pod: endpoint.pod,
      check: event.source,
      type: "",
      source: event.source,
      health: event.value as CheckResult["health"],
      at: event.timestamp,
      causes: event.causes,
      ...(endpoint.app ? { app: endpoint.app } : {}),
      ...(endpoint.component ? { component: endpoint.component } : {}),
    }));
}

export type KubernetesSource = {
  /** The running agents (agentLister: the Kubernetes API, a page at a time). */
  listAgents: () => Promise<AgentEndpoint[]>;
  now?: () => number;
  timeoutMs?: number;
  /** Agents read at once. */
  concurrency?: number;
};

/**
 * Calls `work` on every item, at most `limit` at a time, and resolves with the results in the
 * items' order. `work` must not reject (each agent's failure is its own result).
 */
export async function mapConcurrently<T, R>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(Math.max(1, limit), items.length) }, worker));
  return results;
}

/** Every agent's results, `concurrency` agents at a time; one that fails costs only its row. */
export async function kubernetesCheckResults(source: KubernetesSource): Promise<CheckResult[]> {
  let endpoints: AgentEndpoint[];
  try {
    endpoints = await source.listAgents();
  } catch (error) {
    throw new SourceError(`the Kubernetes API could not list pods: ${errorMessage(error)}`);
  }
  const now = source.now ?? Date.now;
  const perAgent = await mapConcurrently(endpoints, source.concurrency ?? DEFAULT_CONCURRENCY, (endpoint) =>
    agentStatusResults(endpoint, source.timeoutMs).catch((error: Error) => [
      {
        namespace: endpoint.namespace,
        pod: endpoint.pod,
        check: AGENT_SOURCE,
        type: "",
        source: AGENT_SOURCE,
        health: "ERROR" as const,
        at: now(),
        causes: [error.message],
        ...(endpoint.app ? { app: endpoint.app } : {}),
        ...(endpoint.component ? { component: endpoint.component } : {}),
      },
    ]),
  );
  return perAgent.flat();
}

/**
 * Lists the running agents in every namespace (RBAC: list pods, cluster-wide), `POD_PAGE_SIZE`
 * pods a request: a page's pods are dropped once their endpoints are read.
 */
export function agentLister(kubeConfig: KubeConfig): () => Promise<AgentEndpoint[]> {
  const api = kubeConfig.makeApiClient(CoreV1Api);
  return async () => {
    const endpoints: AgentEndpoint[] = [];
    let token: string | undefined;
    do {
      const page = await api.listPodForAllNamespaces({
        fieldSelector: "status.phase=Running",
        limit: POD_PAGE_SIZE,
        ...(token === undefined ? {} : { _continue: token }),
      });
      endpoints.push(...agentEndpoints(page.items));
      token = page.metadata?._continue || undefined;
    } while (token !== undefined);
    return endpoints;
  };
}
