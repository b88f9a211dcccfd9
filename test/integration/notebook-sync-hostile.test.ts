/**
 * The notebook sync against a hostile repository (issue 9): whoever may publish to a user's
 * `jupyter-<user>` repository must not be able to write outside the user's folder, nor run code as
 * the user, nor stall or flood a start. The hook runs exactly as admitted, as a non-root user
 * (created here when the tests run as root), against the real git smart-HTTP server; around the
 * folder sits a tree the user may write (so a write through a link would succeed), snapshotted
 * before and after, and every hook or filter the repository or the user's config could trigger
 * writes a marker file.
 */
import { execFileSync, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import {
  chmod,
  lstat,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  readlink,
  rm,
  symlink,
  truncate,
  writeFile,
} from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { applyPatch } from "rfc6902";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  NOTEBOOK_SYNC_SCRIPT,
  NOTEBOOK_SYNC_SHA256,
  NOTEBOOK_SYNC_VERIFIER,
} from "../../webhook/features/notebooks/sync-script.js";
import { loadWebhookConfig } from "../../webhook/model/config.js";
import type { Pod } from "../../webhook/model/kube.js";
import { admit } from "../../webhook/pipeline/admission.js";
import { type GitHttpServer, startGitHttp } from "../services/git-http.js";
import { waitFor } from "../services/spawn.js";
import { fillSyncVolume } from "./notebook-volume.js";

const LOG = ".graft-notebook-sync.log";
const GIB = 1024 * 1024 * 1024;
const TEST_USER = "graft-notebook-test";

type Account = { uid: number; gid: number; asRoot: boolean };

/** The user the hook runs as: this process's own unless it is root, then a system user made for it. */
function notebookAccount(): Account {
  const uid = process.getuid?.() ?? 0;
  if (uid !== 0) return { uid, gid: process.getgid?.() ?? uid, asRoot: false };
  const id = (flag: string) =>
    Number(
      execFileSync("id", [flag, TEST_USER], { stdio: ["ignore", "pipe", "ignore"] })
        .toString()
        .trim(),
    );
  try {
    return { uid: id("-u"), gid: id("-g"), asRoot: true };
  } catch {
    try {
      execFileSync("useradd", ["--system", "--no-create-home", "--shell", "/usr/sbin/nologin", TEST_USER], {
        stdio: "ignore",
      });
    } catch {
      // Another run made it meanwhile.
    }
    return { uid: id("-u"), gid: id("-g"), asRoot: true };
  }
}

const git = (cwd: string, args: string[], input?: string | Buffer, env: NodeJS.ProcessEnv = {}) =>
  execFileSync("git", ["-c", "user.name=publisher", "-c", "user.email=publisher@example.com", ...args], {
    cwd,
    input,
    env: { ...process.env, ...env },
    maxBuffer: 1 << 28,
    stdio: ["pipe", "pipe", "pipe"],
  })
    .toString()
    .trim();

/** What a path holds in a commit: text, or a link, an executable, a submodule, an existing blob. */
type Entry =
  | string
  | { link: string }
  | { executable: string }
  | { gitlink: string }
  | { blob: string; mode?: "100644" | "100755" };

/**
 * A user's repository on the git server, written by a publisher with git's plumbing (so any tree
 * git can hold, not only what `git add` makes): each commit holds exactly the entries given.
 */
class Publisher {
  private head: string | undefined;
  private indexes = 0;
  constructor(
    readonly bare: string,
    private readonly scratch: string,
  ) {}

  blob(content: string | Buffer): string {
    return git(this.bare, ["hash-object", "-w", "--stdin"], content);
  }

  /** A blob of `bytes` zeros, written cheaply: a sparse file, deflated at level 1. */
  async zeros(bytes: number): Promise<string> {
    const file = join(this.scratch, `zeros-${bytes}`);
    await writeFile(file, "");
    await truncate(file, bytes);
    const id = git(this.bare, ["-c", "core.compression=1", "hash-object", "-w", file]);
    await rm(file);
    return id;
  }

  indexLine(path: string, entry: Entry): string {
    if (typeof entry === "string") return `100644 ${this.blob(entry)}\t${path}\n`;
    if ("link" in entry) return `120000 ${this.blob(entry.link)}\t${path}\n`;
    if ("executable" in entry) return `100755 ${this.blob(entry.executable)}\t${path}\n`;
    if ("gitlink" in entry) return `160000 ${entry.gitlink}\t${path}\n`;
    return `${entry.mode ?? "100644"} ${entry.blob}\t${path}\n`;
  }

