// graft's install (manifests/) through the real kustomize (kubectl 1.33) and kube-apiserver:
// every kustomization renders, the API server accepts the base and the provided-certs overlay
// (server-side dry run, admission and Pod Security included), and the base, applied for real,
// gives an Available 2-replica webhook Deployment and its PodDisruptionBudget.
//
// The cluster is shared with other e2e files and other runs, so what is applied is moved to a
// namespace of this run (cluster-scoped names suffixed), and the MutatingWebhookConfiguration is
// only dry-run: registered for real it would send every opted-in pod of the cluster to a webhook
// that kwok never runs (failurePolicy Fail). cert-manager's CRDs are not installed here, so the
// cert-manager overlay's Certificates and Issuers are checked for shape, and the rest of it is
// dry-run like the base.
import * as k8s from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseAllDocuments, stringify } from "yaml";
import { createAuthority, issueServingCert } from "../../certs/authority.js";
import { eventually, isStatus, kubeConfig, kubectl, uniqueName } from "./kube.js";

const KUSTOMIZATIONS = [
  "manifests/base",
  "manifests/overlays/cert-manager",
  "manifests/overlays/provided-certs",
  "manifests/notebooks",
  "manifests/monitoring",
  "manifests/console",
];

type Manifest = k8s.KubernetesObject & {
  metadata: k8s.V1ObjectMeta & { name: string };
  [field: string]: unknown;
};

/** The cluster's own kubectl (1.33, with kustomize), against the e2e cluster's kubeconfig. */

async function render(dir: string): Promise<Manifest[]> {
  const { code, stdout, stderr } = await kubectl(["kustomize", dir]);
  expect(code, `kubectl kustomize ${dir}: ${stderr}`).toBe(0);
  return parseAllDocuments(stdout).map((document) => document.toJS() as Manifest);
}

function find(objects: Manifest[], kind: string, name: string): Manifest {
  const found = objects.find((o) => o.kind === kind && o.metadata.name === name);
  if (!found) throw new Error(`${kind} ${name} is not in the render`);
  return found;
}

const isCertManager = (o: Manifest) => (o.apiVersion ?? "").startsWith("cert-manager.io/");

/**
 * The render moved from namespace graft to `namespace`, with cluster-scoped names suffixed, so
 * this run's objects never meet another run's (or a real graft install's).
 */
function relocate(objects: Manifest[], namespace: string, suffix: string): Manifest[] {
  const moved = structuredClone(objects);
  for (const object of moved) {
    if (object.kind === "Namespace") object.metadata.name = namespace;
    if (object.metadata.namespace === "graft") object.metadata.namespace = namespace;
    if (object.kind === "ClusterRole" || object.kind === "ClusterRoleBinding") {
      object.metadata.name = `${object.metadata.name}-${suffix}`;
    }
    const binding = object as Manifest & Partial<k8s.V1ClusterRoleBinding>;
    if (binding.kind === "ClusterRoleBinding" && binding.roleRef) {
      binding.roleRef.name = `${binding.roleRef.name}-${suffix}`;
    }
    for (const subject of binding.subjects ?? []) {
      if (subject.namespace === "graft") subject.namespace = namespace;
    }
    if (object.kind === "ValidatingAdmissionPolicy" || object.kind === "ValidatingAdmissionPolicyBinding") {
      object.metadata.name = `${object.metadata.name}-${suffix}`;
      const spec = object.spec as {
        policyName?: string;
        matchConditions?: { name: string; expression: string }[];
      };
      if (spec.policyName) spec.policyName = `${spec.policyName}-${suffix}`;
      for (const condition of spec.matchConditions ?? []) {
        condition.expression = condition.expression.replace(
          "system:serviceaccount:graft:",
          `system:serviceaccount:${namespace}:`,
        );
      }
    }
    if (object.kind === "MutatingWebhookConfiguration") {
      object.metadata.name = `${object.metadata.name}-${suffix}`;
      for (const webhook of (object as Manifest & k8s.V1MutatingWebhookConfiguration).webhooks ?? []) {
        if (webhook.clientConfig.service) webhook.clientConfig.service.namespace = namespace;
      }
    }
  }
  return moved;
}

const toYaml = (objects: Manifest[]) => objects.map((o) => stringify(o)).join("---\n");

