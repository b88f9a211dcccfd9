/**
 * The webhook's resident memory as it ships: the built `graft webhook` CLI in a child process
 * (no cluster: the properties feature's API calls fail and are retried, as at a cold start),
 * idle, then under CONNECTIONS concurrent keep-alive HTTPS clients posting reviews in a loop
 * (node:https, one connection each; autocannon stalled on 41 KB bodies over TLS at 200
 * connections, timing out requests the server never received).
 * RSS is sampled from /proc every 100 ms. Prints one JSON line per node-flag variant.
 *
 *   npx tsx bench/webhook/memory.ts        REQUESTS=20000 CONNECTIONS=200 SERIES=1 npx tsx ...
 *   NODE_FLAG_VARIANTS="|--max-semi-space-size=2|MALLOC_ARENA_MAX=2" npx tsx bench/webhook/memory.ts
 * The CLI is the bundle the image ships (`npm run bundle`); GRAFT_BIN=bin/graft.js runs dist/.
 */
import { spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { Agent, request } from "node:https";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { createAuthority, issueServingCert } from "../../certs/authority.js";
import { freePort, waitFor } from "../../test/services/spawn.js";
import { median, memoryMiB } from "../lib/measure.js";
import { bigPodReview, jupyterReview, sparkDriverReview } from "./reviews.js";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const SECONDS = Number(process.env.MEMORY_SECONDS ?? 120);
const REQUESTS = Number(process.env.REQUESTS ?? 20_000);
const CONNECTIONS = Number(process.env.CONNECTIONS ?? 200);
const IDLE_SECONDS = 10;
/** warn: no line per review (to tell the log's share of the growth). */
const LOG_LEVEL = process.env.LOG_LEVEL ?? "info";
const BIN = process.env.GRAFT_BIN ?? "bundle/bin/graft.js";

function sample(pid: number): { stop: () => number[] } {
  const values: number[] = [];
  const timer = setInterval(() => {
    memoryMiB(pid).then(
      (value) => values.push(value),
      () => {},
    );
  }, 100);
  return {
    stop: () => {
      clearInterval(timer);
      return values;
    },
  };
}

const round = (value: number) => Math.round(value * 10) / 10;

/** The heap's spaces and external memory, from the webhook's own /metrics, in MiB. */
async function heapFigures(port: number, ca: string): Promise<string> {
  const text = await new Promise<string>((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path: "/metrics", ca }, (res) => {
      let body = "";
      res.setEncoding("utf8").on("data", (chunk: string) => {
        body += chunk;
      });
      res.on("end", () => resolve(body));
    });
    req.on("error", reject);
    req.end();
  });
  return text
    .split("\n")
    .filter((line) =>
      /^graft_webhook_nodejs_(heap_space_size_used_bytes|heap_size_total_bytes|external_memory_bytes)/.test(
        line,
      ),
    )
    .map((line) => {
      const [name = "", value = "0"] = line.replace("graft_webhook_nodejs_", "").split(" ");
      return `${name.replace("heap_space_size_used_bytes", "")}=${round(Number(value) / 1048576)}`;
    })
    .filter((figure) => !figure.endsWith("=0"))
    .join(" ");
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: "127.0.0.1", port }, () => {
      socket.destroy();
      resolve(true);
    });
    socket.on("error", () => resolve(false));
  });
}

