// `graft webhook` as it runs in a pod (the built CLI in a child process) on SIGTERM: readiness
// fails first while every request that still arrives is answered with `Connection: close`; after
// the drain delay the listener closes, the review in flight is finished, idle connections end,
// and the process exits 0 within its bound — no client ever sees a reset.
import { once } from "node:events";
import { Agent, request } from "node:https";
import { connect as connectTls } from "node:tls";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { run } from "../services/spawn.js";
import { buildCli, startWebhookCli, type WebhookCli } from "../services/webhook-cli.js";
import { eventually, get, podReview } from "./webhook-client.js";

const CONFIG = "nativeSidecars: never\n";
const DRAIN_DELAY_MS = 3_000;
/** Past the drain delay: connections still open are cut after 10 s; the process exits well before. */
const EXIT_BOUND_MS = DRAIN_DELAY_MS + 10_000;
/** How long after SIGTERM the test's clients stop opening connections, as a Service would. */
const PROPAGATION_MS = 300;

describe("graft webhook on SIGTERM", () => {
  let webhook: WebhookCli;
  let child: WebhookCli["child"];
  let exited: WebhookCli["exited"];
  let logs: WebhookCli["logs"];
  let base = "";

  beforeAll(async () => {
    webhook = await startWebhookCli({
      config: CONFIG,
      args: ["--log-level", "debug", "--drain-delay", `${DRAIN_DELAY_MS}ms`],
    });
    ({ child, exited, logs, base } = webhook);
  });

  afterAll(async () => {
    await webhook?.cleanup();
  });

  it("fails readiness while still answering, then closes the listener, finishes the review in flight, ends idle connections and exits 0", async () => {
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
          // Draining: readiness fails, yet a new connection is still answered (endpoints are
          // removed asynchronously), and told to close.
          const ready = await get(`${base}/readyz`, { ca: webhook.ca });
          expect(ready.status).toBe(503);
          const health = await get(`${base}/healthz`, { ca: webhook.ca });
          expect(health.status).toBe(200);
          expect(Date.now() - signalledAt).toBeLessThan(DRAIN_DELAY_MS);
          // Then the listener closes and the quiet connections end.
          expect(await idleClosed).toBe(true);
          expect(await silentClosed).toBe(true);
          await eventually("new connections to be refused", () =>
            get(`${base}/healthz`, { ca: webhook.ca }).then(
              () => false,
              (error: NodeJS.ErrnoException) => error.code === "ECONNREFUSED",
            ),
          );
          expect(Date.now() - signalledAt).toBeGreaterThanOrEqual(DRAIN_DELAY_MS);
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
      expect(Date.now() - signalledAt).toBeLessThan(EXIT_BOUND_MS);
      expect(logs.map((line) => line.msg)).toContain("stopped");
    } finally {
      keepAlive.destroy();
      pooled.destroy();
      silent.destroy();
    }
  });
});

describe("graft webhook on SIGTERM under 200 keep-alive clients", () => {
  const CLIENTS = 200;
  let webhook: WebhookCli;

  beforeAll(async () => {
    webhook = await startWebhookCli({ config: CONFIG, args: ["--drain-delay", `${DRAIN_DELAY_MS}ms`] });
  });

  afterAll(async () => {
    await webhook?.cleanup();
  });

  it("answers every request written after the signal (Connection: close), resets none, and exits 0 within its bound", async () => {
    const { base, ca, child, exited, logs } = webhook;
    const body = Buffer.from(JSON.stringify(podReview("uid-load")));
    // What a Service does once the pod is terminating: no new connection goes to this replica (in
    // the cluster once endpoints propagate, seconds; here PROPAGATION_MS, inside the drain delay).
    // Requests on connections already open keep coming, as the API server's do.
    let signalledAt = 0;
    let stopped = false;
    const endpointRemoved = () => stopped || (signalledAt > 0 && Date.now() - signalledAt >= PROPAGATION_MS);
    const tally = { sent: 0, answered: 0, sentAfterSignal: 0, answeredWithClose: 0 };
    const failures: string[] = [];
    const lastReplyClosed: boolean[] = new Array(CLIENTS).fill(false);
    const warm: number[] = new Array(CLIENTS).fill(0);
    const agents: Agent[] = [];

    const review = (agent: Agent) =>
      new Promise<{ status: number; connection?: string; uid?: string }>((resolve, reject) => {
        const req = request(
          `${base}/mutate/namespace`,
          {
            method: "POST",
            agent,
            headers: { "content-type": "application/json", "content-length": body.length },
          },
          (res) => {
            const chunks: Buffer[] = [];
            res.on("data", (chunk: Buffer) => chunks.push(chunk));
            res.on("error", reject);
            res.on("end", () => {
              let uid: string | undefined;
              try {
                uid = (JSON.parse(Buffer.concat(chunks).toString("utf8")) as { response?: { uid?: string } })
                  .response?.uid;
              } catch {
                uid = undefined;
              }
              resolve({ status: res.statusCode ?? 0, connection: res.headers.connection, uid });
            });
          },
        );
        req.on("error", reject);
        req.end(body);
      });

    const client = async (index: number) => {
      const agent = new Agent({ keepAlive: true, maxSockets: 1, ca });
      agents.push(agent);
      for (;;) {
        const connectionOpen = Object.keys(agent.freeSockets).length > 0;
        if (endpointRemoved() && !connectionOpen) return;
        tally.sent += 1;
        if (signalledAt > 0) tally.sentAfterSignal += 1;
        try {
          const reply = await review(agent);
          if (reply.status === 200 && reply.uid === "uid-load") tally.answered += 1;
          else failures.push(`client ${index}: status ${reply.status}`);
          lastReplyClosed[index] = reply.connection === "close";
          if (reply.connection === "close") tally.answeredWithClose += 1;
          warm[index] = (warm[index] ?? 0) + 1;
        } catch (error) {
          failures.push(`client ${index}, ${Date.now() - signalledAt} ms after SIGTERM: ${String(error)}`);
          return;
        }
      }
    };

    const clients = Array.from({ length: CLIENTS }, (_, index) => client(index));
    try {
      await eventually(
        "every client to have sent reviews on its keep-alive connection",
        async () => warm.every((count) => count >= 3),
        30_000,
      );
      expect(failures).toEqual([]);
      signalledAt = Date.now();
      child.kill("SIGTERM");
      // The kubelet's readiness probe, on a connection of its own, while the clients still come.
      const probe = get(`${base}/readyz`, { ca }).then(
        (reply) => reply.status,
        (error: unknown) => String(error),
      );
      await Promise.all(clients);
      const code = await exited;
      const elapsed = Date.now() - signalledAt;

      expect(failures).toEqual([]);
      expect(await probe).toBe(503);
      expect(tally.sentAfterSignal).toBeGreaterThanOrEqual(CLIENTS);
      expect(tally.answered).toBe(tally.sent);
      // Every client's connection was ended by a reply that said so, not cut.
      expect(lastReplyClosed.every(Boolean)).toBe(true);
      expect(tally.answeredWithClose).toBeGreaterThanOrEqual(CLIENTS);
      expect(code).toBe(0);
      expect(elapsed).toBeLessThan(EXIT_BOUND_MS);
      expect(logs.map((line) => line.msg)).toContain("stopped");
    } finally {
      stopped = true;
      for (const agent of agents) agent.destroy();
    }
  });
});

