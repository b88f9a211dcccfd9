// Specifications of graft's install manifests (manifests/base, overlays, notebooks, monitoring),
// read as files: every workload is hardened, the config is one the webhook accepts, RBAC never
// reaches Secrets or wildcards, and the objects that name each other agree. Rendering through the
// real kustomize and API server is test/e2e/manifests.e2e.test.ts.
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type {
  V1Container,
  V1Deployment,
  V1NetworkPolicy,
  V1PodDisruptionBudget,
  V1PodSpec,
  V1PolicyRule,
  V1Service,
} from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { parse, parseAllDocuments } from "yaml";
import { MAX_PROPERTIES_BYTES } from "../../webhook/features/properties/configmap.js";
import { renderWritePolicy } from "../../webhook/install/write-policy.js";
import { loadWebhookConfig } from "../../webhook/model/config.js";

const manifests = fileURLToPath(new URL("../../manifests/", import.meta.url));
/** graft's own install; manifests/examples are applications, not graft. */
const INSTALL_DIRS = ["base", "overlays", "components", "notebooks", "monitoring", "console"];

type Manifest = { kind: string; metadata: { name: string; namespace?: string }; [key: string]: unknown };
type Located = { file: string; object: Manifest };

function installObjects(): Located[] {
  const found: Located[] = [];
  for (const dir of INSTALL_DIRS) {
    const files = readdirSync(path.join(manifests, dir), { recursive: true, encoding: "utf8" });
    for (const file of files.filter((f) => f.endsWith(".yaml") || f.endsWith(".yml")).sort()) {
      const relative = path.join(dir, file);
      for (const document of parseAllDocuments(readFileSync(path.join(manifests, relative), "utf8"))) {
        const object = document.toJS() as unknown;
        if (isManifest(object)) found.push({ file: relative, object });
      }
    }
  }
  return found;
}

function isManifest(value: unknown): value is Manifest {
  // kustomization.yaml has a kind too, but no metadata: it is not an object of the cluster.
  return typeof value === "object" && value !== null && "kind" in value && "metadata" in value;
}

/** The pod spec of a Pod, a workload's template or a CronJob's job template. */
function podSpecOf(object: Manifest): V1PodSpec | undefined {
  const spec = object.spec as Record<string, unknown> | undefined;
  if (object.kind === "Pod") return spec as unknown as V1PodSpec;
  if (object.kind === "CronJob") {
    return (spec?.jobTemplate as { spec?: { template?: { spec?: V1PodSpec } } })?.spec?.template?.spec;
  }
  return (spec?.template as { spec?: V1PodSpec } | undefined)?.spec;
}

const objects = installObjects();
const base = objects.filter(({ file }) => file.startsWith(`base${path.sep}`));
const workloads = objects.flatMap(({ file, object }) => {
  const pod = podSpecOf(object);
  return pod ? [{ file, object, pod }] : [];
});
const containers = workloads.flatMap(({ file, object, pod }) =>
  [...(pod.initContainers ?? []), ...pod.containers].map((container) => ({
    where: `${file}: ${object.kind} ${object.metadata.name}, container ${container.name}`,
    pod,
    container,
  })),
);

function one<T>(kind: string, name: string): T {
  const matches = base.filter(({ object }) => object.kind === kind && object.metadata.name === name);
  expect(matches, `${kind} ${name} in manifests/base`).toHaveLength(1);
  return matches[0]!.object as unknown as T;
}