  commit(entries: Record<string, Entry>, extraIndexLines = ""): string {
    let lines = extraIndexLines;
    for (const [path, entry] of Object.entries(entries)) lines += this.indexLine(path, entry);
    const index = join(this.scratch, `index-${this.indexes++}`);
    git(this.bare, ["update-index", "--add", "--index-info"], lines, { GIT_INDEX_FILE: index });
    return this.commitTree(git(this.bare, ["write-tree"], undefined, { GIT_INDEX_FILE: index }));
  }

  /** The next commit starts a new history (a forced push): what came before is no longer fetched. */
  restart(): void {
    this.head = undefined;
  }

  /** A commit of a tree made by hand (`git mktree` takes names git itself would refuse). */
  commitTree(tree: string): string {
    const commit = git(this.bare, [
      "commit-tree",
      tree,
      ...(this.head ? ["-p", this.head] : []),
      "-m",
      "publish",
    ]);
    git(this.bare, ["update-ref", "refs/heads/main", commit]);
    this.head = commit;
    return commit;
  }

  mktree(lines: string[]): string {
    return git(this.bare, ["mktree"], `${lines.join("\n")}\n`);
  }
}

/** Everything under `root` but the synced folder and the log: type, mode, size, time and content. */
async function snapshot(root: string, except: string[]): Promise<Record<string, string>> {
  const entries: Record<string, string> = {};
  const walk = async (relative: string) => {
    for (const entry of await readdir(join(root, relative), { withFileTypes: true })) {
      const path = relative ? `${relative}/${entry.name}` : entry.name;
      if (except.some((skip) => path === skip || path.startsWith(`${skip}.`))) continue;
      const full = join(root, path);
      const stat = await lstat(full);
      const kind = entry.isSymbolicLink() ? "link" : entry.isDirectory() ? "dir" : "file";
      const content =
        kind === "link"
          ? await readlink(full)
          : kind === "file"
            ? createHash("sha256")
                .update(await readFile(full))
                .digest("hex")
            : "";
      // A folder's time changes when anything is created in it: only the home's may (the log).
      const time = path === "home/jovyan" ? "" : String(stat.mtimeMs);
      entries[path] = `${kind} ${stat.mode.toString(8)} ${stat.size} ${time} ${content}`;
      if (kind === "dir") await walk(path);
    }
  };
  await walk("");
  const passwd = await lstat("/etc/passwd");
  entries["/etc/passwd"] = `${passwd.mtimeMs} ${passwd.size}`;
  return entries;
}

type HookRun = { code: number | null; ms: number; output: string };

