// The webhook server over real HTTPS on 127.0.0.1: malformed AdmissionReviews never take it
// down, and a replaced certificate reaches new connections without dropping open ones.
import { X509Certificate } from "node:crypto";
import { mkdtemp, rename, rm, writeFile } from "node:fs/promises";
import { Agent } from "node:https";
import type { AddressInfo } from "node:net";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { Registry } from "prom-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAuthority, issueServingCert, type PemPair } from "../../certs/authority.js";
import {
  type CertificateWatch,
  readCertificatePair,
  reloadCertificatesOnChange,
} from "../../certs/reload.js";
import { defaultWebhookConfig } from "../../webhook/model/config.js";
import { buildWebhookServer } from "../../webhook/server/server.js";
import { createAdmissionService } from "../../webhook/service/admission-service.js";
import { eventually, get, podReview, post } from "./webhook-client.js";

const now = new Date();
const firstCa = createAuthority({ now, commonName: "graft-test-ca-1" });
const secondCa = createAuthority({ now, commonName: "graft-test-ca-2" });
const first = issueServingCert(firstCa, { ipAddresses: ["127.0.0.1"], now });
const second = issueServingCert(secondCa, { ipAddresses: ["127.0.0.1"], now });
const serialOf = (pair: PemPair) => new X509Certificate(pair.cert).serialNumber.replace(/^0+/, "");

describe("graft webhook over HTTPS", () => {
  let dir: string;
  let base: string;
  let app: ReturnType<typeof buildWebhookServer>;
  let watch: CertificateWatch;
  const logs: Array<{ msg?: string; reason?: string }> = [];
  const ca = [firstCa.cert, secondCa.cert];

  async function writeAtomically(name: string, content: string) {
    await writeFile(join(dir, `${name}.tmp`), content);
    await rename(join(dir, `${name}.tmp`), join(dir, name));
  }

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "graft-webhook-tls-"));
    await writeAtomically("tls.crt", first.cert);
    await writeAtomically("tls.key", first.key);
    const files = { certFile: join(dir, "tls.crt"), keyFile: join(dir, "tls.key") };
    const stream = new Writable({
      write(chunk, _encoding, done) {
        logs.push(JSON.parse(String(chunk)));
        done();
      },
    });
    app = buildWebhookServer({
      admission: createAdmissionService({ config: defaultWebhookConfig(), nativeSidecars: true }),
      registry: new Registry(),
      tls: await readCertificatePair(files),
      logger: { level: "info", stream },
    });
    watch = reloadCertificatesOnChange(app.server, files, app.log, 50);
    await app.listen({ host: "127.0.0.1", port: 0 });
    base = `https://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    watch?.close();
    await app?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("answers an AdmissionReview with its uid", async () => {
    const reply = await post(`${base}/mutate/namespace`, JSON.stringify(podReview("uid-ok")), { ca });
    expect(reply.status).toBe(200);
    expect(reply.json()).toMatchObject({
      response: { uid: "uid-ok", allowed: true, patchType: "JSONPatch" },
    });
  });

  describe("malformed AdmissionReviews get a 4xx with a message and the server keeps serving", () => {
    const review = podReview("uid-malformed");
    const cases: Array<[string, string | Buffer, number, RegExp]> = [
      ["a non-JSON body", "<AdmissionReview/>", 400, /not valid JSON/],
      [
        "the wrong kind",
        JSON.stringify({ ...review, kind: "Status" }),
        400,
        /expected kind "AdmissionReview"/,
      ],
      [
        "the wrong version",
        JSON.stringify({ ...review, apiVersion: "admission.k8s.io/v1beta1" }),
        400,
        /expected apiVersion "admission.k8s.io\/v1"/,
      ],
      [
        "a request without uid",
        JSON.stringify({ ...review, request: { ...review.request, uid: undefined } }),
        400,
        /missing field "request.uid"/,
      ],
      [
        "a CREATE without object",
        JSON.stringify({ ...review, request: { ...review.request, object: null } }),
        400,
        /without "request.object"/,
      ],
      [
        "a body over the 8 MiB limit",
        Buffer.alloc(9 * 1024 * 1024, " "),
        413,
        /request body is larger than 8388608 bytes/,
      ],
    ];

    it.each(cases)("%s", async (_name, body, status, message) => {
      const reply = await post(`${base}/mutate/namespace`, body, { ca });
      expect(reply.status).toBe(status);
      expect((reply.json() as { message: string }).message).toMatch(message);
      const next = await post(`${base}/mutate/namespace`, JSON.stringify(podReview("uid-after")), { ca });
      expect(next.status).toBe(200);
    });

    it("a client that hangs up in the middle of its body", async () => {
      const port = Number(new URL(base).port);
      await new Promise<void>((resolve, reject) => {
        const socket = connect(port, "127.0.0.1", () => {
          // Not even TLS: garbage bytes on the HTTPS port, then a hang-up.
          socket.end('POST /mutate/namespace HTTP/1.1\r\nContent-Length: 1000\r\n\r\n{"kind":');
        });
        socket.on("close", () => resolve());
        socket.on("error", reject);
      });
      const reply = await post(`${base}/mutate/namespace`, JSON.stringify(podReview("uid-after-hangup")), {
        ca,
      });
      expect(reply.status).toBe(200);
      expect((await get(`${base}/healthz`, { ca })).status).toBe(200);
    });
  });

  it("serves a replaced certificate to new connections and keeps an open keep-alive connection", async () => {
    const keepAlive = new Agent({ keepAlive: true, maxSockets: 1, ca });
    try {
      const before = await get(`${base}/healthz`, { agent: keepAlive });
      expect(before.serial).toBe(serialOf(first));

      // The key alone first, as a rotation writes it: it does not match the old certificate, so
      // the server must keep serving the old pair.
      await writeAtomically("tls.key", second.key);
      await eventually("the mismatched pair to be refused", async () =>
        logs.some((line) => line.reason?.includes("not a usable certificate and key pair")),
      );
      expect((await get(`${base}/healthz`, { ca })).serial).toBe(serialOf(first));

      await writeAtomically("tls.crt", second.cert);
      await eventually("a new connection to get the new certificate", async () => {
        const fresh = await get(`${base}/healthz`, { ca });
        return fresh.serial === serialOf(second);
      });

      const after = await post(`${base}/mutate/namespace`, JSON.stringify(podReview("uid-kept")), {
        agent: keepAlive,
      });
      expect(after.reusedSocket).toBe(true);
      expect(after.socket).toBe(before.socket);
      expect(after.serial).toBe(serialOf(first));
      expect(after.status).toBe(200);
      expect(after.json()).toMatchObject({ response: { uid: "uid-kept" } });
    } finally {
      keepAlive.destroy();
    }
  });
});
