// graft's images as built from their Dockerfiles (scripts/image.sh: buildah, no registry) and
// run as a pod runs them: podman on runc, uid 65532, read-only root filesystem, no network.
import { execFile } from "node:child_process";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AGENT_COMMAND } from "../../webhook/features/agent/agent.js";
import {
  buildImages,
  containersEnv,
  exec,
  type Images,
  imageScript,
  podmanRun,
  REPO,
} from "../services/image.js";
import { freePort, tempDir } from "../services/spawn.js";

const run = promisify(execFile);
const BUILD_MS = 20 * 60_000;
const NONROOT = "65532:65532";
// Names that must not exist in the final image: shells, package managers, compilers.
const FORBIDDEN = [
  "sh",
  "bash",
  "dash",
  "busybox",
  "env",
  "apt",
  "apt-get",
  "dpkg",
  "npm",
  "npx",
  "gcc",
  "cc",
];

// Building (mmdebstrap, buildah) and running (podman on runc) need root: elsewhere these skip.
const ROOT = process.getuid?.() === 0;

let images: Images;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  if (!ROOT) return;
  images = await buildImages();
  env = await containersEnv();
}, BUILD_MS);

describe.runIf(ROOT)("graft's image", () => {
  it("runs `graft --help` as uid 65532 on a read-only root filesystem", async () => {
    const ran = await podmanRun(env, images.graft.id, { user: NONROOT, args: ["--help"] });
    expect(ran.stderr).toBe("");
    expect(ran.code).toBe(0);
    expect(ran.stdout).toMatch(/^Usage: graft <subcommand>/);
  });

  it("runs as uid and gid 65532 when the pod does not say", async () => {
    const ran = await podmanRun(env, images.graft.id, {
      entrypoint: ["/nodejs/bin/node", "-p", 'process.getuid() + ":" + process.getgid()'],
    });
    expect(ran.stdout.trim()).toBe(NONROOT);
  });

  it("starts the agent with the exact command the webhook injects", async () => {
    const [node = "", ...nodeArgs] = AGENT_COMMAND;
    const ran = await podmanRun(env, images.graft.id, {
      user: NONROOT,
      entrypoint: [node],
      args: [...nodeArgs, "agent", "--help"],
    });
    expect(ran.code).toBe(0);
    expect(ran.stdout).toMatch(/^Usage: graft agent/);
  });

  it("runs Node.js 26", async () => {
    const ran = await podmanRun(env, images.graft.id, {
      entrypoint: ["/nodejs/bin/node"],
      args: ["--version"],
    });
    expect(ran.stdout.trim()).toMatch(/^v26\.\d+\.\d+$/);
  });

  it("has no shell: exec of /bin/sh fails", async () => {
    for (const shell of ["/bin/sh", "/bin/bash", "/usr/bin/env"]) {
      const ran = await podmanRun(env, images.graft.id, { entrypoint: [shell], args: ["-c", "true"] });
      expect(ran.code, shell).not.toBe(0);
      expect(ran.stderr, shell).toMatch(/no such file or directory/);
    }
  });

  it("has no shell, package manager or build tool anywhere on its filesystem", async () => {
    // Walks the image's own filesystem with its own node (the only program in it), as root to
    // read every directory.
    const walk = `
      const fs = require("fs"), path = require("path"), found = [];
      const names = new Set(${JSON.stringify(FORBIDDEN)});
      const visit = (dir) => {
        for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
          const full = path.join(dir, entry.name);
          if (["/proc", "/sys", "/dev"].includes(full)) continue;
          if (names.has(entry.name) && !entry.isDirectory()) found.push(full);
          if (entry.isDirectory()) visit(full);
        }
      };
      visit("/");
      console.log(JSON.stringify(found));`;
    const ran = await podmanRun(env, images.graft.id, {
      user: "0:0",
      entrypoint: ["/nodejs/bin/node", "-e", walk],
    });
    expect(ran.code).toBe(0);
    expect(JSON.parse(ran.stdout)).toEqual([]);
  });

  it("keeps devDependencies, the npm cache and the build's CA bundle out", async () => {
    const probe = `console.log(JSON.stringify([
      "/app/node_modules/typescript", "/app/node_modules/vitest", "/app/node_modules/@biomejs/biome",
      "/root/.npm", "/src", "/run/secrets/ca"].filter((p) => require("fs").existsSync(p))),
      JSON.stringify(Object.keys(process.env).filter((k) => k.startsWith("NODE_EXTRA"))))`;
    const ran = await podmanRun(env, images.graft.id, { entrypoint: ["/nodejs/bin/node", "-e", probe] });
    expect(ran.stdout.trim()).toBe("[] []");
  });

  it("stays small: under 300 MB uncompressed", async () => {
    const inspected = await exec("podman", ["image", "inspect", "--format", "{{.Size}}", images.graft.id], {
      env,
    });
    const megabytes = Number(inspected.stdout.trim()) / 1e6;
    expect(megabytes).toBeGreaterThan(100); // node alone is ~120 MB: the number is real
    expect(megabytes).toBeLessThan(300);
  });

  it("is saved as a docker-archive that `ctr images import` names as the manifests do", async () => {
    const manifest = await run("tar", ["-xOf", images.graft.archive, "manifest.json"]);
    const [entry] = JSON.parse(manifest.stdout) as { RepoTags: string[] }[];
    const deployment = await readFile(path.join(REPO, "manifests/base/deployment.yaml"), "utf8");
    const image = /^\s+image: (ghcr\.io\/graft\/graft:\S+)$/m.exec(deployment)?.[1];
    expect(entry?.RepoTags).toEqual([image]);
  });

  it("is pushed with the notebook git server's image under any destination (`image.sh push`)", async () => {
    const out = await tempDir("image-push");
    try {
      const pushed = await imageScript(["push", `oci:${out.dir}`]);
      expect(pushed.code, pushed.stderr).toBe(0);
      const tag = images.graft.ref.split(":").at(-1);
      expect(pushed.stdout.trim().split("\n")).toEqual([
        `oci:${out.dir}/graft:${tag}`,
        `oci:${out.dir}/graft-notebook-git:${tag}`,
      ]);
      const index = JSON.parse(await readFile(path.join(out.dir, "graft", "index.json"), "utf8")) as {
        manifests: { annotations?: Record<string, string> }[];
      };
      expect(index.manifests[0]?.annotations?.["org.opencontainers.image.ref.name"]).toBe(tag);
    } finally {
      await out.remove();
    }
  }, 300_000);

  it(
    "is not rebuilt when nothing changed (content key)",
    async () => {
      const again = await imageScript(["build"]);
      expect(again.code).toBe(0);
      expect(again.stderr).not.toMatch(/building/);
      expect(again.stdout).toContain(`${images.graft.ref} ${images.graft.id} ${images.graft.archive}`);
    },
    BUILD_MS,
  );
});

