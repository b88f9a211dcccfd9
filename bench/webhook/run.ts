/**
 * graft's webhook under load, side by side with a baseline in the same server and the same run:
 * the baseline route parses the AdmissionReview and allows it untouched, so the ratio is what
 * graft's admission (intent, plan, features, patch) costs on top of HTTPS, JSON and fastify.
 *
 *   npm run bench:webhook                 BENCH_SECONDS=10 npm run bench:webhook
 *
 * HTTPS with keep-alive from autocannon in this process; the server is a child process, so the
 * two do not share an event loop. Writes its figures to docs/benchmarks.md between the webhook
 * markers, leaving other sections.
 */
import { spawn } from "node:child_process";
import { readFile, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import autocannon from "autocannon";
import { NOTEBOOK_SYNC_SCRIPT } from "../../webhook/features/notebooks/sync-script.js";
import { bigPodReview, jupyterReview, sparkDriverReview } from "./reviews.js";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const DOC = path.join(ROOT, "docs/benchmarks.md");
const START = "<!-- bench:webhook:start -->";
const END = "<!-- bench:webhook:end -->";
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
/** Each route's SECONDS are split into this many slices, graft's and the baseline's alternating. */
const ROUNDS = 5;
const CONNECTIONS = 8;
const GRAFT_PATH = "/mutate/namespace";
const BASELINE_PATH = "/baseline";

type Load = {
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  meanMs: number;
  errors: number;
  /** The server's CPU time per request: steadier than req/s on a shared machine. */
  cpuUsPerRequest: number;
};

/** User + system CPU time of process `pid` so far, in microseconds (Linux clock ticks of 10 ms). */
async function cpuMicros(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) * 10_000;
}

async function startServer(): Promise<{ port: number; pid: number; stop: () => Promise<void> }> {
  const child = spawn(process.execPath, ["--import", "tsx", path.join(ROOT, "bench/webhook/server.ts")], {
    cwd: ROOT,
    stdio: ["ignore", "pipe", "inherit"],
  });
  const lines = createInterface({ input: child.stdout! });
  const port = await new Promise<number>((resolve, reject) => {
    lines.once("line", (line) => resolve((JSON.parse(line) as { port: number }).port));
    child.once("exit", (code) => reject(new Error(`bench server exited ${code} before listening`)));
  });
  const stop = () =>
    new Promise<void>((resolve) => {
      child.once("exit", () => resolve());
      child.kill("SIGTERM");
    });
  return { port, pid: child.pid!, stop };
}

async function load(
  server: { port: number; pid: number },
  route: string,
  body: string,
  seconds: number,
  connections: number,
): Promise<Load> {
  const cpuBefore = await cpuMicros(server.pid);
  const result = await autocannon({
    url: `https://127.0.0.1:${server.port}${route}`,
    method: "POST",
    headers: { "content-type": "application/json" },
    body,
    connections,
    duration: seconds,
    // The bench server's certificate is its own; this is loopback traffic to a child process.
    tlsOptions: { rejectUnauthorized: false },
  } as autocannon.Options);
  const cpu = (await cpuMicros(server.pid)) - cpuBefore;
  const failed = result.errors + result.timeouts + result.non2xx;
  return {
    cpuUsPerRequest: cpu / Math.max(1, result.requests.total),
    requestsPerSecond: result.requests.average,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    meanMs: result.latency.mean,
    errors: failed,
  };
}

async function peakRssMiB(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  const kib = Number(/^VmHWM:\s+(\d+) kB$/m.exec(status)?.[1] ?? 0);
  return kib / 1024;
}

const fixed = (n: number, digits = 1) => n.toFixed(digits);

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

function medianLoad(loads: Load[]): Load {
  const of = (field: keyof Load) => median(loads.map((load) => load[field]));
  return {
    requestsPerSecond: of("requestsPerSecond"),
    p50Ms: of("p50Ms"),
    p99Ms: of("p99Ms"),
    meanMs: of("meanMs"),
    errors: loads.reduce((sum, load) => sum + load.errors, 0),
    cpuUsPerRequest: of("cpuUsPerRequest"),
  };
}

/**
 * Graft and baseline in alternating slices (which goes first alternates too), so a machine that
 * slows down or speeds up mid-run (a shared host) weighs on both alike. The ratio is the median
 * of the slices' ratios.
 */
async function sideBySide(
  server: { port: number; pid: number },
  body: string,
  seconds: number,
  connections: number,
): Promise<{ graft: Load; baseline: Load; ratio: number }> {
  const graft: Load[] = [];
  const baseline: Load[] = [];
  const slice = seconds / ROUNDS;
  for (let round = 0; round < ROUNDS; round++) {
    const order = round % 2 === 0 ? [GRAFT_PATH, BASELINE_PATH] : [BASELINE_PATH, GRAFT_PATH];
    for (const route of order) {
      const result = await load(server, route, body, slice, connections);
      (route === GRAFT_PATH ? graft : baseline).push(result);
    }
  }
  const ratios = graft.map((g, i) => g.requestsPerSecond / baseline[i]!.requestsPerSecond);
  return { graft: medianLoad(graft), baseline: medianLoad(baseline), ratio: median(ratios) };
}

