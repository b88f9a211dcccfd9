/**
 * graft's own images for the tests: built by scripts/image.sh (buildah, no registry, private
 * storage), once per content key, and run with podman on runc as they would run in a pod.
 */
import { execFile } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const REPO = fileURLToPath(new URL("../..", import.meta.url));
const IMAGE_SH = path.join(REPO, "scripts", "image.sh");

export type Built = { ref: string; id: string; archive: string };
export type Images = { graft: Built; notebookGit: Built; buildLog: string };
export type Ran = { code: number; stdout: string; stderr: string };

/** Runs a command to its end without throwing on a non-zero exit. */
export function exec(
  command: string,
  args: string[],
  options: { env?: NodeJS.ProcessEnv; timeoutMs?: number; input?: string } = {},
): Promise<Ran> {
  return new Promise((resolve) => {
    const child = execFile(
      command,
      args,
      { env: options.env, timeout: options.timeoutMs ?? 120_000, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === "number" ? error.code : -1;
        resolve({ code, stdout, stderr });
      },
    );
    if (options.input !== undefined) child.stdin?.end(options.input);
  });
}

/** Builds (or finds, when nothing changed) graft's image and the notebook git server's. */
export async function buildImages(): Promise<Images> {
  const built = await exec("bash", [IMAGE_SH, "build"], { timeoutMs: 20 * 60_000 });
  if (built.code !== 0)
    throw new Error(`scripts/image.sh build failed (${built.code}):\n${built.stderr.slice(-8000)}`);
  const images = new Map<string, Built>();
  for (const line of built.stdout.trim().split("\n")) {
    const [ref = "", id = "", archive = ""] = line.split(" ");
    images.set(ref.replace(/:[^:/]+$/, ""), { ref, id, archive });
  }
  const graft = images.get("ghcr.io/graft/graft");
  const notebookGit = images.get("ghcr.io/graft/graft-notebook-git");
  if (!graft || !notebookGit)
    throw new Error(`unexpected output of scripts/image.sh build:\n${built.stdout}`);
  return { graft, notebookGit, buildLog: built.stderr };
}

/** The environment that points podman at scripts/image.sh's private storage. */
export async function containersEnv(): Promise<NodeJS.ProcessEnv> {
  const printed = await exec("bash", [IMAGE_SH, "env"]);
  if (printed.code !== 0) throw new Error(`scripts/image.sh env failed: ${printed.stderr}`);
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const match of printed.stdout.matchAll(/^export (\w+)=(\S+)$/gm)) {
    const [, name = "", value = ""] = match;
    env[name] = value;
  }
  return env;
}

/**
 * `podman run` on runc as a pod's container runs: no network, read-only root filesystem
 * unless asked otherwise. The ulimits are explicit because this VM lacks CAP_SYS_RESOURCE.
 */
export function podmanRun(
  env: NodeJS.ProcessEnv,
  image: string,
  options: { entrypoint?: string[]; user?: string; args?: string[]; extra?: string[] } = {},
): Promise<Ran> {
  const args = ["--runtime", "runc", "run", "--rm", "--read-only", "--network", "none"];
  args.push("--ulimit", "nofile=4096:4096", "--ulimit", "nproc=4096:4096");
  if (options.user !== undefined) args.push("--user", options.user);
  if (options.entrypoint !== undefined) args.push("--entrypoint", JSON.stringify(options.entrypoint));
  args.push(...(options.extra ?? []), image, ...(options.args ?? []));
  return exec("podman", args, { env });
}

export function imageScript(args: string[], env?: NodeJS.ProcessEnv): Promise<Ran> {
  return exec("bash", [IMAGE_SH, ...args], { env, timeoutMs: 20 * 60_000 });
}
