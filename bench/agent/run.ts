/**
 * Resident memory of `graft agent` running 10 checks, against the floor of a bare node:http
 * server (and, for the record, a bare fastify server) measured in the same run. Each is a child
 * process; RSS is read from /proc/<pid>/status while both serve a scrape-like request load.
 *
 *   npm run bench:agent          (builds dist/ first)
 *   BENCH_SECONDS=30 npm run bench:agent
 *
 * Writes its figures to docs/benchmarks.md between the agent markers, leaving other sections.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import {
  selfSignedCertificate,
  startDnsTarget,
  startHttpsTarget,
  startHttpTarget,
  startSilentTcpTarget,
  type Target,
} from "../../test/integration/agent-targets.js";
import { freePort } from "../../test/services/spawn.js";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const CLI = path.join(ROOT, "bin/graft.js");
const BUILT = path.join(ROOT, "dist/cli/main.js");
const DOC = path.join(ROOT, "docs/benchmarks.md");
const START = "<!-- bench:agent:start -->";
const END = "<!-- bench:agent:end -->";
const MEASURE_MS = Number(process.env.BENCH_SECONDS ?? 20) * 1000;
const WARMUP_MS = 5000;
const SAMPLE_EVERY_MS = 250;

type Subject = { name: string; child: ChildProcess; url: string; probe: string };

function rssBytes(pid: number): Promise<number> {
  return readFile(`/proc/${pid}/status`, "utf8").then((status) => {
    const kb = /^VmRSS:\s+(\d+) kB$/m.exec(status)?.[1];
    if (kb === undefined) throw new Error(`no VmRSS for ${pid}`);
    return Number(kb) * 1024;
  });
}

function startChild(
  name: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  url: string,
  probe: string,
): Subject {
  const child = spawn(process.execPath, args, {
    env: { ...process.env, ...env },
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  child.once("exit", (code) => {
    if (code !== null && code !== 0) process.stderr.write(`${name} exited ${code}:\n${stderr}\n`);
  });
  return { name, child, url, probe };
}

async function untilAnswers(subject: Subject, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if ((await fetch(`${subject.url}${subject.probe}`)).ok) return;
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline || subject.child.exitCode !== null) {
      throw new Error(`${subject.name} did not answer ${subject.probe} within ${timeoutMs}ms`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** User plus system CPU time of a process, from /proc/<pid>/stat. */
async function cpuSeconds(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, "utf8");
  // Fields after the command name (which may hold spaces) start at ")"; utime and stime are 14 and 15.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const ticksPerSecond = 100;
  return (Number(fields[11]) + Number(fields[12])) / ticksPerSecond;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}

const mib = (bytes: number) => (bytes / 1024 / 1024).toFixed(1);

