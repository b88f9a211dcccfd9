import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { ADMISSION_PATHS } from "../model/routes.js";
import { renderMutatingWebhookConfiguration } from "./webhook-configuration.js";

const PEM = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";

describe("renderMutatingWebhookConfiguration", () => {
  const byUrl = renderMutatingWebhookConfiguration({
    target: { url: "https://127.0.0.1:8443/" },
    caBundle: PEM,
    graftNamespace: "graft-system",
    excludedNamespaces: ["legacy"],
  });
  const [namespaced, labelled, workloads] = byUrl.webhooks ?? [];

  it("sends namespace-selected pods, pod-selected pods and workloads to their own routes", () => {
    expect(byUrl.webhooks).toHaveLength(3);
    expect(namespaced?.clientConfig.url).toBe(`https://127.0.0.1:8443${ADMISSION_PATHS.namespacePods}`);
    expect(labelled?.clientConfig.url).toBe(`https://127.0.0.1:8443${ADMISSION_PATHS.labelledPods}`);
    expect(workloads?.clientConfig.url).toBe(`https://127.0.0.1:8443${ADMISSION_PATHS.workloads}`);
  });

  it("carries the CA bundle base64-encoded", () => {
    for (const webhook of byUrl.webhooks ?? []) {
      expect(Buffer.from(webhook.clientConfig.caBundle ?? "", "base64").toString()).toBe(PEM);
    }
  });

  it("never selects kube-system, kube-public, kube-node-lease, graft's namespace or the extra exclusions", () => {
    for (const webhook of byUrl.webhooks ?? []) {
      expect(webhook.namespaceSelector?.matchExpressions).toContainEqual({
        key: "kubernetes.io/metadata.name",
        operator: "NotIn",
        values: ["kube-system", "kube-public", "kube-node-lease", "graft-system", "legacy"],
      });
    }
  });

  it("selects pods by namespace label unless the pod opts out, and by pod label only elsewhere", () => {
    expect(namespaced?.namespaceSelector?.matchExpressions?.[0]).toEqual({
      key: "graft.pnda.io/inject",
      operator: "In",
      values: ["enabled"],
    });
    expect(namespaced?.objectSelector?.matchExpressions).toEqual([
      { key: "graft.pnda.io/inject", operator: "NotIn", values: ["disabled"] },
    ]);
    expect(labelled?.namespaceSelector?.matchExpressions?.[0]).toEqual({
      key: "graft.pnda.io/inject",
      operator: "NotIn",
      values: ["enabled"],
    });
    expect(labelled?.objectSelector?.matchExpressions).toEqual([
      { key: "graft.pnda.io/inject", operator: "In", values: ["enabled"] },
    ]);
  });

  it("injects pods at CREATE and validates the six workload kinds at CREATE and UPDATE", () => {
    expect(namespaced?.rules).toEqual([
      {
        apiGroups: [""],
        apiVersions: ["v1"],
        operations: ["CREATE"],
        resources: ["pods"],
        scope: "Namespaced",
      },
    ]);
    const resources = (workloads?.rules ?? []).flatMap((rule) =>
      (rule.resources ?? []).map(
        (resource) => `${rule.apiGroups?.[0]}/${resource}:${rule.operations?.join(",")}`,
      ),
    );
    expect(resources.sort()).toEqual(
      [
        "apps/daemonsets",
        "apps/deployments",
        "apps/replicasets",
        "apps/statefulsets",
        "batch/cronjobs",
        "batch/jobs",
      ].map((r) => `${r}:CREATE,UPDATE`),
    );
    expect(workloads?.matchConditions?.map((c) => c.name)).toEqual([
      "not-made-by-a-controller",
      "graft-keys-applied",
    ]);
  });

  it("sends a workload only as a person applies it: CREATE with graft keys, UPDATE changing the template's", () => {
    const [controlled, applied] = workloads?.matchConditions ?? [];
    expect(controlled?.expression).toContain("ownerReferences");
    const [create, update] = (applied?.expression ?? "").split(" : ");
    expect(create).toMatch(/^request\.operation == 'CREATE' \? /);
    expect(create).toContain("object.?spec.?jobTemplate.?spec.?template.?metadata.?annotations");
    // oldObject is null on CREATE: only the UPDATE branch reads it.
    expect(create).not.toContain("oldObject");
    for (const template of ["spec.?template", "spec.?jobTemplate.?spec.?template"]) {
      for (const field of ["annotations", "labels"]) {
        expect(update).toContain(`oldObject.?${template}.?metadata.?${field}.orValue({})`);
      }
    }
  });

  it("lets pods fail closed and workloads through while graft is down (the validator is advice)", () => {
    expect(namespaced?.failurePolicy).toBe("Fail");
    expect(labelled?.failurePolicy).toBe("Fail");
    expect(workloads?.failurePolicy).toBe("Ignore");
  });

  it("uses the admission settings the API server needs for dry-run, reinvocation and v1 reviews", () => {
    for (const webhook of byUrl.webhooks ?? []) {
      expect(webhook).toMatchObject({
        admissionReviewVersions: ["v1"],
        sideEffects: "NoneOnDryRun",
        timeoutSeconds: 5,
      });
    }
    expect(namespaced?.reinvocationPolicy).toBe("IfNeeded");
    expect(labelled?.reinvocationPolicy).toBe("IfNeeded");
  });

  it("registers by Service with a path per webhook, and leaves caBundle out when none is given", () => {
    const byService = renderMutatingWebhookConfiguration({
      target: { service: { namespace: "graft", name: "graft-webhook" } },
      graftNamespace: "graft",
    });
    expect(byService.webhooks?.[1]?.clientConfig).toEqual({
      service: { namespace: "graft", name: "graft-webhook", port: 443, path: ADMISSION_PATHS.labelledPods },
    });
  });

  it("confines every webhook to namespaces with the given labels when asked (shared test clusters)", () => {
    const confined = renderMutatingWebhookConfiguration({
      target: { url: "https://127.0.0.1:8443" },
      graftNamespace: "graft",
      onlyNamespacesLabelled: { "graft.pnda.io/e2e-run": "r1" },
    });
    for (const webhook of confined.webhooks ?? []) {
      expect(webhook.namespaceSelector?.matchExpressions).toContainEqual({
        key: "graft.pnda.io/e2e-run",
        operator: "In",
        values: ["r1"],
      });
    }
  });

  it("is what manifests/base/mutating-webhook.yaml holds", () => {
    const manifest = parse(
      readFileSync(new URL("../../manifests/base/mutating-webhook.yaml", import.meta.url), "utf8"),
    );
    expect(manifest).toEqual(
      renderMutatingWebhookConfiguration({
        target: { service: { namespace: "graft", name: "graft-webhook", port: 443 } },
        graftNamespace: "graft",
      }),
    );
  });
});
