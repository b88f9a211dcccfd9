/**
 * `graft webhook` as it ships: the built CLI (bin/graft.js runs dist/) in a child process on
 * 127.0.0.1 and a free port, with a CA and serving certificate of the test's own and the given
 * config. Its JSON log lines are collected; it resolves once the server listens.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { createAuthority, issueServingCert, type PemPair } from "../../certs/authority.js";
import { waitFor } from "./spawn.js";

const root = fileURLToPath(new URL("../..", import.meta.url));

export type WebhookLogLine = {
  msg?: string;
  path?: string;
  signal?: string;
  agentImage?: string;
  reason?: string;
  serialNumber?: string;
};

export type WebhookCli = {
  child: ChildProcess;
  /** Resolves with the exit code. */
  exited: Promise<number | null>;
  logs: WebhookLogLine[];
  /** https://127.0.0.1:PORT */
  base: string;
  /** The CA the serving certificate chains to. */
  ca: string;
  /** That CA with its key, to issue further serving certificates (reload tests). */
  authority: PemPair;
  /** The files the webhook serves and watches, and the pair first written to them. */
  certFile: string;
  keyFile: string;
  serving: PemPair;
  /** SIGKILL if still running, then removes the temporary files. */
  cleanup: () => Promise<void>;
};

export async function startWebhookCli(options: {
  config: string;
  args?: string[];
  env?: Record<string, string>;
  /** The CLI to run, relative to the repository or absolute: bin/graft.js unless given (a bundle). */
  bin?: string;
}): Promise<WebhookCli> {
  buildCli();
  const now = new Date();
  const authority = createAuthority({ now });
  const serving = issueServingCert(authority, { ipAddresses: ["127.0.0.1"], now });
  const dir = await mkdtemp(join(tmpdir(), "graft-webhook-cli-"));
  await writeFile(join(dir, "tls.crt"), serving.cert);
  await writeFile(join(dir, "tls.key"), serving.key);
  await writeFile(join(dir, "config.yaml"), options.config);
  const child = spawn(
    process.execPath,
    [
      options.bin ?? "bin/graft.js",
      "webhook",
      ...["--host", "127.0.0.1", "--port", "0"],
      ...["--tls-cert", join(dir, "tls.crt"), "--tls-key", join(dir, "tls.key")],
      ...["--config", join(dir, "config.yaml"), ...(options.args ?? [])],
    ],
    { cwd: root, env: { ...process.env, ...options.env }, stdio: ["ignore", "pipe", "inherit"] },
  );
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  const logs: WebhookLogLine[] = [];
  createInterface({ input: child.stdout as NodeJS.ReadableStream }).on("line", (line) => {
    try {
      logs.push(JSON.parse(line) as WebhookLogLine);
    } catch {
      logs.push({ msg: line });
    }
  });
  const cleanup = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    await rm(dir, { recursive: true, force: true });
  };
  const listening = () => logs.find((line) => line.msg?.startsWith("Server listening at "))?.msg;
  try {
    await waitFor("the webhook to listen", async () => listening() !== undefined, { timeoutMs: 30_000 });
  } catch (error) {
    await cleanup();
    throw error;
  }
  const base = listening()!.replace("Server listening at ", "");
  return {
    child,
    exited,
    logs,
    base,
    ca: authority.cert,
    authority,
    certFile: join(dir, "tls.crt"),
    keyFile: join(dir, "tls.key"),
    serving,
    cleanup,
  };
}

/** `npm run build`, so bin/graft.js runs the code under test. */
export function buildCli(): void {
  // tsc emits even when another part of the tree fails to type-check, so only a missing output is fatal.
  const build = spawnSync("npm", ["run", "build"], { cwd: root, encoding: "utf8" });
  if (!existsSync(join(root, "dist/webhook/server/cli.js"))) {
    throw new Error(`npm run build produced no dist/webhook/server/cli.js:\n${build.stdout}${build.stderr}`);
  }
}
