// The CLI as the image ships it (Dockerfile): bundled by scripts/bundle.mjs into graft.js and its
// chunks. The bundle must do what dist/ does: `graft inject` gives the golden output byte for
// byte, and `graft webhook` serves and patches. And it must load less than dist/ does.
import { execFile, spawn, spawnSync } from "node:child_process";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import net from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildCli, startWebhookCli, type WebhookCli } from "../services/webhook-cli.js";
import { podReview, post } from "./webhook-client.js";

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const GOLDEN = path.join(ROOT, "webhook/testdata/inject");

let dir: string;
let bundle: string;

beforeAll(async () => {
  buildCli();
  // Beside node_modules, as /app/bin is in the image: tr46 is loaded from there (scripts/bundle.mjs).
  await mkdir(path.join(ROOT, "bundle"), { recursive: true });
  dir = await mkdtemp(path.join(ROOT, "bundle", "test-"));
  const built = spawnSync(
    process.execPath,
    ["scripts/bundle.mjs", dir, "--metafile", path.join(dir, "meta.json")],
    { cwd: ROOT, encoding: "utf8" },
  );
  if (built.status !== 0) throw new Error(`scripts/bundle.mjs failed:\n${built.stdout}${built.stderr}`);
  bundle = path.join(dir, "graft.js");
}, 120_000);

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("the bundled CLI", () => {
  it.each(["spark-deployment", "kubespawner-pod"])(
    "graft inject %s: the golden output byte for byte, and no warning",
    async (name) => {
      const folder = path.join(GOLDEN, name);
      const args = await readFile(path.join(folder, "args"), "utf8").then(
        (text) => text.trim().split(/\s+/),
        () => [],
      );
      const { stdout, stderr } = await run(
        process.execPath,
        [bundle, "inject", "-f", "input.yaml", ...args],
        {
          cwd: folder,
        },
      );
      expect(stdout).toBe(await readFile(path.join(folder, "output.yaml"), "utf8"));
      expect(stderr).not.toMatch(/Warning/);
    },
    60_000,
  );

  it("is a few files: one entry and its chunks, each command in its own", async () => {
    const files = (await readdir(dir)).filter((f) => f.endsWith(".js"));
    expect(files).toContain("graft.js");
    expect(files.length).toBeLessThan(100);
  });

  it("loads no @kubernetes/client-node for graft webhook (graft check still does)", async () => {
    type Output = {
      entryPoint?: string;
      inputs: Record<string, unknown>;
      imports: Array<{ path: string; kind: string; external?: boolean }>;
    };
    const meta = JSON.parse(await readFile(path.join(dir, "meta.json"), "utf8")) as {
      outputs: Record<string, Output>;
    };
    /** Every input and external package loaded with `entry`'s chunk: it and its static imports. */
    const loadedWith = (entry: string): string[] => {
      const start = Object.keys(meta.outputs).find((file) => meta.outputs[file]?.entryPoint === entry);
      if (!start) throw new Error(`no output for ${entry}`);
      const seen = new Set<string>();
      const loaded: string[] = [];
      const pending = [start];
      while (pending.length > 0) {
        const file = pending.pop()!;
        if (seen.has(file)) continue;
        seen.add(file);
        const output = meta.outputs[file]!;
        loaded.push(...Object.keys(output.inputs));
        for (const imported of output.imports) {
          if (imported.kind !== "import-statement") continue;
          if (imported.external) loaded.push(imported.path);
          else pending.push(imported.path);
        }
      }
      return loaded;
    };
    const clientNode = (inputs: string[]) =>
      inputs.filter((input) => /@kubernetes\/client-node\/|^node-fetch$/.test(input));
    const webhook = loadedWith("dist/webhook/server/cli.js");
    expect(webhook).toContain("dist/webhook/io/kube/client.js");
    expect(clientNode(webhook)).toEqual([]);
    // An ES import of node:http reads its WebSocket getter, which loads undici (~10 MiB, ~50 ms).
    expect(webhook).toContain("node:https");
    expect(webhook).not.toContain("node:http");
    // The walk can see it: graft check still runs on client-node.
    expect(clientNode(loadedWith("dist/install-check/cli.js")).length).toBeGreaterThan(100);
  });

  describe("graft agent", () => {
    /**
     * Runs the bundled agent until it is ready, scrapes it, stops it with SIGTERM and returns what
     * it loaded: Node's internal modules (process.moduleLoadList) and the files it required.
     */
    async function runAgent(args: string[], env: Record<string, string>) {
      const dump = path.join(dir, `loaded-${Date.now()}.json`);
      const preload = path.join(dir, "dump-loaded.cjs");
      await writeFile(
        preload,
        `process.on("exit", () => require("node:fs").writeFileSync(${JSON.stringify(dump)}, JSON.stringify({ modules: process.moduleLoadList, files: Object.keys(require.cache) })));\n`,
      );
      const port = await new Promise<number>((resolve) => {
        const server = net.createServer().listen(0, "127.0.0.1", () => {
          const { port } = server.address() as net.AddressInfo;
          server.close(() => resolve(port));
        });
      });
      const child = spawn(
        process.execPath,
        ["--require", preload, bundle, "agent", "--port", String(port), "--host", "127.0.0.1", ...args],
        { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] },
      );
      let output = "";
      child.stdout.on("data", (chunk: Buffer) => {
        output += chunk;
      });
      child.stderr.on("data", (chunk: Buffer) => {
        output += chunk;
      });
      const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
      const url = `http://127.0.0.1:${port}`;
      const deadline = Date.now() + 15_000;
      for (;;) {
        const ready = await fetch(`${url}/readyz`).then(
          (r) => r.ok,
          () => false,
        );
        if (ready) break;
        if (Date.now() > deadline || child.exitCode !== null) throw new Error(`agent not ready:\n${output}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      const metrics = await (await fetch(`${url}/metrics`)).text();
      const status = await (await fetch(`${url}/status`)).text();
      child.kill("SIGTERM");
      const code = await exited;
      const loaded = JSON.parse(await readFile(dump, "utf8")) as { modules: string[]; files: string[] };
      return { code, metrics, status, ...loaded };
    }

    const tcpCheck = (port: number) =>
      JSON.stringify([
        { name: "db", type: "tcp", host: "127.0.0.1", port, interval: "1s", timeout: "500ms" },
      ]);

    it("runs as CommonJS: no ES module is loaded, nor TLS, undici or the YAML parser for a tcp check", async () => {
      const ran = await runAgent([], { GRAFT_CHECKS: tcpCheck(1), GRAFT_APP: "shop" });
      expect(ran.code).toBe(0);
      expect(ran.metrics).toContain('graft_check_health{check="db",type="tcp",source="db",app="shop"} 2');
      expect(ran.status).toContain('"db.health"');
      expect(ran.files.some((file) => file.endsWith(".mjs"))).toBe(false);
      expect(ran.files.filter((file) => path.basename(file).startsWith("tcp-"))).toHaveLength(1);
      expect(ran.files.some((file) => path.basename(file).startsWith("checks-"))).toBe(false);
      for (const module of ["NativeModule tls", "NativeModule internal/deps/undici/undici"]) {
        expect(ran.modules).not.toContain(module);
      }
    }, 30_000);

    it("reads a YAML checks file (loading the YAML parser then) and the JSON of GRAFT_CHECKS together", async () => {
      const file = path.join(dir, "checks.yaml");
      await writeFile(file, "- name: web\n  type: tcp\n  host: 127.0.0.1\n  port: 1\n");
      const ran = await runAgent(["--checks", file], { GRAFT_CHECKS: tcpCheck(2) });
      expect(ran.code).toBe(0);
      expect(ran.metrics).toContain('graft_check_up{check="web"} 0');
      expect(ran.metrics).toContain('graft_check_up{check="db"} 0');
      expect(ran.files.some((file) => path.basename(file).startsWith("checks-"))).toBe(true);
    }, 30_000);
  });

  describe("graft webhook", () => {
    let webhook: WebhookCli;
    beforeAll(async () => {
      webhook = await startWebhookCli({ config: "nativeSidecars: never\n", bin: bundle });
    }, 60_000);
    afterAll(async () => {
      await webhook?.cleanup();
    });

    it("serves, is ready, and patches an opted-in pod", async () => {
      const ready = await post(`${webhook.base}/mutate/namespace`, JSON.stringify(podReview("u-bundle")), {
        ca: webhook.ca,
      });
      expect(ready.status).toBe(200);
      const body = ready.json() as { response: { uid: string; allowed: boolean; patch?: string } };
      expect(body.response).toMatchObject({ uid: "u-bundle", allowed: true });
      expect(body.response.patch).toBeDefined();
    });
  });
});
