// vitest globalSetup for the e2e project: gives every e2e test a real control plane.
// - GRAFT_E2E_KUBECONFIG (or KUBECONFIG_E2E) set: use that cluster (kind, a remote one, ...),
//   start and stop nothing.
// - otherwise: `test/cluster/cluster.sh up` (builds the binaries first when they are not cached),
//   and `down` at the end, but only if this run started it (an already running cluster is
//   reused and left running). GRAFT_E2E_KEEP_CLUSTER=1 leaves a started cluster up.
// Tests read the path with `inject("kubeconfig")` or process.env.GRAFT_E2E_KUBECONFIG.
import type { TestProject } from "vitest/node";
import { upForTests } from "../cluster/cluster-script.js";

export default async function setup(project: TestProject): Promise<(() => Promise<void>) | undefined> {
  const given = process.env.GRAFT_E2E_KUBECONFIG || process.env.KUBECONFIG_E2E;
  if (given) {
    process.env.GRAFT_E2E_KUBECONFIG = given;
    project.provide("kubeconfig", given);
    return undefined;
  }
  const { kubeconfig, teardown } = await upForTests(
    "kwok",
    project,
    process.env.GRAFT_E2E_KEEP_CLUSTER === "1",
  );
  process.env.GRAFT_E2E_KUBECONFIG = kubeconfig;
  return teardown;
}
