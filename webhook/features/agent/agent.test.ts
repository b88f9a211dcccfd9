import { describe, expect, it } from "vitest";
import { parseChecksSpec } from "../../../core/checks.js";
import { defaultWebhookConfig } from "../../model/config.js";
import type { PlanInput } from "../../model/feature.js";
import type { PodLike } from "../../model/kube.js";
import { type AgentParams, agentContainer, planAgent, renderAgent, SCRAPE_WARNING } from "./agent.js";

const params = (extra: Partial<AgentParams> = {}): AgentParams => ({
  image: "ghcr.io/graft/graft:0.1.0",
  resources: { requests: { cpu: "10m", memory: "64Mi" }, limits: { cpu: "200m", memory: "128Mi" } },
  native: true,
  checks: { inline: [{ name: "api", type: "http", url: "http://api:8080/healthz" }] },
  scrape: true,
  ...extra,
});

const appPod = (): PodLike => ({
  metadata: { generateName: "web-", annotations: { team: "shop" } },
  spec: {
    initContainers: [{ name: "migrate", image: "flyway" }],
    containers: [{ name: "web", image: "nginx" }],
  },
});

function planInput(pod: PodLike, nativeSidecars = true): PlanInput {
  return {
    pod,
    namespace: "shop",
    intent: {},
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
    const container = agentContainer(params({ checks: { configMap: "shop-checks" } }));
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
    renderAgent(pod, params({ checks: { configMap: "shop-checks" } }));
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
    renderAgent(pod, params({ checks: { configMap: "shop-checks" } }));
    const agent = pod.spec?.initContainers?.find((c) => c.name === "graft-agent");
    expect(agent?.volumeMounts).toEqual([
      { name: "graft-agent-checks", mountPath: "/etc/graft-agent", readOnly: true },
      token,
    ]);
    const again = structuredClone(pod);
    renderAgent(again, params({ checks: { configMap: "shop-checks" } }));
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
            'container "web" already uses port 9464, which graft-agent listens on: move that port, or set annotation "graft.pnda.io/health" to "false"',
        },
      ],
    });
  });
});
