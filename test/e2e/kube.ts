// Helpers shared by the e2e tests: a client for the e2e cluster and polling with a deadline.
import { fileURLToPath } from "node:url";
import * as k8s from "@kubernetes/client-node";
import { inject } from "vitest";
import { accessFromKubeconfig } from "../../webhook/io/kube/access.js";
import { createKubeClient, type KubeClient } from "../../webhook/io/kube/client.js";
import { type Ran, run } from "../services/spawn.js";

/** The e2e cluster's kubeconfig file, for what takes a path (a CLI under test). */
export function kubeconfigPath(): string {
  const path = inject("kubeconfig") || process.env.GRAFT_E2E_KUBECONFIG;
  if (!path) throw new Error("no e2e kubeconfig: run through the vitest e2e project (global-setup.ts)");
  return path;
}

export function kubeConfig(): k8s.KubeConfig {
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(kubeconfigPath());
  return kc;
}

/** graft's own client (webhook/io/kube) for the cluster and user of `kc`, as the webhook makes it. */
export function graftClient(kc: k8s.KubeConfig = kubeConfig()): KubeClient {
  return createKubeClient(
    accessFromKubeconfig(JSON.parse(kc.exportConfig()), {
      baseDir: process.cwd(),
      source: "the e2e kubeconfig",
    }),
  );
}

/**
 * Polls `check` until it returns a value other than undefined/false, or throws when `timeoutMs`
 * passes, naming `what` and the last value or error seen.
 */
export async function eventually<T>(
  what: string,
  check: () => Promise<T | undefined | false>,
  { timeoutMs = 60_000, intervalMs = 250 }: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value;
      last = value;
    } catch (err) {
      last = err;
    }
    if (Date.now() >= deadline) {
      const detail = last instanceof Error ? last.message : JSON.stringify(last);
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (last: ${detail})`);
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** A namespace name unique to this run, DNS-1123 safe. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 6)}`;
}

/** True when `err` is an ApiException with HTTP status `code`. */
export function isStatus(err: unknown, code: number): boolean {
  return err instanceof k8s.ApiException && err.code === code;
}

const clusterScript = fileURLToPath(new URL("../cluster/cluster.sh", import.meta.url));
const repo = fileURLToPath(new URL("../../", import.meta.url));

/**
 * The control plane's own kubectl (1.33) against the e2e cluster, as a child process: never
 * synchronous, since a webhook it reaches may run in this very process.
 */
export function kubectl(args: string[], input?: string): Promise<Ran> {
  const kubeconfig = inject("kubeconfig") || process.env.GRAFT_E2E_KUBECONFIG || "";
  return run("bash", [clusterScript, "kubectl", `--kubeconfig=${kubeconfig}`, ...args], {
    cwd: repo,
    ...(input === undefined ? {} : { input }),
  });
}
