/**
 * What `graft agent` loads before its first check runs, read from esbuild's graph of the bundle the
 * image ships (scripts/bundle.mjs bundles the same way): the modules reachable from agent/cli.ts by
 * static imports. Each dependency named here costs every pod resident memory and start-up time
 * (docs/benchmarks.md), and is loaded only on a path that needs it: YAML checks, a check type.
 */
import path from "node:path";
import { fileURLToPath } from "node:url";
import { build, type Metafile } from "esbuild";
import { describe, expect, it } from "vitest";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

/** The inputs of every output chunk reachable from the entry point by static imports. */
async function staticallyLoaded(entry: string): Promise<string[]> {
  const { metafile } = await build({
    absWorkingDir: ROOT,
    entryPoints: [entry],
    bundle: true,
    splitting: true,
    format: "esm",
    platform: "node",
    outdir: path.join(ROOT, "dist/startup-imports-test"),
    write: false,
    metafile: true,
    logLevel: "silent",
  });
  const outputs = (metafile as Metafile).outputs;
  const start = Object.keys(outputs).find((name) => outputs[name]!.entryPoint === entry)!;
  const seen = new Set<string>([start]);
  const pending = [start];
  while (pending.length > 0) {
    for (const imported of outputs[pending.pop()!]!.imports) {
      if (imported.kind !== "import-statement" || imported.external || seen.has(imported.path)) continue;
      seen.add(imported.path);
      pending.push(imported.path);
    }
  }
  return [...seen].flatMap((chunk) => Object.keys(outputs[chunk]!.inputs));
}

describe("graft agent's start-up", () => {
  it("loads neither prom-client, ajv, TypeBox nor the YAML parser until a path needs them", async () => {
    const loaded = await staticallyLoaded("agent/cli.ts");
    expect(loaded).toContain("core/checks-spec.ts");
    expect(loaded).toContain("agent/exposition.ts");
    const packages = new Set(
      loaded.flatMap((input) => /node_modules\/((@[^/]+\/)?[^/]+)/.exec(input)?.[1] ?? []),
    );
    expect([...packages]).toEqual([]);
    // A spec in YAML loads the parser then; the checks of a type load with that type.
    expect(loaded).not.toContain("core/checks.ts");
    expect(
      loaded.filter((input) => input.startsWith("agent/checks/") && !input.endsWith("index.ts")),
    ).toEqual(["agent/checks/outcome.ts"]);
  });
});
