/** A real graft agent on 127.0.0.1 and a free port, running `checks` (a spec as users write it). */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type Agent, startAgent } from "../../agent/main.js";
import { parseChecksSpec, type ResolvedCheck } from "../../core/checks.js";
import { AGENT_COMMAND } from "../../webhook/features/agent/agent.js";
import { freePort, startProcess, waitFor } from "./spawn.js";

/** A checks spec as users write it, resolved; a spec the test got wrong throws with every error. */
export function resolvedChecks(spec: unknown): ResolvedCheck[] {
  const parsed = parseChecksSpec(spec);
  if (!parsed.ok) throw new Error(parsed.error.join("\n"));
  return parsed.value;
}

/** Resolves once every check has reported once. */
export async function startAgentWith(
  checks: unknown[],
  identity?: { app?: string; component?: string },
): Promise<Agent> {
  const agent = await startAgent({
    checks: resolvedChecks(checks),
    port: 0,
    host: "127.0.0.1",
    ...(identity ? { identity } : {}),
  });
  await agent.ready;
  return agent;
}

/** A tcp check, every second, of a port (one where nothing listens is an ERROR naming it). */
export function tcpCheck(name: string, port: number, source = name) {
  return { name, type: "tcp", host: "127.0.0.1", port, source, interval: "1s", timeout: "500ms" };
}

/** `graft agent` as it ships: the built CLI, with the sidecar's node flags, in a child process. */
export type AgentProcess = {
  url: string;
  pid: number;
  /** The process' peak resident set (VmHWM in /proc/<pid>/status), in bytes. */
  peakRssBytes: () => Promise<number>;
  /** The current one (VmRSS). */
  rssBytes: () => Promise<number>;
  /** `graft_check_runs_total` summed over results, by check. */
  runs: () => Promise<Map<string, number>>;
  /** The latest `<check>.health` events of `/status`, by check. */
  status: () => Promise<Map<string, { value: string; causes: string[] }>>;
  metrics: () => Promise<string>;
  output: () => string;
  stop: () => Promise<void>;
};

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
let built = false;

/** Builds dist/ once per test process (tsc emits even when another part fails to type-check). */
export function buildOnce(): void {
  if (built) return;
  const build = spawnSync("npm", ["run", "build"], { cwd: ROOT, encoding: "utf8" });
  if (!existsSync(join(ROOT, "dist/agent/cli.js"))) {
    throw new Error(`npm run build produced no dist/agent/cli.js:\n${build.stdout}${build.stderr}`);
  }
  built = true;
}

async function procStatusBytes(pid: number, field: "VmHWM" | "VmRSS"): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  const kib = new RegExp(`^${field}:\\s+(\\d+) kB$`, "m").exec(status)?.[1];
  if (kib === undefined) throw new Error(`no ${field} in /proc/${pid}/status`);
  return Number(kib) * 1024;
}

export async function startAgentProcess(options: {
  checks: unknown[];
  pushUrl?: string;
}): Promise<AgentProcess> {
  buildOnce();
  const port = await freePort();
  const [, ...nodeFlags] = AGENT_COMMAND.slice(0, -1);
  const started = startProcess(
    process.execPath,
    [...nodeFlags, join(ROOT, "bin/graft.js"), "agent", "--port", String(port), "--host", "127.0.0.1"],
    {
      cwd: ROOT,
      env: {
        GRAFT_CHECKS: JSON.stringify(options.checks),
        ...(options.pushUrl === undefined ? {} : { GRAFT_PUSH_URL: options.pushUrl }),
      },
    },
  );
  const url = `http://127.0.0.1:${port}`;
  await waitFor("the agent to listen", async () => (await fetch(`${url}/healthz`)).ok, {
    timeoutMs: 30_000,
    process: started,
  });
  const pid = started.child.pid!;
  const metrics = async () => (await fetch(`${url}/metrics`)).text();
  return {
    url,
    pid,
    peakRssBytes: () => procStatusBytes(pid, "VmHWM"),
    rssBytes: () => procStatusBytes(pid, "VmRSS"),
    metrics,
    runs: async () => {
      const runs = new Map<string, number>();
      for (const match of (await metrics()).matchAll(
        /^graft_check_runs_total\{check="([^"]+)",[^}]*\} (\d+)$/gm,
      )) {
        runs.set(match[1]!, (runs.get(match[1]!) ?? 0) + Number(match[2]));
      }
      return runs;
    },
    status: async () => {
      const body = (await (await fetch(`${url}/status`)).json()) as {
        data: { source: string; metric: string; value: string; causes: string[] }[];
      };
      return new Map(
        body.data
          .filter((event) => event.metric.endsWith(".health"))
          .map((event) => [event.metric.slice(0, -".health".length), event]),
      );
    },
    output: started.output,
    stop: () => started.stop(),
  };
}
