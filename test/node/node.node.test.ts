// The real node itself: containers really run (kubelet + containerd + runc), probes and hooks
// really execute, pods reach each other and the API server through Services and cluster DNS
// (kube-proxy + CoreDNS), and the API server reaches a webhook pod through its Service.
// Everything runs the locally built image graft.local/testbox:1 (test/cluster/cmd/testbox).
import * as k8s from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAuthority, issueServingCert } from "../../certs/authority.js";
import { eventually, kubeConfig, uniqueName } from "../e2e/kube.js";
import { namespaceReady, oneShotPod, podOutcome, testbox } from "./helpers.js";

const kc = kubeConfig();
const core = kc.makeApiClient(k8s.CoreV1Api);
const apps = kc.makeApiClient(k8s.AppsV1Api);
const batch = kc.makeApiClient(k8s.BatchV1Api);
const admission = kc.makeApiClient(k8s.AdmissionregistrationV1Api);
const namespace = uniqueName("graft-node");

const healthz: k8s.V1Probe = {
  httpGet: { path: "/healthz", port: 8080 },
  periodSeconds: 1,
  failureThreshold: 30,
};

/** A Deployment + Service `name` of testbox servers on port 8080, Service port 80. */
async function webService(name: string): Promise<void> {
  const labels = { app: name };
  await apps.createNamespacedDeployment({
    namespace,
    body: {
      metadata: { name },
      spec: {
        replicas: 1,
        selector: { matchLabels: labels },
        template: {
          metadata: { labels },
          spec: {
            terminationGracePeriodSeconds: 2,
            containers: [testbox("web", ["serve", ":8080"], { readinessProbe: healthz })],
          },
        },
      },
    },
  });
  await core.createNamespacedService({
    namespace,
    body: { metadata: { name }, spec: { selector: labels, ports: [{ port: 80, targetPort: 8080 }] } },
  });
}

beforeAll(async () => {
  await core.createNamespace({ body: { metadata: { name: namespace } } });
  await namespaceReady(core, namespace);
});

afterAll(async () => {
  await core.deleteNamespace({ name: namespace }).catch(() => undefined);
});

