import { describe, expect, it } from "vitest";
import { parseChecksSpec } from "../../../core/checks.js";
import { defaultWebhookConfig } from "../../model/config.js";
import type { PlanInput } from "../../model/feature.js";
import type { PodLike } from "../../model/kube.js";
import {
  type AgentParams,
  agentContainer,
  NO_CHECKS_WARNING,
  planAgent,
  renderAgent,
  SCRAPE_WARNING,
} from "./agent.js";

const params = (extra: Partial<AgentParams> = {}): AgentParams => ({
  image: "ghcr.io/graft/graft:0.1.0",
  resources: { requests: { cpu: "10m", memory: "64Mi" }, limits: { cpu: "200m", memory: "128Mi" } },
  native: true,
  checks: { inline: [{ name: "api", type: "http", url: "http://api:8080/healthz" }] },
  scrape: true,
  port: 9464,
  ...extra,
});

const appPod = (): PodLike => ({
  metadata: { generateName: "web-", annotations: { team: "shop" } },
  spec: {
    initContainers: [{ name: "migrate", image: "flyway" }],
    containers: [{ name: "web", image: "nginx" }],
  },
});

const apiCheck = { name: "api", type: "http" as const, url: "http://api:8080/healthz" };

function planInput(pod: PodLike, nativeSidecars = true): PlanInput {
  return {
    pod,
    namespace: "shop",
    intent: { checks: [apiCheck] },
    componentType: "generic",
    app: undefined,
    component: undefined,
    facts: { config: defaultWebhookConfig(), nativeSidecars },
  };
}

describe("agentContainer", () => {
  it("is a hardened native sidecar running `graft agent` with its checks and the pod's identity", () => {
    expect(agentContainer(params())).toEqual({
      name: "graft-agent",
      image: "ghcr.io/graft/graft:0.1.0",
      imagePullPolicy: "IfNotPresent",
      command: [
        "/nodejs/bin/node",
        "--lite-mode",
        "--max-semi-space-size=1",
        "--max-old-space-size=48",
        "--expose-gc",
        "/app/bin/graft.js",
      ],
      args: ["agent", "--port", "9464"],
      env: [
        { name: "GRAFT_CHECKS", value: '[{"name":"api","type":"http","url":"http://api:8080/healthz"}]' },
        { name: "POD_NAME", valueFrom: { fieldRef: { apiVersion: "v1", fieldPath: "metadata.name" } } },
        {
          name: "POD_NAMESPACE",
          valueFrom: { fieldRef: { apiVersion: "v1", fieldPath: "metadata.namespace" } },
        },
      ],
      ports: [{ name: "graft-metrics", containerPort: 9464, protocol: "TCP" }],
      resources: { requests: { cpu: "10m", memory: "64Mi" }, limits: { cpu: "200m", memory: "128Mi" } },
      securityContext: {
        runAsNonRoot: true,
        runAsUser: 65532,
        runAsGroup: 65532,
        readOnlyRootFilesystem: true,
        allowPrivilegeEscalation: false,
        privileged: false,
        capabilities: { drop: ["ALL"] },
        seccompProfile: { type: "RuntimeDefault" },
      },
      restartPolicy: "Always",
      startupProbe: {
        httpGet: { path: "/healthz", port: "graft-metrics", scheme: "HTTP" },
        periodSeconds: 1,
        timeoutSeconds: 2,
        failureThreshold: 30,
      },
      readinessProbe: {
        httpGet: { path: "/readyz", port: "graft-metrics", scheme: "HTTP" },
        periodSeconds: 10,
        timeoutSeconds: 2,
        failureThreshold: 3,
      },
      livenessProbe: {
        httpGet: { path: "/healthz", port: "graft-metrics", scheme: "HTTP" },
        periodSeconds: 20,
        timeoutSeconds: 2,
        failureThreshold: 3,
      },
    });
  });

  it("passes GRAFT_CHECKS that the agent's own parser accepts", () => {
    const env = agentContainer(params()).env?.find((e) => e.name === "GRAFT_CHECKS");
    expect(parseChecksSpec(env?.value ?? "").ok).toBe(true);
  });

  it("as a regular container has neither restartPolicy nor startupProbe", () => {
    const container = agentContainer(params({ native: false }));
    expect(container.restartPolicy).toBeUndefined();
    expect(container.startupProbe).toBeUndefined();
  });

  it("reads checks from a mounted ConfigMap file instead of the environment", () => {
    const container = agentContainer(params({ checks: { configMap: "shop-checks", defaults: [] } }));
    expect(container.args).toEqual(["agent", "--port", "9464", "--checks", "/etc/graft-agent/checks.yaml"]);
    expect(container.env?.map((e) => e.name)).toEqual(["POD_NAME", "POD_NAMESPACE"]);
    expect(container.volumeMounts).toEqual([
      { name: "graft-agent-checks", mountPath: "/etc/graft-agent", readOnly: true },
    ]);
  });
});