describe("graft's install manifests", () => {
  it("have workloads to check (the walk finds the webhook, the console and the notebook git server)", () => {
    const names = workloads.map(({ object }) => object.metadata.name);
    expect(names).toContain("graft-webhook");
    expect(names).toContain("graft-console");
    expect(names).toContain("deployment-manager-git");
  });

  describe.each(containers)("$where", ({ pod, container }) => {
    const effective = <K extends "runAsNonRoot" | "runAsUser" | "seccompProfile">(key: K) =>
      container.securityContext?.[key] ?? pod.securityContext?.[key];

    it("runs as the non-root uid 65532", () => {
      expect(effective("runAsNonRoot")).toBe(true);
      expect(effective("runAsUser")).toBe(65532);
    });

    it("has a read-only root file system, no privilege escalation and no capabilities", () => {
      const context = container.securityContext;
      expect(context?.readOnlyRootFilesystem).toBe(true);
      expect(context?.allowPrivilegeEscalation).toBe(false);
      expect(context?.privileged ?? false).toBe(false);
      expect(context?.capabilities?.drop).toContain("ALL");
      expect(context?.capabilities?.add ?? []).toEqual([]);
    });

    it("uses the RuntimeDefault seccomp profile", () => {
      expect(effective("seccompProfile")?.type).toBe("RuntimeDefault");
    });

    it("declares CPU and memory requests and a memory limit", () => {
      expect(container.resources?.requests?.cpu).toBeDefined();
      expect(container.resources?.requests?.memory).toBeDefined();
      expect(container.resources?.limits?.memory).toBeDefined();
    });
  });

  it("mount a ServiceAccount token only into the webhook, which needs it for the properties feature", () => {
    const mounting = workloads
      .filter(({ pod }) => pod.automountServiceAccountToken !== false)
      .map(({ object, pod }) => `${object.metadata.name} as ${pod.serviceAccountName}`);
    expect(mounting).toEqual(["graft-webhook as graft"]);
  });

  it("grant nothing on Secrets and no wildcard in any RBAC rule", () => {
    const rules = objects.flatMap(({ file, object }) =>
      ((object.rules as V1PolicyRule[] | undefined) ?? []).map((rule) => ({
        file,
        role: object.metadata.name,
        rule,
      })),
    );
    expect(rules.length).toBeGreaterThan(0);
    for (const { file, role, rule } of rules) {
      const where = `${file}: ${role} ${JSON.stringify(rule)}`;
      expect(rule.resources ?? [], where).not.toContain("secrets");
      for (const field of [
        rule.apiGroups,
        rule.resources,
        rule.verbs,
        rule.resourceNames,
        rule.nonResourceURLs,
      ]) {
        expect(
          (field ?? []).filter((value) => value.includes("*")),
          where,
        ).toEqual([]);
      }
    }
  });
});

