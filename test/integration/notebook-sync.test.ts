/**
 * The notebook sync hook, exactly as the admission core puts it on a KubeSpawner pod, run with a
 * temporary home against a real git smart-HTTP server (nginx + fcgiwrap + git-http-backend) and
 * read back through a real Jupyter server.
 */
import { execFileSync, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, unlink, writeFile } from "node:fs/promises";
import { connect, createServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { applyPatch } from "rfc6902";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { syncConfigMap, syncMount, syncVolume } from "../../webhook/features/notebooks/sync-configmap.js";
import { notebookSyncCommand } from "../../webhook/features/notebooks/sync-script.js";
import { loadWebhookConfig } from "../../webhook/model/config.js";
import type { AdmissionFacts } from "../../webhook/model/facts.js";
import type { Container, Pod } from "../../webhook/model/kube.js";
import { admit } from "../../webhook/pipeline/admission.js";
import { type GitHttpServer, startGitHttp } from "../services/git-http.js";
import { startJupyterServer } from "../services/jupyter-server.js";
import { waitFor } from "../services/spawn.js";
import { fillSyncVolume } from "./notebook-volume.js";

const LIMIT_MS = 20_000;
/** How long the slow git server holds each reply: far longer than a 1 s wait, even on a loaded machine. */
const CLONE_DELAY_MS = 8_000;

const temporaries: string[] = [];
async function temporary(prefix: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  temporaries.push(dir);
  return dir;
}
const LOG = ".graft-notebook-sync.log";

function notebook(title: string): string {
  return `${JSON.stringify(
    {
      cells: [{ cell_type: "markdown", id: "title", metadata: {}, source: [`# ${title}`] }],
      metadata: {},
      nbformat: 4,
      nbformat_minor: 5,
    },
    null,
    1,
  )}\n`;
}

const git = (cwd: string, ...args: string[]) =>
  execFileSync("git", ["-c", "user.name=platform", "-c", "user.email=platform@example.com", ...args], {
    cwd,
    stdio: ["ignore", "pipe", "pipe"],
  }).toString();

/** A user's repository on the server, written to as PNDA's deployment manager did: commit and push. */
type Upstream = { user: string; commit(changes: Record<string, string | null>): Promise<void> };

/**
 * Creates `jupyter-<user>` on the server's volume (as `kubectl exec … git init --bare` would) and
 * pushes `files` to it over HTTP through the push port of the shipped nginx.conf.
 */
async function createUpstream(
  server: GitHttpServer,
  user: string,
  files: Record<string, string>,
): Promise<Upstream> {
  const bare = join(server.projectRoot, `jupyter-${user}`);
  git(server.projectRoot, "init", "--quiet", "--bare", "--initial-branch=main", bare);
  const work = await temporary(`graft-upstream-${user}-`);
  git(work, "init", "--quiet", "--initial-branch=main");
  git(work, "remote", "add", "origin", `${server.pushUrl}/jupyter-${user}`);
  const commit = async (changes: Record<string, string | null>) => {
    for (const [path, content] of Object.entries(changes)) {
      if (content === null) await unlink(join(work, path));
      else {
        await mkdir(dirname(join(work, path)), { recursive: true });
        await writeFile(join(work, path), content);
      }
    }
    git(work, "add", "--all");
    git(work, "commit", "--quiet", "-m", `change ${Object.keys(changes).join(", ")}`);
    git(work, "push", "--quiet", "origin", "main");
  };
  await commit(files);
  return { user, commit };
}

const TWO_APPS = {
  "app-one/explore.ipynb": notebook("Explore"),
  "app-one/README.md": "App one's notebooks\n",
  "app-two/model.ipynb": notebook("Model"),
};

/** A single-user pod as KubeSpawner makes it, labelled for graft (manifests/examples/jupyterhub-values.yaml). */
function kubeSpawnerPod(user: string, home: string, notebook: Partial<Container> = {}): Pod {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name: `jupyter-${user}`,
      labels: { component: "singleuser-server", "graft.pnda.io/inject": "enabled" },
      annotations: {
        "hub.jupyter.org/username": user,
        "graft.pnda.io/component-type": "jupyter",
        "graft.pnda.io/health": "false",
      },
    },
    spec: {
      containers: [
        {
          name: "notebook",
          image: "quay.io/jupyter/base-notebook",
          env: [{ name: "HOME", value: home }],
          volumeMounts: [{ name: "home", mountPath: home }],
          ...notebook,
        },
      ],
    },
  };
}

/** The webhook's `notebooks` settings a test may change (the repository and folder are the test's). */
type SyncTimes = { waitSeconds?: number; limitSeconds?: number };

function admitPod(pod: Pod, repoBase: string, home: string, times: SyncTimes = {}) {
  const config = loadWebhookConfig(
    JSON.stringify({
      notebooks: { repoTemplate: `${repoBase}/jupyter-{user}`, folder: `${home}/apps-notebooks`, ...times },
    }),
  );
  const facts: AdmissionFacts = { config, nativeSidecars: true, namespaceOptIn: true };
  const decision = admit(
    {
      uid: "u",
      kind: { group: "", version: "v1", kind: "Pod" },
      resource: { group: "", version: "v1", resource: "pods" },
      namespace: "jhub",
      operation: "CREATE",
      object: pod,
    },
    facts,
  );
  expect(decision.allowed, decision.message).toBe(true);
  const mutated = structuredClone(pod);
  applyPatch(mutated, decision.patch as Parameters<typeof applyPatch>[1]);
  return { decision, pod: mutated };
}

/**
 * The postStart command the admission core puts on `user`'s notebook container, reading the
 * script from its volume, filled from the ConfigMap the decision asks graft to make.
 */
function admittedHook(user: string, repoBase: string, home: string, times: SyncTimes = {}): string[] {
  const { decision, pod } = admitPod(kubeSpawnerPod(user, home), repoBase, home, times);
  const container = pod.spec?.containers[0];
  const command = container?.lifecycle?.postStart?.exec?.command;
  expect(command).toBeDefined();
  return shipped(pod, decision.create, container!, command!);
}

/** `command` reading the script from a copy of the volume, as the kubelet fills it from the ConfigMap. */
function shipped(
  pod: Pod,
  created: Parameters<typeof fillSyncVolume>[1],
  container: Container,
  command: string[],
): string[] {
  const volume = fillSyncVolume(pod, created, container, command);
  temporaries.push(volume.dir);
  return volume.command;
}

/** notebookSyncCommand as graft renders it, reading the script from a volume filled from this build's ConfigMap. */
function syncCommand(params: Parameters<typeof notebookSyncCommand>[0]): string[] {
  const command = notebookSyncCommand(params);
  const pod: Pod = { spec: { containers: [], volumes: [syncVolume()] } };
  return shipped(pod, [syncConfigMap("jhub")], { name: "notebook", volumeMounts: [syncMount()] }, command);
}

type HookRun = { code: number | null; ms: number; output: string };

/** Runs an exec command as the kubelet would: no terminal, the container's PATH and HOME. */
function runHook(command: string[], home: string, path = process.env.PATH ?? ""): Promise<HookRun> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(command[0]!, command.slice(1), {
      env: { PATH: path, HOME: home },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.stderr.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.on("error", reject);
    // "close": the exit and the end of its output, which is what a kubelet waits for.
    child.on("close", (code) => resolve({ code, ms: performance.now() - started, output }));
  });
}

async function newHome(): Promise<string> {
  const root = await temporary("graft-home-");
  const home = join(root, "jovyan");
  await mkdir(home);
  return home;
}

/** Every file under `dir` outside .git, with its content and modification time. */
async function snapshot(dir: string): Promise<Record<string, string>> {
  const files: Record<string, string> = {};
  const walk = async (relative: string) => {
    for (const entry of await readdir(join(dir, relative), { withFileTypes: true })) {
      const path = relative ? `${relative}/${entry.name}` : entry.name;
      if (entry.name === ".git") continue;
      if (entry.isDirectory()) await walk(path);
      else {
        const full = join(dir, path);
        files[path] = `${(await stat(full)).mtimeMs} ${await readFile(full, "utf8")}`;
      }
    }
  };
  await walk("");
  return files;
}

const read = (home: string, path: string) => readFile(join(home, "apps-notebooks", path), "utf8");
const present = (home: string, path: string) => existsSync(join(home, "apps-notebooks", path));
const log = (home: string) => readFile(join(home, LOG), "utf8");

/** A TCP server that accepts connections and never answers. */
async function silentServer(): Promise<{ url: string; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on("error", () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/**
 * A TCP proxy in front of `target` whose replies reach the client `delayMs` after each connection
 * opens: a git server on a slow link.
 */
async function slowProxy(target: string, delayMs: number): Promise<{ url: string; close(): Promise<void> }> {
  const { hostname, port: targetPort } = new URL(target);
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const opened = Date.now();
    const upstream = connect({ host: hostname, port: Number(targetPort) });
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on("error", () => {
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream);
    upstream.on("data", (chunk: Buffer) => {
      upstream.pause();
      setTimeout(
        () => {
          client.write(chunk);
          upstream.resume();
        },
        Math.max(0, opened + delayMs - Date.now()),
      );
    });
    upstream.on("end", () => setTimeout(() => client.end(), Math.max(0, opened + delayMs - Date.now())));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}${new URL(target).pathname.replace(/\/$/, "")}`,
    close: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** The command lines of running processes that mention `text`. */
