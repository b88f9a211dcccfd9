/**
 * Resident memory of `graft agent` running 10 checks, against the floor of a bare node:http
 * server (and, for the record, a bare fastify server) measured in the same run. Each is a child
 * process; RSS is read from /proc/<pid>/status while both serve a scrape-like request load.
 *
 *   npm run bench:agent          (builds dist/ first)
 *   BENCH_SECONDS=30 npm run bench:agent        (default 120)
 *   BENCH_AGENT_BEFORE=/path/to/other/checkout npm run bench:agent
 *
 * BENCH_AGENT_BEFORE names another checkout whose bundle is built (npm run build && npm run
 * bundle there): its agent runs beside this one, in the same turns, as two more rows.
 *
 * Writes its figures to docs/benchmarks.md between the agent markers, leaving other sections.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
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
import { AGENT_COMMAND } from "../../webhook/features/agent/agent.js";
import { cpuMicros, median, memoryMiB, writeSection } from "../lib/measure.js";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
// As the image ships it: the bundle (npm run bundle, scripts/bundle.mjs).
const CLI = path.join(ROOT, "bundle/bin/graft.js");
const BUILT = path.join(ROOT, "dist/cli/main.js");
const DOC = path.join(ROOT, "docs/benchmarks.md");
const START = "<!-- bench:agent:start -->";
const END = "<!-- bench:agent:end -->";
/**
 * Two minutes: V8 leaves promoted garbage in the old generation until its first full collection,
 * minutes in; an agent that never collected early was 58.7 MiB over its first 40 s and 62.7 over
 * its third (2026-12-02). A 20 s window saw only the first.
 */
const MEASURE_MS = Number(process.env.BENCH_SECONDS ?? 120) * 1000;
const WARMUP_MS = 5000;
const SAMPLE_EVERY_MS = 250;
const STARTS = Number(process.env.BENCH_STARTS ?? 5);
const BEFORE = process.env.BENCH_AGENT_BEFORE;

/** The other checkout's revision, for the rows' names. */
function revisionOf(checkout: string): string {
  const ran = spawnSync("git", ["-C", checkout, "log", "-1", "--format=%h %cs"], { encoding: "utf8" });
  return ran.status === 0 ? ran.stdout.trim() : path.basename(checkout);
}

/** The node flags the sidecar runs with: AGENT_COMMAND between node and the script. */
const LEAN = AGENT_COMMAND.slice(1, -1);

/**
 * The children's environment: the bench's, less the variables that make Node or OpenSSL trust
 * more CAs. The sidecar's container has none of them. A machine that sets NODE_EXTRA_CA_CERTS
 * (for a TLS-intercepting proxy, say) makes every child parse that bundle as soon as node:tls
 * loads, next to Node's own roots: with Debian's bundle of ~140 certificates, 0.9 MiB more
 * resident in the agent with an https check, which no pod pays.
 */
const CHILD_ENV = Object.fromEntries(
  Object.entries(process.env).filter(
    ([name]) => !["NODE_EXTRA_CA_CERTS", "SSL_CERT_FILE", "SSL_CERT_DIR"].includes(name),
  ),
);

type Subject = { name: string; child: ChildProcess; url: string; probe: string; spawnedAt: number };