describe("a real node", () => {
  it("runs a pod to Running and Ready through its startup, readiness and liveness probes and postStart hook", async () => {
    await core.createNamespacedPod({
      namespace,
      body: {
        metadata: { name: "probed" },
        spec: {
          terminationGracePeriodSeconds: 2,
          containers: [
            testbox("web", ["serve", ":8080"], {
              startupProbe: healthz,
              readinessProbe: healthz,
              livenessProbe: { ...healthz, periodSeconds: 5, failureThreshold: 3 },
              lifecycle: { postStart: { exec: { command: ["/testbox", "exit", "0"] } } },
            }),
          ],
        },
      },
    });
    const pod = await eventually(
      "pod probed Ready",
      async () => {
        const p = await core.readNamespacedPod({ name: "probed", namespace });
        return p.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") ? p : undefined;
      },
      { timeoutMs: 60_000 },
    );
    const status = pod.status?.containerStatuses?.[0];
    expect(pod.status?.phase).toBe("Running");
    expect(status?.started).toBe(true);
    expect(status?.restartCount).toBe(0);
    expect(status?.state?.running).toBeDefined();
    // An address on the node's CNI bridge, not kwok's fake range.
    expect(pod.status?.podIP).toMatch(/^10\.213\.\d+\.\d+$/);
    // The container's own output, read by the API server from the kubelet.
    expect(await core.readNamespacedPodLog({ name: "probed", namespace })).toContain("serving on :8080");
  });

  it("keeps a pod whose readiness probe fails out of Ready (the kubelet really probes)", async () => {
    await core.createNamespacedPod({
      namespace,
      body: {
        metadata: { name: "unready" },
        spec: {
          terminationGracePeriodSeconds: 2,
          containers: [
            testbox("web", ["serve", ":8080"], {
              readinessProbe: { httpGet: { path: "/missing", port: 8080 }, periodSeconds: 1 },
            }),
          ],
        },
      },
    });
    const event = await eventually(
      "a readiness probe failure event",
      async () => {
        const events = await core.listNamespacedEvent({
          namespace,
          fieldSelector: "involvedObject.name=unready,reason=Unhealthy",
        });
        return events.items[0];
      },
      { timeoutMs: 60_000 },
    );
    expect(event.message).toMatch(/Readiness probe failed: HTTP probe failed with statuscode: 404/);
    const pod = await core.readNamespacedPod({ name: "unready", namespace });
    expect(pod.status?.containerStatuses?.[0]?.state?.running).toBeDefined();
    expect(pod.status?.conditions?.find((c) => c.type === "Ready")?.status).toBe("False");
  });

  it("fails a pod whose image is not on the node within seconds instead of pulling", async () => {
    await core.createNamespacedPod({
      namespace,
      body: {
        metadata: { name: "no-image" },
        spec: { containers: [{ name: "main", image: "graft.local/absent:1", imagePullPolicy: "Never" }] },
      },
    });
    const reason = await eventually(
      "ErrImageNeverPull",
      async () => {
        const p = await core.readNamespacedPod({ name: "no-image", namespace });
        const reason = p.status?.containerStatuses?.[0]?.state?.waiting?.reason;
        return reason === "ContainerCreating" ? undefined : reason;
      },
      { timeoutMs: 30_000 },
    );
    expect(reason).toBe("ErrImageNeverPull");
  });

  it("lets a pod reach another pod through its Service, by DNS name and short name", async () => {
    await webService("web");
    await Promise.all([
      core.createNamespacedPod({
        namespace,
        body: oneShotPod("by-fqdn", ["get", `http://web.${namespace}.svc.cluster.local/hostname`, "60"]),
      }),
      core.createNamespacedPod({
        namespace,
        body: oneShotPod("by-short-name", ["get", "http://web/hostname", "60"]),
      }),
    ]);
    for (const name of ["by-fqdn", "by-short-name"]) {
      const { phase, log } = await podOutcome(core, namespace, name);
      expect({ name, phase, log }).toMatchObject({
        phase: "Succeeded",
        log: expect.stringMatching(/^web-/m),
      });
    }
  });

  it("lets a pod reach the API server through the kubernetes Service with its service account", async () => {
    await core.createNamespacedPod({
      namespace,
      body: oneShotPod("api", ["get", "https://kubernetes.default.svc/version", "60"]),
    });
    const { phase, log } = await podOutcome(core, namespace, "api");
    expect(phase).toBe("Succeeded");
    expect(JSON.parse(log.slice(log.indexOf("{")))).toMatchObject({
      gitVersion: expect.stringMatching(/^v1\.33\./),
    });
  });

  it("completes a Job whose native sidecar is still running, within seconds of the main container", async () => {
    await batch.createNamespacedJob({
      namespace,
      body: {
        metadata: { name: "with-sidecar" },
        spec: {
          backoffLimit: 0,
          template: {
            spec: {
              restartPolicy: "Never",
              initContainers: [
                testbox("sidecar", ["serve", ":8080"], { restartPolicy: "Always", startupProbe: healthz }),
              ],
              // Runs only after the sidecar's startup probe passed, so the sidecar answers.
              containers: [testbox("main", ["get", "http://127.0.0.1:8080/hostname", "5"])],
            },
          },
        },
      },
    });
    const job = await eventually(
      "Job with-sidecar Complete",
      async () => {
        const j = await batch.readNamespacedJob({ name: "with-sidecar", namespace });
        if (j.status?.conditions?.some((c) => c.type === "Failed" && c.status === "True"))
          throw new Error(`Job failed: ${JSON.stringify(j.status)}`);
        return j.status?.conditions?.some((c) => c.type === "Complete" && c.status === "True")
          ? j
          : undefined;
      },
      { timeoutMs: 90_000 },
    );
    const pods = await core.listNamespacedPod({ namespace, labelSelector: "job-name=with-sidecar" });
    const main = pods.items[0]?.status?.containerStatuses?.find((s) => s.name === "main");
    expect(main?.state?.terminated?.exitCode).toBe(0);
    const finished = main?.state?.terminated?.finishedAt;
    const complete = job.status?.completionTime;
    expect(finished && complete).toBeTruthy();
    // Well inside the sidecar's 30 s grace period: it exits on SIGTERM.
    const afterMainMs = new Date(complete ?? 0).getTime() - new Date(finished ?? 0).getTime();
    console.info(`Job complete ${afterMainMs} ms after its main container exited (1 s resolution)`);
    expect(afterMainMs).toBeLessThan(15_000);
  });

  it("has the API server call an admission webhook pod through its Service", async () => {
    const target = uniqueName("graft-node-hooked");
    const configName = `${namespace}-hook`;
    const now = new Date();
    const ca = createAuthority({ now, commonName: "graft-node-test" });
    const serving = issueServingCert(ca, { now, dnsNames: [`hook.${namespace}.svc`] });
    await core.createNamespacedSecret({
      namespace,
      body: {
        metadata: { name: "hook-tls" },
        type: "kubernetes.io/tls",
        stringData: { "tls.crt": serving.cert, "tls.key": serving.key },
      },
    });
    const labels = { app: "hook" };
    await apps.createNamespacedDeployment({
      namespace,
      body: {
        metadata: { name: "hook" },
        spec: {
          replicas: 1,
          selector: { matchLabels: labels },
          template: {
            metadata: { labels },
            spec: {
              terminationGracePeriodSeconds: 2,
              containers: [
                testbox("webhook", ["webhook", ":8443", "/tls/tls.crt", "/tls/tls.key"], {
                  readinessProbe: {
                    httpGet: { path: "/healthz", port: 8443, scheme: "HTTPS" },
                    periodSeconds: 1,
                  },
                  volumeMounts: [{ name: "tls", mountPath: "/tls", readOnly: true }],
                }),
              ],
              volumes: [{ name: "tls", secret: { secretName: "hook-tls" } }],
            },
          },
        },
      },
    });
    await core.createNamespacedService({
      namespace,
      body: {
        metadata: { name: "hook" },
        spec: { selector: labels, ports: [{ port: 443, targetPort: 8443 }] },
      },
    });
    await core.createNamespace({ body: { metadata: { name: target } } });
    await admission.createMutatingWebhookConfiguration({
      body: {
        metadata: { name: configName },
        webhooks: [
          {
            name: "mutate.graft.test",
            clientConfig: {
              service: { namespace, name: "hook", path: "/mutate", port: 443 },
              caBundle: Buffer.from(ca.cert).toString("base64"),
            },
            rules: [
              { operations: ["CREATE"], apiGroups: [""], apiVersions: ["v1"], resources: ["configmaps"] },
            ],
            namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": target } },
            failurePolicy: "Fail",
            sideEffects: "None",
            admissionReviewVersions: ["v1"],
            timeoutSeconds: 5,
          },
        ],
      },
    });
    try {
      // Until the API server has loaded the configuration, creations skip the webhook; then, with
      // failurePolicy Fail, they are refused until the webhook pod is Ready behind its Service.
      const created = await eventually(
        "a ConfigMap mutated by the webhook",
        async () => {
          const cm = await core.createNamespacedConfigMap({
            namespace: target,
            body: { metadata: { generateName: "hooked-" }, data: { a: "b" } },
          });
          return cm.metadata?.labels?.["graft.test/mutated-by"] ? cm : undefined;
        },
        { timeoutMs: 90_000, intervalMs: 1000 },
      );
      expect(created.metadata?.labels?.["graft.test/mutated-by"]).toMatch(/^hook-/);
    } finally {
      await admission.deleteMutatingWebhookConfiguration({ name: configName }).catch(() => undefined);
      await core.deleteNamespace({ name: target }).catch(() => undefined);
    }
  });
});