/** `nodeFlags`: node's flags, and NAME=value words for the environment (e.g. MALLOC_ARENA_MAX=2). */
async function measure(variant: string[]) {
  const nodeFlags = variant.filter((word) => word.startsWith("--"));
  const env = Object.fromEntries(
    variant.filter((word) => !word.startsWith("--")).map((word) => word.split("=") as [string, string]),
  );
  const port = await freePort();
  const dir = await mkdtemp(path.join(tmpdir(), "graft-bench-memory-"));
  const authority = createAuthority({ now: new Date() });
  const serving = issueServingCert(authority, { ipAddresses: ["127.0.0.1"], now: new Date() });
  await writeFile(path.join(dir, "tls.crt"), serving.cert);
  await writeFile(path.join(dir, "tls.key"), serving.key);
  await writeFile(path.join(dir, "config.yaml"), "nativeSidecars: never\n");
  const child = spawn(
    process.execPath,
    [
      ...nodeFlags,
      BIN,
      "webhook",
      ...["--host", "127.0.0.1", "--port", String(port), "--drain-delay", "0", "--log-level", LOG_LEVEL],
      ...["--tls-cert", path.join(dir, "tls.crt"), "--tls-key", path.join(dir, "tls.key")],
      ...["--config", path.join(dir, "config.yaml")],
    ],
    // No cluster: the default kubeconfig points nowhere, the API calls fail fast and are retried.
    { cwd: ROOT, stdio: ["ignore", "pipe", "inherit"], env: { ...process.env, ...env } },
  );
  child.stdout?.resume();
  const exitedEarly = new Promise<never>((_, reject) =>
    child.once("exit", (code) => reject(new Error(`webhook exited ${code} before listening`))),
  );
  await Promise.race([
    waitFor("the webhook to listen", () => accepts(port), { timeoutMs: 30_000 }),
    exitedEarly,
  ]);
  const pid = child.pid!;
  await new Promise((resolve) => setTimeout(resolve, IDLE_SECONDS * 1000));
  const idle = sample(pid);
  await new Promise((resolve) => setTimeout(resolve, 3000));
  const idleValues = idle.stop();

  const bodies = [sparkDriverReview(), jupyterReview(), bigPodReview()].map((review) =>
    JSON.stringify(review),
  );
  const loaded = sample(pid);
  const result = await load(port, authority.cert, bodies);
  const loadValues = loaded.stop();
  const after = sample(pid);
  await new Promise((resolve) => setTimeout(resolve, 5000));
  const afterValues = after.stop();
  if (process.env.SERIES) {
    const series = [...loadValues, ...afterValues].filter((_, index) => index % 10 === 0).map(Math.round);
    process.stderr.write(`RSS each second from the start of the load: ${series.join(" ")}\n`);
    process.stderr.write(`${await heapFigures(port, authority.cert)}\n`);
  }
  child.kill("SIGTERM");
  await new Promise((resolve) => child.once("exit", resolve));
  await rm(dir, { recursive: true, force: true });
  return {
    flags: variant.join(" ") || "(none)",
    idleMedianMiB: round(median(idleValues)),
    loadMedianMiB: round(median(loadValues)),
    loadPeakMiB: round(Math.max(...loadValues)),
    afterMedianMiB: round(median(afterValues)),
    ...result,
  };
}

/**
 * CONNECTIONS clients, each posting the bodies in turn on its own keep-alive connection, until
 * REQUESTS have been sent (a count, not a duration: RSS grows with the work done, and the
 * machine's other load changes the rate from run to run) or SECONDS have passed.
 */
async function load(port: number, ca: string, bodies: string[]) {
  const until = Date.now() + SECONDS * 1000;
  let sent = 0;
  const latencies: number[] = [];
  let non2xx = 0;
  let errors = 0;
  const post = (agent: Agent, body: string) =>
    new Promise<number>((resolve, reject) => {
      const req = request(
        { host: "127.0.0.1", port, path: "/mutate/namespace", method: "POST", agent },
        (res) => {
          res.resume();
          res.on("end", () => resolve(res.statusCode ?? 0));
          res.on("error", reject);
        },
      );
      req.setHeader("content-type", "application/json");
      req.on("error", reject);
      req.end(body);
    });
  const client = async (index: number) => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1, ca });
    for (let turn = index; Date.now() < until && sent < REQUESTS; turn += 1) {
      sent += 1;
      const started = performance.now();
      try {
        const status = await post(agent, bodies[turn % bodies.length] as string);
        if (status !== 200) non2xx += 1;
        latencies.push(performance.now() - started);
      } catch {
        errors += 1;
      }
    }
    agent.destroy();
  };
  await Promise.all(Array.from({ length: CONNECTIONS }, (_, index) => client(index)));
  latencies.sort((a, b) => a - b);
  return {
    requests: latencies.length,
    non2xx,
    errors,
    p99Ms: Math.round(latencies[Math.floor(latencies.length * 0.99)] ?? 0),
  };
}

const variants = (process.env.NODE_FLAG_VARIANTS ?? "|--max-semi-space-size=2")
  .split("|")
  .map((flags) => flags.split(" ").filter(Boolean));
for (const flags of variants) {
  process.stdout.write(`${JSON.stringify(await measure(flags))}\n`);
}
