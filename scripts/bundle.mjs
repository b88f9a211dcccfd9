// Bundles the built CLI (dist/, from `npm run build`) into <outdir>/graft.js and its chunks: one
// file to load for each command instead of hundreds of modules. @kubernetes/client-node alone is
// ~400 files; loading them one by one is most of the webhook's start-up (docs/benchmarks.md).
// Each command stays its own chunk (cli/main.ts imports them on demand), so the agent never
// loads the webhook's code. The image puts the result at /app/bin (Dockerfile), where the
// entry point and the injected agent's command already point; dist/ stays beside it for the
// console's assets. Usage: node scripts/bundle.mjs [outdir] [--metafile FILE]   (default: bundle/bin;
// the metafile, esbuild's account of which inputs went into which output, is for the tests)
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const args = process.argv.slice(2);
const metafileAt = args.indexOf("--metafile");
const metafile = metafileAt === -1 ? undefined : args.splice(metafileAt, 2)[1];
const outdir = path.resolve(args[0] ?? path.join(root, "bundle/bin"));

const result = await build({
  stdin: {
    contents: `import { main } from ${JSON.stringify(path.join(root, "dist/cli/main.js"))};\nprocess.exitCode = await main(process.argv.slice(2));\n`,
    resolveDir: root,
    sourcefile: "graft.js",
    loader: "js",
  },
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node22",
  outdir,
  entryNames: "graft",
  // Beside graft.js: the console finds its assets at ../dist/console/assets from here.
  chunkNames: "[name]-[hash]",
  // CommonJS dependencies call require(); an ES module has none of its own.
  banner: {
    js: "import { createRequire as __graftRequire } from 'node:module'; const require = __graftRequire(import.meta.url);",
  },
  // Node warns of deprecated built-ins (punycode, url.parse) only when called from outside
  // node_modules: node-fetch 2 (client-node's) calls url.parse on every request and its tr46
  // requires punycode, so both are loaded from node_modules, as before, not bundled.
  external: ["node-fetch", "tr46"],
  legalComments: "none",
  logLevel: "warning",
  metafile: metafile !== undefined,
});
if (metafile) await writeFile(metafile, JSON.stringify(result.metafile));
await writeFile(path.join(outdir, "package.json"), '{ "type": "module" }\n');
