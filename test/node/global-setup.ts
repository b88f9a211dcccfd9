// vitest globalSetup for the node project: a control plane with a real node (kubelet,
// containerd, runc, CNI bridge, kube-proxy, CoreDNS) from `test/cluster/cluster.sh --real-node up`,
// state in test/cluster/.state-node unless GRAFT_CLUSTER_DIR says otherwise.
// - the machine cannot run it (`cluster.sh node-check`: not root, kernel features): the run
//   fails with the reason. scripts/test.sh leaves the project out on such machines and says why.
// - `down` at the end, only if this run started the cluster; it fails when anything is left
//   on the host (process, mount, bridge, cgroup, iptables rule, sysctl). GRAFT_NODE_KEEP_CLUSTER=1
//   leaves a started cluster up.
// Tests read the kubeconfig with `inject("kubeconfig")` (so test/e2e/kube.ts helpers work).
import type { TestProject } from "vitest/node";
import { runCluster, upForTests } from "../cluster/cluster-script.js";

export default async function setup(project: TestProject): Promise<(() => Promise<void>) | undefined> {
  const check = await runCluster("real-node", "node-check");
  if (check.code !== 0)
    throw new Error(`this machine cannot run the real node: ${check.stdout.trim().replaceAll("\n", "; ")}`);
  return (await upForTests("real-node", project, process.env.GRAFT_NODE_KEEP_CLUSTER === "1")).teardown;
}
