/**
 * A real Jupyter server (`jupyter_server` from PyPI, installed by jupyter-server/install.sh) serving
 * a folder on 127.0.0.1:<free port> with a token, its config and runtime folders kept apart.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { homedir, tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "./git-http.js";

export type JupyterServer = {
  url: string;
  token: string;
  /** GET a Jupyter REST path (e.g. `/api/contents/x`) with the token; the parsed JSON and status. */
  get(path: string): Promise<{ status: number; body: unknown }>;
  stop(): Promise<void>;
};

function jupyterServerBinary(): string {
  const cache = process.env.GRAFT_CACHE_DIR ?? join(homedir(), ".cache", "graft");
  return join(cache, "jupyter-server-venv", "bin", "jupyter-server");
}

/** `baseUrl` (e.g. "/user/alice/", as JupyterHub serves a user's server): `url` ends with it, less its last "/". */
export async function startJupyterServer(
  rootDir: string,
  options: { baseUrl?: string } = {},
): Promise<JupyterServer> {
  const binary = jupyterServerBinary();
  if (!existsSync(binary))
    throw new Error(`${binary} is missing: run test/services/jupyter-server/install.sh`);
  const dir = await mkdtemp(join(tmpdir(), "graft-jupyter-"));
  const port = await freePort();
  const token = randomBytes(16).toString("hex");
  const url = `http://127.0.0.1:${port}${(options.baseUrl ?? "/").replace(/\/$/, "")}`;
  let output = "";
  const server: ChildProcess = spawn(
    binary,
    [
      "--ip=127.0.0.1",
      `--port=${port}`,
      "--port-retries=0",
      "--no-browser",
      `--ServerApp.root_dir=${rootDir}`,
      `--IdentityProvider.token=${token}`,
      ...(options.baseUrl ? [`--ServerApp.base_url=${options.baseUrl}`] : []),
      ...(process.getuid?.() === 0 ? ["--allow-root"] : []),
    ],
    {
      env: {
        ...process.env,
        JUPYTER_CONFIG_DIR: join(dir, "config"),
        JUPYTER_DATA_DIR: join(dir, "data"),
        JUPYTER_RUNTIME_DIR: join(dir, "runtime"),
        JUPYTER_PLATFORM_DIRS: "1",
      },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  server.stdout?.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  server.stderr?.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });

  const get = async (path: string) => {
    const response = await fetch(`${url}${path}`, { headers: { Authorization: `token ${token}` } });
    const text = await response.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {}
    return { status: response.status, body };
  };
  const stop = async () => {
    if (server.exitCode === null && server.signalCode === null) {
      const exit = new Promise((resolve) => server.once("exit", resolve));
      server.kill("SIGTERM");
      await exit;
    }
    await rm(dir, { recursive: true, force: true });
  };

  const deadline = Date.now() + 60_000;
  for (;;) {
    if (server.exitCode !== null) {
      await stop();
      throw new Error(`jupyter-server exited with ${server.exitCode}: ${output.slice(-2000)}`);
    }
    const status = await get("/api/status").then(
      (reply) => reply.status,
      () => 0,
    );
    if (status === 200) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`jupyter-server did not answer on ${url} within 60 s: ${output.slice(-2000)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return { url, token, get, stop };
}
