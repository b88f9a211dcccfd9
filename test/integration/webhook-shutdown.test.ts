// `graft webhook` as it runs in a pod (the built CLI in a child process): on SIGTERM it stops
// taking connections, finishes the review in flight, and exits 0.
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { once } from "node:events";
import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { Agent, request } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { connect as connectTls } from "node:tls";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAuthority, issueServingCert } from "../../certs/authority.js";
import { eventually, get, podReview } from "./webhook-client.js";

const root = fileURLToPath(new URL("../..", import.meta.url));
type LogLine = { msg?: string; path?: string; signal?: string };

describe("graft webhook on SIGTERM", () => {
  const now = new Date();
  const ca = createAuthority({ now });
  const serving = issueServingCert(ca, { ipAddresses: ["127.0.0.1"], now });
  let dir: string;
  let child: ChildProcess;
  let exited: Promise<number | null>;
  const logs: LogLine[] = [];
  let base = "";

  beforeAll(async () => {
    // The CLI under test is the built one (bin/graft.js runs dist/). tsc emits even when
    // another part of the tree fails to type-check, so only a missing output is fatal here.
    const build = spawnSync("npm", ["run", "build"], { cwd: root, encoding: "utf8" });
    if (!existsSync(join(root, "dist/webhook/cli.js"))) {
      throw new Error(`npm run build produced no dist/webhook/cli.js:\n${build.stdout}${build.stderr}`);
    }
    dir = await mkdtemp(join(tmpdir(), "graft-webhook-sigterm-"));
    await writeFile(join(dir, "tls.crt"), serving.cert);
    await writeFile(join(dir, "tls.key"), serving.key);
    await writeFile(join(dir, "config.yaml"), "nativeSidecars: never\n");
    child = spawn(
      process.execPath,
      [
        "bin/graft.js",
        "webhook",
        ...["--host", "127.0.0.1", "--port", "0", "--log-level", "debug"],
        ...[
          "--tls-cert",
          join(dir, "tls.crt"),
          "--tls-key",
          join(dir, "tls.key"),
          "--config",
          join(dir, "config.yaml"),
        ],
      ],
      { cwd: root, stdio: ["ignore", "pipe", "inherit"] },
    );
    exited = new Promise((resolve) => child.on("exit", (code) => resolve(code)));
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on("line", (line) => {
      try {
        logs.push(JSON.parse(line));
      } catch {
        logs.push({ msg: line });
      }
    });
    await eventually("the webhook to listen", async () => {
      const listening = logs.find((line) => line.msg?.startsWith("Server listening at "));
      base = listening?.msg?.replace("Server listening at ", "") ?? "";
      return base !== "";
    });
  });

  afterAll(async () => {
    if (child && child.exitCode === null) child.kill("SIGKILL");
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("finishes an in-flight review, closes idle connections, refuses new ones, then exits 0 at once", async () => {
    // Connections a client keeps open, as the API server does: one idle after a request, one
    // on which no request was ever sent. Neither may hold the shutdown up.
    const keepAlive = new Agent({ keepAlive: true, maxSockets: 1, ca: ca.cert });
    const pooled = new Agent({ keepAlive: true, maxSockets: 1, ca: ca.cert });
    const idle = await get(`${base}/readyz`, { agent: pooled });
    expect(idle.status).toBe(200);
    const silent = connectTls({ host: "127.0.0.1", port: Number(new URL(base).port), ca: ca.cert });
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
            get(`${base}/healthz`, { ca: ca.cert }).then(
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
