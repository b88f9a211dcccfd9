/**
 * The health agent sidecar (docs/design.md "What is injected" §3): `graft agent` from graft's own
 * image, as a native sidecar where the cluster has them, hardened, probed, with its checks
 * validated at admission and passed as config.
 */
import { AGENT_PORT, AGENT_PORT_NAME } from "../../../core/agent-endpoint.js";
import { ANNOTATION } from "../../../core/annotations.js";
import type { CheckSpec } from "../../../core/checks.js";
import {
  ensureAnnotation,
  ensureList,
  ensureNamed,
  type Feature,
  type FeaturePlan,
  type PlanInput,
} from "../../model/feature.js";
import type { Container } from "../../model/kube.js";
import { reason } from "../../model/reasons.js";

export { AGENT_PORT, AGENT_PORT_NAME };

export const AGENT_CONTAINER = "graft-agent";
export const AGENT_CHECKS_VOLUME = "graft-agent-checks";
export const AGENT_CHECKS_DIR = "/etc/graft-agent";
/** The key a `graft.pnda.io/checks-configmap` ConfigMap holds the checks spec under. */
export const CHECKS_CONFIGMAP_KEY = "checks.yaml";
export const RUN_AS_USER = 65532;
/**
 * The image's node and CLI (see the Dockerfile), started in V8's lite mode with a small young
 * generation: the agent runs in every labelled pod, and these flags bring its resident memory
 * from 1.7x to 1.2x a bare node:http server (docs/benchmarks.md); an old space of 48 MiB makes V8
 * collect before a burst of hostile replies takes it past its 128Mi limit (agent-hostile-peers
 * test). They cannot all go in NODE_OPTIONS.
 */
export const AGENT_COMMAND = [
  "/nodejs/bin/node",
  "--lite-mode",
  "--max-semi-space-size=1",
  "--max-old-space-size=48",
  "/app/bin/graft.js",
];

export const SCRAPE_ANNOTATIONS = {
  "prometheus.io/scrape": "true",
  "prometheus.io/port": String(AGENT_PORT),
  "prometheus.io/path": "/metrics",
} as const;

export type AgentParams = {
  image: string;
  resources: { requests: Record<string, string>; limits: Record<string, string> };
  /** An init container with `restartPolicy: Always`, else a regular container. */
  native: boolean;
  checks: { inline: CheckSpec[] } | { configMap: string };
  /** Add the prometheus.io scrape annotations (false when the pod has its own). */
  scrape: boolean;
};

function hasOwnScrapeAnnotations(annotations: Record<string, string> | undefined): boolean {
  return Object.entries(SCRAPE_ANNOTATIONS).some(
    ([key, value]) => annotations?.[key] !== undefined && annotations[key] !== value,
  );
}

/** Kubernetes advises warnings of at most 120 characters. */
export const SCRAPE_WARNING = `graft: pod has its own prometheus.io annotations, kept; scrape ${AGENT_CONTAINER} port ${AGENT_PORT_NAME} with a PodMonitor`;

/** The app container (not graft's) that already claims the agent's port, if any: the agent could not bind it. */
function portTakenBy(pod: PlanInput["pod"]): string | undefined {
  const containers = [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])];
  return containers.find(
    (c) => c.name !== AGENT_CONTAINER && (c.ports ?? []).some((port) => port.containerPort === AGENT_PORT),
  )?.name;
}

export function planAgent({ pod, intent, facts }: PlanInput): FeaturePlan<AgentParams> {
  if (intent.health === false)
    return { skip: reason("disabled", `annotation "${ANNOTATION.health}" is "false"`) };
  const restartPolicy = pod.spec?.restartPolicy ?? "Always";
  if (!facts.nativeSidecars && restartPolicy !== "Always") {
    const why = `the pod's restartPolicy is ${restartPolicy} and native sidecars are off: a regular ${AGENT_CONTAINER} container would keep it from completing`;
    const warning = `graft: ${AGENT_CONTAINER} not injected: restartPolicy ${restartPolicy} needs native sidecars (Kubernetes ≥ 1.29)`;
    return { skip: reason("needs-native-sidecars", why), warnings: [warning] };
  }
  const taken = portTakenBy(pod);
  if (taken) {
    return {
      deny: [
        reason(
          "port-taken",
          `container "${taken}" already uses port ${AGENT_PORT}, which ${AGENT_CONTAINER} listens on: move that port, or set annotation "${ANNOTATION.health}" to "false"`,
        ),
      ],
    };
  }
  const scrape = !hasOwnScrapeAnnotations(pod.metadata?.annotations);
  const { image, resources } = facts.config.agent;
  return {
    apply: {
      image,
      resources: { requests: { ...resources.requests }, limits: { ...resources.limits } },
      native: facts.nativeSidecars,
      checks:
        intent.checksConfigMap !== undefined
          ? { configMap: intent.checksConfigMap }
          : { inline: intent.checks ?? [] },
      scrape,
    },
    ...(scrape ? {} : { warnings: [SCRAPE_WARNING] }),
  };
}

