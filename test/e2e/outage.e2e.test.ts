// The workload validator through the real kube-apiserver and controller-manager: it sees what a
// person applies (a CREATE with graft keys, an UPDATE changing the pod template's graft keys)
// and nothing a controller does, so with graft down, scaling and deleting an annotated
// Deployment in a namespace that never opted in go through (issue 9, "Never in the way when
// down"). The configuration is webhook/install/webhook-configuration.ts's, registered by URL and
// confined to this run's namespace.
import type { AddressInfo } from "node:net";
import { connect } from "node:net";
import * as k8s from "@kubernetes/client-node";
import { Registry } from "prom-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { createAuthority, issueServingCert } from "../../certs/authority.js";
import { renderMutatingWebhookConfiguration } from "../../webhook/install/webhook-configuration.js";
import { defaultWebhookConfig } from "../../webhook/model/config.js";
import { admit } from "../../webhook/pipeline/admission.js";
import { buildWebhookServer } from "../../webhook/server/server.js";
import { createAdmissionService } from "../../webhook/service/admission-service.js";
import { eventually, kubeConfig, kubectl, uniqueName } from "./kube.js";

const RUN_LABEL = "graft.pnda.io/e2e-run";

type Seen = { kind: string; operation: string; name: string; dryRun: boolean };

