// graft's identity on the shared e2e cluster, moved to a namespace of the run's own: the
// ServiceAccount with exactly manifests/base/rbac.yaml, a token for it, and the write policy
// (manifests/base/write-policy.yaml as webhook/install/write-policy.ts renders it) bound to it.
import { readFile } from "node:fs/promises";
import * as k8s from "@kubernetes/client-node";
import { parseAllDocuments } from "yaml";
import { renderWritePolicy } from "../../webhook/install/write-policy.js";

export type GraftIdentity = {
  namespace: string;
  /** A client that is graft's ServiceAccount and nothing more. */
  kubeConfig: k8s.KubeConfig;
  /** Removes the cluster-scoped objects (the namespace is the caller's). */
  remove(): Promise<void>;
};

/** manifests/base/rbac.yaml in `namespace`, cluster-scoped names suffixed; returns their names. */
export async function applyManifestRbac(admin: k8s.KubeConfig, namespace: string, suffix: string) {
  const objects = k8s.KubernetesObjectApi.makeApiClient(admin);
  const text = await readFile(new URL("../../manifests/base/rbac.yaml", import.meta.url), "utf8");
  const clusterScoped: string[] = [];
  for (const document of parseAllDocuments(text)) {
    const doc = document.toJS() as k8s.KubernetesObject;
    if (doc.metadata?.namespace) doc.metadata.namespace = namespace;
    const binding = doc as unknown as k8s.V1RoleBinding;
    if (doc.kind === "ClusterRole" || doc.kind === "ClusterRoleBinding") {
      doc.metadata!.name += `-${suffix}`;
      if (doc.kind === "ClusterRole") clusterScoped.push(doc.metadata!.name!);
    }
    if (doc.kind === "ClusterRoleBinding") binding.roleRef.name += `-${suffix}`;
    for (const subject of binding.subjects ?? []) subject.namespace = namespace;
    await objects.create(doc);
  }
  return clusterScoped;
}

/** A kubeconfig that acts as ServiceAccount graft in `namespace`, with a token of an hour. */
export async function tokenKubeConfig(admin: k8s.KubeConfig, namespace: string): Promise<k8s.KubeConfig> {
  const core = admin.makeApiClient(k8s.CoreV1Api);
  const request = await core.createNamespacedServiceAccountToken({
    name: "graft",
    namespace,
    body: { spec: { audiences: [], expirationSeconds: 3600 } },
  });
  const cluster = admin.getCurrentCluster()!;
  const kc = new k8s.KubeConfig();
  kc.loadFromOptions({
    clusters: [cluster],
    users: [{ name: "graft", token: request.status!.token }],
    contexts: [{ name: "graft", cluster: cluster.name, user: "graft" }],
    currentContext: "graft",
  });
  return kc;
}

/**
 * graft's ServiceAccount in `namespace` (which must exist), its RBAC, and — unless
 * `writePolicy` is false — the write policy bound to it.
 */
export async function graftIdentity(
  admin: k8s.KubeConfig,
  namespace: string,
  suffix: string,
  { writePolicy = true } = {},
): Promise<GraftIdentity> {
  const roles = await applyManifestRbac(admin, namespace, suffix);
  const admission = admin.makeApiClient(k8s.AdmissionregistrationV1Api);
  const policyName = `graft-writes-${suffix}`;
  if (writePolicy) {
    const { policy, binding } = renderWritePolicy({ name: policyName, graftNamespace: namespace });
    await admission.createValidatingAdmissionPolicy({ body: policy as k8s.V1ValidatingAdmissionPolicy });
    await admission.createValidatingAdmissionPolicyBinding({
      body: binding as k8s.V1ValidatingAdmissionPolicyBinding,
    });
  }
  const rbac = admin.makeApiClient(k8s.RbacAuthorizationV1Api);
  return {
    namespace,
    kubeConfig: await tokenKubeConfig(admin, namespace),
    async remove() {
      if (writePolicy) {
        await admission.deleteValidatingAdmissionPolicyBinding({ name: policyName }).catch(() => undefined);
        await admission.deleteValidatingAdmissionPolicy({ name: policyName }).catch(() => undefined);
      }
      for (const role of roles) {
        await rbac.deleteClusterRoleBinding({ name: role }).catch(() => undefined);
        await rbac.deleteClusterRole({ name: role }).catch(() => undefined);
      }
    },
  };
}