describe("renderAgent", () => {
  it("appends a native sidecar after the pod's own init containers, and the scrape annotations", () => {
    const pod = appPod();
    renderAgent(pod, params());
    expect(pod.spec?.initContainers?.map((c) => c.name)).toEqual(["migrate", "graft-agent"]);
    expect(pod.spec?.containers.map((c) => c.name)).toEqual(["web"]);
    expect(pod.metadata?.annotations).toEqual({
      team: "shop",
      "prometheus.io/scrape": "true",
      "prometheus.io/port": "9464",
      "prometheus.io/path": "/metrics",
    });
  });

  it("appends a regular container when native sidecars are off", () => {
    const pod = appPod();
    renderAgent(pod, params({ native: false }));
    expect(pod.spec?.containers.map((c) => c.name)).toEqual(["web", "graft-agent"]);
    expect(pod.spec?.initContainers?.map((c) => c.name)).toEqual(["migrate"]);
  });

  it("creates the init container list and annotations when the pod has none", () => {
    const pod: PodLike = { spec: { containers: [{ name: "web" }] } };
    renderAgent(pod, params());
    expect(pod.spec?.initContainers?.map((c) => c.name)).toEqual(["graft-agent"]);
    expect(pod.metadata?.annotations?.["prometheus.io/scrape"]).toBe("true");
  });

  it("mounts the checks ConfigMap as a volume", () => {
    const pod = appPod();
    renderAgent(pod, params({ checks: { configMap: "shop-checks", defaults: [] } }));
    expect(pod.spec?.volumes).toEqual([{ name: "graft-agent-checks", configMap: { name: "shop-checks" } }]);
  });

  it("is an ensure: rendering twice is rendering once", () => {
    const once = appPod();
    renderAgent(once, params());
    const twice = structuredClone(once);
    renderAgent(twice, params());
    expect(twice).toEqual(once);
  });

  it("keeps an agent the API server has filled defaults into", () => {
    const pod = appPod();
    renderAgent(pod, params());
    const agent = pod.spec?.initContainers?.[1];
    Object.assign(agent ?? {}, {
      terminationMessagePath: "/dev/termination-log",
      terminationMessagePolicy: "File",
    });
    const defaulted = structuredClone(pod);
    renderAgent(pod, params());
    expect(pod).toEqual(defaulted);
  });

  it("mounts the ServiceAccount token as the API server's plugin would, so the plugin changes nothing after graft", () => {
    const token = {
      name: "kube-api-access-x7k2p",
      readOnly: true,
      mountPath: "/var/run/secrets/kubernetes.io/serviceaccount",
    };
    const pod = appPod();
    pod.spec!.containers[0]!.volumeMounts = [token];
    renderAgent(pod, params({ checks: { configMap: "shop-checks", defaults: [] } }));
    const agent = pod.spec?.initContainers?.find((c) => c.name === "graft-agent");
    expect(agent?.volumeMounts).toEqual([
      { name: "graft-agent-checks", mountPath: "/etc/graft-agent", readOnly: true },
      token,
    ]);
    const again = structuredClone(pod);
    renderAgent(again, params({ checks: { configMap: "shop-checks", defaults: [] } }));
    expect(again).toEqual(pod);

    const opted = appPod();
    opted.spec!.automountServiceAccountToken = false;
    opted.spec!.containers[0]!.volumeMounts = [token];
    renderAgent(opted, params());
    expect(opted.spec?.initContainers?.find((c) => c.name === "graft-agent")?.volumeMounts).toBeUndefined();
  });

  it("replaces an outdated agent in place and moves one from the wrong list", () => {
    const pod = appPod();
    renderAgent(pod, params({ native: false }));
    pod.spec?.containers.push({ name: "later", image: "x" });
    renderAgent(pod, params({ native: false, image: "ghcr.io/graft/graft:0.2.0" }));
    expect(pod.spec?.containers.map((c) => [c.name, c.image])).toEqual([
      ["web", "nginx"],
      ["graft-agent", "ghcr.io/graft/graft:0.2.0"],
      ["later", "x"],
    ]);
    renderAgent(pod, params());
    expect(pod.spec?.containers.map((c) => c.name)).toEqual(["web", "later"]);
    expect(pod.spec?.initContainers?.map((c) => c.name)).toEqual(["migrate", "graft-agent"]);
  });
});

