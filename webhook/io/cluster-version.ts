/**
 * Whether the agent goes in as a native sidecar (an init container with `restartPolicy: Always`).
 * Native sidecars are on by default from Kubernetes 1.29 (beta; alpha and gated off in 1.28),
 * so `auto` asks the API server's /version once at start-up and the answer is kept for the
 * life of the process: no API call per admission.
 */
import { errorMessage } from "../../core/result.js";
import type { KubeClient } from "./kube/client.js";

export type NativeSidecarMode = "auto" | "always" | "never";

/** The fields of the API server's /version graft reads. */
export type ServerVersion = { major: string; minor: string; gitVersion?: string };

export type NativeSidecarDecision = { native: boolean; reason: string };

const FIRST_NATIVE_MINOR = 29;

/**
 * Reads "1" / "29+" (managed clusters append "+") or, failing that, gitVersion "v1.29.3-eks-…".
 * Returns undefined when neither says which release the server is.
 */
export function parseServerVersion(version: ServerVersion): { major: number; minor: number } | undefined {
  const major = Number.parseInt(version.major, 10);
  const minor = Number.parseInt(version.minor, 10);
  if (Number.isInteger(major) && Number.isInteger(minor)) return { major, minor };
  const match = /^v?(\d+)\.(\d+)/.exec(version.gitVersion ?? "");
  if (!match) return undefined;
  return { major: Number(match[1]), minor: Number(match[2]) };
}

export function supportsNativeSidecars(version: ServerVersion): boolean {
  const parsed = parseServerVersion(version);
  if (!parsed) return false;
  return parsed.major > 1 || (parsed.major === 1 && parsed.minor >= FIRST_NATIVE_MINOR);
}

/**
 * Decides once, at start-up. When `auto` cannot learn the version, the agent goes in as a
 * regular container — that works on every cluster — and the reason says why.
 */
export async function decideNativeSidecars(
  mode: NativeSidecarMode,
  fetchVersion: () => Promise<ServerVersion>,
): Promise<NativeSidecarDecision> {
  if (mode === "always") return { native: true, reason: "nativeSidecars: always" };
  if (mode === "never") return { native: false, reason: "nativeSidecars: never" };
  let version: ServerVersion;
  try {
    version = await fetchVersion();
  } catch (error) {
    return {
      native: false,
      reason: `could not read the API server's version (${errorMessage(error)}); using a regular container`,
    };
  }
  const shown = version.gitVersion ?? `${version.major}.${version.minor}`;
  return supportsNativeSidecars(version)
    ? { native: true, reason: `API server ${shown} supports native sidecars` }
    : {
        native: false,
        reason: `API server ${shown} is older than 1.${FIRST_NATIVE_MINOR}; using a regular container`,
      };
}

/** Asks the API server for its /version. */
export function fetchServerVersion(client: KubeClient): () => Promise<ServerVersion> {
  return () => client.get<ServerVersion>("/version");
}
