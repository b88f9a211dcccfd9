/** Running a real service as a child process for a test: free ports, temp dirs, readiness, stop. */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";

export type Started = {
  child: ChildProcess;
  /** The last output of the process, for failure messages. */
  output: () => string;
  /** Ends the process and its children: SIGTERM, then SIGKILL after `graceMs`. */
  stop: (graceMs?: number) => Promise<void>;
};

const KEPT_OUTPUT = 16 * 1024;

export function cacheDir(): string {
  return process.env.GRAFT_CACHE_DIR ?? path.join(os.homedir(), ".cache", "graft");
}

export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export async function tempDir(prefix: string): Promise<{ dir: string; remove: () => Promise<void> }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), `graft-${prefix}-`));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

/** The process groups started here and not yet exited: killed when this process exits. */
const running = new Set<number>();
let killOnExit = false;

function killRunningGroups(): void {
  for (const pid of running) {
    try {
      process.kill(-pid, "SIGKILL");
    } catch {
      // Already gone.
    }
  }
}

/**
 * Starts `command` in its own process group, so stopping it also stops what it started. A
 * group still running when this process exits (a test file that failed before its teardown, a
 * worker ended early) is killed then. With `stdin: "pipe"` the child's standard input is a pipe
 * this process holds open until it exits, however it exits: a child that watches for its end
 * (test/services/java/GraftLauncher.java) goes even when this process is killed outright.
 */
export function startProcess(
  command: string,
  args: string[],
  options: { env?: NodeJS.ProcessEnv; cwd?: string; stdin?: "pipe" } = {},
): Started {
  const child = spawn(command, args, {
    cwd: options.cwd,
    env: { ...process.env, ...options.env },
    stdio: [options.stdin ?? "ignore", "pipe", "pipe"],
    detached: true,
  });
  if (child.pid !== undefined) {
    const pid = child.pid;
    running.add(pid);
    child.once("exit", () => running.delete(pid));
    if (!killOnExit) {
      killOnExit = true;
      process.once("exit", killRunningGroups);
    }
  }
  let output = "";
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString("utf8")).slice(-KEPT_OUTPUT);
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const signal = (name: NodeJS.Signals) => {
    try {
      if (child.pid !== undefined) process.kill(-child.pid, name);
    } catch {
      // Already gone.
    }
  };
  return {
    child,
    output: () => output,
    stop: async (graceMs = 10_000) => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      signal("SIGTERM");
      const timer = setTimeout(() => signal("SIGKILL"), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Polls `condition` until it holds; on timeout (or the process exiting) throws with its output. */
export async function waitFor(
  what: string,
  condition: () => Promise<boolean>,
  options: { timeoutMs?: number; process?: Started } = {},
): Promise<void> {
  const deadline = Date.now() + (options.timeoutMs ?? 60_000);
  for (;;) {
    if (await condition().catch(() => false)) return;
    const child = options.process?.child;
    const exited = child !== undefined && (child.exitCode !== null || child.signalCode !== null);
    if (exited || Date.now() > deadline) {
      const why = exited ? `the process exited (${child.exitCode ?? child.signalCode})` : "timed out";
      throw new Error(`waiting for ${what}: ${why}\n${options.process?.output() ?? ""}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** Sends `text` over TCP and resolves with everything the server sends before closing. */
export function tcpExchange(port: number, text: string, timeoutMs = 2000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: "127.0.0.1", port }, () => socket.write(text));
    let reply = "";
    socket.setTimeout(timeoutMs, () => socket.destroy(new Error("timeout")));
    socket.on("data", (chunk) => {
      reply += chunk.toString("utf8");
    });
    socket.on("end", () => resolve(reply));
    socket.on("error", reject);
  });
}

export type Ran = { code: number; stdout: string; stderr: string };

/** Runs `command` to completion with `input` on its stdin; resolves with its exit code and output. */
export function run(
  command: string,
  args: string[],
  options: { input?: string; env?: NodeJS.ProcessEnv; cwd?: string } = {},
): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: { ...process.env, ...options.env },
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
      stderr += chunk;
    });
    child.on("error", reject);
    child.on("close", (code) => resolve({ code: code ?? 1, stdout, stderr }));
    // A child that exits before reading its input (kubectl refusing its arguments, say) makes the
    // write fail with EPIPE: its exit code and output already say what happened, so the error
    // is not thrown again as an uncaught exception that fails the whole run.
    child.stdin.on("error", () => undefined);
    child.stdin.end(options.input ?? "");
  });
}

/** Runs `command` to completion; rejects with its output when it fails. */
export async function runCommand(command: string, args: string[], options: { env?: NodeJS.ProcessEnv } = {}) {
  const started = startProcess(command, args, options);
  const code = await new Promise<number | null>((resolve) =>
    started.child.once("exit", (exitCode) => resolve(exitCode)),
  );
  if (code !== 0) throw new Error(`${command} ${args.join(" ")} exited ${code}\n${started.output()}`);
  return started.output();
}

/** Resolves once nothing accepts connections on `port` (a process's children may outlive it briefly). */
export async function waitForPortClosed(port: number, timeoutMs = 30_000): Promise<void> {
  const accepts = () =>
    new Promise<boolean>((resolve) => {
      const socket = net.connect({ host: "127.0.0.1", port });
      socket.once("connect", () => {
        socket.destroy();
        resolve(true);
      });
      socket.once("error", () => resolve(false));
    });
  await waitFor(`port ${port} to close`, async () => !(await accepts()), { timeoutMs });
}
