// vitest globalSetup for the node project: a control plane with a real node (kubelet,
// containerd, runc, CNI bridge, kube-proxy, CoreDNS) from `test/cluster/cluster.sh --real-node up`,
// state in test/cluster/.state-node unless GRAFT_CLUSTER_DIR says otherwise.
// - the machine cannot run it (`cluster.sh node-check`: not root, kernel features): the run
//   fails with the reason. scripts/test.sh leaves the project out on such machines and says why.
// - `down` at the end, only if this run started the cluster; it fails when anything is left
//   on the host (process, mount, bridge, cgroup, iptables rule, sysctl). GRAFT_NODE_KEEP_CLUSTER=1
//   leaves a started cluster up.
// Tests read the kubeconfig with `inject("kubeconfig")` (so test/e2e/kube.ts helpers work).
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { TestProject } from "vitest/node";

const clusterScript = fileURLToPath(new URL("../cluster/cluster.sh", import.meta.url));

/** Runs `cluster.sh --real-node ARGS`; its progress (stderr) goes to ours, its stdout is returned. */
export function realCluster(...args: string[]): Promise<{ code: number; stdout: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn("bash", [clusterScript, "--real-node", ...args], {
      stdio: ["ignore", "pipe", "inherit"],
      env: { ...process.env, GRAFT_CLUSTER_NODE: "real" },
    });
    let stdout = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      stdout += chunk;
    });
    child.on("error", reject);
    child.on("close", (code) => resolve({ code: code ?? 1, stdout }));
  });
}

export default async function setup(project: TestProject): Promise<(() => Promise<void>) | undefined> {
  const check = await realCluster("node-check");
  if (check.code !== 0)
    throw new Error(`this machine cannot run the real node: ${check.stdout.trim().replaceAll("\n", "; ")}`);
  const alreadyUp = (await realCluster("status")).code === 0;
  const up = await realCluster("up");
  if (up.code !== 0) throw new Error(`cluster.sh --real-node up failed (exit ${up.code}); see the log above`);
  const kubeconfig = /^KUBECONFIG=(.+)$/m.exec(up.stdout)?.[1]?.trim();
  if (!kubeconfig) throw new Error(`cluster.sh up printed no KUBECONFIG= line:\n${up.stdout}`);
  project.provide("kubeconfig", kubeconfig);

  if (alreadyUp || process.env.GRAFT_NODE_KEEP_CLUSTER === "1") return undefined;
  return async () => {
    const down = await realCluster("down");
    if (down.code !== 0)
      throw new Error(`cluster.sh --real-node down failed or left something behind (exit ${down.code})`);
  };
}
