// Smoke test of the e2e control plane itself: version, scheduling to the kwok node, and garbage
// collection of a Deployment's ReplicaSet and Pods.
import * as k8s from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, isStatus, kubeConfig, uniqueName } from "./kube.js";

describe("e2e control plane", () => {
  const kc = kubeConfig();
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const apps = kc.makeApiClient(k8s.AppsV1Api);
  const namespace = uniqueName("graft-e2e-smoke");

  beforeAll(async () => {
    await core.createNamespace({ body: { metadata: { name: namespace } } });
    // The serviceaccount controller must create `default` before pods are admitted.
    await eventually("ServiceAccount default", () =>
      core.readNamespacedServiceAccount({ name: "default", namespace }).then(() => true),
    );
  });

  afterAll(async () => {
    await core.deleteNamespace({ name: namespace }).catch(() => undefined);
  });

  it("serves Kubernetes v1.33.x", async () => {
    const version = await kc.makeApiClient(k8s.VersionApi).getCode();
    expect(version.gitVersion).toMatch(/^v1\.33\.\d+$/);
    expect(version.major).toBe("1");
    expect(version.minor).toBe("33");
  });

  it("runs a 2-replica Deployment on the kwok node and garbage-collects it", async () => {
    const labels = { app: "smoke" };
    await apps.createNamespacedDeployment({
      namespace,
      body: {
        metadata: { name: "smoke", labels },
        spec: {
          replicas: 2,
          selector: { matchLabels: labels },
          template: {
            metadata: { labels },
            spec: { containers: [{ name: "app", image: "registry.k8s.io/pause:3.10" }] },
          },
        },
      },
    });

    const running = await eventually("2 Running pods", async () => {
      const pods = (await core.listNamespacedPod({ namespace, labelSelector: "app=smoke" })).items;
      const ok = pods.filter(
        (p) => p.status?.phase === "Running" && p.spec?.nodeName && !p.metadata?.deletionTimestamp,
      );
      return ok.length === 2 ? ok : undefined;
    });
    for (const pod of running) {
      expect(pod.spec?.nodeName).toBeTruthy(); // kwok-node-0 locally; a real node on kind
      expect(pod.metadata?.ownerReferences?.[0]?.kind).toBe("ReplicaSet");
    }
    const replicaSets = (await apps.listNamespacedReplicaSet({ namespace, labelSelector: "app=smoke" }))
      .items;
    expect(replicaSets).toHaveLength(1);
    const deployment = await eventually("Deployment available", async () => {
      const d = await apps.readNamespacedDeployment({ name: "smoke", namespace });
      return d.status?.availableReplicas === 2 ? d : undefined;
    });
    expect(deployment.status?.readyReplicas).toBe(2);

    await apps.deleteNamespacedDeployment({ name: "smoke", namespace, propagationPolicy: "Background" });

    await eventually("Deployment gone", async () => {
      try {
        await apps.readNamespacedDeployment({ name: "smoke", namespace });
        return false;
      } catch (err) {
        if (isStatus(err, 404)) return true;
        throw err;
      }
    });
    await eventually("ReplicaSet garbage-collected", async () => {
      const rs = (await apps.listNamespacedReplicaSet({ namespace, labelSelector: "app=smoke" })).items;
      return rs.length === 0;
    });
    await eventually("Pods garbage-collected", async () => {
      const pods = (await core.listNamespacedPod({ namespace, labelSelector: "app=smoke" })).items;
      return pods.length === 0;
    });
  });
});
