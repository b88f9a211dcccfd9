import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { fileURLToPath } from "node:url";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { defaultWebhookConfig } from "../../model/config.js";
import {
  DEFAULT_SYNC_LIMIT_SECONDS,
  DEFAULT_SYNC_MAX_BYTES,
  DEFAULT_SYNC_MAX_FILE_BYTES,
  DEFAULT_SYNC_MAX_FILES,
  DEFAULT_SYNC_WAIT_SECONDS,
} from "../../model/notebook-sync-limits.js";
import {
  HOOK_NAME,
  isNotebookSyncCommand,
  NOTEBOOK_SYNC_SCRIPT,
  NOTEBOOK_SYNC_SHA256,
  NOTEBOOK_SYNC_VERIFIER,
  notebookSyncCommand,
  SYNC_SCRIPT_PATH,
} from "./sync-script.js";

describe("notebookSyncCommand", () => {
  it("runs the script from its volume through the verifier, with the URL, folder, wait, limit and caps as positional parameters", () => {
    expect(
      notebookSyncCommand({
        repoUrl: "http://git:8099/jupyter-alice",
        folder: "/home/jovyan/apps-notebooks",
      }),
    ).toEqual([
      "sh",
      "-c",
      NOTEBOOK_SYNC_VERIFIER,
      "/graft/notebook-sync/sync.sh",
      "http://git:8099/jupyter-alice",
      "/home/jovyan/apps-notebooks",
      String(DEFAULT_SYNC_WAIT_SECONDS),
      String(DEFAULT_SYNC_LIMIT_SECONDS),
      String(DEFAULT_SYNC_MAX_FILE_BYTES),
      String(DEFAULT_SYNC_MAX_BYTES),
      String(DEFAULT_SYNC_MAX_FILES),
    ]);
  });

  it("never passes a limit shorter than the wait", () => {
    const command = notebookSyncCommand({ repoUrl: "u", folder: "/f/g", waitSeconds: 30, limitSeconds: 5 });
    expect(command.slice(6, 8)).toEqual(["30", "30"]);
  });

  it("never lets its inputs into the script text, whatever they are", () => {
    fc.assert(
      fc.property(
        fc.string(),
        fc.string(),
        fc.integer({ min: 1, max: 50 }),
        fc.integer({ min: 50, max: 3600 }),
        (repoUrl, folder, waitSeconds, limitSeconds) => {
          const command = notebookSyncCommand({ repoUrl, folder, waitSeconds, limitSeconds });
          expect(command.slice(0, 4)).toEqual(["sh", "-c", NOTEBOOK_SYNC_VERIFIER, SYNC_SCRIPT_PATH]);
          expect(command.slice(4, 8)).toEqual([repoUrl, folder, String(waitSeconds), String(limitSeconds)]);
        },
      ),
    );
  });

  // That the hook returns within its wait is shown against real git in
  // test/integration/notebook-sync.test.ts; here, that the wait it gets by default is short.
  it("holds a container's start well under KubeSpawner's default start timeout of 60 s", () => {
    const { waitSeconds, limitSeconds } = defaultWebhookConfig().notebooks;
    for (const command of [
      notebookSyncCommand({ repoUrl: "u", folder: "/f/g" }),
      notebookSyncCommand({ repoUrl: "u", folder: "/f/g", waitSeconds, limitSeconds }),
    ]) {
      expect(Number(command[6])).toBeGreaterThan(0);
      expect(Number(command[6])).toBeLessThanOrEqual(30);
    }
  });
});

