/**
 * The webhook's layout, kept true by reading every file's imports:
 *
 *   model → features → pipeline → io → service → server | offline | install
 *
 * A file may import its own layer or one to its left, never one to its right; the three on the
 * right are peers and do not import each other; one feature (features/<name>/) does not import
 * another. Nothing under model/, features/ or pipeline/ imports a Node built-in, fastify,
 * prom-client or the Kubernetes client (type-only imports of its types are erased at build and
 * allowed), so the pure layers run anywhere. core/ is below them all and imports none of
 * webhook/, agent/, console/ or cli/.
 */
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const LAYERS = ["model", "features", "pipeline", "io", "service", "server", "offline", "install"] as const;
const RANK: Record<(typeof LAYERS)[number], number> = {
  model: 0,
  features: 1,
  pipeline: 2,
  io: 3,
  service: 4,
  server: 5,
  offline: 5,
  install: 5,
};
const PURE = new Set(["model", "features", "pipeline"]);
const IMPURE_PACKAGES = /^(node:|fastify$|prom-client$|@kubernetes\/client-node$)/;
const NODE_BUILTINS = new Set([
  "assert",
  "buffer",
  "child_process",
  "crypto",
  "dns",
  "events",
  "fs",
  "fs/promises",
  "http",
  "https",
  "net",
  "os",
  "path",
  "perf_hooks",
  "process",
  "stream",
  "timers",
  "tls",
  "url",
  "util",
  "zlib",
]);

type Import = { from: string; specifier: string; typeOnly: boolean };

function sourceFiles(folder: string): string[] {
  return readdirSync(path.join(ROOT, folder), { recursive: true, encoding: "utf8" })
    .filter((file) => file.endsWith(".ts") && !file.endsWith(".test.ts") && !file.includes("testdata"))
    .map((file) => path.join(folder, file));
}

/** Static `import`/`export … from` and dynamic `import("…")`, with whether the import is type-only. */
function importsOf(file: string, text: string): Import[] {
  const found: Import[] = [];
  const statement = /^\s*(import|export)\s+(type\s+)?[^;]*?\bfrom\s+["']([^"']+)["']/gms;
  for (const match of text.matchAll(statement)) {
    found.push({ from: file, specifier: match[3]!, typeOnly: match[2] !== undefined });
  }
  for (const match of text.matchAll(/\bimport\(\s*["']([^"']+)["']\s*\)/g)) {
    found.push({ from: file, specifier: match[1]!, typeOnly: false });
  }
  for (const match of text.matchAll(/^\s*import\s+["']([^"']+)["']/gm)) {
    found.push({ from: file, specifier: match[1]!, typeOnly: false });
  }
  return found;
}

function layerOf(file: string): (typeof LAYERS)[number] | undefined {
  const [top, layer] = file.split(path.sep);
  return top === "webhook" ? LAYERS.find((name) => name === layer) : undefined;
}

function featureOf(file: string): string | undefined {
  const parts = file.split(path.sep);
  return parts[1] === "features" && parts.length > 3 ? parts[2] : undefined;
}

/** Why `imp` breaks the rule, or undefined. */
function violation(imp: Import): string | undefined {
  const layer = layerOf(imp.from);
  const { specifier } = imp;
  if (!specifier.startsWith(".")) {
    const builtin = specifier.startsWith("node:") || NODE_BUILTINS.has(specifier);
    if (layer && PURE.has(layer) && (builtin || IMPURE_PACKAGES.test(specifier)) && !imp.typeOnly) {
      return `${imp.from} (${layer}/, pure) imports ${specifier}`;
    }
    return undefined;
  }
  const target = path.normalize(path.join(path.dirname(imp.from), specifier));
  const targetTop = target.split(path.sep)[0];
  if (imp.from.startsWith(`core${path.sep}`) && targetTop !== "core") {
    return `${imp.from} (core/) imports ${target}: core/ is below every part`;
  }
  const targetLayer = layerOf(target);
  if (!layer) return undefined;
  if (targetTop === "webhook" && !targetLayer) return `${imp.from} imports ${target}, outside the layers`;
  if (!targetLayer) return undefined;
  if (RANK[targetLayer] > RANK[layer])
    return `${imp.from} (${layer}/) imports ${target} (${targetLayer}/): up`;
  if (RANK[targetLayer] === RANK[layer] && targetLayer !== layer) {
    return `${imp.from} (${layer}/) imports ${target} (${targetLayer}/): peers do not import each other`;
  }
  const feature = featureOf(imp.from);
  const targetFeature = featureOf(target);
  if (feature && targetFeature && feature !== targetFeature) {
    return `${imp.from} (feature ${feature}) imports ${target} (feature ${targetFeature})`;
  }
  return undefined;
}

describe("the webhook's layers", () => {
  const files = [...sourceFiles("webhook"), ...sourceFiles("core")];

  it("puts every webhook source file in a layer", () => {
    const outside = files.filter((file) => file.startsWith("webhook") && !layerOf(file));
    expect(outside).toEqual([]);
  });

  it("has no import that runs up, across peers, between features, or out of a pure layer", () => {
    const broken = files
      .flatMap((file) => importsOf(file, readFileSync(path.join(ROOT, file), "utf8")))
      .map(violation)
      .filter((reason) => reason !== undefined);
    expect(broken).toEqual([]);
  });

  it("catches each kind of break (the rule is not vacuous)", () => {
    const at = (from: string, specifier: string, typeOnly = false) =>
      violation({ from: path.join(...from.split("/")), specifier, typeOnly });
    expect(at("webhook/model/intent.ts", "../features/notebooks/target.js")).toMatch(/up/);
    expect(at("webhook/io/ensure-objects.ts", "../server/server.js")).toMatch(/up/);
    expect(at("webhook/service/admission-service.ts", "../server/server.js")).toMatch(/up/);
    expect(at("webhook/server/server.ts", "../install/webhook-configuration.js")).toMatch(/peers/);
    expect(at("webhook/features/agent/agent.ts", "../notebooks/target.js")).toMatch(/feature/);
    expect(at("webhook/pipeline/plan.ts", "node:crypto")).toMatch(/pure/);
    expect(at("webhook/features/properties/configmap.ts", "crypto")).toMatch(/pure/);
    expect(at("webhook/model/kube.ts", "@kubernetes/client-node")).toMatch(/pure/);
    expect(at("webhook/model/kube.ts", "@kubernetes/client-node", true)).toBeUndefined();
    expect(at("webhook/pipeline/review.ts", "prom-client")).toMatch(/pure/);
    expect(at("core/checks.ts", "../webhook/model/kube.js")).toMatch(/core/);
    expect(at("webhook/server/server.ts", "../pipeline/admission.js")).toBeUndefined();
    expect(
      importsOf(
        "x.ts",
        'import type { A } from "./a.js";\nexport { b } from "./b.js";\nawait import("./c.js");',
      ),
    ).toEqual([
      { from: "x.ts", specifier: "./a.js", typeOnly: true },
      { from: "x.ts", specifier: "./b.js", typeOnly: false },
      { from: "x.ts", specifier: "./c.js", typeOnly: false },
    ]);
  });
});
