// vitest globalSetup for the e2e project: gives every e2e test a real control plane.
// - GRAFT_E2E_KUBECONFIG (or KUBECONFIG_E2E) set: use that cluster (kind, a remote one, ...),
//   start and stop nothing.
// - otherwise: `test/cluster/cluster.sh up` (builds the binaries first when they are not cached),
//   and `down` at the end, but only if this run started it (an already running cluster is
//   reused and left running). GRAFT_E2E_KEEP_CLUSTER=1 leaves a started cluster up.
// Tests read the path with `inject("kubeconfig")` or process.env.GRAFT_E2E_KUBECONFIG.
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { TestProject } from "vitest/node";

declare module "vitest" {
  export interface ProvidedContext {
    kubeconfig: string;
  }
}

const clusterScript = fileURLToPath(new URL("../cluster/cluster.sh", import.meta.url));

/** Runs cluster.sh; its progress (stderr) goes to ours, its stdout is returned. */
function cluster(...args: string[]): Promise<{ code: number; stdout: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn("bash", [clusterScript, ...args], { stdio: ["ignore", "pipe", "inherit"] });
    let stdout = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      stdout += chunk;
    });
    child.on("error", reject);
    child.on("close", (code) => resolve({ code: code ?? 1, stdout }));
  });
}

export default async function setup(project: TestProject): Promise<(() => Promise<void>) | undefined> {
  const given = process.env.GRAFT_E2E_KUBECONFIG || process.env.KUBECONFIG_E2E;
  if (given) {
    process.env.GRAFT_E2E_KUBECONFIG = given;
    project.provide("kubeconfig", given);
    return undefined;
  }

  const alreadyUp = (await cluster("status")).code === 0;
  const up = await cluster("up");
  if (up.code !== 0)
    throw new Error(`test/cluster/cluster.sh up failed (exit ${up.code}); see the log above`);
  const kubeconfig = /^KUBECONFIG=(.+)$/m.exec(up.stdout)?.[1]?.trim();
  if (!kubeconfig) throw new Error(`cluster.sh up printed no KUBECONFIG= line:\n${up.stdout}`);
  process.env.GRAFT_E2E_KUBECONFIG = kubeconfig;
  project.provide("kubeconfig", kubeconfig);

  if (alreadyUp || process.env.GRAFT_E2E_KEEP_CLUSTER === "1") return undefined;
  return async () => {
    const down = await cluster("down");
    if (down.code !== 0) throw new Error(`test/cluster/cluster.sh down failed (exit ${down.code})`);
  };
}
