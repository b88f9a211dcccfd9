/**
 * bench/webhook/server.ts of a tree (this one, or another revision's checkout) as a child process:
 * the two benches start it the same way and read its port from its first line.
 */
import { spawn } from "node:child_process";
import path from "node:path";
import { createInterface } from "node:readline";

export type BenchServer = { port: number; pid: number; stop: () => Promise<void> };

export async function startBenchServer(root: string): Promise<BenchServer> {
  const child = spawn(process.execPath, ["--import", "tsx", path.join(root, "bench/webhook/server.ts")], {
    cwd: root,
    stdio: ["ignore", "pipe", "inherit"],
  });
  const lines = createInterface({ input: child.stdout! });
  const port = await new Promise<number>((resolve, reject) => {
    lines.once("line", (line) => resolve((JSON.parse(line) as { port: number }).port));
    child.once("exit", (code) =>
      reject(new Error(`bench server in ${root} exited ${code} before listening`)),
    );
  });
  const stop = () =>
    new Promise<void>((resolve) => {
      child.once("exit", () => resolve());
      child.kill("SIGTERM");
    });
  return { port, pid: child.pid!, stop };
}