function startChild(
  name: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  url: string,
  probe: string,
  command = process.execPath,
): Subject {
  const spawnedAt = performance.now();
  const child = spawn(command, args, {
    env: { ...CHILD_ENV, ...env },
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  child.once("exit", (code) => {
    if (code !== null && code !== 0) process.stderr.write(`${name} exited ${code}:\n${stderr}\n`);
  });
  return { name, child, url, probe, spawnedAt };
}

/** Milliseconds from exec until `probe` answers 2xx (polled every 5 ms). */
async function untilAnswers(subject: Subject, timeoutMs = 30_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if ((await fetch(`${subject.url}${subject.probe}`)).ok) return performance.now() - subject.spawnedAt;
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline || subject.child.exitCode !== null) {
      throw new Error(`${subject.name} did not answer ${subject.probe} within ${timeoutMs}ms`);
    }
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

const BLACKBOX = "/usr/bin/prometheus-blackbox-exporter";
/** Debian's package version, read by the bench from dpkg (0.23 on bookworm). */
const BLACKBOX_VERSION = blackboxVersion();

function blackboxVersion(): string {
  if (!existsSync(BLACKBOX))
    throw new Error(`${BLACKBOX} is missing: apt-get install prometheus-blackbox-exporter (Debian)`);
  const ran = spawnSync("dpkg-query", ["-W", `-f=${"$"}{Version}`, "prometheus-blackbox-exporter"], {
    encoding: "utf8",
  });
  return ran.stdout.split(/[+-]/)[0] || "unknown";
}

/** blackbox_exporter modules doing what the agent's 10 checks do (timeouts as theirs). */
function blackboxModules() {
  const timeout = "500ms";
  const dnsModule = (name: string) => ({
    prober: "dns",
    timeout,
    dns: { query_name: name, query_type: "A", transport_protocol: "udp", preferred_ip_protocol: "ip4" },
  });
  return {
    modules: {
      http_body: { prober: "http", timeout, http: { fail_if_body_not_matches_regexp: ["healthy"] } },
      http_head: { prober: "http", timeout, http: { method: "HEAD" } },
      http_200: { prober: "http", timeout, http: { valid_status_codes: [200] } },
      https_insecure: { prober: "http", timeout, http: { tls_config: { insecure_skip_verify: true } } },
      tcp: { prober: "tcp", timeout },
      dns_kafka: dnsModule("kafka.graft.test"),
      // NXDOMAIN fails the default valid_rcodes (NOERROR), as dns-c fails the agent's check.
      dns_missing: dnsModule("missing.graft.test"),
    },
  };
}

const cpuSeconds = async (pid: number) => (await cpuMicros(pid)) / 1e6;

const mib = (value: number) => value.toFixed(1);
const MIB = 1024 * 1024;

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

  const bareServer = (port: number) =>
    `require("node:http").createServer((q, s) => s.end("ok")).listen(${port}, "127.0.0.1")`;
  const fastifyModule = JSON.stringify(path.join(ROOT, "node_modules/fastify/fastify.js"));
  const fastifyServer = (port: number) =>
    `const f = require(${fastifyModule})(); f.get("/", async () => "ok"); f.listen({ port: ${port}, host: "127.0.0.1" })`;
  const agentArgs = (port: number, cli = CLI) => [
    cli,
    "agent",
    "--port",
    String(port),
    "--host",
    "127.0.0.1",
  ];
  const agentEnv = { GRAFT_CHECKS: JSON.stringify(checks) };
  // The same agent without its https check: what node:tls and OpenSSL add, measured in this run.
  const withoutHttps = checks.filter((check) => !("url" in check && check.url.startsWith("https:")));
  const noHttpsEnv = { GRAFT_CHECKS: JSON.stringify(withoutHttps) };
  const ports = await Promise.all([1, 2, 3, 4, 5, 6, 7, 8, 9].map(() => freePort()));
  // The Go peer: Prometheus's blackbox_exporter (Debian's build) running the same 10 probes, one
  // /probe request per check per second, as a Prometheus scraping it every second would.
  const blackboxDir = await mkdtemp(path.join(os.tmpdir(), "graft-bench-blackbox-"));
  await writeFile(path.join(blackboxDir, "blackbox.yml"), JSON.stringify(blackboxModules()));
  const probes = [
    ["http_body", `${web.url}/`],
    ["http_head", `${web.url}/`],
    ["http_200", `${web.url}/status`],
    ["https_insecure", `${tls.url}/`],
    ["tcp", `127.0.0.1:${tcp.port}`],
    ["tcp", `127.0.0.1:${web.port}`],
    ["tcp", `127.0.0.1:${tls.port}`],
    ["dns_kafka", dns.server],
    ["dns_kafka", dns.server],
    ["dns_missing", dns.server],
  ].map(([module, target]) => `/probe?module=${module}&target=${encodeURIComponent(target!)}`);
  const at = (i: number) => `http://127.0.0.1:${ports[i]}`;
  const starters: (() => Subject)[] = [
    () => startChild("bare node:http", ["-e", bareServer(ports[0]!)], {}, at(0), "/"),
    () => startChild("bare fastify", ["-e", fastifyServer(ports[1]!)], {}, at(1), "/"),
    () => startChild("graft agent, 10 checks", agentArgs(ports[2]!), agentEnv, at(2), "/readyz"),
    () =>
      startChild(`bare node:http, ${LEAN.join(" ")}`, [...LEAN, "-e", bareServer(ports[3]!)], {}, at(3), "/"),
    () =>
      startChild(
        `graft agent, 10 checks, ${LEAN.join(" ")}`,
        [...LEAN, ...agentArgs(ports[4]!)],
        agentEnv,
        at(4),
        "/readyz",
      ),
    () =>
      startChild(
        `blackbox_exporter ${BLACKBOX_VERSION} (Go), the same 10 probes`,
        [
          `--config.file=${path.join(blackboxDir, "blackbox.yml")}`,
          `--web.listen-address=127.0.0.1:${ports[5]}`,
        ],
        {},
        at(5),
        "/-/healthy",
        BLACKBOX,
      ),
    () =>
      startChild(
        `graft agent, ${withoutHttps.length} checks (no https), ${LEAN.join(" ")}`,
        [...LEAN, ...agentArgs(ports[8]!)],
        noHttpsEnv,
        at(8),
        "/readyz",
      ),
  ];
  const beforeCli = BEFORE === undefined ? undefined : path.join(path.resolve(BEFORE), "bundle/bin/graft.js");
  if (beforeCli !== undefined) {
    if (!existsSync(beforeCli))
      throw new Error(`${beforeCli} is missing: npm run build && npm run bundle there`);
    const before = `graft agent at ${revisionOf(BEFORE!)} (before), 10 checks`;
    starters.push(
      () => startChild(before, agentArgs(ports[6]!, beforeCli), agentEnv, at(6), "/readyz"),
      () =>
        startChild(
          `${before}, ${LEAN.join(" ")}`,
          [...LEAN, ...agentArgs(ports[7]!, beforeCli)],
          agentEnv,
          at(7),
          "/readyz",
        ),
    );
  }

  // Start-up first, each process alone (STARTS times, in turns): exec → its ready endpoint answers.
  const startMs = starters.map(() => [] as number[]);
  for (let round = 0; round < STARTS; round++) {
    for (const [i, starter] of starters.entries()) {
      const subject = starter();
      startMs[i]!.push(await untilAnswers(subject));
      const exited = new Promise((resolve) => subject.child.once("exit", resolve));
      subject.child.kill("SIGTERM");
      await exited;
    }
  }

  const subjects = starters.map((starter) => starter());
  const agents = [subjects[2]!, subjects[4]!, ...subjects.slice(6)];
  const noHttps = 6;
  const blackbox = subjects[5]!;

  try {
    await Promise.all(subjects.map((subject) => untilAnswers(subject)));
    const probing = setInterval(() => {
      for (const probe of probes)
        fetch(`${blackbox.url}${probe}`).then(
          (r) => r.arrayBuffer(),
          () => {},
        );
    }, 1000);
    // Scrape-like load on every subject: one GET every 250ms (the agents' is /metrics).
    const load = setInterval(() => {
      for (const subject of subjects) {
        const route = agents.includes(subject) || subject === blackbox ? "/metrics" : "/";
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
      for (const subject of subjects) samples.get(subject.name)!.push(await memoryMiB(subject.child.pid!));
      await new Promise((resolve) => setTimeout(resolve, SAMPLE_EVERY_MS));
    }
    const cpuAfter = await Promise.all(subjects.map((s) => cpuSeconds(s.child.pid!)));
    const elapsedSeconds = (Date.now() - startedAt) / 1000;
    clearInterval(load);
    clearInterval(probing);
    const blackboxResults = await Promise.all(
      probes.map(async (probe) => {
        const text = await (await fetch(`${blackbox.url}${probe}`)).text();
        return `${new URLSearchParams(probe.split("?")[1]).get("module")}=${/^probe_success (\S+)$/m.exec(text)?.[1]}`;
      }),
    );

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
      return {
        name: subject.name,
        median: median(values),
        max: Math.max(...values),
        cpu,
        startMs: median(startMs[i]!),
      };
    });
    const floor = rows[0]!.median;
    const ratio = rows[2]!.median / floor;
    const leanRatio = rows[4]!.median / floor;
    /** The lean agent against the bare node:http server with the same flags: the aim's measure. */
    const leanFloor = rows[3]!.median;
    const leanOnLean = rows[4]!.median / leanFloor;
    const beforeRows = rows.slice(7);
    const noHttpsRow = rows[noHttps]!;
    const httpsShare = rows[4]!.median - noHttpsRow.median;
    const comparison =
      beforeRows.length === 2
        ? `**Against the agent before (${revisionOf(BEFORE!)}), same run** (its lean row with the same flags, ` +
          "`--expose-gc` included, which changes nothing in code that never asks for a collection): " +
          `RSS ${mib(beforeRows[0]!.median)} → ` +
          `${mib(rows[2]!.median)} MiB with default flags, ${mib(beforeRows[1]!.median)} → ${mib(rows[4]!.median)} MiB ` +
          `lean (${(beforeRows[1]!.median / leanFloor).toFixed(2)} → ${leanOnLean.toFixed(2)} × the bare node:http server ` +
          `with the same flags); exec → ready ` +
          `${beforeRows[0]!.startMs.toFixed(0)} → ${rows[2]!.startMs.toFixed(0)} ms, ${beforeRows[1]!.startMs.toFixed(0)} → ` +
          `${rows[4]!.startMs.toFixed(0)} ms lean.`
        : undefined;
    const table = [
      "| process | RSS median (MiB) | RSS max (MiB) | × bare node:http | CPU (% of a core) | exec → ready, alone (ms, median) |",
      "| --- | ---: | ---: | ---: | ---: | ---: |",
      ...rows.map(
        (r) =>
          `| ${r.name} | ${mib(r.median)} | ${mib(r.max)} | ${(r.median / floor).toFixed(2)} | ${(r.cpu * 100).toFixed(1)} | ${r.startMs.toFixed(0)} |`,
      ),
    ].join("\n");
    const section = [
      "## Agent: resident memory",
      "",
      `Measured by \`npm run bench:agent\` (bench/agent/run.ts) on ${new Date().toISOString().slice(0, 10)}, ` +
        `Node ${process.version}, ${os.cpus().length} CPUs, ${mib(os.totalmem() / MIB)} MiB RAM. Each process is a child ` +
        `of the bench, sampled from /proc/<pid>/status every ${SAMPLE_EVERY_MS}ms for ${MEASURE_MS / 1000}s after a ` +
        `${WARMUP_MS / 1000}s warm-up; each is sent one GET every 250ms (the agents' being a /metrics scrape). ` +
        "Each agent runs 10 checks (4 http including one https with TLS expiry, 3 tcp, 3 dns) every second, " +
        "30 times more often than the default interval, against local targets. The children get the bench's " +
        "environment less NODE_EXTRA_CA_CERTS, SSL_CERT_FILE and SSL_CERT_DIR, which the sidecar does not have " +
        "(an extra CA bundle is parsed as soon as node:tls loads).",
      "",
      table,
      "",
      `**Agent / bare node:http: ${ratio.toFixed(2)} with default node flags, ${leanRatio.toFixed(2)} with ` +
        `\`node ${LEAN.join(" ")}\`, ${leanOnLean.toFixed(2)} against the bare node:http server with the same flags** (median RSS; the aim is 1.1 on that last measure). Check results at the end (dns-c looks up a name that ` +
        `does not exist: its ERROR is expected): ${results[0]!.join(", ")}.`,
      "",
      `**Without its https check** (the no-https row, lean flags) the agent is ${(noHttpsRow.median / leanFloor).toFixed(2)}× ` +
        `the bare node:http server with the same flags: the one https check (node:tls, OpenSSL's initialisation, ` +
        `Node's bundled root certificates, parsed as soon as node:tls loads, and a handshake a second) costs ` +
        `${mib(httpsShare)} MiB of the lean agent's ${mib(rows[4]!.median - leanFloor)} MiB above that floor.`,
      "",
      ...(comparison ? [comparison, ""] : []),
      `**Beside a Go peer**, Prometheus's blackbox_exporter ${BLACKBOX_VERSION} (Debian's package) running the same ` +
        "10 probes, each requested once a second on /probe as a Prometheus scraping every second would (its probes " +
        "run only when asked), and /metrics every 250ms: graft agent / blackbox_exporter = " +
        `**${(rows[2]!.median / rows[5]!.median).toFixed(2)}** RSS (${(rows[4]!.median / rows[5]!.median).toFixed(2)} lean), ` +
        `**${(rows[2]!.cpu / rows[5]!.cpu).toFixed(2)}** CPU (${(rows[4]!.cpu / rows[5]!.cpu).toFixed(2)} lean), ` +
        `**${(rows[2]!.startMs / rows[5]!.startMs).toFixed(1)}** exec → ready (${(rows[4]!.startMs / rows[5]!.startMs).toFixed(1)} lean). ` +
        `Node's own floor (the bare node:http row) is ${(rows[0]!.median / rows[5]!.median).toFixed(2)}× the exporter's RSS ` +
        `and takes ${rows[0]!.startMs.toFixed(0)} ms to answer. Probe results at the end (dns_missing fails, as dns-c does): ` +
        `${blackboxResults.join(", ")}.`,
      "",
      "What keeps the agent near the floor:",
      "- it runs as CommonJS: the bundle's graft.js hands `agent` to agent/*.js (scripts/bundle.mjs), because " +
        "Node's ES module loader alone costs ~11 MiB resident (a bare node:http server started as an ES module is " +
        "~60 MiB with the lean flags, against the floor's ~49);",
      "- its four routes are served on plain node:http, not fastify: the bare fastify row is what fastify's " +
        "router, schema compiler and logger cost before any check runs;",
      "- /metrics is written by agent/exposition.ts (prom-client's text byte for byte), not prom-client, which " +
        "loads OpenTelemetry's API and more;",
      "- the checks spec is checked by validators generated at build time (ajv standalone code), not compiled " +
        "at start, and JSON is read without the YAML parser: ajv, TypeBox and yaml are never loaded;",
      "- check modules are imported only for the types configured (an http-only agent never loads kafkajs), and " +
        "node:https (TLS and OpenSSL: the no-https row shows their share) only for an https URL;",
      "- requests go out on node:http/https, not fetch (undici would be loaded on first use);",
      "- a few process gauges replace prom-client's default metrics (no GC observer, no event-loop monitor);",
      "- V8 flags, which only the command line can set: `--lite-mode` (no optimizing compiler, feedback " +
        "allocated lazily: the agent does little work per second, so the interpreter is enough), " +
        "`--max-semi-space-size=1` (a 1 MiB young generation: fewer, cheaper scavenges of a small heap), " +
        "`--max-old-space-size=48` (V8 collects before a burst of hostile replies takes the agent past its 128Mi " +
        "limit) and `--expose-gc`, for the full collection the agent asks for every 15 s (agent/full-gc.ts): " +
        "without it V8 leaves promoted garbage in the old generation until that generation's limit, and resident " +
        `memory climbs for minutes. The sidecar runs \`node ${LEAN.join(" ")} bin/graft.js agent\` (AGENT_COMMAND in ` +
        "webhook/features/agent/agent.ts); `--lite-mode` is not allowed in NODE_OPTIONS.",
    ].join("\n");
    process.stdout.write(
      `${table}\n\nagent / bare node:http = ${ratio.toFixed(2)} (default flags), ${leanRatio.toFixed(2)} (${LEAN.join(" ")}), ${leanOnLean.toFixed(2)} lean / lean, ` +
        `${(noHttpsRow.median / leanFloor).toFixed(2)} lean without https (https: ${mib(httpsShare)} MiB)\n` +
        `${comparison ? `${comparison}\n` : ""}${results.map((r) => r.join(" ")).join("\n")}\n`,
    );
    await writeSection(DOC, START, END, section);
    process.stdout.write(`wrote ${path.relative(ROOT, DOC)}\n`);
  } finally {
    for (const subject of subjects) subject.child.kill("SIGTERM");
    await rm(blackboxDir, { recursive: true, force: true });
    await Promise.all(targets.map((t) => t.stop()));
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exitCode = 1;
});