describe("the workload validator, with graft up and then down", () => {
  const kc = kubeConfig();
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const apps = kc.makeApiClient(k8s.AppsV1Api);
  const admission = kc.makeApiClient(k8s.AdmissionregistrationV1Api);
  const namespace = uniqueName("graft-outage");
  const run = namespace.slice("graft-outage-".length);
  const configurationName = `graft-outage-${run}`;
  const seen: Seen[] = [];
  let app: ReturnType<typeof buildWebhookServer> | undefined;
  let port = 0;

  const deployment = (name: string, replicas: number) => ({
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name, namespace },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: {
          labels: { app: name },
          annotations: { "graft.pnda.io/component-type": "sparkStreaming", "graft.pnda.io/health": "false" },
        },
        spec: {
          containers: [{ name: "driver", image: "registry.k8s.io/pause:3.10" }],
          terminationGracePeriodSeconds: 0,
        },
      },
    },
  });

  const ok = async (args: string[], input?: string) => {
    const result = await kubectl(args, input);
    expect(result.code, `kubectl ${args.join(" ")}: ${result.stderr}`).toBe(0);
    return result;
  };

  const available = (name: string, replicas: number) =>
    eventually(`Deployment ${name} with ${replicas} available replicas`, async () => {
      const d = await apps.readNamespacedDeployment({ name, namespace });
      const s = d.status;
      return (
        (s?.observedGeneration ?? 0) >= (d.metadata?.generation ?? 1) &&
        s?.updatedReplicas === replicas &&
        s?.availableReplicas === replicas &&
        s?.replicas === replicas
      );
    });

  /** What reached graft's /validate for `name` (dry-run probes left out). */
  const reviewsOf = (name: string) =>
    seen.filter((s) => s.name.startsWith(name) && !s.dryRun).map((s) => `${s.operation} ${s.kind}`);

  beforeAll(async () => {
    const now = new Date();
    const ca = createAuthority({ now, commonName: `graft-outage-${run}` });
    app = buildWebhookServer({
      admission: createAdmissionService({
        config: defaultWebhookConfig(),
        nativeSidecars: true,
        admit: (request, facts) => {
          const object = request.object as
            | { metadata?: { name?: string; generateName?: string } }
            | undefined;
          seen.push({
            kind: request.kind.kind,
            operation: request.operation,
            name: request.name ?? object?.metadata?.name ?? object?.metadata?.generateName ?? "",
            dryRun: request.dryRun === true,
          });
          return admit(request, facts);
        },
      }),
      registry: new Registry(),
      tls: issueServingCert(ca, { ipAddresses: ["127.0.0.1"], now }),
      logger: false,
    });
    await app.listen({ host: "127.0.0.1", port: 0 });
    port = (app.server.address() as AddressInfo).port;
    await core.createNamespace({ body: { metadata: { name: namespace, labels: { [RUN_LABEL]: run } } } });
    await admission.createMutatingWebhookConfiguration({
      body: renderMutatingWebhookConfiguration({
        name: configurationName,
        target: { url: `https://127.0.0.1:${port}` },
        caBundle: ca.cert,
        graftNamespace: "graft",
        onlyNamespacesLabelled: { [RUN_LABEL]: run },
      }),
    });
    // The API server loads a new configuration asynchronously: wait until a dry run reaches graft.
    await eventually("the validator to be called", async () => {
      const before = seen.length;
      await ok(["apply", "--dry-run=server", "-f", "-"], stringify(deployment("probe", 1)));
      return seen.slice(before).some((s) => s.name === "probe" && s.dryRun);
    });
  }, 120_000);

  afterAll(async () => {
    await admission.deleteMutatingWebhookConfiguration({ name: configurationName }).catch(() => undefined);
    await app?.close();
    await core.deleteNamespace({ name: namespace }).catch(() => undefined);
  });

  it("is sent a person's CREATE and graft-key changes, never scaling, rollouts or a controller's ReplicaSets", async () => {
    /** The reviews of `dep` that reached graft while `action` ran. The API server may call a
     * webhook more than once for one PATCH (it retries on a conflict), so these are counted as
     * "none" or "some", never exactly. */
    const sentDuring = async (action: () => Promise<unknown>) => {
      const before = reviewsOf("dep").length;
      await action();
      return [...new Set(reviewsOf("dep").slice(before))];
    };
    const patch = (annotations: Record<string, string>) => () =>
      ok([
        "patch",
        "deployment/dep",
        "-n",
        namespace,
        "-p",
        JSON.stringify({ spec: { template: { metadata: { annotations } } } }),
      ]);

    expect(
      await sentDuring(async () => {
        await ok(["apply", "-f", "-"], stringify(deployment("dep", 1)));
        await available("dep", 1);
      }),
    ).toEqual(["CREATE Deployment"]);
    expect(
      await sentDuring(async () => {
        await ok(["scale", "deployment/dep", "-n", namespace, "--replicas=2"]);
        await available("dep", 2);
        // A rollout that leaves graft's keys alone: a new ReplicaSet, the old one scaled down.
        await patch({ "example.com/revision": "2" })();
        await available("dep", 2);
      }),
    ).toEqual([]);

    // Changing, or removing, a graft annotation of the template is what a person applies: checked.
    expect(await sentDuring(patch({ "graft.pnda.io/health": "true" }))).toEqual(["UPDATE Deployment"]);
    const invalid = await kubectl([
      "patch",
      "deployment/dep",
      "-n",
      namespace,
      "-p",
      JSON.stringify({
        spec: { template: { metadata: { annotations: { "graft.pnda.io/health": "sometimes" } } } },
      }),
    ]);
    expect(invalid.code).not.toBe(0);
    expect(invalid.stderr).toContain(
      'admission webhook "workloads.validate.graft.pnda.io" denied the request',
    );
    const removal = () =>
      ok([
        "patch",
        "deployment/dep",
        "-n",
        namespace,
        "--type=json",
        "-p",
        JSON.stringify([{ op: "remove", path: "/spec/template/metadata/annotations/graft.pnda.io~1health" }]),
      ]);
    expect(await sentDuring(removal)).toEqual(["UPDATE Deployment"]);
    expect(await sentDuring(() => available("dep", 2))).toEqual([]);
    expect(seen.filter((s) => s.kind === "ReplicaSet")).toEqual([]);
  }, 180_000);

  it("lets kubectl scale and a foreground delete of an annotated Deployment through while graft is down", async () => {
    await app?.close();
    app = undefined;
    // Nothing listens on the registered port any more.
    const refused = await new Promise<boolean>((resolve) => {
      const socket = connect({ host: "127.0.0.1", port });
      socket.on("connect", () => {
        socket.destroy();
        resolve(false);
      });
      socket.on("error", () => resolve(true));
    });
    expect(refused).toBe(true);

    await ok(["scale", "deployment/dep", "-n", namespace, "--replicas=3"]);
    await available("dep", 3);
    // A person's apply is let through too (failurePolicy Ignore); its pods are not graft's.
    await ok(["apply", "-f", "-"], stringify(deployment("applied-while-down", 1)));
    await available("applied-while-down", 1);

    await ok(["delete", "deployment/dep", "-n", namespace, "--cascade=foreground", "--timeout=90s"]);
    await eventually("dep's ReplicaSets and pods gone", async () => {
      const sets = await apps.listNamespacedReplicaSet({ namespace, labelSelector: "app=dep" });
      const pods = await core.listNamespacedPod({ namespace, labelSelector: "app=dep" });
      return sets.items.length === 0 && pods.items.length === 0;
    });
  }, 240_000);
});
