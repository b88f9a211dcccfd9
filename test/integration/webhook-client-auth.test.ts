// The webhook's optional check of the API server's client certificate (webhook/server/client-auth.ts),
// against real TLS clients on 127.0.0.1: a review is answered only for a certificate the
// configured CA signed (and, when names are given, with an accepted CN); probes and /metrics
// stay open to clients without one; a reloaded serving certificate keeps the client CA.
import { request as httpsRequest } from "node:https";
import type { AddressInfo } from "node:net";
import { Registry } from "prom-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAuthority, issueServingCert, type PemPair } from "../../certs/authority.js";
import { defaultWebhookConfig } from "../../webhook/model/config.js";
import { keepClientCa } from "../../webhook/server/client-auth.js";
import { buildWebhookServer } from "../../webhook/server/server.js";
import { createAdmissionService } from "../../webhook/service/admission-service.js";
import { admissionReview } from "../../webhook/testdata/review.js";
import { issueClientCert } from "../services/client-cert.js";

const now = new Date();

const review = admissionReview({
  uid: "u-1",
  namespace: "apps",
  object: { metadata: { name: "p" }, spec: { containers: [{ name: "c", image: "i" }] } },
});

type Reply = { status: number; body: string };

describe("graft webhook with --client-ca", () => {
  const servingCa = createAuthority({ now, commonName: "serving-ca" });
  const clientCa = createAuthority({ now, commonName: "apiserver-client-ca" });
  const otherCa = createAuthority({ now, commonName: "someone-else" });
  const apiServer = issueClientCert(clientCa, "kube-apiserver-webhook-client");
  const otherName = issueClientCert(clientCa, "kubernetes-admin");
  const forged = issueClientCert(otherCa, "kube-apiserver-webhook-client");
  const app = buildWebhookServer({
    admission: createAdmissionService({ config: defaultWebhookConfig(), nativeSidecars: true }),
    registry: new Registry(),
    tls: issueServingCert(servingCa, { ipAddresses: ["127.0.0.1"], now }),
    clientAuth: { ca: clientCa.cert, allowedNames: ["kube-apiserver-webhook-client"] },
    logger: false,
  });
  let port = 0;

  beforeAll(async () => {
    await app.listen({ host: "127.0.0.1", port: 0 });
    port = (app.server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    await app.close();
  });

  /** One request on a new connection, as `client` (or without a certificate). */
  const call = (method: "GET" | "POST", path: string, client?: PemPair): Promise<Reply> =>
    new Promise((resolve, reject) => {
      const body = method === "POST" ? JSON.stringify(review) : undefined;
      const req = httpsRequest(
        {
          host: "127.0.0.1",
          port,
          method,
          path,
          ca: servingCa.cert,
          agent: false,
          ...(client ? { cert: client.cert, key: client.key } : {}),
          headers: body ? { "content-type": "application/json" } : {},
        },
        (res) => {
          let text = "";
          res.setEncoding("utf8");
          res.on("data", (chunk: string) => {
            text += chunk;
          });
          res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text }));
        },
      );
      req.setTimeout(10_000, () => req.destroy(new Error("no answer within 10 s")));
      req.on("error", reject);
      req.end(body);
    });

  it("answers a review from the API server's certificate", async () => {
    const reply = await call("POST", "/mutate/namespace", apiServer);
    expect(reply.status).toBe(200);
    expect(JSON.parse(reply.body).response).toMatchObject({ uid: "u-1", allowed: true });
  });

  it("refuses a review without a client certificate with 401, naming --client-ca", async () => {
    for (const path of ["/mutate/namespace", "/mutate/pod", "/validate"]) {
      const reply = await call("POST", path);
      expect(reply.status, path).toBe(401);
      expect(reply.body).toContain("--client-ca");
    }
  });

  it("refuses a certificate another CA signed (401) and a CN not accepted (403)", async () => {
    expect((await call("POST", "/mutate/pod", forged)).status).toBe(401);
    const wrongName = await call("POST", "/mutate/pod", otherName);
    expect(wrongName.status).toBe(403);
    expect(JSON.parse(wrongName.body).message).toContain('CN "kubernetes-admin"');
  });

  it("keeps /healthz, /readyz and /metrics open to clients without a certificate (kubelet, Prometheus)", async () => {
    for (const path of ["/healthz", "/readyz", "/metrics"]) {
      expect((await call("GET", path)).status, path).toBe(200);
    }
  });

  it("still verifies client certificates after the serving certificate is reloaded", async () => {
    const renewed = issueServingCert(servingCa, { ipAddresses: ["127.0.0.1"], now });
    keepClientCa(app.server, { ca: clientCa.cert, allowedNames: [] }).setSecureContext(renewed);
    expect((await call("POST", "/mutate/namespace", apiServer)).status).toBe(200);
    expect((await call("POST", "/mutate/namespace")).status).toBe(401);
  });
});
