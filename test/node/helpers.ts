// Helpers for the node project: pods of the locally built test image on the real node.
import * as k8s from "@kubernetes/client-node";
import { eventually } from "../e2e/kube.js";

/** The real node's test image (test/cluster/cmd/testbox), imported into containerd by `up`. */
export const TESTBOX = "graft.local/testbox:1";

/** A testbox container running `testbox ARGS...`; never pulled (there is no registry). */
export function testbox(name: string, args: string[], extra: Partial<k8s.V1Container> = {}): k8s.V1Container {
  return {
    name,
    image: TESTBOX,
    imagePullPolicy: "Never",
    args,
    securityContext: {
      runAsNonRoot: true,
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ["ALL"] },
    },
    ...extra,
  };
}

/** A pod whose single container runs `testbox ARGS...` once. */
export function oneShotPod(name: string, args: string[]): k8s.V1Pod {
  return {
    metadata: { name },
    spec: { restartPolicy: "Never", terminationGracePeriodSeconds: 2, containers: [testbox("main", args)] },
  };
}

/** Waits for a pod to end and returns its phase and log. */
export async function podOutcome(
  core: k8s.CoreV1Api,
  namespace: string,
  name: string,
  timeoutMs = 90_000,
): Promise<{ phase: string; log: string }> {
  const phase = await eventually(
    `pod ${namespace}/${name} to finish`,
    async () => {
      const pod = await core.readNamespacedPod({ name, namespace });
      const p = pod.status?.phase;
      return p === "Succeeded" || p === "Failed" ? p : undefined;
    },
    { timeoutMs, intervalMs: 500 },
  );
  const log = await core.readNamespacedPodLog({ name, namespace });
  return { phase, log };
}

/** Waits until a namespace's `default` ServiceAccount exists (pods are refused before). */
export async function namespaceReady(core: k8s.CoreV1Api, namespace: string): Promise<void> {
  await eventually(`ServiceAccount ${namespace}/default`, () =>
    core.readNamespacedServiceAccount({ name: "default", namespace }).then(() => true),
  );
}

/**
 * Runs `body` while Deployment `name` (pods labelled app.kubernetes.io/name=`name`) is scaled to
 * zero with none of its pods left, then scales it back to one replica, whether `body` passed or not.
 */
export async function whileScaledToZero(
  clients: { apps: k8s.AppsV1Api; core: k8s.CoreV1Api },
  namespace: string,
  name: string,
  body: () => Promise<void>,
): Promise<void> {
  const scale = (replicas: number) =>
    clients.apps.patchNamespacedDeploymentScale(
      { name, namespace, body: { spec: { replicas } } },
      k8s.setHeaderOptions("Content-Type", k8s.PatchStrategy.MergePatch),
    );
  await scale(0);
  try {
    await eventually(
      `no ${name} pod left`,
      async () =>
        (await clients.core.listNamespacedPod({ namespace, labelSelector: `app.kubernetes.io/name=${name}` }))
          .items.length === 0,
      { timeoutMs: 60_000, intervalMs: 500 },
    );
    await body();
  } finally {
    await scale(1);
  }
}