describe("manifests/base", () => {
  const kustomization = parse(readFileSync(path.join(manifests, "base/kustomization.yaml"), "utf8")) as {
    resources: string[];
    configMapGenerator: { name: string; files: string[] }[];
  };
  const deployment = one<V1Deployment>("Deployment", "graft-webhook");
  const pod = deployment.spec!.template.spec!;
  const webhook = pod.containers.find((c) => c.name === "webhook") as V1Container;
  const mountPathOf = (volume: string) => webhook.volumeMounts?.find((m) => m.name === volume)?.mountPath;
  const volume = (name: string) => pod.volumes?.find((v) => v.name === name);
  const arg = (flag: string) => webhook.args?.find((a) => a.startsWith(`${flag}=`))?.slice(flag.length + 1);

  it("lists every object file of the folder as a resource", () => {
    const files = readdirSync(path.join(manifests, "base")).filter(
      (f) => f.endsWith(".yaml") && f !== "kustomization.yaml" && f !== "config.yaml",
    );
    expect([...kustomization.resources].sort()).toEqual(files.sort());
  });

  it("generates graft-config from a config.yaml the webhook accepts, for graft's own namespace", () => {
    const generator = kustomization.configMapGenerator.find((g) => g.name === "graft-config");
    expect(generator?.files).toEqual(["config.yaml"]);
    const config = loadWebhookConfig(readFileSync(path.join(manifests, "base/config.yaml"), "utf8"));
    expect(config.namespace).toBe("graft");
    expect(config.agent.image).toBe(webhook.image);
  });

  it("puts every namespaced object in graft, whose namespace is never injected and enforces restricted", () => {
    for (const { object } of base.filter(({ object }) => object.metadata.namespace !== undefined)) {
      expect(object.metadata.namespace, `${object.kind} ${object.metadata.name}`).toBe("graft");
    }
    const namespace = one<{ metadata: { labels: Record<string, string> } }>("Namespace", "graft");
    expect(namespace.metadata.labels["graft.pnda.io/inject"]).toBe("disabled");
    expect(namespace.metadata.labels["pod-security.kubernetes.io/enforce"]).toBe("restricted");
  });

  it("runs two webhook replicas spread over nodes, as the graft ServiceAccount", () => {
    expect(deployment.spec?.replicas).toBe(2);
    expect(pod.serviceAccountName).toBe("graft");
    expect(pod.topologySpreadConstraints?.map((c) => c.topologyKey)).toContain("kubernetes.io/hostname");
    const antiAffinity = pod.affinity?.podAntiAffinity?.preferredDuringSchedulingIgnoredDuringExecution;
    expect(antiAffinity?.[0]?.podAffinityTerm.labelSelector?.matchLabels).toEqual(
      deployment.spec?.selector.matchLabels,
    );
  });

  it("serves on 8443 with the TLS pair and config mounted read-only where the arguments point", () => {
    expect(webhook.args?.[0]).toBe("webhook");
    expect(arg("--port")).toBe("8443");
    expect(webhook.ports?.find((p) => p.name === "https")?.containerPort).toBe(8443);
    expect(volume("tls")?.secret?.secretName).toBe("graft-webhook-tls");
    expect(arg("--tls-cert")).toBe(`${mountPathOf("tls")}/tls.crt`);
    expect(arg("--tls-key")).toBe(`${mountPathOf("tls")}/tls.key`);
    expect(volume("config")?.configMap?.name).toBe("graft-config");
    expect(arg("--config")).toBe(`${mountPathOf("config")}/config.yaml`);
    for (const mount of webhook.volumeMounts ?? []) {
      if (mount.name !== "tmp") expect(mount.readOnly, mount.name).toBe(true);
      // A subPath mount is never updated in place, so renewed certificates would not arrive.
      expect(mount.subPath, mount.name).toBeUndefined();
    }
  });

  it("probes /readyz and /healthz over HTTPS", () => {
    expect(webhook.readinessProbe?.httpGet).toMatchObject({
      scheme: "HTTPS",
      path: "/readyz",
      port: "https",
    });
    expect(webhook.livenessProbe?.httpGet).toMatchObject({
      scheme: "HTTPS",
      path: "/healthz",
      port: "https",
    });
  });

  it("exposes the webhook as graft-webhook:443, the Service the webhook configuration calls", () => {
    const service = one<V1Service>("Service", "graft-webhook");
    expect(service.spec?.selector).toEqual(deployment.spec?.selector.matchLabels);
    expect(service.spec?.ports?.find((p) => p.name === "https")).toMatchObject({
      port: 443,
      targetPort: "https",
    });
    expect(service.spec?.ports?.some((p) => p.name?.includes("metrics"))).toBe(true);
    const configuration = one<{ webhooks: { clientConfig: { service: Record<string, unknown> } }[] }>(
      "MutatingWebhookConfiguration",
      "graft",
    );
    for (const { clientConfig } of configuration.webhooks) {
      expect(clientConfig.service).toMatchObject({ namespace: "graft", name: "graft-webhook", port: 443 });
    }
  });

  it("keeps at least one webhook pod through voluntary disruptions", () => {
    const budget = one<V1PodDisruptionBudget>("PodDisruptionBudget", "graft-webhook");
    expect(budget.spec?.minAvailable).toBe(1);
    expect(budget.spec?.selector?.matchLabels).toEqual(deployment.spec?.selector.matchLabels);
  });

  it("lets traffic reach the webhook's port and nothing else", () => {
    const policy = one<V1NetworkPolicy>("NetworkPolicy", "graft-webhook");
    expect(policy.spec?.podSelector?.matchLabels).toEqual(deployment.spec?.selector.matchLabels);
    expect(policy.spec?.policyTypes).toEqual(["Ingress"]);
    expect(policy.spec?.ingress?.flatMap((rule) => rule.ports?.map((p) => p.port))).toEqual([8443]);
  });

  it("confines graft's writes with write-policy.yaml, what renderWritePolicy renders for graft/graft", () => {
    const documents = parseAllDocuments(
      readFileSync(path.join(manifests, "base/write-policy.yaml"), "utf8"),
    ).map((d) => d.toJS() as unknown);
    const { policy, binding } = renderWritePolicy({ graftNamespace: "graft" });
    expect(documents).toEqual([policy, binding]);
    const text = JSON.stringify(policy);
    expect(text).toContain("system:serviceaccount:graft:graft");
    expect(text).toContain(`<= ${MAX_PROPERTIES_BYTES}`);
    expect(binding.spec.validationActions).toEqual(["Deny"]);
  });

  it("gives graft's ServiceAccount ConfigMap writes only where the policy confines them, and no pod writes", () => {
    const rules = base
      .filter(({ object }) => object.kind === "ClusterRole" || object.kind === "Role")
      .flatMap(({ object }) =>
        (object.rules as V1PolicyRule[]).map((rule) => ({ role: object.metadata.name, rule })),
      );
    const writes = ["create", "update", "patch", "delete", "deletecollection"];
    const writing = rules.filter(({ rule }) => rule.verbs.some((verb) => writes.includes(verb)));
    expect(writing.map(({ role, rule }) => `${role}: ${rule.resources?.join(",")}`)).toEqual([
      "graft-properties: configmaps",
    ]);
    expect(rules.find(({ role }) => role === "graft-namespaces")?.rule.verbs).toEqual([
      "get",
      "list",
      "watch",
    ]);
  });

  it("ships a graft-platform sample with PNDA's platform variables", () => {
    const platform = one<{ data: Record<string, string> }>("ConfigMap", "graft-platform");
    for (const key of ["kafka_brokers", "zookeeper_quorum", "zookeeper_port", "name_node", "opentsdb"]) {
      expect(platform.data[key], key).toBeTruthy();
    }
  });
});

