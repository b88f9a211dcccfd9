/**
 * Where the webhook's Kubernetes client connects and as whom: a kubeconfig file (`--kubeconfig`,
 * else KUBECONFIG, else ~/.kube/config) or, in a pod, the ServiceAccount the kubelet mounts
 * (KUBERNETES_SERVICE_HOST/PORT, its token and CA files). The token file is read again when it
 * changes: the kubelet rotates a projected token about every hour (its files are swapped, so the
 * file's identity changes), and a token read once at start would expire under the webhook.
 *
 * What a kubeconfig may say: a server (https, or http for a local test server), its CA (file or
 * data), tls-server-name, insecure-skip-tls-verify; a user with a token, a token file, a client
 * certificate and key (files or data) or a username and password. An exec plugin or an
 * auth-provider is refused with a message saying so: the webhook runs in a pod, as its
 * ServiceAccount, and runs no credential programs.
 */
import { existsSync, readFileSync } from "node:fs";
import { readFile, stat } from "node:fs/promises";
import { homedir } from "node:os";
import path from "node:path";
import { parse as parseYaml } from "yaml";
import { errorMessage, isRecord } from "../../../core/result.js";

/** Where the kubelet mounts a pod's ServiceAccount. */
export const SERVICE_ACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount";

export type KubeAccess = {
  /** The API server, e.g. https://10.96.0.1:443; no path. */
  server: URL;
  /** PEM of the CA(s) the API server's certificate must chain to; absent: the system's. */
  ca?: string;
  /** Client certificate and key (PEM). */
  cert?: string;
  key?: string;
  /** The name to check the server's certificate against, when not the server's host. */
  tlsServerName?: string;
  insecureSkipTlsVerify?: boolean;
  /** The Authorization header to send, if any (a token is read from its file when that changed). */
  authorization(): Promise<string | undefined>;
  /** For messages: "in-cluster (https://10.96.0.1:443)", "kubeconfig /path (context x)". */
  describe: string;
};

export type AccessEnvironment = Readonly<Record<string, string | undefined>>;

/**
 * A token kept from a file, read again when the file's identity, size or modification time
 * changed since the last read (a stat per call: cheap beside the request it authorises).
 */
export function tokenFromFile(file: string): () => Promise<string> {
  let seen = "";
  let token = "";
  return async () => {
    const info = await stat(file);
    const key = `${info.ino}:${info.size}:${info.mtimeMs}`;
    if (key !== seen) {
      token = (await readFile(file, "utf8")).trim();
      seen = key;
    }
    if (!token) throw new Error(`the token file ${file} is empty`);
    return token;
  };
}

/**
 * The ServiceAccount's access, or undefined outside a pod (no KUBERNETES_SERVICE_HOST/PORT or no
 * token file in `dir`).
 */
export function inClusterAccess(env: AccessEnvironment, dir = SERVICE_ACCOUNT_DIR): KubeAccess | undefined {
  const host = env.KUBERNETES_SERVICE_HOST;
  const port = env.KUBERNETES_SERVICE_PORT;
  const tokenFile = path.join(dir, "token");
  if (!host || !port) return undefined;
  try {
    readFileSync(tokenFile);
  } catch {
    return undefined;
  }
  const server = new URL(`https://${host.includes(":") ? `[${host}]` : host}:${port}`);
  let ca: string | undefined;
  try {
    ca = readFileSync(path.join(dir, "ca.crt"), "utf8");
  } catch {
    ca = undefined;
  }
  const token = tokenFromFile(tokenFile);
  return {
    server,
    ...(ca ? { ca } : {}),
    authorization: async () => `Bearer ${await token()}`,
    describe: `in-cluster (${server.origin})`,
  };
}

type Named<T> = { name: string; value: T };

function namedEntries(config: Record<string, unknown>, list: string, field: string): Named<unknown>[] {
  const entries = config[list];
  if (entries === undefined || entries === null) return [];
  if (!Array.isArray(entries)) throw new Error(`"${list}" is not a list`);
  return entries.map((entry, index) => {
    if (!isRecord(entry) || typeof entry.name !== "string") throw new Error(`${list}[${index}] has no name`);
    return { name: entry.name, value: entry[field] ?? {} };
  });
}

function pick(entries: Named<unknown>[], name: string, what: string): Record<string, unknown> {
  const found = entries.find((entry) => entry.name === name);
  if (!found) throw new Error(`the ${what} "${name}" is not defined`);
  if (!isRecord(found.value)) throw new Error(`the ${what} "${name}" is not a map`);
  return found.value;
}

function optionalString(map: Record<string, unknown>, key: string, where: string): string | undefined {
  const value = map[key];
  if (value === undefined || value === null || value === "") return undefined;
  if (typeof value !== "string") throw new Error(`${where}.${key} is not a string`);
  return value;
}

/**
 * The access a parsed kubeconfig describes, for its current context (or `context`). Relative
 * file names are read from `baseDir`, the kubeconfig's folder, as kubectl does.
 */