describe("planAgent", () => {
  it("leaves the pod's own prometheus.io annotations alone, with a warning", () => {
    const pod = appPod();
    pod.metadata!.annotations = { "prometheus.io/scrape": "true", "prometheus.io/port": "8080" };
    const plan = planAgent(planInput(pod));
    expect(plan).toMatchObject({ apply: { scrape: false }, warnings: [SCRAPE_WARNING] });
    expect(SCRAPE_WARNING.length).toBeLessThanOrEqual(120);
  });

  it("does not warn about the scrape annotations graft itself wrote", () => {
    const pod = appPod();
    renderAgent(pod, params());
    const plan = planAgent(planInput(pod));
    expect(plan).toMatchObject({ apply: { scrape: true } });
    expect("warnings" in plan && plan.warnings).toBeFalsy();
  });

  it("takes the image and resources from the config", () => {
    const plan = planAgent(planInput(appPod(), false));
    expect(plan).toMatchObject({ apply: { image: "ghcr.io/graft/graft:0.1.0", native: false } });
  });

  it("denies a pod whose own container already uses the agent's port, saying how to fix it", () => {
    const pod = appPod();
    pod.spec!.containers[0]!.ports = [{ containerPort: 9464 }];
    expect(planAgent(planInput(pod))).toEqual({
      deny: [
        {
          code: "port-taken",
          message:
            'container "web" already uses port 9464, which graft-agent listens on: set annotation "graft.pnda.io/agent-port" to a free port for graft-agent, or set annotation "graft.pnda.io/health" to "false"',
        },
      ],
    });
  });

  it("listens on the pod's graft.pnda.io/agent-port, which takes the clash away", () => {
    const pod = appPod();
    pod.spec!.containers[0]!.ports = [{ containerPort: 9464 }];
    const input = { ...planInput(pod), intent: { checks: [apiCheck], agentPort: 9500 } };
    const plan = planAgent(input);
    expect(plan).toMatchObject({ apply: { port: 9500, scrape: true } });
    if (!("apply" in plan)) throw new Error("not applied");
    renderAgent(pod, plan.apply);
    const agent = pod.spec?.initContainers?.find((c) => c.name === "graft-agent");
    expect(agent?.args).toEqual(["agent", "--port", "9500"]);
    expect(agent?.ports).toEqual([{ name: "graft-metrics", containerPort: 9500, protocol: "TCP" }]);
    // The probes and the PodMonitor name the port, so they follow it.
    expect(agent?.readinessProbe?.httpGet?.port).toBe("graft-metrics");
    expect(pod.metadata?.annotations?.["prometheus.io/port"]).toBe("9500");
  });

  it("listens on the config's agent.port when the pod says nothing", () => {
    const input = planInput(appPod());
    input.facts = {
      ...input.facts,
      config: { ...input.facts.config, agent: { ...input.facts.config.agent, port: 9600 } },
    };
    expect(planAgent(input)).toMatchObject({ apply: { port: 9600 } });
  });

  it("denies a clash with the annotation's port too, saying to change it", () => {
    const pod = appPod();
    pod.spec!.containers[0]!.ports = [{ containerPort: 9500 }];
    expect(planAgent({ ...planInput(pod), intent: { checks: [apiCheck], agentPort: 9500 } })).toEqual({
      deny: [
        {
          code: "port-taken",
          message:
            'container "web" already uses port 9500, which graft-agent listens on: change annotation "graft.pnda.io/agent-port" to a free port, or set annotation "graft.pnda.io/health" to "false"',
        },
      ],
    });
  });

  it("does not warn about the scrape annotations graft wrote for another port", () => {
    const pod = appPod();
    renderAgent(pod, params({ port: 9500 }));
    const plan = planAgent({ ...planInput(pod), intent: { checks: [apiCheck], agentPort: 9500 } });
    expect(plan).toMatchObject({ apply: { scrape: true } });
  });
});

