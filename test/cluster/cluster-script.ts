// Runs test/cluster/cluster.sh for the vitest global set-ups of the e2e project (a control plane
// with kwok) and the node project (`--real-node`: kubelet, containerd, CNI): start it unless it
// runs, hand its kubeconfig to the tests, stop it at the end only if this run started it.
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { TestProject } from "vitest/node";

declare module "vitest" {
  export interface ProvidedContext {
    kubeconfig: string;
  }
}

const clusterScript = fileURLToPath(new URL("./cluster.sh", import.meta.url));

export type ClusterKind = "kwok" | "real-node";

/** Runs `cluster.sh [--real-node] ARGS`; its progress (stderr) goes to ours, its stdout is returned. */
export function runCluster(kind: ClusterKind, ...args: string[]): Promise<{ code: number; stdout: string }> {
  const realNode = kind === "real-node";
  return new Promise((resolve, reject) => {
    const child = spawn("bash", [clusterScript, ...(realNode ? ["--real-node"] : []), ...args], {
      stdio: ["ignore", "pipe", "inherit"],
      env: realNode ? { ...process.env, GRAFT_CLUSTER_NODE: "real" } : process.env,
    });
    let stdout = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      stdout += chunk;
    });
    child.on("error", reject);
    child.on("close", (code) => resolve({ code: code ?? 1, stdout }));
  });
}

/**
 * `cluster.sh up` (reusing a cluster that already runs), its kubeconfig provided to the tests;
 * returns the teardown: `down`, unless the cluster was already up or `keep` is set.
 */
export async function upForTests(
  kind: ClusterKind,
  project: TestProject,
  keep: boolean,
): Promise<{ kubeconfig: string; teardown: (() => Promise<void>) | undefined }> {
  const name = kind === "real-node" ? "cluster.sh --real-node" : "cluster.sh";
  const alreadyUp = (await runCluster(kind, "status")).code === 0;
  const up = await runCluster(kind, "up");
  if (up.code !== 0) throw new Error(`test/cluster/${name} up failed (exit ${up.code}); see the log above`);
  const kubeconfig = /^KUBECONFIG=(.+)$/m.exec(up.stdout)?.[1]?.trim();
  if (!kubeconfig) throw new Error(`${name} up printed no KUBECONFIG= line:\n${up.stdout}`);
  project.provide("kubeconfig", kubeconfig);
  if (alreadyUp || keep) return { kubeconfig, teardown: undefined };
  const teardown = async () => {
    const down = await runCluster(kind, "down");
    if (down.code !== 0)
      throw new Error(`test/cluster/${name} down failed or left something behind (exit ${down.code})`);
  };
  return { kubeconfig, teardown };
}
