/**
 * Golden files: every folder under webhook/testdata/inject/ holds an `input.yaml`, optional
 * `args` (more `graft inject` flags, paths relative to the folder), and what `graft inject -f
 * input.yaml` prints: `output.yaml` (stdout) and `stderr.txt` (the exit code, then stderr).
 * Compared byte for byte, so a change to what graft injects shows as a diff in review.
 *
 * Regenerate after an intended change:  npm run golden:update
 */
import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { run } from "./cli.js";

const ROOT = path.join(path.dirname(fileURLToPath(import.meta.url)), "../testdata/inject");
const UPDATE = process.env.GRAFT_GOLDEN_UPDATE === "1";
const CASES = readdirSync(ROOT).filter((name) => statSync(path.join(ROOT, name)).isDirectory());

async function inject(folder: string): Promise<{ stdout: string; stderr: string }> {
  const argsFile = path.join(folder, "args");
  const extra = statSync(argsFile, { throwIfNoEntry: false })
    ? readFileSync(argsFile, "utf8").trim().split(/\s+/)
    : [];
  const out: string[] = [];
  const err: string[] = [];
  const code = await run(["-f", "input.yaml", ...extra], {
    readFile: (file) => readFile(path.resolve(folder, file), "utf8"),
    readStdin: async () => "",
    stdout: (text) => out.push(text),
    stderr: (text) => err.push(text),
  });
  return { stdout: out.join(""), stderr: `# exit ${code}\n${err.join("")}` };
}

describe("graft inject golden files (webhook/testdata/inject)", () => {
  it("has the cases the issue names", () => {
    expect(CASES).toEqual(
      expect.arrayContaining([
        "spark-deployment",
        "flink-job",
        "kubespawner-pod",
        "cronjob",
        "native-sidecars",
        "helm-render",
        "namespace-documents",
      ]),
    );
  });

  it.each(CASES)("%s: output matches byte for byte", async (name) => {
    const folder = path.join(ROOT, name);
    const { stdout, stderr } = await inject(folder);
    if (UPDATE) {
      writeFileSync(path.join(folder, "output.yaml"), stdout);
      writeFileSync(path.join(folder, "stderr.txt"), stderr);
    }
    expect(stdout).toBe(readFileSync(path.join(folder, "output.yaml"), "utf8"));
    expect(stderr).toBe(readFileSync(path.join(folder, "stderr.txt"), "utf8"));
  });
});
