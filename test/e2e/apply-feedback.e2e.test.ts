// What `kubectl apply` of a workload tells its author, through the real kube-apiserver: the
// webhook runs in this process wired as `graft webhook` wires it (the watched Namespaces, the
// properties feature reading ConfigMaps), registered by URL and confined to this run's namespaces.
// A missing properties-configmap is a warning (it may be created next); a container on the
// agent's port is denied with the annotation that fixes it, and that annotation moves the agent.
import type { AddressInfo } from "node:net";
import * as k8s from "@kubernetes/client-node";
import { Registry } from "prom-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { createAuthority, issueServingCert } from "../../certs/authority.js";
import { LABEL_INJECT } from "../../core/annotations.js";
import { renderMutatingWebhookConfiguration } from "../../webhook/install/webhook-configuration.js";
import { createObjectsIfAbsent } from "../../webhook/io/ensure-objects.js";
import {
  createNamespaceCache,
  namespaceInformer,
  namespaceReader,
} from "../../webhook/io/namespace-cache.js";
import { createPropertiesRuntime, type PropertiesRuntime } from "../../webhook/io/properties/runtime.js";
import { defaultWebhookConfig } from "../../webhook/model/config.js";
import { excludedNamespaces } from "../../webhook/pipeline/plan.js";
import { buildWebhookServer } from "../../webhook/server/server.js";
import { createAdmissionService } from "../../webhook/service/admission-service.js";
import { eventually, graftClient, kubeConfig, kubectl, uniqueName } from "./kube.js";

const AGENT = "graft-agent";
const RUN_LABEL = "graft.pnda.io/e2e-run";
const VALIDATOR = 'admission webhook "workloads.validate.graft.pnda.io"';

