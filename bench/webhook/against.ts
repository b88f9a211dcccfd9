/**
 * graft's admission in this tree against the same in another revision, side by side in one run:
 * did a change (a refactor, a new feature) make the webhook slower? Both trees' bench servers
 * (bench/webhook/server.ts) run at once and take graft's route in alternating slices, so a
 * machine that speeds up or slows down mid-run weighs on both alike.
 *
 *   BENCH_AGAINST=<rev> npm run bench:webhook:against        BENCH_SECONDS=20 to run longer
 *   BENCH_HERE=<rev> BENCH_AGAINST=<rev> ...                  two revisions, neither this tree
 *   BENCH_REVIEWS=1,4 ...                                     only these rows (1-based)
 *
 * A revision is checked out with `git worktree` into a temporary folder (using this tree's
 * node_modules) and removed at the end. Writes its table to docs/benchmarks.md.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, symlinkSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { type Body, load, sideBySide, writeSection } from "../lib/measure.js";
import {
  bigPodReview,
  jupyterReview,
  sixtyFourChecks,
  sixtyFourChecksReview,
  sparkDriverReview,
} from "./reviews.js";
import { type BenchServer, startBenchServer } from "./server-process.js";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const DOC = path.join(ROOT, "docs/benchmarks.md");
const START = "<!-- bench:webhook-against:start -->";
const END = "<!-- bench:webhook-against:end -->";
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const ROUNDS = 6;
const CONNECTIONS = 8;
const ROUTE = "/mutate/namespace";

const git = (...args: string[]) => execFileSync("git", args, { cwd: ROOT, encoding: "utf8" }).trim();

async function main(): Promise<void> {
  const against = process.env.BENCH_AGAINST;
  if (!against)
    throw new Error("set BENCH_AGAINST to the revision to compare with (a commit, tag or branch)");
  const commit = git("rev-parse", "--short", `${against}^{commit}`);
  const hereRev = process.env.BENCH_HERE;
  const here = hereRev
    ? git("rev-parse", "--short", `${hereRev}^{commit}`)
    : `${git("rev-parse", "--short", "HEAD")}${git("status", "--porcelain").length > 0 ? " + uncommitted changes" : ""}`;
  const worktrees: string[] = [];
  const checkout = (rev: string) => {
    const tree = path.join(mkdtempSync(path.join(os.tmpdir(), "graft-bench-")), "tree");
    git("worktree", "add", "--detach", tree, rev);
    worktrees.push(tree);
    symlinkSync(path.join(ROOT, "node_modules"), path.join(tree, "node_modules"));
    return tree;
  };
  const servers: BenchServer[] = [];
  try {
    const mine = await startBenchServer(hereRev ? checkout(here) : ROOT);
    servers.push(mine);
    const theirs = await startBenchServer(checkout(commit));
    servers.push(theirs);
    // Every annotation new: no memo of either tree has seen it (a counter in every check).
    let sequence = 0;
    const reviews: Array<{ name: string; body: Body }> = [
      { name: "Spark driver (properties + agent)", body: JSON.stringify(sparkDriverReview()) },
      { name: "JupyterHub single-user (notebooks + agent)", body: JSON.stringify(jupyterReview()) },
      { name: "20 containers, 300 env vars (agent)", body: JSON.stringify(bigPodReview(20, 300)) },
      {
        name: "Spark driver, 64 checks new on every request (properties + agent)",
        body: () => JSON.stringify(sixtyFourChecksReview(sixtyFourChecks(sequence++))),
      },
    ];
    const target = (server: BenchServer, body: Body) => ({
      url: `https://127.0.0.1:${server.port}${ROUTE}`,
      pid: server.pid,
      body,
    });
    const rows: string[] = [];
    const only = process.env.BENCH_REVIEWS;
    for (const { name, body } of reviews.filter((_, i) => !only || only.split(",").includes(String(i + 1)))) {
      // Warm both (JIT, TLS session) before measuring.
      for (const server of servers) await load(target(server, body), body, 1, CONNECTIONS);
      const { a, b, ratio, cpuRatio } = await sideBySide(target(mine, body), target(theirs, body), {
        seconds: SECONDS,
        connections: CONNECTIONS,
        rounds: ROUNDS,
      });
      if (a.errors + b.errors > 0) throw new Error(`${name}: ${a.errors + b.errors} failed requests`);
      rows.push(
        `| ${name} | ${a.requestsPerSecond.toFixed(0)} | ${b.requestsPerSecond.toFixed(0)} | **${ratio.toFixed(2)}** | ${a.cpuUsPerRequest.toFixed(0)} / ${b.cpuUsPerRequest.toFixed(0)} | **${cpuRatio.toFixed(2)}** |`,
      );
      console.log(rows.at(-1));
    }
    await writeSection(
      DOC,
      START,
      END,
      [
        `## Webhook: this tree against an earlier revision (${new Date().toISOString().slice(0, 10)})`,
        "",
        `Measured by \`${hereRev ? `BENCH_HERE=${hereRev} ` : ""}BENCH_AGAINST=${against} npm run bench:webhook:against\` (bench/webhook/against.ts): graft's route of ${hereRev ? here : `this tree (${here})`} and of ${commit}, both servers running, ${SECONDS} s a review in ${ROUNDS} alternating slices, ${CONNECTIONS} connections, HTTPS keep-alive, Node ${process.version}, ${os.cpus().length} CPUs, load average ${os.loadavg()[0]!.toFixed(1)} at the end. Ratios are medians of the slices' ratios: req/s above 1 and CPU below 1 mean this tree is faster.`,
        "",
        `| review | req/s ${here} | req/s ${commit} | req/s ratio | server CPU per request, ${here} / ${commit} (µs) | CPU ratio |`,
        "| --- | ---: | ---: | ---: | ---: | ---: |",
        ...rows,
      ].join("\n"),
    );
    console.log("written to docs/benchmarks.md");
  } finally {
    for (const server of servers) await server.stop();
    for (const tree of worktrees) git("worktree", "remove", "--force", tree);
  }
}

await main();