describe("manifests/overlays", () => {
  const read = (file: string) => readFileSync(path.join(manifests, "overlays", file), "utf8");

  it("cert-manager: a CA of graft's own signs graft-webhook.graft.svc into graft-webhook-tls, injected as caBundle", () => {
    const documents = parseAllDocuments(read("cert-manager/certificates.yaml")).map(
      (d) => d.toJS() as Manifest,
    );
    const named = (kind: string, name: string) =>
      documents.find((d) => d.kind === kind && d.metadata.name === name) as
        | (Manifest & { spec: Record<string, unknown> })
        | undefined;
    expect(named("Issuer", "graft-selfsigned")?.spec.selfSigned).toEqual({});
    expect(named("Certificate", "graft-ca")?.spec).toMatchObject({
      isCA: true,
      secretName: "graft-ca",
      issuerRef: { kind: "Issuer", name: "graft-selfsigned" },
    });
    expect(named("Issuer", "graft-ca")?.spec.ca).toEqual({ secretName: "graft-ca" });
    expect(named("Certificate", "graft-webhook")?.spec).toMatchObject({
      secretName: "graft-webhook-tls",
      issuerRef: { kind: "Issuer", name: "graft-ca" },
    });
    expect(named("Certificate", "graft-webhook")?.spec.dnsNames).toContain("graft-webhook.graft.svc");
    expect(read("cert-manager/kustomization.yaml")).toContain(
      "cert-manager.io/inject-ca-from: graft/graft-webhook",
    );
  });

  it("provided-certs: install.sh issues the certificate for the Service's DNS name into graft-webhook-tls", () => {
    const script = read("provided-certs/install.sh");
    expect(script).toMatch(/^namespace=graft$/m);
    expect(script).toMatch(/^service=graft-webhook$/m);
    expect(script).toMatch(/^secret=graft-webhook-tls$/m);
    expect(script).toMatch(/--dns "\$\{service\}\.\$\{namespace\}\.svc"/);
  });
});

describe("manifests/components/webhook-ingress", () => {
  const read = (file: string) =>
    readFileSync(path.join(manifests, "components/webhook-ingress", file), "utf8");

  it("replaces the webhook's any-source ingress with the control plane's CIDR (a placeholder) and Prometheus", () => {
    const kustomization = parse(read("kustomization.yaml")) as { kind: string; patches: { path: string }[] };
    expect(kustomization.kind).toBe("Component");
    expect(kustomization.patches).toEqual([{ path: "networkpolicy.yaml" }]);
    const policy = parse(read("networkpolicy.yaml")) as V1NetworkPolicy;
    expect(policy.metadata).toEqual({ name: "graft-webhook", namespace: "graft" });
    // Read as YAML: the field is `from` (the client's type calls it `_from`).
    const [controlPlane, prometheus] = (policy.spec?.ingress ?? []) as Array<{
      from?: Record<string, unknown>[];
    }>;
    // TEST-NET-1: documentation-only addresses, so an unedited copy admits no real caller.
    expect(controlPlane?.from).toEqual([{ ipBlock: { cidr: "192.0.2.0/24" } }]);
    expect(prometheus?.from?.[0]?.namespaceSelector).toBeDefined();
    for (const rule of policy.spec?.ingress ?? [])
      expect(rule.ports).toEqual([{ port: 8443, protocol: "TCP" }]);
    expect(read("kustomization.yaml")).toContain("path: /spec/ingress/0/from/0/ipBlock/cidr");
  });
});

describe("manifests/notebooks", () => {
  const read = (file: string) => readFileSync(path.join(manifests, "notebooks", file), "utf8");

  it("admits only JupyterHub's single-user servers to the git server's read port", () => {
    const kustomization = parse(read("kustomization.yaml")) as { resources: string[] };
    expect(kustomization.resources).toContain("networkpolicy.yaml");
    const policy = parse(read("networkpolicy.yaml")) as V1NetworkPolicy;
    const deployment = parse(read("deployment.yaml")) as V1Deployment;
    const podLabels = deployment.spec?.template.metadata?.labels ?? {};
    for (const [key, value] of Object.entries(policy.spec?.podSelector?.matchLabels ?? {}))
      expect(podLabels[key], key).toBe(value);
    expect(policy.spec?.policyTypes).toEqual(["Ingress"]);
    // Read as YAML: the field is `from` (the client's type calls it `_from`).
    const ingress = (policy.spec?.ingress ?? []) as Array<{ from?: unknown[]; ports?: unknown[] }>;
    expect(ingress).toEqual([
      {
        from: [{ podSelector: { matchLabels: { component: "singleuser-server" } } }],
        ports: [{ port: 8099, protocol: "TCP" }],
      },
    ]);
  });
});
