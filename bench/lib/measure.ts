/**
 * What every benchmark reads the same way: a process's CPU time and memory from /proc, medians,
 * and an HTTPS load from autocannon with the server's CPU per request over the run.
 */
import { readFile, writeFile } from "node:fs/promises";
import autocannon from "autocannon";

/** User + system CPU time of process `pid` so far, in microseconds (Linux clock ticks of 10 ms). */
export async function cpuMicros(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) * 10_000;
}

/** A field of /proc/PID/status in MiB: VmRSS (resident now) or VmHWM (peak resident). */
export async function memoryMiB(pid: number, field: "VmRSS" | "VmHWM" = "VmRSS"): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  const kib = Number(new RegExp(`^${field}:\\s+(\\d+) kB$`, "m").exec(status)?.[1] ?? 0);
  return kib / 1024;
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  if (sorted.length === 0) return Number.NaN;
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** The value below which `fraction` of `values` lie (nearest rank). */
export function quantile(values: number[], fraction: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * fraction))] ?? Number.NaN;
}

export type Load = {
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  meanMs: number;
  /** Failed requests: errors, timeouts and answers other than 2xx. */
  errors: number;
  /** The server's CPU time per request: steadier than req/s on a shared machine. */
  cpuUsPerRequest: number;
};

/** A request body: the same text each time, or made anew for every request. */
export type Body = string | (() => string);

/** POSTs `body` to `url` over HTTPS keep-alive for `seconds`, metering process `pid`'s CPU. */
export async function load(
  target: { url: string; pid: number },
  body: Body,
  seconds: number,
  connections: number,
): Promise<Load> {
  const cpuBefore = await cpuMicros(target.pid);
  const result = await autocannon({
    url: target.url,
    method: "POST",
    headers: { "content-type": "application/json" },
    ...(typeof body === "string"
      ? { body }
      : { requests: [{ setupRequest: (request: autocannon.Request) => ({ ...request, body: body() }) }] }),
    connections,
    duration: seconds,
    // Loopback traffic to a child process serving a certificate of the bench's own.
    tlsOptions: { rejectUnauthorized: false },
  } as autocannon.Options);
  const cpu = (await cpuMicros(target.pid)) - cpuBefore;
  return {
    cpuUsPerRequest: cpu / Math.max(1, result.requests.total),
    requestsPerSecond: result.requests.average,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    meanMs: result.latency.mean,
    errors: result.errors + result.timeouts + result.non2xx,
  };
}

/** The median of each field over `loads` (errors are summed). */
export function medianLoad(loads: Load[]): Load {
  const of = (field: keyof Load) => median(loads.map((one) => one[field]));
  return {
    requestsPerSecond: of("requestsPerSecond"),
    p50Ms: of("p50Ms"),
    p99Ms: of("p99Ms"),
    meanMs: of("meanMs"),
    errors: loads.reduce((sum, one) => sum + one.errors, 0),
    cpuUsPerRequest: of("cpuUsPerRequest"),
  };
}

/**
 * Two targets in alternating slices (which goes first alternates too), so a machine that slows
 * down or speeds up mid-run (a shared host) weighs on both alike. `ratio` is the median of the
 * slices' ratios of `a`'s req/s to `b`'s; `cpuRatio` the same for CPU per request.
 */
export async function sideBySide(
  a: { url: string; pid: number; body: Body },
  b: { url: string; pid: number; body: Body },
  options: { seconds: number; connections: number; rounds: number },
): Promise<{ a: Load; b: Load; ratio: number; cpuRatio: number }> {
  const loadsA: Load[] = [];
  const loadsB: Load[] = [];
  const slice = options.seconds / options.rounds;
  for (let round = 0; round < options.rounds; round++) {
    const order = round % 2 === 0 ? ([a, b] as const) : ([b, a] as const);
    for (const target of order) {
      const result = await load(target, target.body, slice, options.connections);
      (target === a ? loadsA : loadsB).push(result);
    }
  }
  const ratio = median(loadsA.map((one, i) => one.requestsPerSecond / loadsB[i]!.requestsPerSecond));
  const cpuRatio = median(loadsA.map((one, i) => one.cpuUsPerRequest / loadsB[i]!.cpuUsPerRequest));
  return { a: medianLoad(loadsA), b: medianLoad(loadsB), ratio, cpuRatio };
}

/** Replaces the text between `start` and `end` in a markdown file (or appends the section). */
export async function writeSection(file: string, start: string, end: string, body: string): Promise<void> {
  const section = `${start}\n${body}\n${end}`;
  const doc = await readFile(file, "utf8").catch(() => "# Benchmarks\n");
  const updated = doc.includes(start)
    ? doc.replace(new RegExp(`${start}[\\s\\S]*?${end}`), () => section)
    : `${doc.trimEnd()}\n\n${section}\n`;
  await writeFile(file, updated);
}