export function accessFromKubeconfig(
  config: unknown,
  { baseDir, source, context }: { baseDir: string; source: string; context?: string },
): KubeAccess {
  if (!isRecord(config)) throw new Error("it is not a YAML map");
  const contextName = context ?? config["current-context"];
  if (typeof contextName !== "string" || contextName === "") throw new Error("it names no current-context");
  const ctx = pick(namedEntries(config, "contexts", "context"), contextName, "context");
  const clusterName = ctx.cluster;
  if (typeof clusterName !== "string") throw new Error(`context "${contextName}" names no cluster`);
  const cluster = pick(namedEntries(config, "clusters", "cluster"), clusterName, "cluster");
  const userName = ctx.user;
  const user =
    typeof userName === "string" && userName !== ""
      ? pick(namedEntries(config, "users", "user"), userName, "user")
      : {};
  const where = (kind: string, name: unknown) => `${kind} "${String(name)}"`;
  const file = (name: string) => readFileSync(path.resolve(baseDir, name), "utf8");
  const dataOrFile = (map: Record<string, unknown>, key: string, at: string): string | undefined => {
    const data = optionalString(map, `${key}-data`, at);
    if (data !== undefined) return Buffer.from(data, "base64").toString("utf8");
    const name = optionalString(map, key, at);
    return name === undefined ? undefined : file(name);
  };

  const serverText = optionalString(cluster, "server", where("cluster", clusterName));
  if (!serverText) throw new Error(`cluster "${clusterName}" has no server`);
  let server: URL;
  try {
    server = new URL(serverText);
  } catch {
    throw new Error(`cluster "${clusterName}" has server "${serverText}", which is not a URL`);
  }
  if (server.protocol !== "https:" && server.protocol !== "http:")
    throw new Error(`cluster "${clusterName}" has server "${serverText}": only https (or http) is supported`);
  if (optionalString(cluster, "proxy-url", where("cluster", clusterName)))
    throw new Error(`cluster "${clusterName}" sets proxy-url, which graft's webhook does not support`);
  for (const unsupported of ["exec", "auth-provider"]) {
    if (user[unsupported] !== undefined)
      throw new Error(
        `user "${String(userName)}" uses ${unsupported}: graft's webhook runs no credential plugins; give it a token, a token file or a client certificate`,
      );
  }

  const userAt = where("user", userName);
  const ca = dataOrFile(cluster, "certificate-authority", where("cluster", clusterName));
  const cert = dataOrFile(user, "client-certificate", userAt);
  const key = dataOrFile(user, "client-key", userAt);
  if ((cert === undefined) !== (key === undefined))
    throw new Error(`${userAt} has a client certificate or a client key, not both`);
  const tokenText = optionalString(user, "token", userAt);
  const tokenFile = optionalString(user, "tokenFile", userAt);
  const username = optionalString(user, "username", userAt);
  const password = optionalString(user, "password", userAt);
  const readToken = tokenFile ? tokenFromFile(path.resolve(baseDir, tokenFile)) : undefined;
  const basic =
    username !== undefined
      ? `Basic ${Buffer.from(`${username}:${password ?? ""}`).toString("base64")}`
      : undefined;
  const tlsServerName = optionalString(cluster, "tls-server-name", where("cluster", clusterName));
  server.pathname = server.pathname.replace(/\/+$/, "");
  return {
    server,
    ...(ca ? { ca } : {}),
    ...(cert && key ? { cert, key } : {}),
    ...(tlsServerName ? { tlsServerName } : {}),
    ...(cluster["insecure-skip-tls-verify"] === true ? { insecureSkipTlsVerify: true } : {}),
    authorization: async () => {
      if (tokenText) return `Bearer ${tokenText}`;
      if (readToken) return `Bearer ${await readToken()}`;
      return basic;
    },
    describe: `${source} (context ${contextName}, ${server.origin})`,
  };
}

/** The kubeconfig in `file`; throws what is wrong with it, prefixed with `what` (naming the file). */
function kubeconfigFileAccess(file: string, what: string): KubeAccess {
  try {
    const text = readFileSync(file, "utf8");
    return accessFromKubeconfig(parseYaml(text), { baseDir: path.dirname(path.resolve(file)), source: file });
  } catch (error) {
    throw new Error(`${what} (${errorMessage(error)})`);
  }
}

/**
 * Access that has none: every call fails saying why (a local run without a cluster still serves,
 * as it does when the API server is down).
 */
export function noAccess(why: string): KubeAccess {
  return {
    server: new URL("https://localhost"),
    authorization: async () => {
      throw new Error(why);
    },
    describe: "no cluster access",
  };
}

/**
 * Cluster access as `kubectl` and client-node find it: `file` when given; else the first file of
 * KUBECONFIG, else ~/.kube/config when it exists, else the pod's ServiceAccount; else none (every
 * call then fails saying so).
 */
export function loadKubeAccess(
  file: string | undefined,
  env: AccessEnvironment = process.env,
  { home = homedir(), serviceAccountDir = SERVICE_ACCOUNT_DIR } = {},
): KubeAccess {
  if (file) return kubeconfigFileAccess(file, `--kubeconfig ${file} is not a usable kubeconfig`);
  const fromEnv = env.KUBECONFIG?.split(path.delimiter).find((name) => name !== "");
  if (fromEnv)
    return kubeconfigFileAccess(fromEnv, `${fromEnv} (from KUBECONFIG) is not a usable kubeconfig`);
  const inHome = path.join(home, ".kube", "config");
  if (existsSync(inHome)) return kubeconfigFileAccess(inHome, `${inHome} is not a usable kubeconfig`);
  return (
    inClusterAccess(env, serviceAccountDir) ??
    noAccess(
      "no --kubeconfig, no KUBECONFIG, no ~/.kube/config, and not in a pod (KUBERNETES_SERVICE_HOST and a ServiceAccount token)",
    )
  );
}
