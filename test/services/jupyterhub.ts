/**
 * A real JupyterHub (PyPI jupyterhub + npm configurable-http-proxy, installed by
 * jupyterhub/install.sh) on free ports of 127.0.0.1, with the dummy authenticator, two users and
 * a service whose API token may list users.
 */
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { cacheDir, freePort, type Started, startProcess, tempDir, waitFor } from "./spawn.js";

export type JupyterHub = {
  url: string;
  token: string;
  users: string[];
  process: Started;
  stop: () => Promise<void>;
};

const HOME = path.join(cacheDir(), "jupyterhub");

export async function startJupyterHub(): Promise<JupyterHub> {
  const [port, hubPort, proxyApiPort] = [await freePort(), await freePort(), await freePort()];
  const work = await tempDir("jupyterhub");
  const token = "graft-health-token-0123456789abcdef";
  const users = ["alice", "bob"];
  const config = `
c.JupyterHub.bind_url = "http://127.0.0.1:${port}"
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = ${hubPort}
c.ConfigurableHTTPProxy.api_url = "http://127.0.0.1:${proxyApiPort}"
c.ConfigurableHTTPProxy.command = [${JSON.stringify(path.join(HOME, "proxy", "node_modules", ".bin", "configurable-http-proxy"))}]
c.JupyterHub.authenticator_class = "dummy"
c.Authenticator.allowed_users = set(${JSON.stringify(users)})
c.JupyterHub.db_url = "sqlite:///${work.dir}/jupyterhub.sqlite"
c.JupyterHub.cookie_secret_file = "${work.dir}/jupyterhub_cookie_secret"
c.JupyterHub.pid_file = "${work.dir}/jupyterhub.pid"
c.JupyterHub.services = [{"name": "graft-health", "api_token": "${token}"}]
c.JupyterHub.load_roles = [{"name": "graft-health", "scopes": ["list:users"], "services": ["graft-health"]}]
`;
  const configFile = path.join(work.dir, "jupyterhub_config.py");
  await writeFile(configFile, config);
  const process = startProcess(path.join(HOME, "venv", "bin", "jupyterhub"), ["-f", configFile], {
    cwd: work.dir,
    env: { PATH: `${path.join(HOME, "venv", "bin")}:${globalThis.process.env.PATH ?? ""}` },
  });
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    await process.stop();
    await work.remove();
  };
  try {
    await waitFor(`JupyterHub on ${url}`, async () => (await fetch(`${url}/hub/api`)).ok, {
      process,
      timeoutMs: 90_000,
    });
  } catch (caught) {
    await stop();
    throw caught;
  }
  return { url, token, users, process, stop };
}
