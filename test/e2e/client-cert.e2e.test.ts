// The webhook with --client-ca against the real kube-apiserver of test/cluster, whose
// AdmissionConfiguration (kubeConfigFile, written by cluster.sh) presents the client certificate
// webhook-client (CN kube-apiserver-webhook-client, signed by the cluster CA) to webhooks that
// ask for one: pods are injected through the API server, while a review posted straight to the
// port without that certificate is refused.
import { existsSync, readFileSync } from "node:fs";
import { request as httpsRequest } from "node:https";
import type { AddressInfo } from "node:net";
import path from "node:path";
import * as k8s from "@kubernetes/client-node";
import { Registry } from "prom-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAuthority, issueServingCert } from "../../certs/authority.js";
import { LABEL_INJECT } from "../../core/annotations.js";
import { renderMutatingWebhookConfiguration } from "../../webhook/install/webhook-configuration.js";
import { defaultWebhookConfig } from "../../webhook/model/config.js";
import { buildWebhookServer } from "../../webhook/server/server.js";
import { createAdmissionService } from "../../webhook/service/admission-service.js";
import { admissionReview } from "../../webhook/testdata/review.js";
import { eventually, kubeConfig, uniqueName } from "./kube.js";

const RUN_LABEL = "graft.pnda.io/e2e-run";
const API_SERVER_CN = "kube-apiserver-webhook-client";

const kc = kubeConfig();
/** The cluster CA: it signed the API server's webhook client certificate (cluster.sh gen_certs). */
const clusterCaFile = kc.getCurrentCluster()?.caFile;
const clientCertFile = clusterCaFile ? path.join(path.dirname(clusterCaFile), "webhook-client.crt") : "";
const presentsClientCert = clusterCaFile !== undefined && existsSync(clientCertFile);

describe.skipIf(!presentsClientCert)(
  "graft webhook verifying the kube-apiserver's client certificate",
  () => {
    const core = kc.makeApiClient(k8s.CoreV1Api);
    const admission = kc.makeApiClient(k8s.AdmissionregistrationV1Api);
    const namespace = uniqueName("graft-mtls");
    const run = namespace.slice("graft-mtls-".length);
    const configurationName = `graft-mtls-${run}`;
    const serving = createAuthority({ now: new Date(), commonName: `graft-mtls-${run}` });
    let app: ReturnType<typeof buildWebhookServer> | undefined;
    let port = 0;

    beforeAll(async () => {
      app = buildWebhookServer({
        admission: createAdmissionService({ config: defaultWebhookConfig(), nativeSidecars: true }),
        registry: new Registry(),
        tls: issueServingCert(serving, { ipAddresses: ["127.0.0.1"], now: new Date() }),
        clientAuth: { ca: readFileSync(clusterCaFile!, "utf8"), allowedNames: [API_SERVER_CN] },
        logger: false,
      });
      await app.listen({ host: "127.0.0.1", port: 0 });
      port = (app.server.address() as AddressInfo).port;
      await core.createNamespace({
        body: { metadata: { name: namespace, labels: { [LABEL_INJECT]: "enabled", [RUN_LABEL]: run } } },
      });
      await admission.createMutatingWebhookConfiguration({
        body: renderMutatingWebhookConfiguration({
          name: configurationName,
          target: { url: `https://127.0.0.1:${port}` },
          caBundle: serving.cert,
          graftNamespace: "graft",
          onlyNamespacesLabelled: { [RUN_LABEL]: run },
        }),
      });
      await eventually(`ServiceAccount default in ${namespace}`, () =>
        core.readNamespacedServiceAccount({ name: "default", namespace }).then(() => true),
      );
    }, 60_000);

    afterAll(async () => {
      await admission.deleteMutatingWebhookConfiguration({ name: configurationName }).catch(() => undefined);
      await app?.close();
      await core.deleteNamespace({ name: namespace }).catch(() => undefined);
    });

    it("injects pods through the API server, which presents its certificate", async () => {
      const injected = await eventually("a dry-run pod injected through the API server", async () => {
        const pod = await core.createNamespacedPod({
          namespace,
          dryRun: "All",
          body: {
            metadata: {
              name: "probe",
              annotations: {
                "graft.pnda.io/checks": "[{name: api, type: tcp, host: 127.0.0.1, port: 8080}]",
              },
            },
            spec: { containers: [{ name: "main", image: "registry.invalid/app:1" }] },
          },
        });
        return [...(pod.spec?.initContainers ?? []), ...pod.spec!.containers].some(
          (c) => c.name === "graft-agent",
        )
          ? pod
          : undefined;
      });
      expect(injected.metadata?.annotations?.["graft.pnda.io/status"]).toBeDefined();
    });

    it("refuses the same review posted to its port without the API server's certificate", async () => {
      const reply = await new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = httpsRequest(
          {
            host: "127.0.0.1",
            port,
            path: "/mutate/namespace",
            method: "POST",
            ca: serving.cert,
            agent: false,
            headers: { "content-type": "application/json" },
          },
          (res) => {
            let text = "";
            res.setEncoding("utf8").on("data", (chunk: string) => {
              text += chunk;
            });
            res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text }));
          },
        );
        req.on("error", reject);
        req.end(
          JSON.stringify(
            admissionReview({
              uid: "forged",
              namespace,
              object: { metadata: { name: "p" }, spec: { containers: [{ name: "c", image: "i" }] } },
            }),
          ),
        );
      });
      expect(reply.status).toBe(401);
      expect(reply.body).toContain("--client-ca");
    });
  },
);