describe("kubectl apply of a workload: graft's feedback at apply time", () => {
  const kc = kubeConfig();
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const admission = kc.makeApiClient(k8s.AdmissionregistrationV1Api);
  const run = uniqueName("fb");
  const graftNamespace = uniqueName("graft-fb-sys");
  const labelled = uniqueName("graft-fb-on");
  const unlabelled = uniqueName("graft-fb-off");
  const configurationName = `graft-fb-e2e-${run}`;
  const config = { ...defaultWebhookConfig(), namespace: graftNamespace };
  const namespaces = createNamespaceCache(namespaceInformer(graftClient(kc)), {
    excluded: excludedNamespaces({ config, nativeSidecars: true }),
    read: namespaceReader(graftClient(kc)),
  });
  let properties: PropertiesRuntime | undefined;
  let app: ReturnType<typeof buildWebhookServer> | undefined;

  beforeAll(async () => {
    for (const [name, labels] of [
      [graftNamespace, { [RUN_LABEL]: run }],
      [labelled, { [LABEL_INJECT]: "enabled", [RUN_LABEL]: run }],
      [unlabelled, { [RUN_LABEL]: run }],
    ] as const) {
      await core.createNamespace({ body: { metadata: { name, labels } } });
      await eventually(`ServiceAccount default in ${name}`, () =>
        core.readNamespacedServiceAccount({ name: "default", namespace: name }).then(() => true),
      );
    }
    await core.createNamespacedConfigMap({
      namespace: graftNamespace,
      body: { metadata: { name: "graft-platform" }, data: { "kafka.brokers": "kafka:9092" } },
    });
    const now = new Date();
    const ca = createAuthority({ now, commonName: `graft-fb-${run}` });
    const tls = issueServingCert(ca, { ipAddresses: ["127.0.0.1"], now });
    const registry = new Registry();
    properties = createPropertiesRuntime({ config, registry, client: graftClient(kc), cleanup: false });
    await Promise.all([namespaces.start(), properties.start()]);
    app = buildWebhookServer({
      admission: createAdmissionService({
        config,
        nativeSidecars: true,
        namespaces,
        properties,
        createObjects: createObjectsIfAbsent(graftClient(kc)),
      }),
      registry,
      tls,
      logger: false,
    });
    await app.listen({ host: "127.0.0.1", port: 0 });
    const url = `https://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    await admission.createMutatingWebhookConfiguration({
      body: renderMutatingWebhookConfiguration({
        name: configurationName,
        target: { url },
        caBundle: ca.cert,
        graftNamespace,
        onlyNamespacesLabelled: { [RUN_LABEL]: run },
      }),
    });
    // The API server picks the configuration up asynchronously: wait for the workload validator
    // to answer a server-side dry run with graft's denial.
    await eventually(
      "the workload validator to be in use",
      async () => {
        const probe = await kubectl(
          ["apply", "--dry-run=server", "-n", labelled, "-f", "-"],
          stringify(deployment("probe", { "graft.pnda.io/health": "maybe" })),
        );
        return probe.stderr.includes(VALIDATOR);
      },
      { timeoutMs: 60_000 },
    );
  });

  afterAll(async () => {
    await admission.deleteMutatingWebhookConfiguration({ name: configurationName }).catch(() => undefined);
    for (const namespace of [labelled, unlabelled, graftNamespace]) {
      await core.deleteNamespace({ name: namespace }).catch(() => undefined);
    }
    await app?.close();
    await properties?.stop();
    await namespaces.stop();
  });

  function deployment(
    name: string,
    annotations: Record<string, string>,
    ports: k8s.V1ContainerPort[] = [],
  ): k8s.V1Deployment & { apiVersion: string; kind: string } {
    return {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name },
      spec: {
        replicas: 1,
        selector: { matchLabels: { app: name } },
        template: {
          metadata: { labels: { app: name }, annotations },
          spec: {
            containers: [{ name: "main", image: "registry.invalid/app:1", ports }],
            terminationGracePeriodSeconds: 0,
          },
        },
      },
    };
  }

  const spark = (configMap: string) => ({
    "graft.pnda.io/component-type": "sparkStreaming",
    "graft.pnda.io/component": "scorer",
    "graft.pnda.io/properties-configmap": configMap,
  });

  const apply = (namespace: string, object: object) =>
    kubectl(["apply", "-n", namespace, "-f", "-"], stringify(object));

  it("warns at apply, and admits, a Deployment naming a properties-configmap that does not exist", async () => {
    const result = await apply(labelled, deployment("scorer", spark("scorer-props")));
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain("deployment.apps/scorer created");
    expect(result.stderr).toContain(
      `Warning: graft: annotation "graft.pnda.io/properties-configmap" names ConfigMap "scorer-props", which does not exist in namespace "${labelled}": create it, or remove the annotation; until then its pods are denied (properties-source-missing)`,
    );
    expect((await kubectl(["get", "deployment", "scorer", "-n", labelled])).code).toBe(0);
  });

  it("says nothing once the ConfigMap exists", async () => {
    await core.createNamespacedConfigMap({
      namespace: labelled,
      body: { metadata: { name: "present-props" }, data: { "application.properties": "batch=5\n" } },
    });
    const result = await apply(labelled, deployment("present", spark("present-props")));
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).not.toContain("Warning");
  });

  it("reads nothing and says nothing where the namespace did not opt in", async () => {
    const result = await apply(unlabelled, deployment("elsewhere", spark("scorer-props")));
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).not.toContain("Warning");
  });

  it("denies at apply a Deployment whose container uses the agent's port, naming the annotation that fixes it", async () => {
    const clash = deployment(
      "metrics-app",
      {
        "graft.pnda.io/component-type": "generic",
        "graft.pnda.io/checks": '[{"name":"web","type":"tcp","host":"127.0.0.1","port":80}]',
      },
      [{ name: "metrics", containerPort: 9464 }],
    );
    const denied = await apply(labelled, clash);
    expect(denied.code).not.toBe(0);
    expect(denied.stderr).toContain(`${VALIDATOR} denied the request`);
    expect(denied.stderr).toContain(
      'container "main" already uses port 9464, which graft-agent listens on: set annotation "graft.pnda.io/agent-port" to a free port for graft-agent, or set annotation "graft.pnda.io/health" to "false"',
    );
    expect((await kubectl(["get", "deployment", "metrics-app", "-n", labelled])).code).not.toBe(0);

    // The fix the message names: its pods get the agent on that port, named for the PodMonitor.
    const fixed = structuredClone(clash);
    fixed.spec!.template.metadata!.annotations!["graft.pnda.io/agent-port"] = "9465";
    const admitted = await apply(labelled, fixed);
    expect(admitted.code, admitted.stderr).toBe(0);
    const pod = await eventually("a pod of metrics-app", async () => {
      const pods = await core.listNamespacedPod({ namespace: labelled, labelSelector: "app=metrics-app" });
      return pods.items[0];
    });
    const agent = [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])].find(
      (c) => c.name === AGENT,
    );
    expect(agent?.ports).toEqual([{ name: "graft-metrics", containerPort: 9465, protocol: "TCP" }]);
    expect(agent?.args).toEqual(["agent", "--port", "9465"]);
    expect(pod.metadata?.annotations?.["prometheus.io/port"]).toBe("9465");
  });
});