describe("notebook sync against a hostile repository, as a non-root user", () => {
  let server: GitHttpServer;
  let account: Account;
  const temporaries: string[] = [];

  beforeAll(async () => {
    account = notebookAccount();
    server = await startGitHttp();
  });
  afterAll(async () => {
    await server?.stop();
    for (const dir of temporaries) await rm(dir, { recursive: true, force: true });
  });

  /**
   * A world for one test: `home/jovyan` (HOME; the folder is `apps-notebooks` in it),
   * `home/outside` (the user's too: what `../../outside` from the folder reaches), `markers` (where
   * hooks and filters would leave their mark), all owned by the notebook user; and the user's
   * repository `jupyter-<name>` on the server.
   */
  async function world(name: string) {
    const root = await mkdtemp(join(tmpdir(), "graft-hostile-"));
    temporaries.push(root);
    await chmod(root, 0o755);
    const home = join(root, "home/jovyan");
    const outside = join(root, "home/outside");
    const markers = join(root, "markers");
    for (const dir of [home, join(outside, "decoy"), markers]) await mkdir(dir, { recursive: true });
    await writeFile(join(outside, "target.txt"), "the user's own file\n");
    await writeFile(join(outside, "decoy/explore.ipynb"), "explore v1\n");
    await writeFile(join(outside, "decoy/README.md"), "readme v1\n");
    await writeFile(join(home, ".profile"), "# the user's profile\n");
    await chown(root);
    const bare = join(server.projectRoot, `jupyter-${name}`);
    git(server.projectRoot, ["init", "--quiet", "--bare", "--initial-branch=main", bare]);
    const scratch = await mkdtemp(join(tmpdir(), "graft-publisher-"));
    temporaries.push(scratch);
    const folder = join(home, "apps-notebooks");
    /** Hook code for the repository to plant: it leaves a marker named after itself. */
    const hookScript = (hook: string) => `#!/bin/sh\ntouch '${markers}/${hook}'\n`;
    return {
      root,
      home,
      outside,
      markers,
      folder,
      upstream: new Publisher(bare, scratch),
      hookScript,
      /** Runs the hook as the pod would, as the notebook user, with the webhook's `notebooks` config. */
      start: (config: Record<string, unknown> = {}) =>
        runHook(admittedHook(name, folder, home, config), home),
      log: () => readFile(join(home, LOG), "utf8"),
      outsideState: () => snapshot(root, ["home/jovyan/apps-notebooks", `home/jovyan/${LOG}`]),
      markersLeft: () => readdir(markers),
    };
  }

  async function chown(...paths: string[]) {
    if (!account.asRoot) return;
    execFileSync("chown", ["-R", "-h", `${account.uid}:${account.gid}`, ...paths]);
  }

  function admittedHook(
    user: string,
    folder: string,
    home: string,
    notebooks: Record<string, unknown>,
  ): string[] {
    const config = loadWebhookConfig(
      JSON.stringify({
        notebooks: { repoTemplate: `${server.url}/jupyter-{user}`, folder, waitSeconds: 20, ...notebooks },
      }),
    );
    const pod: Pod = {
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
          { name: "notebook", image: "quay.io/jupyter/base-notebook", env: [{ name: "HOME", value: home }] },
        ],
      },
    };
    const decision = admit(
      {
        uid: "u",
        kind: { group: "", version: "v1", kind: "Pod" },
        resource: { group: "", version: "v1", resource: "pods" },
        namespace: "jhub",
        operation: "CREATE",
        object: pod,
      },
      { config, nativeSidecars: true, namespaceOptIn: true },
    );
    expect(decision.allowed, decision.message).toBe(true);
    applyPatch(pod, decision.patch as Parameters<typeof applyPatch>[1]);
    const container = pod.spec?.containers[0];
    const command = container?.lifecycle?.postStart?.exec?.command;
    expect(command).toBeDefined();
    // The script as shipped: the ConfigMap's text, in a copy of the volume the hook reads it from.
    const volume = fillSyncVolume(pod, decision.create, container!, command!);
    temporaries.push(volume.dir);
    return volume.command;
  }

  /** As the kubelet runs an exec hook, no terminal, as the notebook user. */
  function asUser(command: string[]): [string, string[]] {
    if (!account.asRoot) return [command[0]!, command.slice(1)];
    return [
      "setpriv",
      ["--reuid", String(account.uid), "--regid", String(account.gid), "--clear-groups", "--", ...command],
    ];
  }

  function runHook(command: string[], home: string, path = process.env.PATH ?? ""): Promise<HookRun> {
    const started = performance.now();
    const [file, args] = asUser(command);
    return new Promise((resolve, reject) => {
      const child = spawn(file, args, {
        cwd: home,
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
      child.on("close", (code) => resolve({ code, ms: performance.now() - started, output }));
    });
  }

  /** The user's own git command in the folder, as the user. */
  function userGit(folder: string, home: string, ...args: string[]): string {
    const [file, rest] = asUser([
      "git",
      "-c",
      "user.name=jovyan",
      "-c",
      "user.email=jovyan@example.com",
      ...args,
    ]);
    return execFileSync(file, rest, {
      cwd: folder,
      env: { PATH: process.env.PATH ?? "", HOME: home },
    }).toString();
  }

  const NOTEBOOKS = {
    "app-one/explore.ipynb": "explore v1\n",
    "app-one/README.md": "readme v1\n",
    "app-two/model.ipynb": "model v1\n",
  };

  it("a first clone writes the plain files and skips links, submodules and a 1 GiB file, with hooks, filters and fsmonitor off", async () => {
    const w = await world("mallory");
    // The user's own git config runs a filter and an fsmonitor that graft must never let the
    // repository reach (as git-lfs would be, installed globally).
    await writeFile(
      join(w.home, ".gitconfig"),
      `[filter "marker"]\n\tsmudge = "touch ${w.markers}/smudge && cat"\n\tclean = "touch ${w.markers}/clean && cat"\n[core]\n\tfsmonitor = ${w.markers}-fsmonitor.sh\n`,
    );
    await writeFile(`${w.markers}-fsmonitor.sh`, `#!/bin/sh\ntouch '${w.markers}/fsmonitor'\n`);
    await chmod(`${w.markers}-fsmonitor.sh`, 0o755);
    await chown(join(w.home, ".gitconfig"));
    const started = performance.now();
    const published = {
      ...NOTEBOOKS,
      ".gitattributes": "* filter=marker\n",
      "bin/run.sh": { executable: "#!/bin/sh\necho run\n" },
      passwd: { link: "/etc/passwd" },
      out: { link: "../../outside" },
      abs: { link: join(w.outside, "target.txt") },
      hk: { link: ".git/hooks" },
      "app-two/up": { link: "../.." },
      vendored: { gitlink: "1".repeat(40) },
      "big/zeros.bin": { blob: await w.upstream.zeros(GIB) },
    };
    w.upstream.commit(published);
    console.info(`1 GiB repository published in ${Math.round(performance.now() - started)} ms`);
    const before = await w.outsideState();

    const run = await w.start();
    expect(run).toMatchObject({ code: 0, output: "" });
    await waitFor("the clone", async () => /cloned /.test(await w.log()), { timeoutMs: 120_000 });
    console.info(`first start with a 1 GiB file: the hook returned after ${Math.round(run.ms)} ms`);

    expect(await readFile(join(w.folder, "app-one/explore.ipynb"), "utf8")).toBe("explore v1\n");
    expect(await readFile(join(w.folder, "app-two/model.ipynb"), "utf8")).toBe("model v1\n");
    expect((await lstat(join(w.folder, "bin/run.sh"))).mode & 0o111).not.toBe(0);
    for (const path of ["passwd", "out", "abs", "hk", "app-two/up", "vendored", "big/zeros.bin"]) {
      expect(await lstat(join(w.folder, path)).catch(() => "absent"), path).toBe("absent");
    }
    const log = await w.log();
    for (const path of ["passwd", "out", "abs", "hk", "app-two/up", "vendored"]) {
      expect(log).toContain(`skipped ${path}: symbolic links and submodules are not synced`);
    }
    expect(log).toContain(
      `skipped big/zeros.bin: ${GIB} bytes, over the limit of ${100 * 1024 * 1024} bytes per file (notebooks.maxFileBytes)`,
    );
    expect(await w.markersLeft()).toEqual([]);
    expect(await w.outsideState()).toEqual(before);
    expect((await readdir(join(w.folder, ".git/hooks"))).filter((name) => !name.endsWith(".sample"))).toEqual(
      [],
    );
    // The user's own git commands in the folder check symbolic links out as plain files.
    expect(await readFile(join(w.folder, ".git/config"), "utf8")).toMatch(/symlinks = false/);

    // A later sync, with the repository's .gitattributes now in the folder.
    w.upstream.commit({ ...published, "app-two/model.ipynb": "model v2\n" });
    expect(await w.start()).toMatchObject({ code: 0, output: "" });
    await waitFor("the sync", async () => /synced .* 1 updated/.test(await w.log()), { timeoutMs: 60_000 });
    expect(await readFile(join(w.folder, "app-two/model.ipynb"), "utf8")).toBe("model v2\n");
    expect(await w.markersLeft()).toEqual([]);
    expect(await w.outsideState()).toEqual(before);
    // graft's info/attributes keeps the repository's filters from the user's own git commands too.
    await rm(join(w.folder, "app-two/model.ipynb"));
    userGit(w.folder, w.home, "-c", "core.fsmonitor=false", "checkout", "--", "app-two/model.ipynb");
    expect(await readFile(join(w.folder, "app-two/model.ipynb"), "utf8")).toBe("model v2\n");
    expect(await w.markersLeft()).toEqual([]);
  }, 240_000);

  it("a later commit reaches neither .git/hooks nor the outside through links an earlier clone or the user left, and no hook ever runs", async () => {
    const w = await world("mallory-links");
    w.upstream.commit(NOTEBOOKS);
    expect(await w.start()).toMatchObject({ code: 0, output: "" });
    expect(await readFile(join(w.folder, "app-one/README.md"), "utf8")).toBe("readme v1\n");

    // What graft's first clone checked out before this fix (issue 9), and a symbolic link that
    // replaced a folder between syncs: all lead out of the folder or into .git.
    await symlink(".git/hooks", join(w.folder, "hk"));
    await symlink("../../outside", join(w.folder, "out"));
    await symlink(join(w.outside, "target.txt"), join(w.folder, "abs"));
    await rm(join(w.folder, "app-one"), { recursive: true });
    await symlink(join(w.outside, "decoy"), join(w.folder, "app-one"));
    await rm(join(w.folder, "app-two/model.ipynb"));
    await symlink(join(w.outside, "target.txt"), join(w.folder, "app-two/model.ipynb"));
    await chown(w.folder);
    const before = await w.outsideState();

    const hooks = [
      "reference-transaction",
      "post-checkout",
      "post-merge",
      "post-index-change",
      "post-rewrite",
    ];
    w.upstream.commit({
      ...Object.fromEntries(hooks.map((hook) => [`hk/${hook}`, { executable: w.hookScript(hook) }])),
      "out/pwned.txt": "pwned\n",
      abs: "pwned\n",
      "app-one/explore.ipynb": "explore v2\n",
      "app-one/new.ipynb": "new\n",
      "app-two/model.ipynb": "model v2\n",
      "app-three/ok.ipynb": "ok\n",
    });
    expect(await w.start()).toMatchObject({ code: 0, output: "" });
    await waitFor("the sync", async () => /synced .* at [0-9a-f]+: /.test(await w.log()), {
      timeoutMs: 30_000,
    });

    expect(await readFile(join(w.folder, "app-three/ok.ipynb"), "utf8")).toBe("ok\n");
    expect(await w.outsideState()).toEqual(before);
    const log = await w.log();
    for (const hook of hooks) {
      expect(log).toContain(`skipped hk/${hook}: hk is a symbolic link or a file, not a folder`);
    }
    expect(log).toContain("skipped out/pwned.txt: out is a symbolic link or a file, not a folder");
    expect(log).toContain("skipped app-one/new.ipynb: app-one is a symbolic link or a file, not a folder");
    expect(log).toContain(
      "skipped app-one/explore.ipynb: app-one is a symbolic link or a file, not a folder",
    );
    // A link where a file was is the user's: kept, upstream's version beside it.
    const besideModel = (await readdir(join(w.folder, "app-two"))).find((name) =>
      /^model\.upstream-/.test(name),
    );
    expect(await readFile(join(w.folder, "app-two", besideModel ?? "missing"), "utf8")).toBe("model v2\n");
    expect(await readlink(join(w.folder, "app-two/model.ipynb"))).toBe(join(w.outside, "target.txt"));
    const besideAbs = (await readdir(w.folder)).find((name) => /^abs\.upstream-/.test(name));
    expect(await readFile(join(w.folder, besideAbs ?? "missing"), "utf8")).toBe("pwned\n");

    // Nothing reached .git/hooks, so nothing runs on the user's own git commands either.
    expect((await readdir(join(w.folder, ".git/hooks"))).filter((name) => !name.endsWith(".sample"))).toEqual(
      [],
    );
    userGit(w.folder, w.home, "update-ref", "refs/heads/mine", "HEAD");
    userGit(w.folder, w.home, "status", "--short");
    userGit(w.folder, w.home, "checkout", "--quiet", "-b", "mine-too");
    expect(await w.start()).toMatchObject({ code: 0, output: "" });
    expect(await w.markersLeft()).toEqual([]);
    expect(await w.outsideState()).toEqual(before);
  }, 120_000);

  it("hooks already in .git/hooks (from before this fix) never run in a sync, and the log says they are there", async () => {
    const w = await world("mallory-planted");
    w.upstream.commit(NOTEBOOKS);
    expect(await w.start()).toMatchObject({ code: 0, output: "" });
    for (const hook of ["reference-transaction", "post-index-change", "post-checkout", "pre-auto-gc"]) {
      await writeFile(join(w.folder, ".git/hooks", hook), w.hookScript(hook));
      await chmod(join(w.folder, ".git/hooks", hook), 0o755);
    }
    await chown(w.folder);
    w.upstream.commit({ ...NOTEBOOKS, "app-two/model.ipynb": "model v2\n" });
    expect(await w.start()).toMatchObject({ code: 0, output: "" });
    await waitFor("the sync", async () => /synced .* 1 updated/.test(await w.log()), { timeoutMs: 30_000 });
    expect(await w.markersLeft()).toEqual([]);
    expect(await w.log()).toMatch(
      /warning: .*\/\.git\/hooks\/reference-transaction is there; graft never runs hooks/,
    );
  });

  it("a tree with `..`, `.git` or `.GIT` entries is refused whole: nothing is written, at the first clone or later", async () => {
    const w = await world("mallory-dots");
    const before = await w.outsideState();
    const up = w.upstream;
    const pwned = up.mktree([`100644 blob ${up.blob("pwned\n")}\tpwned.txt`]);
    const hooks = up.mktree([`100755 blob ${up.blob(w.hookScript("post-checkout"))}\tpost-checkout`]);
    const dotGit = up.mktree([`040000 tree ${hooks}\thooks`]);
    const readme = `100644 blob ${up.blob("readme\n")}\tREADME.md`;
    for (const entries of [
      [`040000 tree ${pwned}\t..`, readme],
      [`040000 tree ${dotGit}\t.git`, readme],
      [`040000 tree ${dotGit}\t.GIT`, readme],
      [`040000 tree ${up.mktree([`040000 tree ${pwned}\t..`])}\tdeeper`, readme],
    ]) {
      up.commitTree(up.mktree(entries));
      expect(await w.start()).toMatchObject({ code: 0, output: "" });
      expect(existsSync(w.folder)).toBe(false);
      expect(await w.outsideState()).toEqual(before);
    }
    const log = await w.log();
    expect(log).toMatch(/could not clone .*; .* will be created at the next start/);
    expect(log).toMatch(/hasDotdot|hasDotgit/);

    // A repository with such a commit anywhere in its history stays refused: the publisher has to
    // replace that history.
    up.restart();
    up.commit(NOTEBOOKS);
    expect(await w.start()).toMatchObject({ code: 0, output: "" });
    expect(await readFile(join(w.folder, "app-one/README.md"), "utf8")).toBe("readme v1\n");
    const inFolder = await snapshot(w.folder, [".git"]);
    up.commitTree(up.mktree([`040000 tree ${pwned}\t..`, `040000 tree ${dotGit}\t.git`, readme]));
    expect(await w.start()).toMatchObject({ code: 0, output: "" });
    expect(await w.log()).toMatch(/could not fetch .*; .* left as it was/);
    expect(await snapshot(w.folder, [".git"])).toEqual(inFolder);
    expect(await w.outsideState()).toEqual(before);
    expect(await w.markersLeft()).toEqual([]);
  });

  it("100,000 files: the start keeps to its wait, one sync writes at most 10,000 and says so, the rest comes at later starts", async () => {
    const w = await world("mallory-many");
    const one = w.upstream.blob("x\n");
    let bulk = "";
    for (let i = 0; i < 100_000; i++) {
      bulk += `100644 ${one}\tbulk/d${String(Math.floor(i / 1000)).padStart(3, "0")}/f${String(i).padStart(6, "0")}.txt\n`;
    }
    w.upstream.commit(NOTEBOOKS, bulk);
    const before = await w.outsideState();
    const count = async () =>
      (await readdir(join(w.folder, "bulk"), { recursive: true })).filter((name) => name.endsWith(".txt"))
        .length;

    const first = await w.start();
    expect(first).toMatchObject({ code: 0, output: "" });
    expect(first.ms).toBeLessThan(20_000 + 5_000);
    await waitFor("the clone", async () => /cloned /.test(await w.log()), { timeoutMs: 120_000 });
    const log = await w.log();
    expect(log).toMatch(/cloned .* at [0-9a-f]+: 10000 files, 0 skipped, 90003 left for the next start/);
    expect(log).toContain(
      "left 90003 changed files for the next start: one sync takes at most 10000 (notebooks.maxFiles)",
    );
    expect(await readFile(join(w.folder, "app-two/model.ipynb"), "utf8")).toBe("model v1\n");
    expect(await count()).toBe(10_000 - 3);

    const secondStarted = performance.now();
    const second = await w.start();
    expect(second).toMatchObject({ code: 0, output: "" });
    await waitFor("the second sync", async () => /synced .* 10000 added/.test(await w.log()), {
      timeoutMs: 240_000,
    });
    const secondMs = performance.now() - secondStarted;
    expect(await count()).toBe(20_000 - 3);
    console.info(
      `100,000 files: first start (clone, 10,000 written) returned after ${Math.round(first.ms)} ms; ` +
        `second start (10,000 more, one rename each) returned after ${Math.round(second.ms)} ms, ` +
        `its sync done after ${Math.round(secondMs)} ms`,
    );
    expect(await w.outsideState()).toEqual(before);
    expect((await lstat(join(w.home, LOG))).size).toBeLessThan(256 * 1024);
  }, 360_000);

  it("the caps on bytes and files per sync are configurable, say so, and the next start goes on where a sync stopped", async () => {
    const w = await world("mallory-caps");
    const kib = (text: string) => text.repeat(1024);
    w.upstream.commit({
      "a.txt": kib("a"),
      "b.txt": kib("b"),
      "c.txt": kib("c"),
      "d.txt": kib("d"),
      "e.txt": kib("e"),
    });
    const config = { maxSyncBytes: 2500, maxFileBytes: 2000 };
    await w.start(config);
    expect((await readdir(w.folder)).sort()).toEqual([".git", "a.txt", "b.txt"]);
    expect(await w.log()).toContain(
      "left 3 changed files for the next start: one sync writes at most 2500 bytes (notebooks.maxSyncBytes)",
    );
    // Upstream moves meanwhile: the stopped sync still ends on the commit it started towards.
    w.upstream.commit({ "a.txt": kib("A"), "e.txt": kib("e"), "f.txt": kib("f").repeat(2) });
    await w.start(config);
    expect((await readdir(w.folder)).sort()).toEqual([".git", "a.txt", "b.txt", "c.txt", "d.txt"]);
    await w.start(config);
    expect((await readdir(w.folder)).sort()).toEqual([".git", "a.txt", "b.txt", "c.txt", "d.txt", "e.txt"]);
    expect(await w.log()).toMatch(/synced .*: 1 added, .* 0 left for the next start/);
    await w.start(config);
    expect(await readFile(join(w.folder, "a.txt"), "utf8")).toBe(kib("A"));
    expect((await readdir(w.folder)).sort()).toEqual([".git", "a.txt", "e.txt"]);
    expect(await w.log()).toContain(
      "skipped f.txt: 2048 bytes, over the limit of 2000 bytes per file (notebooks.maxFileBytes)",
    );
    expect(userGit(w.folder, w.home, "status", "--porcelain")).toBe(" D f.txt\n");

    const x = await world("mallory-count");
    x.upstream.commit({ "a.txt": "a", "b.txt": "b", "c.txt": "c" });
    await x.start({ maxFiles: 2 });
    expect((await readdir(x.folder)).sort()).toEqual([".git", "a.txt", "b.txt"]);
    expect(await x.log()).toContain(
      "left 1 changed files for the next start: one sync takes at most 2 (notebooks.maxFiles)",
    );
    await x.start({ maxFiles: 2 });
    expect((await readdir(x.folder)).sort()).toEqual([".git", "a.txt", "b.txt", "c.txt"]);
    expect(userGit(x.folder, x.home, "status", "--porcelain")).toBe("");
  });

  it("keeps its log bounded: at most 200 lines about single files a sync, rotated past 256 KiB", async () => {
    const w = await world("mallory-noisy");
    const target = w.upstream.blob("/etc/passwd");
    let links = "";
    for (let i = 0; i < 1000; i++) links += `120000 ${target}\tlinks/l${String(i).padStart(4, "0")}\n`;
    w.upstream.commit(NOTEBOOKS, links);
    await writeFile(join(w.home, LOG), "x".repeat(300 * 1024));
    await chown(join(w.home, LOG));
    expect(await w.start()).toMatchObject({ code: 0, output: "" });
    const log = await w.log();
    expect(log.split("\n").filter((line) => line.includes(": skipped links/"))).toHaveLength(200);
    expect(log).toContain("800 more lines about single files left out of this log");
    expect(log.length).toBeLessThan(64 * 1024);
    expect((await lstat(join(w.home, `${LOG}.1`))).size).toBe(300 * 1024);
  });

  it("refuses a folder that is, or holds, the user's home: the repository could write ~/.bashrc", async () => {
    const w = await world("mallory-home");
    w.upstream.commit({ ".bashrc": `touch ${w.markers}/bashrc\n` });
    const before = await w.outsideState();
    for (const folder of [w.home, join(w.home, "..")]) {
      const command = admittedHook("mallory-home", folder.replace(/\/jovyan\/\.\.$/, ""), w.home, {});
      expect(await runHook(command, w.home)).toMatchObject({ code: 0, output: "" });
    }
    expect(await w.log()).toMatch(/folder .*\/home\/jovyan holds the home folder .*; nothing synced/);
    expect(await w.log()).toMatch(/folder .*\/home holds the home folder .*; nothing synced/);
    expect(await w.outsideState()).toEqual(before);
  });

  /**
   * Someone who may delete and create ConfigMaps in the namespace replaces graft's under the same
   * name: the kubelet fills the volume with their sync.sh. The hook, run exactly as admitted,
   * must refuse it (status 126, both digests on stderr) and never run a line of it.
   */
  describe("a sync.sh replaced in the ConfigMap", () => {
    async function tampered(name: string, text: (markers: string) => string) {
      const w = await world(name);
      w.upstream.commit(NOTEBOOKS);
      const command = admittedHook(name, w.folder, w.home, {});
      const path = command[3]!;
      expect(command.slice(0, 3)).toEqual(["sh", "-c", NOTEBOOK_SYNC_VERIFIER]);
      expect(await readFile(path, "utf8")).toBe(NOTEBOOK_SYNC_SCRIPT);
      await chmod(path, 0o644);
      await writeFile(path, text(w.markers));
      await chmod(path, 0o444);
      return { w, command, path, text: text(w.markers) };
    }
    const sha256 = (text: string) => createHash("sha256").update(text, "utf8").digest("hex");
    const refusal = (path: string, text: string) =>
      `graft-notebook-sync: refusing to run ${path}: its sha256 is ${sha256(text)}, not ${NOTEBOOK_SYNC_SHA256} as graft shipped it: the ConfigMap was replaced\n`;

    it("never runs a script of someone else's: exit 126 and both digests on stderr, no marker, no sync", async () => {
      const { w, command, path, text } = await tampered(
        "mallory-configmap",
        (markers) => `touch '${markers}/tampered'\n`,
      );
      expect(await runHook(command, w.home)).toMatchObject({ code: 126, output: refusal(path, text) });
      expect(await w.markersLeft()).toEqual([]);
      expect(existsSync(w.folder)).toBe(false);
      expect(existsSync(join(w.home, LOG))).toBe(false);
      // The marker is a real one: the same file, run without the verifier, leaves it.
      expect(await runHook(["sh", path], w.home)).toMatchObject({ code: 0 });
      expect(await w.markersLeft()).toEqual(["tampered"]);
    });

    it("refuses graft's own script with one line added, or one newline taken away", async () => {
      const { w, command, path, text } = await tampered(
        "mallory-append",
        (markers) => `${NOTEBOOK_SYNC_SCRIPT}touch '${markers}/appended'\n`,
      );
      expect(await runHook(command, w.home)).toMatchObject({ code: 126, output: refusal(path, text) });
      const trimmed = NOTEBOOK_SYNC_SCRIPT.replace(/\n$/, "");
      await chmod(path, 0o644);
      await writeFile(path, trimmed);
      expect(await runHook(command, w.home)).toMatchObject({ code: 126, output: refusal(path, trimmed) });
      expect(existsSync(w.folder)).toBe(false);
      // And the untouched script, through the same command, syncs.
      await chmod(path, 0o644);
      await writeFile(path, NOTEBOOK_SYNC_SCRIPT);
      expect(await runHook(command, w.home)).toMatchObject({ code: 0, output: "" });
      expect((await readdir(w.folder)).sort()).toEqual([".git", "app-one", "app-two"]);
      expect(await w.markersLeft()).toEqual([]);
    });

    it("refuses, saying so, in an image without sha256sum: nothing it could not check runs", async () => {
      const { w, command, path } = await tampered("mallory-nosum", () => NOTEBOOK_SYNC_SCRIPT);
      const bin = await mkdtemp(join(tmpdir(), "graft-nosum-"));
      temporaries.push(bin);
      await chmod(bin, 0o755);
      const which = (tool: string) =>
        execFileSync("sh", ["-c", `command -v ${tool}`])
          .toString()
          .trim();
      for (const tool of ["sh", "cat", "setpriv"]) await symlink(which(tool), join(bin, tool));
      expect(await runHook(command, w.home, bin)).toMatchObject({
        code: 126,
        output: `graft-notebook-sync: refusing to run ${path}: this image has no sha256sum to check it is the script graft shipped (sha256 ${NOTEBOOK_SYNC_SHA256})\n`,
      });
      expect(existsSync(w.folder)).toBe(false);
    });
  });

  it("is one script that shellcheck passes, the worker inside it too", async () => {
    const dir = await mkdtemp(join(tmpdir(), "graft-shellcheck-"));
    temporaries.push(dir);
    const worker = NOTEBOOK_SYNC_SCRIPT.slice(
      NOTEBOOK_SYNC_SCRIPT.indexOf("worker='") + "worker='".length,
      NOTEBOOK_SYNC_SCRIPT.indexOf("'\nbounded_worker"),
    ).replaceAll("'\\''", "'");
    await writeFile(join(dir, "hook.sh"), NOTEBOOK_SYNC_SCRIPT);
    await writeFile(join(dir, "worker.sh"), worker);
    // SC2016: the worker is single-quoted on purpose, expanded by its own shell.
    execFileSync("shellcheck", ["--shell=sh", "--exclude=SC2016", join(dir, "hook.sh")]);
    execFileSync("shellcheck", ["--shell=sh", join(dir, "worker.sh")]);
  });
});
