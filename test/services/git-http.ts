/**
 * A git smart-HTTP server as PNDA ran it: nginx → fcgiwrap → git-http-backend, serving every
 * repository under a project root on 127.0.0.1:<free port>, with the nginx.conf of
 * manifests/notebooks. Runs as the current user with its own config, pid, logs and temp folders
 * in a temporary folder. Install: git-http/install.sh.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { request } from "node:http";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

export type GitHttpServer = {
  /** Base URL, e.g. `http://127.0.0.1:34567`; a repository `jupyter-alice` is `${url}/jupyter-alice`. */
  url: string;
  port: number;
  /** The same repositories, accepting pushes (the shipped config's port 8100). */
  pushUrl: string;
  /** Folder holding the bare repositories (GIT_PROJECT_ROOT). */
  projectRoot: string;
  stop(): Promise<void>;
};

const GIT_HTTP_BACKEND = "/usr/lib/git-core/git-http-backend";
const SHIPPED_CONFIG = new URL("../../manifests/notebooks/nginx.conf", import.meta.url);

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

async function waitFor(what: string, ready: () => Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await ready()) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`${what} was not ready within ${timeoutMs} ms`);
}

function answersHttp(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request({ host: "127.0.0.1", port, path: "/healthz", timeout: 1000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on("error", () => resolve(false));
    req.on("timeout", () => {
      req.destroy();
      resolve(false);
    });
    req.end();
  });
}

/** The nginx.conf graft ships (manifests/notebooks), moved onto this machine's ports and folders. */
async function nginxConfig(
  dir: string,
  ports: { read: number; push: number },
  projectRoot: string,
  asRoot: boolean,
): Promise<string> {
  const shipped = await readFile(SHIPPED_CONFIG, "utf8");
  const moved: Record<string, string> = {
    "listen 8099;": `listen 127.0.0.1:${ports.read};`,
    "8100": String(ports.push),
    "/srv/git": projectRoot,
    "/run/git-http/": `${dir}/`,
    "/tmp/": `${dir}/`,
    "access_log /dev/stdout;": `access_log ${dir}/nginx-access.log;`,
    "error_log stderr warn;": `error_log ${dir}/nginx-error.log warn;`,
  };
  // One pass, so a replacement is never replaced again.
  const pattern = new RegExp(
    Object.keys(moved)
      .map((key) => key.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"))
      .join("|"),
    "g",
  );
  const local = shipped.replace(pattern, (match) => moved[match] ?? match);
  // As root, nginx would run its workers as nobody, who may not use fcgiwrap's socket.
  return asRoot ? `user root root;\n${local}` : local;
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once("exit", () => resolve()));
}

/** Starts the server; `projectRoot` defaults to an empty folder inside its temporary folder. */
export async function startGitHttp(options: { projectRoot?: string } = {}): Promise<GitHttpServer> {
  for (const binary of ["/usr/sbin/nginx", "/usr/sbin/fcgiwrap", GIT_HTTP_BACKEND]) {
    if (!existsSync(binary)) throw new Error(`${binary} is missing: run test/services/git-http/install.sh`);
  }
  const dir = await mkdtemp(join(tmpdir(), "graft-git-http-"));
  const projectRoot = options.projectRoot ?? join(dir, "repos");
  await mkdir(projectRoot, { recursive: true });
  const socket = join(dir, "fcgiwrap.sock");
  const port = await freePort();
  const pushPort = await freePort();
  const asRoot = process.getuid?.() === 0;
  const config = await nginxConfig(dir, { read: port, push: pushPort }, projectRoot, asRoot);
  await writeFile(join(dir, "nginx.conf"), config);

  // Its own process group: fcgiwrap's preforked workers outlive a signal to their parent alone.
  const fcgiwrap = spawn("/usr/sbin/fcgiwrap", ["-c", "4", "-s", `unix:${socket}`], {
    stdio: "ignore",
    detached: true,
  });
  const nginxLog = join(dir, "nginx-stderr.log");
  let nginx: ChildProcess | undefined;
  const stop = async () => {
    if (nginx && nginx.exitCode === null && nginx.signalCode === null) {
      nginx.kill("SIGTERM");
      await exited(nginx);
    }
    if (fcgiwrap.pid !== undefined && fcgiwrap.exitCode === null && fcgiwrap.signalCode === null) {
      process.kill(-fcgiwrap.pid, "SIGTERM");
      await exited(fcgiwrap);
    }
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await waitFor("fcgiwrap", async () => existsSync(socket));
    nginx = spawn(
      "/usr/sbin/nginx",
      ["-p", dir, "-c", join(dir, "nginx.conf"), "-e", nginxLog, "-g", "daemon off;"],
      {
        stdio: "ignore",
      },
    );
    const failed = exited(nginx).then(async () => {
      const logs = await Promise.all(
        [nginxLog, join(dir, "nginx-error.log")].map((file) => readFile(file, "utf8").catch(() => "")),
      );
      throw new Error(`nginx exited: ${logs.join("").trim()}`);
    });
    await Promise.race([waitFor("nginx", () => answersHttp(port)), failed]);
    failed.catch(() => {});
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    pushUrl: `http://127.0.0.1:${pushPort}`,
    projectRoot,
    stop,
  };
}
