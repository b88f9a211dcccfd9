import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { accessFromKubeconfig, loadKubeAccess } from "./access.js";

const base = (
  user: Record<string, unknown>,
  cluster: Record<string, unknown> = { server: "https://k:6443" },
) => ({
  apiVersion: "v1",
  kind: "Config",
  "current-context": "c",
  contexts: [{ name: "c", context: { cluster: "k", user: "u" } }],
  clusters: [{ name: "k", cluster }],
  users: [{ name: "u", user }],
});

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "graft-access-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("accessFromKubeconfig", () => {
  const read = (config: unknown) => accessFromKubeconfig(config, { baseDir: dir, source: "test" });

  it("takes the current context's server, CA data and token", async () => {
    const access = read(
      base(
        { token: "abc" },
        { server: "https://k:6443/", "certificate-authority-data": Buffer.from("PEM").toString("base64") },
      ),
    );
    expect(access.server.href).toBe("https://k:6443/");
    expect(access.ca).toBe("PEM");
    expect(await access.authorization()).toBe("Bearer abc");
    expect(access.describe).toBe("test (context c, https://k:6443)");
  });

  it("reads a token file relative to the kubeconfig's folder, and basic auth", async () => {
    await writeFile(path.join(dir, "tok"), "from-file\n");
    expect(await read(base({ tokenFile: "tok" })).authorization()).toBe("Bearer from-file");
    expect(await read(base({ username: "a", password: "b" })).authorization()).toBe(
      `Basic ${Buffer.from("a:b").toString("base64")}`,
    );
    expect(await read(base({})).authorization()).toBeUndefined();
  });

  it("refuses what graft does not run or support, saying what to give instead", () => {
    expect(() => read(base({ exec: { command: "aws" } }))).toThrow(
      'user "u" uses exec: graft\'s webhook runs no credential plugins; give it a token, a token file or a client certificate',
    );
    expect(() => read(base({ "auth-provider": { name: "gcp" } }))).toThrow("uses auth-provider");
    expect(() => read(base({}, { server: "ftp://k" }))).toThrow("only https (or http) is supported");
    expect(() => read(base({}, { server: "https://k", "proxy-url": "http://p" }))).toThrow("proxy-url");
    expect(() => read(base({ "client-certificate-data": "eA==" }))).toThrow("not both");
  });

  it("names what is missing or malformed", () => {
    expect(() => read("text")).toThrow("it is not a YAML map");
    expect(() => read({ ...base({}), "current-context": undefined })).toThrow("it names no current-context");
    expect(() => read({ ...base({}), "current-context": "other" })).toThrow(
      'the context "other" is not defined',
    );
    expect(() => read({ ...base({}), clusters: "x" })).toThrow('"clusters" is not a list');
    expect(() => read(base({}, {}))).toThrow('cluster "k" has no server');
    expect(() => read(base({}, { server: "not a url" }))).toThrow(
      'cluster "k" has server "not a url", which is not a URL',
    );
    expect(() => read(base({ token: 3 }))).toThrow('user "u".token is not a string');
  });
});

describe("loadKubeAccess", () => {
  const write = async (file: string, config: unknown) => {
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, JSON.stringify(config));
  };

  it("uses --kubeconfig, else KUBECONFIG, else ~/.kube/config, else the ServiceAccount, else none", async () => {
    const given = path.join(dir, "given");
    const fromEnv = path.join(dir, "env");
    const home = path.join(dir, "home");
    const sa = path.join(dir, "sa");
    await write(given, base({ token: "given" }, { server: "https://given" }));
    await write(fromEnv, base({ token: "env" }, { server: "https://env" }));
    await write(path.join(home, ".kube", "config"), base({ token: "home" }, { server: "https://home" }));
    await mkdir(sa);
    await writeFile(path.join(sa, "token"), "sa-token");
    const env = {
      KUBECONFIG: `${fromEnv}${path.delimiter}other`,
      KUBERNETES_SERVICE_HOST: "10.0.0.1",
      KUBERNETES_SERVICE_PORT: "443",
    };
    const at = { home, serviceAccountDir: sa };
    expect(loadKubeAccess(given, env, at).server.host).toBe("given");
    expect(loadKubeAccess(undefined, env, at).server.host).toBe("env");
    expect(loadKubeAccess(undefined, { ...env, KUBECONFIG: undefined }, at).server.host).toBe("home");
    const inCluster = loadKubeAccess(undefined, { ...env, KUBECONFIG: "" }, { ...at, home: dir });
    expect(inCluster.describe).toBe("in-cluster (https://10.0.0.1)");
    expect(await inCluster.authorization()).toBe("Bearer sa-token");
    const none = loadKubeAccess(undefined, {}, { home: dir, serviceAccountDir: dir });
    expect(none.describe).toBe("no cluster access");
    await expect(none.authorization()).rejects.toThrow(
      /^no --kubeconfig, no KUBECONFIG, no ~\/.kube\/config, and not in a pod/,
    );
  });

  it("names the file that is not a usable kubeconfig", async () => {
    const bad = path.join(dir, "bad");
    await writeFile(bad, "clusters: [");
    expect(() => loadKubeAccess(bad, {})).toThrow(`--kubeconfig ${bad} is not a usable kubeconfig (`);
    expect(() => loadKubeAccess(path.join(dir, "missing"), {})).toThrow(
      /is not a usable kubeconfig \(ENOENT/,
    );
    expect(() => loadKubeAccess(undefined, { KUBECONFIG: bad })).toThrow(
      `${bad} (from KUBECONFIG) is not a usable kubeconfig (`,
    );
  });
});
