// The provided-certs "by hand" steps (docs/install.md and the overlay's kustomization.yaml) make
// Secret graft-webhook-tls with ca.crt: manifests/monitoring's ServiceMonitor verifies the
// webhook with that key, and `kubectl create secret tls` has none. The documented command is run
// as written (client-side dry run, the control plane's kubectl 1.33, no cluster) on files made
// by certs/authority.ts.
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAuthority, issueServingCert } from "../../certs/authority.js";
import { repo } from "../helm/chart.js";
import { run, tempDir } from "../services/spawn.js";

/** The `kubectl ... create secret ... graft-webhook-tls` command of `text`, continuation lines joined. */
function secretCommand(text: string, commentPrefix = ""): string[] {
  const lines = text
    .split("\n")
    .map((line) => (line.startsWith(commentPrefix) ? line.slice(commentPrefix.length) : line));
  const start = lines.findIndex((line) => /^\s*kubectl .*create secret .*graft-webhook-tls/.test(line));
  if (start < 0) throw new Error("no `kubectl create secret ... graft-webhook-tls` command found");
  let command = "";
  for (let i = start; i < lines.length; i++) {
    const line = (lines[i] ?? "").trim();
    command += ` ${line.replace(/\\$/, "")}`;
    if (!line.endsWith("\\")) break;
  }
  const words = command.trim().split(/\s+/);
  if (words.some((word) => /["'$`;|&]/.test(word))) throw new Error(`not a plain command: ${command}`);
  return words.slice(1); // without "kubectl"
}

let dir: { dir: string; remove: () => Promise<void> };
beforeAll(async () => {
  dir = await tempDir("provided-certs");
  const ca = createAuthority({ now: new Date() });
  const serving = issueServingCert(ca, { now: new Date(), dnsNames: ["graft-webhook.graft.svc"] });
  await run("mkdir", ["-p", path.join(dir.dir, "certs")]);
  await writeFile(path.join(dir.dir, "certs/ca.crt"), ca.cert);
  await writeFile(path.join(dir.dir, "certs/tls.crt"), serving.cert);
  await writeFile(path.join(dir.dir, "certs/tls.key"), serving.key);
  // A client-side dry run needs a kubeconfig, not a cluster.
  await writeFile(path.join(dir.dir, "kubeconfig"), "apiVersion: v1\nkind: Config\n");
});
afterAll(() => dir?.remove());

async function secretKeys(args: string[]): Promise<string[]> {
  const ran = await run(
    "bash",
    [
      `${repo}test/cluster/cluster.sh`,
      "kubectl",
      ...args,
      "--kubeconfig=kubeconfig",
      "--dry-run=client",
      "-o",
      "json",
    ],
    { cwd: dir.dir },
  );
  expect(ran.code, ran.stderr).toBe(0);
  const secret = JSON.parse(ran.stdout) as { type: string; data: Record<string, string> };
  expect(secret.type).toBe("kubernetes.io/tls");
  return Object.keys(secret.data).sort();
}

describe("the provided-certs Secret made by hand", () => {
  it("docs/install.md's command gives it tls.crt, tls.key and ca.crt", async () => {
    const docs = await readFile(`${repo}docs/install.md`, "utf8");
    expect(await secretKeys(secretCommand(docs))).toEqual(["ca.crt", "tls.crt", "tls.key"]);
  });

  it("the overlay's kustomization.yaml command gives it tls.crt, tls.key and ca.crt", async () => {
    const text = await readFile(`${repo}manifests/overlays/provided-certs/kustomization.yaml`, "utf8");
    expect(await secretKeys(secretCommand(text, "#"))).toEqual(["ca.crt", "tls.crt", "tls.key"]);
  });
});