describe("NOTEBOOK_SYNC_SCRIPT", () => {
  it("uses git's own low-speed limit and never prompts for credentials", () => {
    expect(NOTEBOOK_SYNC_SCRIPT).toContain("-c http.lowSpeedLimit=1000 -c http.lowSpeedTime=10");
    expect(NOTEBOOK_SYNC_SCRIPT).toContain("export GIT_TERMINAL_PROMPT=0");
  });

  it("ends with exit 0 and sends its output to the log in the user's home", () => {
    expect(NOTEBOOK_SYNC_SCRIPT.trimEnd().endsWith("exit 0")).toBe(true);
    expect(NOTEBOOK_SYNC_SCRIPT).toContain("/.graft-notebook-sync.log");
  });

  it("ships without comment lines, keeping shellcheck's directives", () => {
    const comments = NOTEBOOK_SYNC_SCRIPT.split("\n").filter((line) => /^\s*#/.test(line));
    expect(comments).toEqual([expect.stringMatching(/^\s*# shellcheck disable=SC2086/)]);
  });

  it("never evaluates text at run time", () => {
    expect(NOTEBOOK_SYNC_SCRIPT).not.toMatch(/\beval\b/);
  });

  it("runs every git command through one wrapper that turns off hooks, fsmonitor and symbolic links", () => {
    const lines = NOTEBOOK_SYNC_SCRIPT.split("\n");
    const direct = lines.filter((line) => /(^|[;&|(]|\$\()\s*git\s/.test(line));
    expect(direct).toHaveLength(1);
    expect(direct[0]).toMatch(
      /^\s*git -c core\.hooksPath=\/dev\/null -c core\.fsmonitor=false -c core\.symlinks=false /,
    );
    expect(NOTEBOOK_SYNC_SCRIPT).toContain("-c transfer.fsckObjects=true");
    expect(NOTEBOOK_SYNC_SCRIPT).toContain("GIT_ALLOW_PROTOCOL=http:https");
  });

  it("never lets git check files out into the folder, nor makes folders with mkdir -p inside it", () => {
    expect(NOTEBOOK_SYNC_SCRIPT).toContain("clone --quiet --no-checkout");
    expect(NOTEBOOK_SYNC_SCRIPT).not.toMatch(
      /(?<![-.\w])(checkout|pull|merge|submodule)(?![-.\w])|reset --hard/,
    );
    const mkdirs = NOTEBOOK_SYNC_SCRIPT.split("\n").filter((line) => /mkdir -p/.test(line));
    expect(mkdirs).toEqual([expect.stringContaining(`mkdir -p -- "\${dir%/*}"`)]);
  });
});

describe("NOTEBOOK_SYNC_VERIFIER", () => {
  it("pins the full SHA-256 of the shipped script, and is a constant with no placeholder or comment left", () => {
    expect(NOTEBOOK_SYNC_SHA256).toBe(
      createHash("sha256").update(NOTEBOOK_SYNC_SCRIPT, "utf8").digest("hex"),
    );
    expect(NOTEBOOK_SYNC_SHA256).toMatch(/^[0-9a-f]{64}$/);
    expect(NOTEBOOK_SYNC_VERIFIER).toContain(`want=${NOTEBOOK_SYNC_SHA256}\n`);
    expect(NOTEBOOK_SYNC_VERIFIER).not.toMatch(/@[A-Z0-9_]+@/);
    expect(NOTEBOOK_SYNC_VERIFIER.split("\n").filter((line) => /^\s*#/.test(line))).toEqual([]);
  });

  it("runs what it hashed, and nothing else: one read of $0, then sh -c of that text with the arguments", () => {
    expect(NOTEBOOK_SYNC_VERIFIER).toContain(`script=$(cat -- "$0" && echo .)`);
    expect(NOTEBOOK_SYNC_VERIFIER.trimEnd().endsWith(`exec sh -c "$script" "$0" "$@"`)).toBe(true);
    expect(NOTEBOOK_SYNC_VERIFIER).not.toMatch(/\beval\b/);
  });
});

describe("isNotebookSyncCommand", () => {
  it("recognises graft's command, from any version of the script and of graft", () => {
    expect(isNotebookSyncCommand(notebookSyncCommand({ repoUrl: "u", folder: "/a/b" }))).toBe(true);
    // The verifier of another build (another digest) is graft's too.
    expect(isNotebookSyncCommand(["sh", "-c", "an older verifier", SYNC_SCRIPT_PATH, "u", "/a/b"])).toBe(
      true,
    );
    // graft's command by reference before the verifier, and before that inline.
    expect(isNotebookSyncCommand(["sh", SYNC_SCRIPT_PATH, "u", "/a/b"])).toBe(true);
    expect(isNotebookSyncCommand(["sh", "-c", "an older script", HOOK_NAME, "u", "/a/b"])).toBe(true);
    expect(isNotebookSyncCommand(["sh", "/elsewhere/sync.sh", "u", "/a/b"])).toBe(false);
    expect(isNotebookSyncCommand(["sh", "-c", "a verifier", "/elsewhere/sync.sh", "u", "/a/b"])).toBe(false);
  });

  it("does not claim a user's own hook", () => {
    expect(isNotebookSyncCommand(["sh", "-c", "git clone x ~/apps-notebooks"])).toBe(false);
    expect(isNotebookSyncCommand(["/bin/start-hook.sh"])).toBe(false);
    expect(isNotebookSyncCommand(undefined)).toBe(false);
  });
});

describe("the shipped script is built from sync-hook.sh and sync-worker.sh", () => {
  it("embeds the .sh files as they are now (npm run build regenerates sync-scripts.generated.ts)", () => {
    const root = fileURLToPath(new URL("../../..", import.meta.url));
    const check = spawnSync(process.execPath, ["scripts/embed-shell.mjs", "--check"], {
      cwd: root,
      encoding: "utf8",
    });
    expect(check.stderr).toBe("");
    expect(check.status).toBe(0);
  });

  it("fills every placeholder and drops the comments, keeping shellcheck directives", () => {
    expect(NOTEBOOK_SYNC_SCRIPT).not.toMatch(/@[A-Z_]+@/);
    expect(NOTEBOOK_SYNC_SCRIPT).not.toContain("#!/bin/sh");
    expect(NOTEBOOK_SYNC_SCRIPT).toContain("max_files=10000 ;;");
    expect(NOTEBOOK_SYNC_SCRIPT).toContain("# shellcheck disable=SC2086");
  });
});
