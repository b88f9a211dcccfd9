// Issue 9's remote crash, kept as a regression test: 1-8 KB of "[" in a checks spec made the YAML
// parser recurse until V8 aborted the whole process ("FATAL ERROR: RegExpCompiler Allocation
// failed", exit 134), which no try/catch sees. So the parses run in a child process: an abort
// fails this test instead of killing the test runner.
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { CHECKS_LIMITS } from "../../core/checks.js";

const root = fileURLToPath(new URL("../..", import.meta.url));
const checksModule = fileURLToPath(new URL("../../core/checks.ts", import.meta.url));

/** The reproduction, in a child: each result's first error, as one JSON line. */
const REPRO = `
const { parseChecksSpec } = await import(process.argv[1]);
const errors = [];
for (const n of [1000, 2000, 3000, 4000, 5000, 6000, 7000, 8000]) {
  try {
    const result = parseChecksSpec("[".repeat(n));
    errors.push(result.ok ? "accepted" : result.error[0]);
  } catch (error) {
    errors.push("threw " + error);
  }
}
console.log(JSON.stringify(errors));
`;

function runChild(): Promise<{
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}> {
  return new Promise((resolve, reject) => {
    // tsx loads the TypeScript source as it is, so no build is needed and the code tested is this tree's.
    const child = spawn(
      process.execPath,
      ["--import", "tsx", "--input-type=module", "-e", REPRO, checksModule],
      {
        cwd: root,
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk;
    });
    child.stderr.on("data", (chunk: Buffer) => {
      stderr = (stderr + chunk).slice(-8192);
    });
    child.on("error", reject);
    child.on("exit", (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

describe("a checks spec of 1-8 KB of '['", () => {
  it("is refused with an error naming the limit, and the process lives (it aborted with exit 134)", async () => {
    const { code, signal, stdout, stderr } = await runChild();
    expect({ code, signal, stderr: code === 0 ? "" : stderr }).toEqual({ code: 0, signal: null, stderr: "" });
    const errors = JSON.parse(stdout) as string[];
    expect(errors).toHaveLength(8);
    errors.forEach((error, i) => {
      expect(error).toBe(
        `YAML with more than ${CHECKS_LIMITS.yamlFlowCollections} "[" and "{" (quoted ones count too) is refused, this has ${(i + 1) * 1000}: write the spec as JSON, or in block style`,
      );
    });
  });
});
