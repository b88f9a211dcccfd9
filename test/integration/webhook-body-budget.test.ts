// The webhook bounds the request bodies it holds at once: clients that each announce a large body
// and send it slowly (a hostile client, or many) get a 503 past the budget instead of growing the
// process until the kernel kills it; once the bodies in flight are answered, requests fit again.
import type { ClientRequest } from "node:http";
import type { Server as HttpsServer } from "node:https";
import { request } from "node:https";
import type { FastifyInstance } from "fastify";
import { Registry } from "prom-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAuthority, issueServingCert } from "../../certs/authority.js";
import { defaultWebhookConfig } from "../../webhook/model/config.js";
import { buildWebhookServer } from "../../webhook/server/server.js";
import { createAdmissionService } from "../../webhook/service/admission-service.js";
import { eventually, podReview } from "./webhook-client.js";

const BODY_LIMIT = 1024 * 1024;
const BUDGET = 2 * BODY_LIMIT;

type Sent = { req: ClientRequest; reply: Promise<{ status: number; text: string }> };

describe("webhook request bodies in flight", () => {
  const authority = createAuthority({ now: new Date() });
  const serving = issueServingCert(authority, { ipAddresses: ["127.0.0.1"], now: new Date() });
  let app: FastifyInstance<HttpsServer>;
  let port = 0;

  beforeAll(async () => {
    app = buildWebhookServer({
      admission: createAdmissionService({ config: defaultWebhookConfig(), nativeSidecars: true }),
      registry: new Registry(),
      tls: serving,
      logger: false,
      bodyLimitBytes: BODY_LIMIT,
      inFlightBodyBytes: BUDGET,
    });
    await app.listen({ host: "127.0.0.1", port: 0 });
    port = (app.server.address() as { port: number }).port;
  });
  afterAll(async () => {
    await app?.close();
  });

  /** A review padded with spaces to `size` bytes, of which only the first `sent` are written. */
  const start = (uid: string, size: number, sent: number): Sent & { body: Buffer } => {
    const json = JSON.stringify(podReview(uid));
    const body = Buffer.from(json + " ".repeat(size - Buffer.byteLength(json)));
    let req: ClientRequest | undefined;
    const reply = new Promise<{ status: number; text: string }>((resolve, reject) => {
      req = request(
        {
          host: "127.0.0.1",
          port,
          path: "/mutate/namespace",
          method: "POST",
          ca: authority.cert,
          agent: false,
          headers: { "content-type": "application/json", "content-length": body.length },
        },
        (res) => {
          let text = "";
          res.setEncoding("utf8").on("data", (chunk: string) => {
            text += chunk;
          });
          res.on("end", () => resolve({ status: res.statusCode ?? 0, text }));
        },
      );
      req.on("error", reject);
      if (sent > 0) req.write(body.subarray(0, sent));
      else req.flushHeaders();
    });
    return { req: req as unknown as ClientRequest, reply, body };
  };

  it("answers 503 naming the budget past it, and takes requests again once the bodies in flight are answered", async () => {
    let arrived = 0;
    const count = () => {
      arrived += 1;
    };
    app.server.on("request", count);
    const first = start("uid-1", BODY_LIMIT - 1024, 1024);
    const second = start("uid-2", BODY_LIMIT - 1024, 1024);
    await eventually("both requests to be in flight", async () => arrived === 2);
    app.server.off("request", count);
    // Both announced bodies are being read: a third does not fit (refused before its body is sent).
    const refused = await start("uid-3", 64 * 1024, 0).reply;
    expect(refused.status).toBe(503);
    expect(JSON.parse(refused.text)).toEqual({
      message: `graft is busy: ${2 * (BODY_LIMIT - 1024)} bytes of requests in flight, at most ${BUDGET}; retry`,
    });

    first.req.end(first.body.subarray(1024));
    second.req.end(second.body.subarray(1024));
    for (const [uid, sent] of [
      ["uid-1", first],
      ["uid-2", second],
    ] as const) {
      const reply = await sent.reply;
      expect(reply.status).toBe(200);
      expect(JSON.parse(reply.text)).toMatchObject({ response: { uid, allowed: true } });
    }
    const later = start("uid-4", 64 * 1024, 64 * 1024);
    later.req.end();
    expect((await later.reply).status).toBe(200);
  });

  it("always takes one request, however large within the body limit", async () => {
    const alone = start("uid-alone", BODY_LIMIT, BODY_LIMIT);
    alone.req.end();
    expect((await alone.reply).status).toBe(200);
  });
});
