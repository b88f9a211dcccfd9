// graft installed on the real node the way a user installs it, for node tests beyond
// install.node.test.ts: graft's images (scripts/image.sh build) and the test workloads' images
// (scripts/image.sh test-images) imported into the node's containerd, then
// manifests/overlays/provided-certs/install.sh. Files of the node project run one at a time
// (fileParallelism: false), so each may install and uninstall the cluster-wide `graft` webhook.
import { fileURLToPath } from "node:url";
import * as k8s from "@kubernetes/client-node";
import { eventually, kubeConfig, kubeconfigPath } from "../e2e/kube.js";
import { type Ran, run } from "../services/spawn.js";

export const repo = fileURLToPath(new URL("../../", import.meta.url));
const clusterScript = fileURLToPath(new URL("../cluster/cluster.sh", import.meta.url));
const installScript = fileURLToPath(
  new URL("../../manifests/overlays/provided-certs/install.sh", import.meta.url),
);

export const GRAFT = "graft";
export const AGENT = "graft-agent";
export const AGENT_PORT = 9464;

/** The images `scripts/image.sh test-images` builds (test/node/images/*). */
export const JUPYTER_IMAGE = "graft.local/jupyter:1";
export const JVM_IMAGE = "graft.local/jvm:1";
export const SPARK_IMAGE = "graft.local/spark:1";

export function bash(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Ran> {
  return run("bash", args, { cwd: repo, env: { GRAFT_CLUSTER_NODE: "real", ...env } });
}

export async function must(what: string, ran: Promise<Ran>): Promise<string> {
  const { code, stdout, stderr } = await ran;
  if (code !== 0) throw new Error(`${what} failed (exit ${code}):\n${stderr.slice(-4000)}`);
  return stdout;
}

/** Prints how long a phase took, prefixed `[TAG]` (docs and README figures come from these). */
export async function timed<T>(tag: string, what: string, phase: () => Promise<T>): Promise<T> {
  const started = Date.now();
  const result = await phase();
  process.stdout.write(`[${tag}] ${what}: ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  return result;
}

let kubectlBin = "";

/** The path of the control plane's own kubectl (1.33, kustomize built in). */
export async function kubectlPath(): Promise<string> {
  if (!kubectlBin) {
    const env = await must("cluster.sh env", bash([clusterScript, "--real-node", "env"]));
    const bin = /GRAFT_CLUSTER_BIN=(\S+)/.exec(env)?.[1]?.replace(/^['"]|['"]$/g, "");
    if (!bin) throw new Error(`cluster.sh env printed no GRAFT_CLUSTER_BIN:\n${env}`);
    kubectlBin = `${bin}/kubectl`;
  }
  return kubectlBin;
}

/** That kubectl on the node's cluster. */
export async function kubectl(args: string[], input?: string): Promise<Ran> {
  return run(await kubectlPath(), [`--kubeconfig=${kubeconfigPath()}`, ...args], {
    cwd: repo,
    ...(input === undefined ? {} : { input }),
  });
}

/**
 * Builds (or reuses by content key) `scripts/image.sh COMMAND`'s images and imports them (only
 * the references in `only`, when given: each import of a big image costs seconds).
 */
async function buildAndImport(
  tag: string,
  command: "build" | "test-images",
  only?: readonly string[],
): Promise<void> {
  const built = await timed(tag, `scripts/image.sh ${command}`, () =>
    must(`scripts/image.sh ${command}`, bash([`${repo}scripts/image.sh`, command])),
  );
  const lines = [...built.matchAll(/^(\S+) \S+ (\S+\.tar)$/gm)];
  const archives = lines.filter((m) => !only || only.includes(m[1] ?? "")).map((m) => m[2] ?? "");
  if (archives.length < (only?.length ?? 2))
    throw new Error(`scripts/image.sh ${command} printed no images (or not ${only?.join(", ")}):\n${built}`);
  await timed(tag, `ctr images import (${archives.length} images)`, async () => {
    for (const archive of archives)
      await must(
        "ctr images import",
        bash([clusterScript, "--real-node", "ctr", "images", "import", archive]),
      );
  });
}

/**
 * graft's images (and, unless `testImages` is false, the test workloads' — all, or the ones
 * named) on the node, then graft installed and rolled out.
 */
export async function installGraft(
  tag: string,
  { testImages = true }: { testImages?: boolean | readonly string[] } = {},
): Promise<void> {
  await buildAndImport(tag, "build");
  if (testImages) await buildAndImport(tag, "test-images", testImages === true ? undefined : testImages);
  const kubectlBinary = await kubectlPath();
  await timed(tag, "install.sh (to the webhook rolled out)", () =>
    must(
      "install.sh",
      bash([installScript], {
        KUBECTL: `${kubectlBinary} --kubeconfig ${kubeconfigPath()}`,
        GRAFT: `${process.execPath} ${repo}bin/graft.js`,
      }),
    ),
  );
}

/** Removes what installGraft and manifests/console made; waits for the namespaces to go. */
export async function uninstallGraft(tag: string, namespaces: string[]): Promise<void> {
  const core = kubeConfig().makeApiClient(k8s.CoreV1Api);
  const admission = kubeConfig().makeApiClient(k8s.AdmissionregistrationV1Api);
  for (const name of namespaces) await core.deleteNamespace({ name }).catch(() => undefined);
  // The webhook configuration first, so nothing is refused while the pods go.
  await admission.deleteMutatingWebhookConfiguration({ name: GRAFT }).catch(() => undefined);
  for (const dir of ["manifests/console", "manifests/overlays/provided-certs"]) {
    const { code, stderr } = await kubectl([
      "delete",
      "--ignore-not-found",
      "--wait=false",
      "-k",
      `${repo}${dir}`,
    ]);
    if (code !== 0) process.stderr.write(`uninstall ${dir}: ${stderr}\n`);
  }
  const gone = [GRAFT, ...namespaces];
  await timed(tag, "uninstall", () =>
    eventually(
      "namespaces gone",
      async () => !(await core.listNamespace()).items.some((n) => gone.includes(n.metadata?.name ?? "")),
      { timeoutMs: 120_000, intervalMs: 1000 },
    ),
  ).catch((err: unknown) => process.stderr.write(`uninstall: ${String(err)}\n`));
}

export const isReady = (pod: k8s.V1Pod | undefined): boolean =>
  pod?.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") ?? false;

/** Waits until pod NAME is Ready; returns it. */
export function podReady(
  core: k8s.CoreV1Api,
  namespace: string,
  name: string,
  timeoutMs = 120_000,
): Promise<k8s.V1Pod> {
  return eventually(
    `pod ${namespace}/${name} Ready`,
    async () => {
      const pod = await core.readNamespacedPod({ name, namespace });
      return isReady(pod) ? pod : undefined;
    },
    { timeoutMs, intervalMs: 500 },
  );
}
