// `graft webhook` as it runs in a pod (the built CLI in a child process): on SIGTERM it stops
// taking connections, finishes the review in flight, and exits 0.
import { once } from "node:events";
import { Agent, request } from "node:https";
import { connect as connectTls } from "node:tls";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startWebhookCli, type WebhookCli } from "../services/webhook-cli.js";
import { eventually, get, podReview } from "./webhook-client.js";

describe("graft webhook on SIGTERM", () => {
  let webhook: WebhookCli;
  let child: WebhookCli["child"];
  let exited: WebhookCli["exited"];
  let logs: WebhookCli["logs"];
  let base = "";

  beforeAll(async () => {
    webhook = await startWebhookCli({ config: "nativeSidecars: never\n", args: ["--log-level", "debug"] });
    ({ child, exited, logs, base } = webhook);
  });

  afterAll(async () => {
    await webhook?.cleanup();
  });

  it("finishes an in-flight review, closes idle connections, refuses new ones, then exits 0 at once", async () => {
    // Connections a client keeps open, as the API server does: one idle after a request, one
    // on which no request was ever sent. Neither may hold the shutdown up.
    const keepAlive = new Agent({ keepAlive: true, maxSockets: 1, ca: webhook.ca });
    const pooled = new Agent({ keepAlive: true, maxSockets: 1, ca: webhook.ca });
    const idle = await get(`${base}/readyz`, { agent: pooled });
    expect(idle.status).toBe(200);
    const silent = connectTls({ host: "127.0.0.1", port: Number(new URL(base).port), ca: webhook.ca });
    await once(silent, "secureConnect");
    const closed = (socket: NodeJS.EventEmitter) => once(socket, "close").then(() => true);
    const idleClosed = closed(idle.socket);
    const silentClosed = closed(silent);

    // A review whose body arrives in two parts, on a keep-alive connection: the server has it in
    // flight between them.
    const body = Buffer.from(JSON.stringify(podReview("uid-in-flight")));
    const half = Math.floor(body.length / 2);
    let signalledAt = 0;
    const inFlight = new Promise<{ status: number; text: string; connection?: string }>((resolve, reject) => {
      const req = request(
        `${base}/mutate/namespace`,
        {
          method: "POST",
          agent: keepAlive,
          headers: { "content-type": "application/json", "content-length": body.length },
        },
        (res) => {
          let text = "";
          res.setEncoding("utf8").on("data", (chunk: string) => {
            text += chunk;
          });
          res.on("end", () =>
            resolve({ status: res.statusCode ?? 0, text, connection: res.headers.connection }),
          );
        },
      );
      req.on("error", reject);
      req.write(body.subarray(0, half));
      void eventually("the server to start on the review", async () =>
        logs.some((line) => line.msg === "request received" && line.path === "/mutate/namespace"),
      )
        .then(async () => {
          signalledAt = Date.now();
          child.kill("SIGTERM");
          await eventually("shutdown to begin", async () => logs.some((line) => line.signal === "SIGTERM"));
          expect(await idleClosed).toBe(true);
          expect(await silentClosed).toBe(true);
          await eventually("new connections to be refused", () =>
            get(`${base}/healthz`, { ca: webhook.ca }).then(
              () => false,
              (error: NodeJS.ErrnoException) => error.code === "ECONNREFUSED",
            ),
          );
          req.end(body.subarray(half));
        })
        .catch(reject);
    });

    try {
      const reply = await inFlight;
      expect(reply.status).toBe(200);
      expect(reply.connection).toBe("close");
      expect(JSON.parse(reply.text)).toMatchObject({ response: { uid: "uid-in-flight", allowed: true } });
      expect(await exited).toBe(0);
      // Well inside a pod's default 30 s grace period; the API server's idle connections alone
      // would hold a plain close() for 90 s.
      expect(Date.now() - signalledAt).toBeLessThan(5_000);
      expect(logs.map((line) => line.msg)).toContain("stopped");
    } finally {
      keepAlive.destroy();
      pooled.destroy();
      silent.destroy();
    }
  });
});