async function main(): Promise<void> {
  if (!existsSync(BUILT))
    throw new Error(`${BUILT} is missing: run "npm run build" (npm run bench:agent does)`);

  const targets: Target[] = [];
  const keep = <T extends Target>(target: T) => {
    targets.push(target);
    return target;
  };
  const web = keep(await startHttpTarget((_, response) => response.end("service is healthy")));
  const tls = keep(await startHttpsTarget(selfSignedCertificate(30), (_, response) => response.end("ok")));
  const tcp = keep(await startSilentTcpTarget());
  const dns = keep(await startDnsTarget({ "kafka.graft.test": ["10.0.0.7"] }));
  const every = { interval: "1s", timeout: "500ms" };
  const checks = [
    { name: "web", type: "http", url: `${web.url}/`, bodyMatch: "healthy", ...every },
    { name: "web-head", type: "http", url: `${web.url}/`, method: "HEAD", ...every },
    { name: "web-status", type: "http", url: `${web.url}/status`, expectStatus: [200], ...every },
    {
      name: "tls",
      type: "http",
      url: `${tls.url}/`,
      insecureSkipVerify: true,
      tlsExpiryWarnDays: 14,
      ...every,
    },
    { name: "tcp-a", type: "tcp", host: "127.0.0.1", port: tcp.port, ...every },
    { name: "tcp-b", type: "tcp", host: "127.0.0.1", port: web.port, ...every },
    { name: "tcp-c", type: "tcp", host: "127.0.0.1", port: tls.port, ...every },
    { name: "dns-a", type: "dns", hostname: "kafka.graft.test", server: dns.server, ...every },
    {
      name: "dns-b",
      type: "dns",
      hostname: "kafka.graft.test",
      server: dns.server,
      source: "kafka",
      ...every,
    },
    { name: "dns-c", type: "dns", hostname: "missing.graft.test", server: dns.server, ...every },
  ];

  /** The sidecar's recommended node flags (see the section written below). */
  const LEAN = ["--lite-mode", "--max-semi-space-size=1"];
  const bareServer = (port: number) =>
    `require("node:http").createServer((q, s) => s.end("ok")).listen(${port}, "127.0.0.1")`;
  const fastifyModule = JSON.stringify(path.join(ROOT, "node_modules/fastify/fastify.js"));
  const fastifyServer = (port: number) =>
    `const f = require(${fastifyModule})(); f.get("/", async () => "ok"); f.listen({ port: ${port}, host: "127.0.0.1" })`;
  const agentArgs = (port: number) => [CLI, "agent", "--port", String(port), "--host", "127.0.0.1"];
  const agentEnv = { GRAFT_CHECKS: JSON.stringify(checks) };
  const ports = await Promise.all([1, 2, 3, 4, 5].map(() => freePort()));
  const at = (i: number) => `http://127.0.0.1:${ports[i]}`;
  const subjects = [
    startChild("bare node:http", ["-e", bareServer(ports[0]!)], {}, at(0), "/"),
    startChild("bare fastify", ["-e", fastifyServer(ports[1]!)], {}, at(1), "/"),
    startChild("graft agent, 10 checks", agentArgs(ports[2]!), agentEnv, at(2), "/readyz"),
    startChild(`bare node:http, ${LEAN.join(" ")}`, [...LEAN, "-e", bareServer(ports[3]!)], {}, at(3), "/"),
    startChild(
      `graft agent, 10 checks, ${LEAN.join(" ")}`,
      [...LEAN, ...agentArgs(ports[4]!)],
      agentEnv,
      at(4),
      "/readyz",
    ),
  ];
  const agents = [subjects[2]!, subjects[4]!];

  try {
    await Promise.all(subjects.map((subject) => untilAnswers(subject)));
    // Scrape-like load on every subject: one GET every 250ms (the agents' is /metrics).
    const load = setInterval(() => {
      for (const subject of subjects) {
        const route = agents.includes(subject) ? "/metrics" : "/";
        fetch(`${subject.url}${route}`).then(
          (r) => r.arrayBuffer(),
          () => {},
        );
      }
    }, 250);
    await new Promise((resolve) => setTimeout(resolve, WARMUP_MS));
    const samples = new Map(subjects.map((s) => [s.name, [] as number[]]));
    const cpuBefore = await Promise.all(subjects.map((s) => cpuSeconds(s.child.pid!)));
    const startedAt = Date.now();
    while (Date.now() < startedAt + MEASURE_MS) {
      for (const subject of subjects) samples.get(subject.name)!.push(await rssBytes(subject.child.pid!));
      await new Promise((resolve) => setTimeout(resolve, SAMPLE_EVERY_MS));
    }
    const cpuAfter = await Promise.all(subjects.map((s) => cpuSeconds(s.child.pid!)));
    const elapsedSeconds = (Date.now() - startedAt) / 1000;
    clearInterval(load);

    const results = await Promise.all(
      agents.map(async (agent) => {
        const status = (await (await fetch(`${agent.url}/status`)).json()) as {
          data: { metric: string; value: unknown }[];
        };
        return status.data.filter((e) => e.metric.endsWith(".health")).map((e) => `${e.metric}=${e.value}`);
      }),
    );
    const rows = subjects.map((subject, i) => {
      const values = samples.get(subject.name)!;
      const cpu = (cpuAfter[i]! - cpuBefore[i]!) / elapsedSeconds;
      return { name: subject.name, median: median(values), max: Math.max(...values), cpu };
    });
    const floor = rows[0]!.median;
    const ratio = rows[2]!.median / floor;
    const leanRatio = rows[4]!.median / floor;
    const table = [
      "| process | RSS median (MiB) | RSS max (MiB) | × bare node:http | CPU (% of a core) |",
      "| --- | ---: | ---: | ---: | ---: |",
      ...rows.map(
        (r) =>
          `| ${r.name} | ${mib(r.median)} | ${mib(r.max)} | ${(r.median / floor).toFixed(2)} | ${(r.cpu * 100).toFixed(1)} |`,
      ),
    ].join("\n");
    const section = [
      START,
      "## Agent: resident memory",
      "",
      `Measured by \`npm run bench:agent\` (bench/agent/run.ts) on ${new Date().toISOString().slice(0, 10)}, ` +
        `Node ${process.version}, ${os.cpus().length} CPUs, ${mib(os.totalmem())} MiB RAM. Each process is a child ` +
        `of the bench, sampled from /proc/<pid>/status every ${SAMPLE_EVERY_MS}ms for ${MEASURE_MS / 1000}s after a ` +
        `${WARMUP_MS / 1000}s warm-up; each is sent one GET every 250ms (the agents' being a /metrics scrape). ` +
        "Each agent runs 10 checks (4 http including one https with TLS expiry, 3 tcp, 3 dns) every second, " +
        "30 times more often than the default interval, against local targets.",
      "",
      table,
      "",
      `**Agent / bare node:http: ${ratio.toFixed(2)} with default node flags, ${leanRatio.toFixed(2)} with ` +
        `\`node ${LEAN.join(" ")}\`** (median RSS). Check results at the end (dns-c looks up a name that ` +
        `does not exist: its ERROR is expected): ${results[0]!.join(", ")}.`,
      "",
      "What keeps the agent near the floor:",
      "- its four routes are served on plain node:http, not fastify: the bare fastify row is what fastify's " +
        "router, schema compiler and logger cost before any check runs;",
      "- check modules are imported only for the types configured (an http-only agent never loads kafkajs), and " +
        "the checks schema compiles a validator only for the types in use;",
      "- requests go out on node:http/https, not fetch (undici would be loaded on first use);",
      "- a few process gauges replace prom-client's default metrics (no GC observer, no event-loop monitor);",
      "- V8 flags, which only the command line can set: `--lite-mode` (no optimizing compiler, feedback " +
        "allocated lazily: the agent does little work per second, so the interpreter is enough) and " +
        "`--max-semi-space-size=1` (a 1 MiB young generation: fewer, cheaper scavenges of a small heap). " +
        "The sidecar should run `node --lite-mode --max-semi-space-size=1 bin/graft.js agent`; " +
        "`--lite-mode` is not allowed in NODE_OPTIONS.",
      END,
    ].join("\n");
    process.stdout.write(
      `${table}\n\nagent / bare node:http = ${ratio.toFixed(2)} (default flags), ${leanRatio.toFixed(2)} (${LEAN.join(" ")})\n` +
        `${results.map((r) => r.join(" ")).join("\n")}\n`,
    );
    await writeSection(section);
  } finally {
    for (const subject of subjects) subject.child.kill("SIGTERM");
    await Promise.all(targets.map((t) => t.stop()));
  }
}

/** Replaces this bench's section of docs/benchmarks.md, or appends it; other sections stay as they are. */
async function writeSection(section: string): Promise<void> {
  await mkdir(path.dirname(DOC), { recursive: true });
  const current = existsSync(DOC) ? await readFile(DOC, "utf8") : "# Benchmarks\n";
  const start = current.indexOf(START);
  const end = current.indexOf(END);
  const next =
    start >= 0 && end > start
      ? `${current.slice(0, start)}${section}${current.slice(end + END.length)}`
      : `${current.trimEnd()}\n\n${section}\n`;
  await writeFile(DOC, next);
  process.stdout.write(`wrote ${path.relative(ROOT, DOC)}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exitCode = 1;
});