const fieldEnv = (name: string, fieldPath: string) => ({
  name,
  valueFrom: { fieldRef: { apiVersion: "v1", fieldPath } },
});

const probe = (path: string, periodSeconds: number, failureThreshold: number) => ({
  httpGet: { path, port: AGENT_PORT_NAME, scheme: "HTTP" },
  periodSeconds,
  timeoutSeconds: 2,
  failureThreshold,
});

/** The agent container for `params`: a pure function of them. */
export function agentContainer(params: AgentParams): Container {
  const fromConfigMap = "configMap" in params.checks;
  return {
    name: AGENT_CONTAINER,
    image: params.image,
    imagePullPolicy: "IfNotPresent",
    command: [...AGENT_COMMAND],
    args: [
      "agent",
      "--port",
      String(AGENT_PORT),
      ...(fromConfigMap ? ["--checks", `${AGENT_CHECKS_DIR}/${CHECKS_CONFIGMAP_KEY}`] : []),
    ],
    env: [
      ...("inline" in params.checks
        ? [{ name: "GRAFT_CHECKS", value: JSON.stringify(params.checks.inline) }]
        : []),
      fieldEnv("POD_NAME", "metadata.name"),
      fieldEnv("POD_NAMESPACE", "metadata.namespace"),
    ],
    ports: [{ name: AGENT_PORT_NAME, containerPort: AGENT_PORT, protocol: "TCP" }],
    resources: { requests: { ...params.resources.requests }, limits: { ...params.resources.limits } },
    securityContext: {
      runAsNonRoot: true,
      runAsUser: RUN_AS_USER,
      runAsGroup: RUN_AS_USER,
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      privileged: false,
      capabilities: { drop: ["ALL"] },
      seccompProfile: { type: "RuntimeDefault" },
    },
    ...(params.native ? { restartPolicy: "Always", startupProbe: probe("/healthz", 1, 30) } : {}),
    readinessProbe: probe("/readyz", 10, 3),
    livenessProbe: probe("/healthz", 20, 3),
    ...(fromConfigMap
      ? { volumeMounts: [{ name: AGENT_CHECKS_VOLUME, mountPath: AGENT_CHECKS_DIR, readOnly: true }] }
      : {}),
  };
}

/**
 * Ensures the agent is in the list it belongs in (appended last among init containers, so it
 * starts after the pod's own init steps and other sidecars; or last among containers) and in no
 * other, its checks volume is there, and the scrape annotations are set.
 */
export function renderAgent(pod: Parameters<Feature<AgentParams>["render"]>[0], params: AgentParams): void {
  const wanted = withServiceAccountToken(pod, agentContainer(params));
  const [target, other] = params.native
    ? (["initContainers", "containers"] as const)
    : (["containers", "initContainers"] as const);
  const misplaced = pod.spec?.[other]?.findIndex((c) => c.name === AGENT_CONTAINER) ?? -1;
  if (misplaced !== -1) pod.spec?.[other]?.splice(misplaced, 1);
  ensureNamed(ensureList(pod, target), wanted);

  if ("configMap" in params.checks) {
    ensureNamed(ensureList(pod, "volumes"), {
      name: AGENT_CHECKS_VOLUME,
      configMap: { name: params.checks.configMap },
    });
  }
  if (params.scrape) {
    for (const [key, value] of Object.entries(SCRAPE_ANNOTATIONS)) ensureAnnotation(pod, key, value);
  }
}

/** Where the API server's ServiceAccount admission plugin mounts the pod's token. */
export const SERVICE_ACCOUNT_TOKEN_PATH = "/var/run/secrets/kubernetes.io/serviceaccount";

/**
 * The agent with the ServiceAccount token mounted as the API server's ServiceAccount plugin would
 * mount it, when the plugin has already mounted it into the pod's own containers (it runs before
 * the webhooks). The plugin then changes nothing after graft, so the API server does not call
 * graft again (reinvocationPolicy IfNeeded), and a pass over the stored pod leaves the agent be.
 */
function withServiceAccountToken(
  pod: Parameters<Feature<AgentParams>["render"]>[0],
  agent: Container,
): Container {
  const spec = pod.spec;
  const token = [...(spec?.containers ?? []), ...(spec?.initContainers ?? [])]
    .filter((c) => c.name !== AGENT_CONTAINER)
    .flatMap((c) => c.volumeMounts ?? [])
    .find((m) => m.mountPath === SERVICE_ACCOUNT_TOKEN_PATH && m.name.startsWith("kube-api-access-"));
  if (!token || spec?.automountServiceAccountToken === false) return agent;
  const mount = { name: token.name, readOnly: true, mountPath: SERVICE_ACCOUNT_TOKEN_PATH };
  return { ...agent, volumeMounts: [...(agent.volumeMounts ?? []), mount] };
}

export const agentFeature: Feature<AgentParams> = {
  name: "agent",
  plan: planAgent,
  render: renderAgent,
};
