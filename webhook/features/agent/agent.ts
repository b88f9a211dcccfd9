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
import { defaultChecks, withDefaults } from "./defaults.js";

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
 * test). `--expose-gc` lets the agent ask for a full collection every 15 s (agent/full-gc.ts):
 * without it the old generation filled with promoted garbage for minutes, 58.7 → 64.1 MiB at 10
 * checks a second. They cannot all go in NODE_OPTIONS.
 *
 * Measured and left out (2026-12-02, each within the ±0.5 MiB between runs of the same agent):
 * MALLOC_ARENA_MAX=1 or 2, MALLOC_TRIM_THRESHOLD_=0, UV_THREADPOOL_SIZE=1 or 2 (with checks on
 * host names too), --v8-pool-size=1, --single-threaded-gc, --jitless, --minor-ms,
 * --optimize-for-size, --semi-space-growth-factor=1. --use-openssl-ca would spare Node's bundled
 * root certificates (~1.1 MiB, parsed as soon as node:tls loads) only in an agent whose https
 * checks all skip verification; the others would trust the image's CA file instead, for the same
 * memory.
 */
export const AGENT_COMMAND = [
  "/nodejs/bin/node",
  "--lite-mode",
  "--max-semi-space-size=1",
  "--max-old-space-size=48",
  "--expose-gc",
  "/app/bin/graft.js",
];

/** The prometheus.io annotations that point a scraper at an agent on `port`. */
export function scrapeAnnotations(port: number): Record<string, string> {
  return {
    "prometheus.io/scrape": "true",
    "prometheus.io/port": String(port),
    "prometheus.io/path": "/metrics",
  };
}

export type AgentParams = {
  image: string;
  resources: { requests: Record<string, string>; limits: Record<string, string> };
  /** An init container with `restartPolicy: Always`, else a regular container. */
  native: boolean;
  /**
   * Inline: the defaults and the annotation's checks, as GRAFT_CHECKS. From a ConfigMap: its file,
   * and the defaults (GRAFT_CHECKS) the agent adds unless the file names them too.
   */
  checks: { inline: CheckSpec[] } | { configMap: string; defaults: CheckSpec[] };
  /** Add the prometheus.io scrape annotations (false when the pod has its own). */
  scrape: boolean;
  /** The port it listens on: `graft.pnda.io/agent-port`, else the config's `agent.port`. */
  port: number;
  /** The app and component the agent's metrics are labelled with (GRAFT_APP, GRAFT_COMPONENT). */
  app?: string;
  component?: string;
  /** PNDA's data logger (GRAFT_PUSH_URL), with the pod's name as the replica (GRAFT_POD_NAME). */
  pushUrl?: string;
};

/** The platform variable PNDA's deployment manager handed apps as the console's data logger. */
export const PLATFORM_PUSH_URL = "metric_logger_url";
const HTTP_URL = /^https?:\/\/[^\s]+$/;

function hasOwnScrapeAnnotations(annotations: Record<string, string> | undefined, port: number): boolean {
  return Object.entries(scrapeAnnotations(port)).some(
    ([key, value]) => annotations?.[key] !== undefined && annotations[key] !== value,
  );
}

/** Kubernetes advises warnings of at most 120 characters. */
export const SCRAPE_WARNING = `graft: pod has its own prometheus.io annotations, kept; scrape ${AGENT_CONTAINER} port ${AGENT_PORT_NAME} with a PodMonitor`;

/** The app container (not graft's) that already claims the agent's port, if any: the agent could not bind it. */
function portTakenBy(pod: PlanInput["pod"], agentPort: number): string | undefined {
  const containers = [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])];
  return containers.find(
    (c) => c.name !== AGENT_CONTAINER && (c.ports ?? []).some((port) => port.containerPort === agentPort),
  )?.name;
}

/** Where the agents push: config `agent.pushUrl`, else graft-platform's `metric_logger_url` when it is an http(s) URL. */
function pushUrlOf(facts: PlanInput["facts"]): { url?: string; warning?: string } {
  if (facts.config.agent.pushUrl !== undefined) return { url: facts.config.agent.pushUrl };
  const platform = facts.properties?.platform.get(PLATFORM_PUSH_URL);
  if (platform === undefined || platform === "") return {};
  if (HTTP_URL.test(platform)) return { url: platform };
  return {
    warning: `graft: ${AGENT_CONTAINER} does not push: graft-platform's ${PLATFORM_PUSH_URL} is not an http(s) URL`,
  };
}

/** Kubernetes advises warnings of at most 120 characters. */
export const NO_CHECKS_WARNING = `graft: ${AGENT_CONTAINER} not injected: no checks (component type generic, no ${ANNOTATION.checks})`;