describe("the content key of a build context", () => {
  let repo: { dir: string; remove: () => Promise<void> };
  const write = (file: string, text: string) => writeFile(path.join(repo.dir, file), text);
  const key = async () =>
    (await imageScript(["key", path.join(repo.dir, "Dockerfile"), repo.dir])).stdout.trim();

  beforeAll(async () => {
    repo = await tempDir("image-key");
    await mkdir(path.join(repo.dir, "src"));
    await mkdir(path.join(repo.dir, "docs"));
    await write("Dockerfile", "FROM scratch\nCOPY . /\n");
    await write(".dockerignore", "docs\n**/*.test.ts\n");
    await write("src/a.ts", "a");
    await write("src/a.test.ts", "t");
    await write("docs/d.md", "d");
    await run("git", ["init", "-q"], { cwd: repo.dir });
    await run("git", ["add", "-A"], { cwd: repo.dir });
  });
  afterAll(() => repo.remove());

  it("stays when only what .dockerignore excludes changes, moves with sources and the Dockerfile", async () => {
    const first = await key();
    expect(first).toMatch(/^[0-9a-f]{16}$/);
    await write("docs/d.md", "changed");
    await write("src/a.test.ts", "changed");
    await write("top.test.ts", "new");
    expect(await key()).toBe(first);
    await write("src/a.ts", "changed");
    const second = await key();
    expect(second).not.toBe(first);
    await write("src/new.ts", "untracked but part of the context");
    const third = await key();
    expect(third).not.toBe(second);
    await write("Dockerfile", "FROM scratch\nCOPY src /\n");
    expect(await key()).not.toBe(third);
  });
});