describe("planAgent: default checks by component type", () => {
  const input = (extra: Partial<PlanInput>, pod: PodLike = appPod()): PlanInput => ({
    ...planInput(pod),
    intent: {},
    ...extra,
  });
  const inline = (plan: ReturnType<typeof planAgent>) =>
    "apply" in plan && "inline" in plan.apply.checks ? plan.apply.checks.inline : undefined;

  it("gives no agent to a generic pod without checks, with a warning that says why", () => {
    const plan = planAgent(input({}));
    expect(plan).toMatchObject({ skip: { code: "no-checks" }, warnings: [NO_CHECKS_WARNING] });
    expect(NO_CHECKS_WARNING.length).toBeLessThanOrEqual(120);
  });

  it('denies health "true" without checks, naming the fix', () => {
    const plan = planAgent(input({ intent: { health: true } }));
    expect(plan).toEqual({
      deny: [
        {
          code: "no-checks",
          message:
            'annotation "graft.pnda.io/health" is "true" but the pod has no checks: add "graft.pnda.io/checks" or "graft.pnda.io/checks-configmap", or set "graft.pnda.io/component-type" to a type with default checks (sparkStreaming, flinkStreaming, jupyter)',
        },
      ],
    });
  });

  it("checks a sparkStreaming pod's own driver, and the annotation's checks add to it", () => {
    const plan = planAgent(input({ componentType: "sparkStreaming", intent: { checks: [apiCheck] } }));
    expect(inline(plan)).toEqual([
      {
        name: "spark-driver",
        type: "spark",
        mode: "streaming",
        url: "http://127.0.0.1:4040",
        source: "spark",
      },
      apiCheck,
    ]);
  });

  it("lets an annotation check named as a default replace it", () => {
    const own = {
      name: "spark-driver",
      type: "spark" as const,
      mode: "streaming" as const,
      url: "http://127.0.0.1:4041",
    };
    const plan = planAgent(input({ componentType: "sparkStreaming", intent: { checks: [own] } }));
    expect(inline(plan)).toEqual([own]);
  });

  it("checks a flinkStreaming pod's JobManager for a RUNNING job", () => {
    expect(inline(planAgent(input({ componentType: "flinkStreaming" })))).toEqual([
      {
        name: "flink-jobmanager",
        type: "flink",
        url: "http://127.0.0.1:8081",
        requireRunningJob: true,
        source: "flink",
      },
    ]);
  });

  it("checks a jupyter pod's single-user server under JupyterHub's service prefix and port", () => {
    const pod: PodLike = {
      spec: {
        containers: [
          {
            name: "notebook",
            env: [
              { name: "JUPYTERHUB_SERVICE_PREFIX", value: "/user/alice/" },
              { name: "JUPYTERHUB_SERVICE_URL", value: "http://0.0.0.0:8890/user/alice/" },
            ],
          },
        ],
      },
    };
    expect(inline(planAgent(input({ componentType: "jupyter" }, pod)))).toEqual([
      {
        name: "jupyter-server",
        type: "http",
        url: "http://127.0.0.1:8890/user/alice/api",
        expectStatus: [200],
        bodyMatch: '"version"',
        source: "jupyter",
      },
    ]);
  });

  it("reads a hostile service prefix as the root, never into the URL", () => {
    const pod: PodLike = {
      spec: {
        containers: [
          { name: "nb", env: [{ name: "JUPYTERHUB_SERVICE_PREFIX", value: "//evil.example/ x" }] },
        ],
      },
    };
    expect(inline(planAgent(input({ componentType: "jupyter" }, pod)))?.[0]).toMatchObject({
      url: "http://127.0.0.1:8888/api",
    });
  });

  it("with a checks ConfigMap, keeps the defaults beside it for the agent to add", () => {
    const plan = planAgent(
      input({ componentType: "flinkStreaming", intent: { checksConfigMap: "app-checks" } }),
    );
    expect(plan).toMatchObject({
      apply: { checks: { configMap: "app-checks", defaults: [{ name: "flink-jobmanager" }] } },
    });
    const generic = planAgent(input({ intent: { checksConfigMap: "app-checks" } }));
    expect(generic).toMatchObject({ apply: { checks: { configMap: "app-checks", defaults: [] } } });
  });
});