export function planAgent({
  pod,
  intent,
  facts,
  componentType,
  app,
  component,
}: PlanInput): FeaturePlan<AgentParams> {
  if (intent.health === false)
    return { skip: reason("disabled", `annotation "${ANNOTATION.health}" is "false"`) };
  const restartPolicy = pod.spec?.restartPolicy ?? "Always";
  if (!facts.nativeSidecars && restartPolicy !== "Always") {
    const why = `the pod's restartPolicy is ${restartPolicy} and native sidecars are off: a regular ${AGENT_CONTAINER} container would keep it from completing`;
    const warning = `graft: ${AGENT_CONTAINER} not injected: restartPolicy ${restartPolicy} needs native sidecars (Kubernetes ≥ 1.29)`;
    return { skip: reason("needs-native-sidecars", why), warnings: [warning] };
  }
  const defaults = defaultChecks(componentType, pod);
  const checks: AgentParams["checks"] =
    intent.checksConfigMap !== undefined
      ? { configMap: intent.checksConfigMap, defaults }
      : { inline: withDefaults(defaults, intent.checks ?? []) };
  if ("inline" in checks && checks.inline.length === 0) {
    const fix = `add "${ANNOTATION.checks}" or "${ANNOTATION.checksConfigMap}", or set "${ANNOTATION.componentType}" to a type with default checks (sparkStreaming, flinkStreaming, jupyter)`;
    if (intent.health === true) {
      return {
        deny: [
          reason(
            "no-checks",
            `annotation "${ANNOTATION.health}" is "true" but the pod has no checks: ${fix}`,
          ),
        ],
      };
    }
    return {
      skip: reason("no-checks", `no checks to run (component type ${componentType}): ${fix}`),
      warnings: [NO_CHECKS_WARNING],
    };
  }
  const port = intent.agentPort ?? facts.config.agent.port;
  // Only a pod that gets an agent can clash with it.
  const taken = portTakenBy(pod, port);
  if (taken) {
    const fix =
      intent.agentPort === undefined
        ? `set annotation "${ANNOTATION.agentPort}" to a free port for ${AGENT_CONTAINER}`
        : `change annotation "${ANNOTATION.agentPort}" to a free port`;
    return {
      deny: [
        reason(
          "port-taken",
          `container "${taken}" already uses port ${port}, which ${AGENT_CONTAINER} listens on: ${fix}, or set annotation "${ANNOTATION.health}" to "false"`,
        ),
      ],
    };
  }
  const scrape = !hasOwnScrapeAnnotations(pod.metadata?.annotations, port);
  const push = pushUrlOf(facts);
  const warnings = [...(scrape ? [] : [SCRAPE_WARNING]), ...(push.warning ? [push.warning] : [])];
  const { image, resources } = facts.config.agent;
  return {
    apply: {
      image,
      resources: { requests: { ...resources.requests }, limits: { ...resources.limits } },
      native: facts.nativeSidecars,
      checks,
      scrape,
      port,
      ...(app !== undefined ? { app } : {}),
      ...(component !== undefined ? { component } : {}),
      ...(push.url !== undefined ? { pushUrl: push.url } : {}),
    },
    ...(warnings.length > 0 ? { warnings } : {}),
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
      String(params.port),
      ...(fromConfigMap ? ["--checks", `${AGENT_CHECKS_DIR}/${CHECKS_CONFIGMAP_KEY}`] : []),
    ],
    env: [
      ...("inline" in params.checks
        ? [{ name: "GRAFT_CHECKS", value: JSON.stringify(params.checks.inline) }]
        : params.checks.defaults.length > 0
          ? [{ name: "GRAFT_CHECKS", value: JSON.stringify(params.checks.defaults) }]
          : []),
      fieldEnv("POD_NAME", "metadata.name"),
      fieldEnv("POD_NAMESPACE", "metadata.namespace"),
      ...(params.app !== undefined ? [{ name: "GRAFT_APP", value: params.app }] : []),
      ...(params.component !== undefined ? [{ name: "GRAFT_COMPONENT", value: params.component }] : []),
      ...(params.pushUrl !== undefined
        ? [{ name: "GRAFT_PUSH_URL", value: params.pushUrl }, fieldEnv("GRAFT_POD_NAME", "metadata.name")]
        : []),
    ],
    ports: [{ name: AGENT_PORT_NAME, containerPort: params.port, protocol: "TCP" }],
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
    for (const [key, value] of Object.entries(scrapeAnnotations(params.port)))
      ensureAnnotation(pod, key, value);
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
