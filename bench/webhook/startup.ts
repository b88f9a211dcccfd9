// `graft webhook` start → ready, CPU and idle RSS, dist/ (bin/graft.js) against the bundle
// (bundle/bin/graft.js, `npm run bundle`), alternating in one run. No cluster: readiness here is
// the server's own (certificates loaded, config valid); every API call fails at once.
//   npx tsx bench/webhook/startup.ts [runs] [name=path/to/graft.js ...]
// Named CLIs replace the two defaults, e.g. before and after a change (a worktree built beside):
//   npx tsx bench/webhook/startup.ts 5 before=/tmp/base/bundle/bin/graft.js after=bundle/bin/graft.js
import { spawn } from "node:child_process";
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { request } from "node:https";
import { tmpdir } from "node:os";
import path from "node:path";
import { createAuthority, issueServingCert } from "../../certs/authority.js";

const RUNS = Number(process.argv[2] ?? 5);
const named = process.argv.slice(3).map((arg) => {
  const at = arg.indexOf("=");
  if (at < 1) throw new Error(`expected name=path/to/graft.js, got "${arg}"`);
  return [arg.slice(0, at), arg.slice(at + 1)] as const;
});
const CLIS: ReadonlyArray<readonly [string, string]> =
  named.length > 0
    ? named
    : [
        ["dist", "bin/graft.js"],
        ["bundle", "bundle/bin/graft.js"],
      ];
const now = new Date();
const authority = createAuthority({ now });
const serving = issueServingCert(authority, { ipAddresses: ["127.0.0.1"], now });
const dir = await mkdtemp(path.join(tmpdir(), "graft-startup-"));
await writeFile(path.join(dir, "tls.crt"), serving.cert);
await writeFile(path.join(dir, "tls.key"), serving.key);
await writeFile(path.join(dir, "config.yaml"), "nativeSidecars: never\n");

function ready(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request(
      { host: "127.0.0.1", port, path: "/readyz", ca: authority.cert, agent: false },
      (res) => {
        res.resume();
        resolve(res.statusCode === 200);
      },
    );
    req.on("error", () => resolve(false));
    req.end();
  });
}

type Run = { ms: number; readyCpu: number; rss: number; cpu: number };

/** The CPU time (user + system, all threads) `pid` has used so far, in ms. */
async function cpuOf(pid: number | undefined): Promise<number> {
  const stat = (await readFile(`/proc/${pid}/stat`, "utf8")).split(") ")[1]!.split(" ");
  return ((Number(stat[11]) + Number(stat[12])) / 100) * 1000;
}

async function once(bin: string, port: number): Promise<Run> {
  const started = performance.now();
  const child = spawn(
    process.execPath,
    [
      bin,
      "webhook",
      "--host",
      "127.0.0.1",
      "--port",
      String(port),
      "--tls-cert",
      path.join(dir, "tls.crt"),
      "--tls-key",
      path.join(dir, "tls.key"),
      "--config",
      path.join(dir, "config.yaml"),
      "--log-level",
      "warn",
    ],
    // No cluster access of the caller's: no KUBECONFIG, no ~/.kube/config, not in a pod.
    { stdio: "ignore", env: { PATH: process.env.PATH ?? "", HOME: dir } },
  );
  let exited = false;
  child.on("exit", () => {
    exited = true;
  });
  while (!(await ready(port))) {
    if (exited || performance.now() - started > 60_000)
      throw new Error(`${bin} exited or was not ready in 60 s`);
    await new Promise((r) => setTimeout(r, 5));
  }
  const ms = performance.now() - started;
  const readyCpu = await cpuOf(child.pid);
  await new Promise((r) => setTimeout(r, 3000));
  const status = await readFile(`/proc/${child.pid}/status`, "utf8");
  const rss = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1]) / 1024;
  const cpu = await cpuOf(child.pid);
  child.kill("SIGKILL");
  return { ms, readyCpu, rss, cpu };
}

const rows: Record<string, Run[]> = Object.fromEntries(CLIS.map(([name]) => [name, []]));
let port = 18443;
for (let i = 0; i < RUNS; i += 1) {
  // Alternating, and each round in turn starting with another CLI.
  for (let j = 0; j < CLIS.length; j += 1) {
    const [name, bin] = CLIS[(i + j) % CLIS.length]!;
    rows[name]!.push(await once(bin, port++));
  }
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
for (const [name, r] of Object.entries(rows)) {
  console.log(
    `${name}: start→ready median ${median(r.map((x) => x.ms)).toFixed(0)} ms (${r.map((x) => x.ms.toFixed(0)).join(", ")}), CPU when ready ${median(r.map((x) => x.readyCpu)).toFixed(0)} ms (${r.map((x) => x.readyCpu.toFixed(0)).join(", ")}), CPU to 3 s idle ${median(r.map((x) => x.cpu)).toFixed(0)} ms (${r.map((x) => x.cpu.toFixed(0)).join(", ")}), idle RSS ${median(r.map((x) => x.rss)).toFixed(1)} MiB (${r.map((x) => x.rss.toFixed(1)).join(", ")})`,
  );
}
