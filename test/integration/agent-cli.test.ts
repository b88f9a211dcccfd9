/** `graft agent` as a process: refuses a bad spec, serves a good one, stops cleanly on SIGTERM. */
import { spawn } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { freePort, waitFor } from "../services/spawn.js";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
// The sources through tsx, so the test needs no build; bin/graft.js runs the same main() from dist/.
const MAIN = 'import { main } from "./cli/main.ts"; process.exitCode = await main(process.argv.slice(1));';

function graft(args: string[], env: Record<string, string>) {
  const child = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", MAIN, ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const out = { stdout: "", stderr: "" };
  child.stdout.on("data", (chunk: Buffer) => {
    out.stdout += chunk.toString("utf8");
  });
  child.stderr.on("data", (chunk: Buffer) => {
    out.stderr += chunk.toString("utf8");
  });
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return { child, out, exited };
}

describe("graft agent (process)", () => {
  it("exits non-zero on a bad spec, naming the check and the field", async () => {
    const { out, exited } = graft(["agent", "--port", "0"], {
      GRAFT_CHECKS: "- {name: db, type: tcp, host: db.local, port: 70000}\n- {name: web, type: http}",
    });
    expect(await exited).toBe(2);
    expect(out.stderr).toContain('GRAFT_CHECKS: check "db": field "port"');
    expect(out.stderr).toContain('GRAFT_CHECKS: check "web": missing field "url"');
  });

  it("serves its checks and exits 0 on SIGTERM", async () => {
    const port = await freePort();
    const { child, out, exited } = graft(["agent", "--port", String(port), "--host", "127.0.0.1"], {
      GRAFT_CHECKS: JSON.stringify([
        { name: "self", type: "tcp", host: "127.0.0.1", port, interval: "1s", timeout: "500ms" },
      ]),
    });
    await waitFor("the agent to be ready", async () => (await fetch(`http://127.0.0.1:${port}/readyz`)).ok, {
      timeoutMs: 30_000,
    });
    const status = (await (await fetch(`http://127.0.0.1:${port}/status`)).json()) as {
      data: { metric: string; value: unknown }[];
    };
    expect(status.data).toContainEqual(expect.objectContaining({ metric: "self.health", value: "OK" }));
    expect(out.stdout).toContain('"msg":"graft agent listening"');
    child.kill("SIGTERM");
    expect(await exited).toBe(0);
  });
});
