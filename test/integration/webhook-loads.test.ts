// What `graft webhook` loads, module by module, as dist/ runs it: every module Node resolves (both
// `import` and `require`, through module.registerHooks) is written to a file as it is resolved.
// The webhook validates its config and each review with generated validators
// (scripts/generate-validators.ts) and its fastify has no route schemas, so neither ajv, TypeBox
// nor fastify's schema compilers are loaded: ~14 MiB of idle memory (docs/benchmarks.md).
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startWebhookCli, type WebhookCli } from "../services/webhook-cli.js";
import { podReview, post } from "./webhook-client.js";

let dir: string;
let loadedFile: string;
let webhook: WebhookCli;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "graft-webhook-loads-"));
  loadedFile = path.join(dir, "loaded.txt");
  const recorder = path.join(dir, "record-loads.mjs");
  await writeFile(
    recorder,
    [
      'import { appendFileSync } from "node:fs";',
      'import { registerHooks } from "node:module";',
      "registerHooks({",
      "  resolve(specifier, context, nextResolve) {",
      "    const resolved = nextResolve(specifier, context);",
      `    appendFileSync(${JSON.stringify(loadedFile)}, resolved.url + "\\n");`,
      "    return resolved;",
      "  },",
      "});",
      "",
    ].join("\n"),
  );
  webhook = await startWebhookCli({
    config: "nativeSidecars: never\nagent: {port: 9500}\n",
    env: { NODE_OPTIONS: `--import ${pathToFileURL(recorder).href}` },
  });
}, 120_000);

afterAll(async () => {
  await webhook?.cleanup();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** The modules the webhook has resolved so far, and their packages (node_modules/<name>). */
async function loaded(): Promise<{ urls: string[]; packages: Set<string> }> {
  const urls = (await readFile(loadedFile, "utf8")).split("\n");
  const packages = new Set(
    urls.flatMap((url) => {
      const match = /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
      return match ? [match[1]!] : [];
    }),
  );
  return { urls, packages };
}

describe("graft webhook (dist/) loads", () => {
  it("no ajv, TypeBox or fastify schema compiler, through start-up, a review and a bad one", async () => {
    const admitted = await post(`${webhook.base}/mutate/namespace`, JSON.stringify(podReview("u-loads")), {
      ca: webhook.ca,
    });
    expect(admitted.status).toBe(200);
    const refused = await post(
      `${webhook.base}/mutate/namespace`,
      JSON.stringify({ kind: "AdmissionReview" }),
      {
        ca: webhook.ca,
      },
    );
    expect(refused.status).toBe(400);
    expect(refused.body).toContain("apiVersion");

    const { urls, packages } = await loaded();
    // The recorder sees the packages the webhook does load.
    expect(packages).toContain("fastify");
    expect(packages).toContain("yaml");
    for (const unwanted of [
      "ajv",
      "@sinclair/typebox",
      "@fastify/ajv-compiler",
      "@fastify/fast-json-stringify-compiler",
      "@kubernetes/client-node",
    ]) {
      expect(packages, unwanted).not.toContain(unwanted);
    }
    // fastify's error serialiser needs fast-json-stringify's small run-time, never its compiler.
    expect(urls.filter((url) => /\/fast-json-stringify\/index\.js$/.test(url))).toEqual([]);
  });
});