describe("graft's install manifests on a real API server", () => {
  const kc = kubeConfig();
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const apps = kc.makeApiClient(k8s.AppsV1Api);
  const policy = kc.makeApiClient(k8s.PolicyV1Api);
  const rbac = kc.makeApiClient(k8s.RbacAuthorizationV1Api);
  const namespace = uniqueName("graft-install");
  const suffix = namespace.slice("graft-install-".length);
  const rendered = new Map<string, Manifest[]>();

  beforeAll(async () => {
    for (const dir of KUSTOMIZATIONS) rendered.set(dir, await render(dir));
    // Server-side dry runs need the namespace to exist: the base's Namespace, applied first.
    const base = relocate(rendered.get("manifests/base") ?? [], namespace, suffix);
    const created = await kubectl(["apply", "-f", "-"], toYaml(base.filter((o) => o.kind === "Namespace")));
    expect(created.code, created.stderr).toBe(0);
    await eventually("ServiceAccount default", () =>
      core.readNamespacedServiceAccount({ name: "default", namespace }).then(() => true),
    );
  });

  afterAll(async () => {
    await core.deleteNamespace({ name: namespace }).catch(() => undefined);
    for (const role of ["graft-properties", "graft-namespaces"]) {
      await rbac.deleteClusterRoleBinding({ name: `${role}-${suffix}` }).catch(() => undefined);
      await rbac.deleteClusterRole({ name: `${role}-${suffix}` }).catch(() => undefined);
    }
    const admission = kc.makeApiClient(k8s.AdmissionregistrationV1Api);
    await admission
      .deleteValidatingAdmissionPolicyBinding({ name: `graft-writes-${suffix}` })
      .catch(() => undefined);
    await admission
      .deleteValidatingAdmissionPolicy({ name: `graft-writes-${suffix}` })
      .catch(() => undefined);
  });

  it.each(KUSTOMIZATIONS)("kubectl kustomize renders %s", (dir) => {
    const objects = rendered.get(dir) ?? [];
    expect(objects.length).toBeGreaterThan(0);
    for (const object of objects) expect(object.metadata.name, `${object.kind} in ${dir}`).toBeTruthy();
  });

  it("renders the base as graft's namespace, RBAC, config, webhook Deployment, PDB, Service, NetworkPolicy and webhook configuration", () => {
    const base = rendered.get("manifests/base") ?? [];
    const kinds = base.map(
      (o) => `${o.kind}/${o.metadata.name.replace(/^graft-config-[a-z0-9]+$/, "graft-config-<hash>")}`,
    );
    expect(kinds.sort()).toEqual(
      [
        "Namespace/graft",
        "ServiceAccount/graft",
        "ClusterRole/graft-properties",
        "ClusterRoleBinding/graft-properties",
        "ClusterRole/graft-namespaces",
        "ClusterRoleBinding/graft-namespaces",
        "ValidatingAdmissionPolicy/graft-writes",
        "ValidatingAdmissionPolicyBinding/graft-writes",
        "Role/graft-platform",
        "RoleBinding/graft-platform",
        "ConfigMap/graft-config-<hash>",
        "ConfigMap/graft-platform",
        "Deployment/graft-webhook",
        "PodDisruptionBudget/graft-webhook",
        "Service/graft-webhook",
        "NetworkPolicy/graft-webhook",
        "MutatingWebhookConfiguration/graft",
      ].sort(),
    );
    // The generated ConfigMap's hashed name reaches the Deployment's volume.
    const config = base.find((o) => o.kind === "ConfigMap" && o.metadata.name.startsWith("graft-config-"));
    const deployment = find(base, "Deployment", "graft-webhook") as Manifest & k8s.V1Deployment;
    const volumes = deployment.spec?.template.spec?.volumes ?? [];
    expect(volumes.find((v) => v.name === "config")?.configMap?.name).toBe(config?.metadata.name);
  });

  it("accepts the base in a server-side dry run, webhook configuration included, with no Pod Security warning", async () => {
    const objects = relocate(rendered.get("manifests/base") ?? [], namespace, suffix);
    const result = await kubectl(["apply", "--dry-run=server", "-f", "-"], toYaml(objects));
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain(
      `mutatingwebhookconfiguration.admissionregistration.k8s.io/graft-${suffix}`,
    );
    expect(result.stdout).toContain("deployment.apps/graft-webhook created (server dry run)");
    expect(result.stderr).not.toMatch(/PodSecurity|Warning/);
  });

  it("accepts the provided-certs overlay in a server-side dry run, with the Secret install.sh creates", async () => {
    const authority = createAuthority({ now: new Date() });
    const serving = issueServingCert(authority, {
      dnsNames: [`graft-webhook.${namespace}.svc`],
      now: new Date(),
    });
    const secret = {
      apiVersion: "v1",
      kind: "Secret",
      type: "kubernetes.io/tls",
      metadata: { name: "graft-webhook-tls", namespace },
      stringData: { "tls.crt": serving.cert, "tls.key": serving.key, "ca.crt": authority.cert },
    };
    const objects = relocate(rendered.get("manifests/overlays/provided-certs") ?? [], namespace, suffix);
    const result = await kubectl(["apply", "--dry-run=server", "-f", "-"], toYaml([...objects, secret]));
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain("secret/graft-webhook-tls created (server dry run)");
    expect(result.stderr).not.toMatch(/PodSecurity|Warning/);
  });

  it("renders the cert-manager overlay's CA chain and CA injection (shape only: no cert-manager CRDs here), and the API server accepts the rest", async () => {
    const objects = rendered.get("manifests/overlays/cert-manager") ?? [];
    const spec = (kind: string, name: string) => find(objects, kind, name).spec as Record<string, unknown>;
    expect(spec("Issuer", "graft-selfsigned")).toEqual({ selfSigned: {} });
    expect(spec("Certificate", "graft-ca")).toMatchObject({
      isCA: true,
      secretName: "graft-ca",
      issuerRef: { kind: "Issuer", name: "graft-selfsigned" },
    });
    expect(spec("Issuer", "graft-ca")).toEqual({ ca: { secretName: "graft-ca" } });
    const serving = spec("Certificate", "graft-webhook");
    expect(serving).toMatchObject({
      secretName: "graft-webhook-tls",
      issuerRef: { kind: "Issuer", name: "graft-ca" },
    });
    const service = find(objects, "Service", "graft-webhook");
    expect(serving.dnsNames).toContain(`${service.metadata.name}.${service.metadata.namespace}.svc`);
    for (const object of objects.filter(isCertManager)) expect(object.metadata.namespace).toBe("graft");
    const configuration = find(objects, "MutatingWebhookConfiguration", "graft");
    expect(configuration.metadata.annotations?.["cert-manager.io/inject-ca-from"]).toBe(
      "graft/graft-webhook",
    );

    const rest = relocate(
      objects.filter((o) => !isCertManager(o)),
      namespace,
      suffix,
    );
    const result = await kubectl(["apply", "--dry-run=server", "-f", "-"], toYaml(rest));
    expect(result.code, result.stderr).toBe(0);
  });

  it("applied for real, runs the webhook Deployment Available with 2 replicas behind a PodDisruptionBudget", async () => {
    const objects = relocate(rendered.get("manifests/base") ?? [], namespace, suffix).filter(
      (o) => o.kind !== "MutatingWebhookConfiguration",
    );
    const authority = createAuthority({ now: new Date() });
    const serving = issueServingCert(authority, {
      dnsNames: [`graft-webhook.${namespace}.svc`],
      now: new Date(),
    });
    await core.createNamespacedSecret({
      namespace,
      body: {
        metadata: { name: "graft-webhook-tls" },
        type: "kubernetes.io/tls",
        stringData: { "tls.crt": serving.cert, "tls.key": serving.key, "ca.crt": authority.cert },
      },
    });
    const applied = await kubectl(["apply", "-f", "-"], toYaml(objects));
    expect(applied.code, applied.stderr).toBe(0);
    expect(applied.stderr).not.toMatch(/PodSecurity|Warning/);

    // kwok marks scheduled pods Running and Ready; nothing pulls the image. Pod Security
    // "restricted" is enforced on the namespace, so a pod that got this far passed it.
    const labels = (await core.readNamespace({ name: namespace })).metadata?.labels ?? {};
    expect(labels["pod-security.kubernetes.io/enforce"]).toBe("restricted");
    const deployment = await eventually(
      "graft-webhook Available with 2 replicas",
      async () => {
        const d = await apps.readNamespacedDeployment({ name: "graft-webhook", namespace });
        const available = d.status?.conditions?.find((c) => c.type === "Available")?.status === "True";
        return available && d.status?.availableReplicas === 2 ? d : undefined;
      },
      { timeoutMs: 90_000 },
    );
    expect(deployment.status?.readyReplicas).toBe(2);
    const pods = (
      await core.listNamespacedPod({ namespace, labelSelector: "app.kubernetes.io/component=webhook" })
    ).items.filter((p) => !p.metadata?.deletionTimestamp);
    expect(pods).toHaveLength(2);
    for (const pod of pods) expect(pod.spec?.serviceAccountName).toBe("graft");

    const budget = await eventually("PodDisruptionBudget counting both pods", async () => {
      const pdb = await policy.readNamespacedPodDisruptionBudget({ name: "graft-webhook", namespace });
      return pdb.status?.currentHealthy === 2 ? pdb : undefined;
    });
    expect(budget.spec?.minAvailable).toBe(1);
    expect(budget.status?.disruptionsAllowed).toBe(1);

    const roleBinding = await rbac.readClusterRoleBinding({ name: `graft-properties-${suffix}` });
    expect(roleBinding.subjects).toEqual([{ kind: "ServiceAccount", name: "graft", namespace }]);
  });

  it("is removed by deleting its namespace and cluster-scoped objects", async () => {
    for (const role of ["graft-properties", "graft-namespaces"]) {
      await rbac.deleteClusterRoleBinding({ name: `${role}-${suffix}` });
      await rbac.deleteClusterRole({ name: `${role}-${suffix}` });
    }
    await core.deleteNamespace({ name: namespace });
    await eventually(
      "namespace gone",
      async () => {
        try {
          await core.readNamespace({ name: namespace });
          return false;
        } catch (error) {
          if (isStatus(error, 404)) return true;
          throw error;
        }
      },
      { timeoutMs: 90_000 },
    );
  });
});
