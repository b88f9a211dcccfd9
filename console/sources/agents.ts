/**
 * The console's fallback source, for clusters without Prometheus: agent pods found through the
 * Kubernetes API (running pods with a container port named graft-metrics, the PodMonitor's rule),
 * each asked for its PNDA events at `/status`. One result per pod and source, with the causes
 * Prometheus never has. An agent that cannot be read becomes an ERROR of source `graft-agent`
 * naming why, so a broken sidecar shows instead of vanishing.
 */
import { CoreV1Api, type KubeConfig, type V1Pod } from "@kubernetes/client-node";
import { type Static, Type } from "@sinclair/typebox";
import { Ajv } from "ajv";
import { AGENT_PORT_NAME } from "../../core/agent-endpoint.js";
import { type CheckResult, HEALTH_LEVELS } from "../health.js";
import { fetchText, parseJson, SourceError } from "./error.js";

/** Where one agent serves, and whose it is. */
export type AgentEndpoint = { namespace: string; pod: string; url: string };

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

const isLevel = (value: unknown): value is CheckResult["health"] =>
  (HEALTH_LEVELS as readonly unknown[]).includes(value);

/** One agent's `<source>.health` events as results; throws a SourceError saying what went wrong. */
export async function agentStatusResults(endpoint: AgentEndpoint, timeoutMs = 3_000): Promise<CheckResult[]> {
  const where = `the agent of ${endpoint.namespace}/${endpoint.pod} at ${endpoint.url}`;
  const body = parseJson(await fetchText(`${endpoint.url}/status`, timeoutMs, `${where} could not be read`));
  if (!validateStatus(body)) throw new SourceError(`${where} answered with something other than PNDA events`);
  return body.data
    .filter((event) => event.metric === `${event.source}.health` && isLevel(event.value))
    .map((event) => ({
      namespace: endpoint.namespace,
      pod: endpoint.pod,
      check: event.source,
      type: "",
      source: event.source,
      health: event.value as CheckResult["health"],
      at: event.timestamp,
      causes: event.causes,
    }));
}

export type KubernetesSource = {
  listPods: () => Promise<V1Pod[]>;
  now?: () => number;
  timeoutMs?: number;
};

/** Every agent's results; the agents are read at once, and one that fails costs only its row. */
export async function kubernetesCheckResults(source: KubernetesSource): Promise<CheckResult[]> {
  let pods: V1Pod[];
  try {
    pods = await source.listPods();
  } catch (error) {
    throw new SourceError(`the Kubernetes API could not list pods: ${(error as Error).message}`);
  }
  const now = source.now ?? Date.now;
  const perAgent = await Promise.all(
    agentEndpoints(pods).map((endpoint) =>
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
        },
      ]),
    ),
  );
  return perAgent.flat();
}

/** Lists running pods in every namespace (RBAC: list pods, cluster-wide). */
export function podLister(kubeConfig: KubeConfig): () => Promise<V1Pod[]> {
  const api = kubeConfig.makeApiClient(CoreV1Api);
  return async () => (await api.listPodForAllNamespaces({ fieldSelector: "status.phase=Running" })).items;
}