describe("graft webhook on SIGTERM with clients that never finish", () => {
  const started: WebhookCli[] = [];
  afterAll(async () => {
    await Promise.all(started.map((webhook) => webhook.cleanup()));
  });

  const open = async (webhook: WebhookCli, text: string) => {
    const socket = connectTls({
      host: "127.0.0.1",
      port: Number(new URL(webhook.base).port),
      ca: webhook.ca,
    });
    await once(socket, "secureConnect");
    socket.write(text);
    socket.resume();
    return { closed: once(socket, "close").then(() => true), socket };
  };

  it("ends a connection that sent half its headers once it is quiet, without waiting for the cut-off", async () => {
    const webhook = await startWebhookCli({ config: CONFIG, args: ["--drain-delay", `${DRAIN_DELAY_MS}ms`] });
    started.push(webhook);
    const slow = await open(webhook, "POST /mutate/namespace HTTP/1.1\r\nHost: graft\r\nContent-Type: app");
    const signalledAt = Date.now();
    webhook.child.kill("SIGTERM");
    expect(await slow.closed).toBe(true);
    expect(await webhook.exited).toBe(0);
    // The drain delay, then one quiet second: far from the 10 s cut-off.
    expect(Date.now() - signalledAt).toBeLessThan(DRAIN_DELAY_MS + 6_000);
  });

  it("cuts a request whose body never arrives 10 s after the listener closed, and exits 0", async () => {
    const webhook = await startWebhookCli({
      config: CONFIG,
      args: ["--drain-delay", `${DRAIN_DELAY_MS}ms`, "--log-level", "debug"],
    });
    started.push(webhook);
    const stuck = await open(
      webhook,
      "POST /mutate/namespace HTTP/1.1\r\nHost: graft\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{",
    );
    await eventually("the request to reach the server", async () =>
      webhook.logs.some((line) => line.msg === "request received" && line.path === "/mutate/namespace"),
    );
    const signalledAt = Date.now();
    webhook.child.kill("SIGTERM");
    expect(await stuck.closed).toBe(true);
    expect(await webhook.exited).toBe(0);
    const elapsed = Date.now() - signalledAt;
    expect(elapsed).toBeGreaterThanOrEqual(DRAIN_DELAY_MS + 10_000 - 500);
    expect(elapsed).toBeLessThan(EXIT_BOUND_MS + 5_000);
  });
});

describe("graft webhook --drain-delay", () => {
  beforeAll(() => buildCli());

  it.each(["soon", "-5s", "5", "1e9h", "99999h"])(
    "refuses %j with exit 2, naming the option",
    async (value) => {
      const ran = await run(
        process.execPath,
        ["bin/graft.js", "webhook", "--drain-delay", value, "--tls-cert", "x", "--tls-key", "y"],
        { cwd: fileURLToPath(new URL("../..", import.meta.url)) },
      );
      expect(ran.code).toBe(2);
      expect(ran.stderr).toMatch(
        value.startsWith("-")
          ? /Option '--drain-delay/
          : `--drain-delay must be a duration such as 5s or 500ms, at most 2m, got "${value}"`,
      );
    },
  );
});