async function main(): Promise<void> {
  const server = await startServer();
  const reviews = [
    { name: "Spark driver (properties + agent)", body: JSON.stringify(sparkDriverReview()) },
    { name: "JupyterHub single-user (notebooks + agent)", body: JSON.stringify(jupyterReview()) },
    { name: "20 containers, 300 env vars (agent)", body: JSON.stringify(bigPodReview(20, 300)) },
  ];
  const rows: string[] = [];
  let worstRatio = Number.POSITIVE_INFINITY;
  try {
    // Warm both routes (JIT, TLS session) before measuring.
    for (const { body } of reviews) {
      await load(server, GRAFT_PATH, body, 1, CONNECTIONS);
      await load(server, BASELINE_PATH, body, 1, CONNECTIONS);
    }
    for (const { name, body } of reviews) {
      const { graft, baseline, ratio } = await sideBySide(server, body, SECONDS, CONNECTIONS);
      if (graft.errors + baseline.errors > 0)
        throw new Error(`${name}: ${graft.errors + baseline.errors} failed requests`);
      worstRatio = Math.min(worstRatio, ratio);
      rows.push(
        `| ${name} | ${(body.length / 1024).toFixed(0)} | ${fixed(graft.requestsPerSecond, 0)} | ${fixed(baseline.requestsPerSecond, 0)} | **${fixed(ratio, 2)}** | ${graft.p50Ms} / ${graft.p99Ms} | ${baseline.p50Ms} / ${baseline.p99Ms} | ${fixed(graft.cpuUsPerRequest, 0)} / ${fixed(baseline.cpuUsPerRequest, 0)} |`,
      );
      console.log(rows.at(-1));
    }

    // Cost against pod size: graft's own time per request (graft minus baseline latency, one
    // connection so latency is service time) for growing pods; linear means flat per container.
    const scaling: string[] = [];
    for (const containers of [1, 10, 50, 100]) {
      const body = JSON.stringify(bigPodReview(containers, 15));
      const { graft, baseline } = await sideBySide(server, body, SECONDS / 2, 1);
      const ownMs = Math.max(0, graft.meanMs - baseline.meanMs);
      scaling.push(
        `| ${containers} | ${(body.length / 1024).toFixed(0)} | ${fixed(graft.meanMs, 2)} | ${fixed(baseline.meanMs, 2)} | ${fixed(ownMs, 2)} | ${fixed((ownMs * 1000) / containers, 0)} |`,
      );
      console.log(scaling.at(-1));
    }
    const rss = await peakRssMiB(server.pid);

    const section = [
      START,
      "## Webhook: throughput against a baseline in the same server",
      "",
      `Measured by \`npm run bench:webhook\` (bench/webhook/run.ts) on ${new Date().toISOString().slice(0, 10)}, Node ${process.version}, ${os.cpus().length} CPUs. HTTPS with keep-alive, ${CONNECTIONS} connections, ${SECONDS} s a route in ${ROUNDS} slices alternating with the other route's (figures are the slices' medians; the ratio is the median of the slices' ratios), autocannon in the bench process and the server in a child process. The baseline route in the same server parses the review and allows it untouched; graft's route runs the whole admission (intent, plan, features, patch) with the platform variables given and the properties ConfigMap already ensured, as for every pod of an app after the first.`,
      "",
      "| review | body (KiB) | graft req/s | baseline req/s | graft / baseline | graft p50 / p99 (ms) | baseline p50 / p99 (ms) | server CPU per request, graft / baseline (µs) |",
      "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
      ...rows,
      "",
      `Worst ratio: **${fixed(worstRatio, 2)}** (aim: at least 0.5). The JupyterHub pod's patch carries the notebook sync script (${fixed(Buffer.byteLength(NOTEBOOK_SYNC_SCRIPT) / 1024, 0)} KiB): escaping it into JSON, base64 and TLS are most of graft's cost there, and they grow with the reply, not with the pod. Peak RSS of the server over the whole run: ${fixed(rss, 0)} MiB. On a shared 2-CPU machine the req/s of a route can swing by a third from one minute to the next: hence the alternating slices. The server's CPU time per request is read from /proc over each slice.`,
      "",
      "Cost against pod size (one connection, so latency is service time; each container has 15 env vars):",
      "",
      "| containers | body (KiB) | graft mean (ms) | baseline mean (ms) | graft's own (ms) | graft's own per container (µs) |",
      "| ---: | ---: | ---: | ---: | ---: | ---: |",
      ...scaling,
      "",
      "A flat last column means graft's cost grows linearly with the pod.",
      END,
    ].join("\n");
    const doc = await readFile(DOC, "utf8").catch(() => "# Benchmarks\n");
    const updated = doc.includes(START)
      ? doc.replace(new RegExp(`${START}[\\s\\S]*?${END}`), section)
      : `${doc.trimEnd()}\n\n${section}\n`;
    await writeFile(DOC, updated);
    console.log(
      `worst graft/baseline ratio ${fixed(worstRatio, 2)}, peak RSS ${fixed(rss, 0)} MiB; written to docs/benchmarks.md`,
    );
  } finally {
    await server.stop();
  }
}

await main();
