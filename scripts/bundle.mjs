// Bundles the built CLI (dist/, from `npm run build`) into <outdir>: one file to load for each
// command instead of hundreds of modules. @kubernetes/client-node alone is ~400 files; loading
// them one by one is most of the webhook's start-up (docs/benchmarks.md). The image puts the
// result at /app/bin (Dockerfile), where the entry point and the injected agent's command
// already point; dist/ stays beside it for the console's assets.
//
//   <outdir>/graft.js        the entry, CommonJS: `agent` runs agent/, anything else graft.mjs
//   <outdir>/graft.mjs       every command, ES modules, a chunk per command (cli/main.ts imports
//                            them on demand)
//   <outdir>/agent/*.js      `graft agent` alone, CommonJS, a chunk per check type
//
// The agent is CommonJS because Node's ES module loader costs ~11 MiB of resident memory in every
// pod (measured on Node 26 with the sidecar's flags: a bare node:http server is 49 MiB started as
// CommonJS, 60 MiB as an ES module, docs/benchmarks.md). Its chunks are split as ES modules first
// (so a check type's code, kafkajs for one, loads only with a check of that type), then each is
// turned into CommonJS on its own: `import` becomes `require` of the sibling chunk, `import()`
// a deferred `require`. Usage: node scripts/bundle.mjs [outdir] [--metafile FILE]   (default:
// bundle/bin; the metafile, esbuild's account of which inputs went into which output of
// graft.mjs, is for the tests)
import { mkdir, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { build, transform } from "esbuild";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const args = process.argv.slice(2);
const metafileAt = args.indexOf("--metafile");
const metafile = metafileAt === -1 ? undefined : args.splice(metafileAt, 2)[1];
const outdir = path.resolve(args[0] ?? path.join(root, "bundle/bin"));
const dist = (file) => JSON.stringify(path.join(root, "dist", file));

const shared = {
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node22",
  // Node warns of deprecated built-ins (punycode, url.parse) only when called from outside
  // node_modules: node-fetch 2 (client-node's) calls url.parse on every request and its tr46
  // requires punycode, so both are loaded from node_modules, as before, not bundled.
  external: ["node-fetch", "tr46"],
  legalComments: "none",
  logLevel: "warning",
};

// Chunks of an earlier bundle would be left beside the new ones.
await rm(outdir, { recursive: true, force: true });

const main = await build({
  ...shared,
  metafile: metafile !== undefined,
  stdin: {
    contents: `import { main } from ${dist("cli/main.js")};\nprocess.exitCode = await main(process.argv.slice(2));\n`,
    resolveDir: root,
    sourcefile: "graft.mjs",
    loader: "js",
  },
  outdir,
  outExtension: { ".js": ".mjs" },
  entryNames: "graft",
  // Beside graft.mjs: the console finds its assets at ../dist/console/assets from here.
  chunkNames: "[name]-[hash]",
  // CommonJS dependencies call require(); an ES module has none of its own.
  banner: {
    js: "import { createRequire as __graftRequire } from 'node:module'; const require = __graftRequire(import.meta.url);",
  },
});

if (metafile) await writeFile(metafile, JSON.stringify(main.metafile));

const agent = await build({
  ...shared,
  stdin: {
    contents: `import { run } from ${dist("agent/cli.js")};\nrun(process.argv.slice(3)).then((code) => { process.exitCode = code; });\n`,
    resolveDir: root,
    sourcefile: "agent.js",
    loader: "js",
  },
  outdir: path.join(outdir, "agent"),
  entryNames: "agent",
  chunkNames: "[name]-[hash]",
  write: false,
  metafile: true,
  absWorkingDir: root,
});
await mkdir(path.join(outdir, "agent"), { recursive: true });
for (const file of agent.outputFiles) {
  const { code, warnings } = await transform(file.text, {
    loader: "js",
    format: "cjs",
    target: "node22",
    // import() would load the chunk through the ES module loader (and see none of its exports).
    supported: { "dynamic-import": false },
  });
  // Every import() of a chunk must have become a require() of it.
  const outputs = agent.metafile.outputs[path.relative(root, file.path)];
  for (const { path: chunk, kind } of outputs?.imports ?? []) {
    const name = JSON.stringify(`./${path.basename(chunk)}`);
    if (
      kind === "dynamic-import" &&
      (code.includes(`import(${name})`) || !code.includes(`require(${name})`))
    ) {
      throw new Error(`${file.path}: import(${name}) was not turned into a require()`);
    }
  }
  if (warnings.length > 0) throw new Error(`${file.path}: ${warnings.map((w) => w.text).join("; ")}`);
  await writeFile(file.path, code);
}

await writeFile(path.join(outdir, "agent/package.json"), '{ "type": "commonjs" }\n');
await writeFile(path.join(outdir, "package.json"), '{ "type": "commonjs" }\n');
await writeFile(
  path.join(outdir, "graft.js"),
  [
    "#!/usr/bin/env node",
    "// graft's entry (scripts/bundle.mjs): `graft agent` stays CommonJS, without Node's ES module loader.",
    '"use strict";',
    'if (process.argv[2] === "agent") require("./agent/agent.js");',
    'else import("./graft.mjs");',
    "",
  ].join("\n"),
);
