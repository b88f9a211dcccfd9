/**
 * A git smart-HTTP server as PNDA ran it: nginx → fcgiwrap → git-http-backend, serving every
 * repository under a project root on 127.0.0.1:<free port>. Runs as the current user with its
 * own config, pid, logs and temp folders in a temporary folder. Install: git-http/install.sh.
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
  /** Folder holding the bare repositories (GIT_PROJECT_ROOT). */
  projectRoot: string;
  stop(): Promise<void>;
};

const GIT_HTTP_BACKEND = "/usr/lib/git-core/git-http-backend";

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
    const req = request({ host: "127.0.0.1", port, path: "/", timeout: 1000 }, (res) => {
      res.resume();
      resolve(true);
    });
    req.on("error", () => resolve(false));
    req.on("timeout", () => {
      req.destroy();
      resolve(false);
    });
    req.end();
  });
}

function nginxConfig(
  dir: string,
  port: number,
  socket: string,
  projectRoot: string,
  asRoot: boolean,
): string {
  return `${asRoot ? "user root root;\n" : ""}worker_processes 1;
daemon off;
pid ${dir}/nginx.pid;
error_log ${dir}/nginx-error.log warn;
events { worker_connections 64; }
http {
  access_log ${dir}/nginx-access.log;
  client_body_temp_path ${dir}/client-body;
  fastcgi_temp_path ${dir}/fastcgi;
  proxy_temp_path ${dir}/proxy;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  server {
    listen 127.0.0.1:${port};
    location / {
      client_max_body_size 0;
      fastcgi_pass unix:${socket};
      fastcgi_param SCRIPT_FILENAME ${GIT_HTTP_BACKEND};
      fastcgi_param GIT_PROJECT_ROOT ${projectRoot};
      fastcgi_param GIT_HTTP_EXPORT_ALL "";
      fastcgi_param PATH_INFO $uri;
      fastcgi_param QUERY_STRING $query_string;
      fastcgi_param REQUEST_METHOD $request_method;
      fastcgi_param CONTENT_TYPE $content_type;
      fastcgi_param CONTENT_LENGTH $content_length;
      fastcgi_param REMOTE_ADDR $remote_addr;
      fastcgi_param SERVER_PROTOCOL $server_protocol;
    }
  }
}
`;
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
  const asRoot = process.getuid?.() === 0;
  await writeFile(join(dir, "nginx.conf"), nginxConfig(dir, port, socket, projectRoot, asRoot));

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
    nginx = spawn("/usr/sbin/nginx", ["-p", dir, "-c", join(dir, "nginx.conf"), "-e", nginxLog], {
      stdio: "ignore",
    });
    const failed = exited(nginx).then(async () => {
      const log = await readFile(nginxLog, "utf8").catch(() => "");
      throw new Error(`nginx exited: ${log.trim()}`);
    });
    await Promise.race([waitFor("nginx", () => answersHttp(port)), failed]);
    failed.catch(() => {});
  } catch (error) {
    await stop();
    throw error;
  }
  return { url: `http://127.0.0.1:${port}`, port, projectRoot, stop };
}
