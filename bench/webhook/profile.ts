/**
 * Where graft's webhook spends its CPU on one kind of review: the bench server (server.ts) runs
 * under `node --cpu-prof`, takes HTTPS load of that review from autocannon, and on exit its
 * profile is summed by function, by self time and by total time (callers included once).
 *
 *   npx tsx bench/webhook/profile.ts checks          the Spark driver, 64 checks new each time
 *   npx tsx bench/webhook/profile.ts plain           the Spark driver as bench:webhook sends it
 *   PROFILE_SECONDS=20 PROFILE_TOP=40 NODE_FLAGS="--max-old-space-size=128" ...
 *
 * Prints the server's CPU per request, then the top functions; the .cpuprofile is kept (its path
 * is printed) for Chrome DevTools or speedscope.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { type Body, load } from "../lib/measure.js";
import { sixtyFourChecks, sixtyFourChecksReview, sparkDriverReview } from "./reviews.js";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const SECONDS = Number(process.env.PROFILE_SECONDS ?? 10);
const TOP = Number(process.env.PROFILE_TOP ?? 30);
const CONNECTIONS = 8;

let sequence = 0;
const bodies: Record<string, Body> = {
  checks: () => JSON.stringify(sixtyFourChecksReview(sixtyFourChecks(sequence++))),
  plain: JSON.stringify(sparkDriverReview()),
};

type ProfileNode = {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
};
type Profile = {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
};

/**
 * Self and total time by function (name, file and line), in µs of samples taken between `from`
 * and `to` (CLOCK_MONOTONIC µs, the profile's clock); recursion counted once.
 */
export function summarise(profile: Profile, from: number, to: number) {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  // Each sample stands for the time to the next one.
  const hitsOf = new Map<number, number>();
  let time = profile.startTime;
  profile.samples.forEach((id, i) => {
    time += profile.timeDeltas[i]!;
    const next = profile.timeDeltas[i + 1] ?? 0;
    if (time >= from && time <= to) hitsOf.set(id, (hitsOf.get(id) ?? 0) + next);
  });
  const self = new Map<string, number>();
  const total = new Map<string, number>();
  const label = (node: ProfileNode) => {
    const { functionName, url, lineNumber } = node.callFrame;
    const file = url.startsWith("file:") ? path.relative(ROOT, fileURLToPath(url)) : url;
    return `${functionName || "(anonymous)"} ${file}${file ? `:${lineNumber + 1}` : ""}`;
  };
  const visit = (id: number, onStack: Set<string>): number => {
    const node = byId.get(id)!;
    const key = label(node);
    const hits = hitsOf.get(id) ?? 0;
    self.set(key, (self.get(key) ?? 0) + hits);
    const inner = new Set(onStack).add(key);
    let sum = hits;
    for (const child of node.children ?? []) sum += visit(child, inner);
    if (!onStack.has(key)) total.set(key, (total.get(key) ?? 0) + sum);
    return sum;
  };
  const all = visit(profile.nodes[0]!.id, new Set());
  const top = (map: Map<string, number>) => [...map].sort((a, b) => b[1] - a[1]).slice(0, TOP);
  return { all, self: top(self), total: top(total) };
}

async function main(): Promise<void> {
  const kind = process.argv[2] ?? "checks";
  const body = bodies[kind];
  if (!body) throw new Error(`expected one of ${Object.keys(bodies).join(", ")}, got ${kind}`);
  const dir = mkdtempSync(path.join(os.tmpdir(), "graft-profile-"));
  const flags = (process.env.NODE_FLAGS ?? "").split(" ").filter(Boolean);
  const child = spawn(
    process.execPath,
    [
      ...flags,
      "--cpu-prof",
      "--cpu-prof-interval=200",
      `--cpu-prof-dir=${dir}`,
      "--import",
      "tsx",
      path.join(ROOT, "bench/webhook/server.ts"),
    ],
    { cwd: ROOT, stdio: ["ignore", "pipe", "inherit"] },
  );
  const port = await new Promise<number>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once("line", (line) =>
      resolve((JSON.parse(line) as { port: number }).port),
    );
    child.once("exit", (code) => reject(new Error(`bench server exited ${code} before listening`)));
  });
  const target = { url: `https://127.0.0.1:${port}/mutate/namespace`, pid: child.pid! };
  await load(target, body, 3, CONNECTIONS);
  const from = Number(process.hrtime.bigint() / 1000n);
  const measured = await load(target, body, SECONDS, CONNECTIONS);
  const to = Number(process.hrtime.bigint() / 1000n);
  await new Promise<void>((resolve) => {
    child.once("exit", () => resolve());
    child.kill("SIGTERM");
  });
  const file = path.join(dir, readdirSync(dir).find((name) => name.endsWith(".cpuprofile"))!);
  const profile = JSON.parse(readFileSync(file, "utf8")) as Profile;
  const { all, self, total } = summarise(profile, from, to);
  const requests = measured.requestsPerSecond * SECONDS;
  const share = (micros: number) =>
    `${((100 * micros) / all).toFixed(1).padStart(5)} % ${(micros / requests).toFixed(1).padStart(6)} µs/req`;
  console.log(
    `${kind}: ${measured.cpuUsPerRequest.toFixed(0)} µs server CPU per request, ${measured.requestsPerSecond.toFixed(0)} req/s, ${measured.errors} errors; profile ${file}`,
  );
  console.log("\nself time (measured run only; µs per request of wall time sampled, idle included):");
  for (const [key, hits] of self) console.log(`${share(hits)}  ${key}`);
  console.log("\ntotal time:");
  for (const [key, hits] of total) console.log(`${share(hits)}  ${key}`);
}

await main();