function processesMentioning(text: string): string[] {
  return execFileSync("ps", ["-eo", "args="])
    .toString()
    .split("\n")
    .filter((line) => line.includes(text) && !line.startsWith("ps "));
}

describe("notebook sync hook, as admitted, against a real git smart-HTTP server", () => {
  let server: GitHttpServer;

  beforeAll(async () => {
    server = await startGitHttp();
  });
  afterAll(async () => {
    await server?.stop();
    for (const dir of temporaries) await rm(dir, { recursive: true, force: true });
  });

  const start = async (user: string, home: string) => {
    const run = await runHook(admittedHook(user, server.url, home), home);
    expect(run).toMatchObject({ code: 0, output: "" });
    return run;
  };

  it("serves the repositories read-only on port 8099 and takes pushes only on 127.0.0.1:8100 (shipped nginx.conf)", async () => {
    const upstream = await createUpstream(server, "alice-readonly", TWO_APPS);
    const work = await temporary("graft-clone-");
    git(work, "clone", "--quiet", `${server.url}/jupyter-${upstream.user}`, "clone");
    await writeFile(join(work, "clone/app-one/sneaky.ipynb"), notebook("Sneaky"));
    git(join(work, "clone"), "add", "--all");
    git(join(work, "clone"), "commit", "--quiet", "-m", "sneaky");
    expect(() => git(join(work, "clone"), "push", "--quiet", "origin", "main")).toThrow(
      /403|not permitted|Forbidden/i,
    );
    git(join(work, "clone"), "push", "--quiet", `${server.pushUrl}/jupyter-${upstream.user}`, "main");
  });

  it("clones the user's repository, every app folder in it, at the first start", async () => {
    await createUpstream(server, "alice", TWO_APPS);
    const home = await newHome();
    const clone = await start("alice", home);
    expect(await read(home, "app-one/explore.ipynb")).toBe(notebook("Explore"));
    const upToDate = await start("alice", home);
    expect(await log(home)).toMatch(/apps-notebooks is up to date with/);
    console.info(
      `first start (clone) ${Math.round(clone.ms)} ms, next start (up to date) ${Math.round(upToDate.ms)} ms`,
    );
    expect(await read(home, "app-two/model.ipynb")).toBe(notebook("Model"));
    expect(await log(home)).toMatch(
      /cloned http:\/\/127\.0\.0\.1:\d+\/jupyter-alice into .*\/apps-notebooks/,
    );
  });

  it("brings a notebook added upstream at the next start", async () => {
    const upstream = await createUpstream(server, "alice-added", TWO_APPS);
    const home = await newHome();
    await start(upstream.user, home);
    await upstream.commit({ "app-two/new.ipynb": notebook("New") });
    await start(upstream.user, home);
    expect(await read(home, "app-two/new.ipynb")).toBe(notebook("New"));
    expect(await log(home)).toMatch(/added app-two\/new\.ipynb/);
  });

  it("keeps a notebook the user edited that upstream also changed, and puts upstream's version beside it", async () => {
    const upstream = await createUpstream(server, "alice-edits", TWO_APPS);
    const home = await newHome();
    await start(upstream.user, home);
    await writeFile(join(home, "apps-notebooks/app-one/explore.ipynb"), notebook("Explore, my way"));
    await upstream.commit({ "app-one/explore.ipynb": notebook("Explore v2") });
    await start(upstream.user, home);

    expect(await read(home, "app-one/explore.ipynb")).toBe(notebook("Explore, my way"));
    const beside = (await readdir(join(home, "apps-notebooks/app-one"))).filter((name) =>
      /^explore\.upstream-[0-9a-f]{7,}\.ipynb$/.test(name),
    );
    expect(beside).toHaveLength(1);
    expect(await read(home, `app-one/${beside[0]}`)).toBe(notebook("Explore v2"));
    expect(await log(home)).toContain(
      `kept your app-one/explore.ipynb: it also changed upstream, whose version is in app-one/${beside[0]}`,
    );
  });

  it("updates and removes the files the user did not change", async () => {
    const upstream = await createUpstream(server, "alice-follows", TWO_APPS);
    const home = await newHome();
    await start(upstream.user, home);
    await upstream.commit({ "app-two/model.ipynb": notebook("Model v2"), "app-one/README.md": null });
    await start(upstream.user, home);
    expect(await read(home, "app-two/model.ipynb")).toBe(notebook("Model v2"));
    expect(present(home, "app-one/README.md")).toBe(false);
    expect(await readdir(join(home, "apps-notebooks/app-two"))).toEqual(["model.ipynb"]);
  });

  it("leaves deleted a notebook the user deleted, until upstream changes it", async () => {
    const upstream = await createUpstream(server, "alice-deletes", TWO_APPS);
    const home = await newHome();
    await start(upstream.user, home);
    await rm(join(home, "apps-notebooks/app-one/explore.ipynb"));
    await rm(join(home, "apps-notebooks/app-two/model.ipynb"));
    await upstream.commit({ "app-one/other.ipynb": notebook("Other") });
    await start(upstream.user, home);
    expect(present(home, "app-one/explore.ipynb")).toBe(false);
    expect(present(home, "app-two/model.ipynb")).toBe(false);

    await upstream.commit({ "app-two/model.ipynb": notebook("Model v2") });
    await start(upstream.user, home);
    expect(await read(home, "app-two/model.ipynb")).toBe(notebook("Model v2"));
    expect(present(home, "app-one/explore.ipynb")).toBe(false);
    expect(await log(home)).toMatch(
      /restored app-two\/model\.ipynb: you had deleted it and it changed upstream/,
    );
  });

  it("is not blocked by the git locks a sync stopped at its time limit leaves behind", async () => {
    const upstream = await createUpstream(server, "alice-stopped", TWO_APPS);
    const home = await newHome();
    await start(upstream.user, home);
    const gitDir = join(home, "apps-notebooks/.git");
    for (const lock of [
      "index.lock",
      "packed-refs.lock",
      "refs/graft/upstream.lock",
      "refs/heads/main.lock",
    ]) {
      await writeFile(join(gitDir, lock), "");
    }
    await upstream.commit({ "app-one/later.ipynb": notebook("Later") });
    await start(upstream.user, home);
    expect(await read(home, "app-one/later.ipynb")).toBe(notebook("Later"));
    expect(git(join(home, "apps-notebooks"), "status", "--porcelain")).toBe("");
  });

  it("exits 0 at once and leaves the folder untouched when the git server is stopped", async () => {
    const upstream = await createUpstream(server, "alice-outage", TWO_APPS);
    const own = await startGitHttp({ projectRoot: server.projectRoot });
    const home = await newHome();
    const hook = admittedHook(upstream.user, own.url, home);
    expect((await runHook(hook, home)).code).toBe(0);
    await writeFile(join(home, "apps-notebooks/app-one/explore.ipynb"), notebook("Mine"));
    await upstream.commit({ "app-two/model.ipynb": notebook("Model v2") });
    await own.stop();
    const before = await snapshot(home);

    const run = await runHook(hook, home);
    expect(run).toMatchObject({ code: 0, output: "" });
    // At once: well under the 20 s it would wait for a server that is slow rather than gone.
    expect(run.ms).toBeLessThan(LIMIT_MS / 2);
    await expect(snapshot(home)).resolves.toEqual({ ...before, [LOG]: expect.any(String) });
    expect(await log(home)).toMatch(/could not fetch .*; .* left as it was/);
  });

  it("exits 0 within its bound and leaves the folder untouched when the server accepts but never answers", async () => {
    const upstream = await createUpstream(server, "alice-hang", TWO_APPS);
    const home = await newHome();
    await start(upstream.user, home);
    const silent = await silentServer();
    try {
      const before = await snapshot(home);
      const run = await runHook(admittedHook(upstream.user, silent.url, home), home);
      expect(run).toMatchObject({ code: 0, output: "" });
      expect(run.ms).toBeLessThan(LIMIT_MS + 5_000);
      await expect(snapshot(home)).resolves.toEqual({ ...before, [LOG]: expect.any(String) });
      console.info(`hook against a silent server returned after ${Math.round(run.ms)} ms`);
    } finally {
      await silent.close();
    }
  });

  it("bounds the hook with its own watchdog in an image without `timeout`", async () => {
    const upstream = await createUpstream(server, "alice-minimal", TWO_APPS);
    const home = await newHome();
    // A PATH with sh, git and the few tools the script and its verifier use (cat and sha256sum;
    // all in busybox too), and no `timeout`.
    const bin = await temporary("graft-minimal-bin-");
    for (const tool of ["sh", "git", "date", "mkdir", "rm", "mv", "wc", "sed", "sleep", "cat", "sha256sum"]) {
      const found = execFileSync("sh", ["-c", 'command -v "$1"', "sh", tool]).toString().trim();
      await symlink(found, join(bin, tool));
    }
    const command = (url: string) =>
      syncCommand({
        repoUrl: `${url}/jupyter-${upstream.user}`,
        folder: `${home}/apps-notebooks`,
        waitSeconds: 3,
        limitSeconds: 3,
      });
    expect(await runHook(command(server.url), home, bin)).toMatchObject({ code: 0, output: "" });
    expect(await read(home, "app-one/explore.ipynb")).toBe(notebook("Explore"));

    const silent = await silentServer();
    try {
      const run = await runHook(command(silent.url), home, bin);
      expect(run).toMatchObject({ code: 0, output: "" });
      // Its 3 s wait, well before git's own 10 s low-speed limit, with no `timeout` on the PATH.
      expect(run.ms).toBeLessThan(3_000 + 5_000);
      await waitFor(
        "the watchdog to stop the sync",
        async () => /stopped at its time limit of 3 s/.test(await log(home)),
        { timeoutMs: 5_000 },
      );
    } finally {
      await silent.close();
    }
  });

  it("lets the container start after its wait and finishes a slow first clone in the background", async () => {
    const upstream = await createUpstream(server, "alice-slow", TWO_APPS);
    const home = await newHome();
    const slow = await slowProxy(server.url, CLONE_DELAY_MS);
    try {
      const run = await runHook(admittedHook(upstream.user, slow.url, home, { waitSeconds: 1 }), home);
      expect(run).toMatchObject({ code: 0, output: "" });
      // It waited its second, and returned before the clone could land: the proxy holds every
      // reply for CLONE_DELAY_MS, far past the wait even on a loaded machine.
      expect(run.ms).toBeGreaterThanOrEqual(1_000);
      expect(run.ms).toBeLessThan(CLONE_DELAY_MS);
      expect(present(home, "app-one")).toBe(false);
      expect(await log(home)).toMatch(/still syncing after 1 s: the container starts now/);

      await waitFor("the clone to land", async () => present(home, "app-two/model.ipynb"), {
        timeoutMs: 30_000,
      });
      expect(await read(home, "app-one/explore.ipynb")).toBe(notebook("Explore"));
      await waitFor("the clone to be logged", async () => /cloned /.test(await log(home)), {
        timeoutMs: 5_000,
      });
    } finally {
      await slow.close();
    }
  });

  it("stops a background sync at its limit and leaves no process behind", async () => {
    const upstream = await createUpstream(server, "alice-limit", TWO_APPS);
    const home = await newHome();
    const silent = await silentServer();
    try {
      const hook = admittedHook(upstream.user, silent.url, home, { waitSeconds: 1, limitSeconds: 5 });
      const run = await runHook(hook, home);
      expect(run).toMatchObject({ code: 0, output: "" });
      // The start went on after the wait, while the sync still ran: before the limit stopped it.
      expect(run.ms).toBeGreaterThanOrEqual(1_000);
      const atStart = await log(home);
      expect(atStart).toMatch(/still syncing after 1 s: the container starts now/);
      expect(atStart).not.toMatch(/stopped at its time limit/);
      await waitFor(
        "the limit to stop the sync",
        async () => /stopped at its time limit of 5 s/.test(await log(home)),
        { timeoutMs: 20_000 },
      );
      await waitFor("every process of the sync to end", async () => processesMentioning(home).length === 0, {
        timeoutMs: 3_000,
      });
      expect(present(home, "")).toBe(false);
    } finally {
      await silent.close();
    }
  });

  describe("hostile usernames", () => {
    const MARKER = "/tmp/pwned";
    const HOSTILE = [
      "$(touch /tmp/pwned)",
      "a;b",
      "../x",
      "al'ice",
      'al"ice',
      "alice\ntouch /tmp/pwned",
      "`touch /tmp/pwned`",
    ];

    it.each(HOSTILE)("%j: the pod is admitted without a hook, with a warning", async (user) => {
      await rm(MARKER, { force: true });
      const home = await newHome();
      const { decision, pod } = admitPod(kubeSpawnerPod(user, home), server.url, home);
      expect(pod.spec?.containers[0]?.lifecycle).toBeUndefined();
      expect(pod.spec?.initContainers ?? []).toEqual([]);
      expect(decision.warnings).toEqual([
        expect.stringMatching(/notebook sync not injected: .*not a JupyterHub username/),
      ]);
      expect(existsSync(MARKER)).toBe(false);
    });

    it("even given straight to the hook, as URL or folder, nothing runs and nothing lands outside the home", async () => {
      await rm(MARKER, { force: true });
      const home = await newHome();
      for (const user of HOSTILE) {
        const run = await runHook(
          syncCommand({ repoUrl: `${server.url}/jupyter-${user}`, folder: `${home}/${user}` }),
          home,
        );
        expect(run).toMatchObject({ code: 0, output: "" });
      }
      expect(existsSync(MARKER)).toBe(false);
      expect(await readdir(dirname(home))).toEqual(["jovyan"]);
      expect(await log(home)).toMatch(/folder .*\/\.\.\/x must have no empty, \. or \.\. segment/);
    });
  });

  it("syncs through an init container, keeping the user's own postStart hook, and says so", async () => {
    const upstream = await createUpstream(server, "alice-hooked", TWO_APPS);
    const home = await newHome();
    const own = { exec: { command: ["sh", "-c", "echo started > /tmp/x"] } };
    const { decision, pod } = admitPod(
      kubeSpawnerPod(upstream.user, home, { lifecycle: { postStart: own } }),
      server.url,
      home,
    );
    expect(pod.spec?.containers[0]?.lifecycle).toEqual({ postStart: own });
    expect(decision.warnings).toEqual([
      expect.stringMatching(/has a postStart hook of its own, which graft keeps/),
    ]);
    const init = pod.spec?.initContainers?.find((c) => c.name === "graft-notebook-sync");
    expect(init?.volumeMounts).toEqual([
      { name: "home", mountPath: home },
      { name: "graft-notebook-sync", mountPath: "/graft/notebook-sync", readOnly: true },
    ]);
    const initHome = init?.env?.find((variable) => variable.name === "HOME")?.value ?? "";
    const command = shipped(pod, decision.create, init!, init!.command!);
    expect(await runHook(command, initHome)).toMatchObject({ code: 0, output: "" });
    expect(await read(home, "app-two/model.ipynb")).toBe(notebook("Model"));
  });

  it("lists the synced notebooks through a real Jupyter server's contents API", async () => {
    const upstream = await createUpstream(server, "alice-lab", TWO_APPS);
    const home = await newHome();
    await start(upstream.user, home);
    const jupyter = await startJupyterServer(home);
    try {
      const folder = await jupyter.get("/api/contents/apps-notebooks");
      expect(folder.status).toBe(200);
      const names = (folder.body as { content: { name: string; type: string }[] }).content.map((e) => e.name);
      expect(names.sort()).toEqual(["app-one", "app-two"]);

      const app = await jupyter.get("/api/contents/apps-notebooks/app-one");
      expect((app.body as { content: { name: string; type: string }[] }).content).toContainEqual(
        expect.objectContaining({ name: "explore.ipynb", type: "notebook" }),
      );
      const opened = await jupyter.get("/api/contents/apps-notebooks/app-two/model.ipynb");
      expect(opened.status).toBe(200);
      expect(opened.body).toMatchObject({
        type: "notebook",
        content: { nbformat: 4, cells: [{ cell_type: "markdown", source: "# Model" }] },
      });
    } finally {
      await jupyter.stop();
    }
  });
});