describe.runIf(ROOT)("the notebook git server's image", () => {
  it("serves a clone over git smart HTTP as uid 65532 on a read-only root filesystem", async () => {
    const work = await tempDir("notebook-git");
    const names = [`graft-test-fcgiwrap-${process.pid}`, `graft-test-nginx-${process.pid}`];
    try {
      const dirs = Object.fromEntries(
        ["socket", "repos", "conf", "seed"].map((name) => [name, path.join(work.dir, name)]),
      ) as Record<"socket" | "repos" | "conf" | "seed", string>;
      for (const dir of Object.values(dirs)) await mkdir(dir);
      // A repository with one notebook, owned by the server's user.
      const bare = path.join(dirs.repos, "jupyter-alice");
      await run("git", ["init", "-q", "--bare", "--initial-branch=main", bare]);
      await run("git", ["init", "-q", "-b", "main", dirs.seed]);
      await writeFile(path.join(dirs.seed, "etl.ipynb"), "{}\n");
      await run("git", ["-C", dirs.seed, "add", "."]);
      await run("git", [
        "-C",
        dirs.seed,
        "-c",
        "user.name=t",
        "-c",
        "user.email=t@t",
        "commit",
        "-qm",
        "seed",
      ]);
      await run("git", ["-C", dirs.seed, "push", "-q", bare, "main"]);
      await run("chown", ["-R", NONROOT, dirs.socket, dirs.repos]);
      // The manifests' own nginx.conf, on free ports (the container shares the host's network).
      const [port, pushPort] = [await freePort(), await freePort()];
      const conf = (await readFile(path.join(REPO, "manifests/notebooks/nginx.conf"), "utf8"))
        .replace("listen 8099;", `listen 127.0.0.1:${port};`)
        .replace("listen 127.0.0.1:8100;", `listen 127.0.0.1:${pushPort};`);
      await writeFile(path.join(dirs.conf, "nginx.conf"), conf);
      const detached = (name: string, command: string[]) =>
        exec(
          "podman",
          [
            ...["--runtime", "runc", "run", "-d", "--rm", "--name", name, "--read-only", "--network", "host"],
            ...[
              "--user",
              NONROOT,
              "--ulimit",
              "nofile=4096:4096",
              "--ulimit",
              "nproc=4096:4096",
              "--tmpfs",
              "/tmp",
            ],
            ...["-v", `${dirs.socket}:/run/git-http`, "-v", `${dirs.repos}:/srv/git`],
            ...["-v", `${dirs.conf}:/etc/graft-notebook-git:ro`, images.notebookGit.id, ...command],
          ],
          { env },
        );
      // The two containers of manifests/notebooks/deployment.yaml, with its commands.
      expect(
        (await detached(names[0] ?? "", ["fcgiwrap", "-c", "4", "-s", "unix:/run/git-http/fcgiwrap.sock"]))
          .code,
      ).toBe(0);
      expect(
        (
          await detached(names[1] ?? "", [
            "nginx",
            "-c",
            "/etc/graft-notebook-git/nginx.conf",
            "-g",
            "daemon off;",
          ])
        ).code,
      ).toBe(0);
      await expect
        .poll(
          () =>
            fetch(`http://127.0.0.1:${port}/healthz`).then(
              (r) => r.status,
              () => 0,
            ),
          { timeout: 30_000 },
        )
        .toBe(200);
      const clone = path.join(work.dir, "clone");
      await run("git", ["clone", "-q", `http://127.0.0.1:${port}/jupyter-alice`, clone]);
      expect(await readFile(path.join(clone, "etl.ipynb"), "utf8")).toBe("{}\n");
    } finally {
      await exec("podman", ["rm", "-f", "-t", "0", ...names], { env });
      await work.remove();
    }
  }, 120_000);
});