describe("planAgent: app, component and push", () => {
  const fieldRef = (fieldPath: string) => ({ fieldRef: { apiVersion: "v1", fieldPath } });
  const envOf = (input: PlanInput) => {
    const plan = planAgent(input);
    if (!("apply" in plan)) throw new Error("expected the agent to apply");
    return agentContainer(plan.apply).env ?? [];
  };

  it("passes the app and component to the agent", () => {
    const env = envOf({ ...planInput(appPod()), app: "shop", component: "web" });
    expect(env).toEqual(
      expect.arrayContaining([
        { name: "GRAFT_APP", value: "shop" },
        { name: "GRAFT_COMPONENT", value: "web" },
      ]),
    );
  });

  it("pushes to graft-platform's metric_logger_url, naming the replica by the pod's name", () => {
    const base = planInput(appPod());
    const facts = {
      ...base.facts,
      properties: {
        platform: new Map([["metric_logger_url", "http://console:3001/metrics"]]),
        configMaps: new Map(),
      },
    };
    const env = envOf({ ...base, facts });
    expect(env.slice(-2)).toEqual([
      { name: "GRAFT_PUSH_URL", value: "http://console:3001/metrics" },
      { name: "GRAFT_POD_NAME", valueFrom: fieldRef("metadata.name") },
    ]);
  });

  it("prefers config agent.pushUrl to the platform variable", () => {
    const base = planInput(appPod());
    const config = defaultWebhookConfig();
    config.agent.pushUrl = "https://logger.example/metrics";
    const facts = {
      ...base.facts,
      config,
      properties: {
        platform: new Map([["metric_logger_url", "http://console:3001/metrics"]]),
        configMaps: new Map(),
      },
    };
    expect(envOf({ ...base, facts })).toContainEqual({
      name: "GRAFT_PUSH_URL",
      value: "https://logger.example/metrics",
    });
  });

  it("does not push, and warns, when metric_logger_url is not an http(s) URL (the agent would refuse to start)", () => {
    const base = planInput(appPod());
    const facts = {
      ...base.facts,
      properties: { platform: new Map([["metric_logger_url", "console:3001"]]), configMaps: new Map() },
    };
    const plan = planAgent({ ...base, facts });
    expect(plan).toMatchObject({
      warnings: [
        "graft: graft-agent does not push: graft-platform's metric_logger_url is not an http(s) URL",
      ],
    });
    expect(envOf({ ...base, facts }).map((e) => e.name)).not.toContain("GRAFT_PUSH_URL");
  });

  it("does not push without a push URL", () => {
    expect(envOf(planInput(appPod())).map((e) => e.name)).toEqual([
      "GRAFT_CHECKS",
      "POD_NAME",
      "POD_NAMESPACE",
    ]);
  });
});
