/**
 * Renders the properties mount onto a pod (a `renderableCopy` the caller owns): a volume from the ConfigMap,
 * mounted read-only at `<mountPath>/application.properties` in every app container (not graft's
 * own), `GRAFT_PROPERTIES_FILE` naming the file, and the directory on a JVM's class path.
 *
 * The class path: `JAVA_TOOL_OPTIONS=-Xbootclasspath/a:<mountPath>`. Every HotSpot JVM (Java 8
 * on) reads it, whatever launched it (`java -jar`, `java -cp`, spark-submit, Flink's scripts), and
 * class loaders ask their parents first, so `getResource("application.properties")` finds the
 * merged file ahead of a copy inside the application's jar — as PNDA's `jar uf` replaced that
 * copy. `CLASSPATH` would not do: `-jar` and `-cp` ignore it, and setting it hides ".".
 * A value already in the container's env is kept and appended to; one from `valueFrom` cannot be
 * and is left alone, with a warning.
 */
import type { V1Container, V1EnvVar } from "@kubernetes/client-node";
import type { PodLike } from "../../model/kube.js";
import { PROPERTIES_KEY } from "./sources.js";

export const PROPERTIES_VOLUME = "graft-properties";
export const DEFAULT_MOUNT_PATH = "/etc/graft";
export const ENV_PROPERTIES_FILE = "GRAFT_PROPERTIES_FILE";
export const ENV_JAVA_TOOL_OPTIONS = "JAVA_TOOL_OPTIONS";
/** 0644: what the API server puts into a configMap volume that gives no defaultMode. */
export const CONFIGMAP_DEFAULT_MODE = 0o644;

export type MountSpec = {
  configMapName: string;
  mountPath: string;
  /** Containers that are graft's own (the agent), never given the file. */
  skipContainers: ReadonlySet<string>;
};

/** `-Xbootclasspath/a:<dir>`: the JVM option that puts the mount directory on the class path. */
export function classPathOption(mountPath: string): string {
  return `-Xbootclasspath/a:${mountPath}`;
}

export function propertiesFilePath(mountPath: string): string {
  return `${mountPath.replace(/\/+$/, "")}/${PROPERTIES_KEY}`;
}

/**
 * Adds the volume, mounts and env to `pod` in place and returns warnings for what it had to leave
 * alone. Rendering twice gives the same pod.
 */
export function renderPropertiesMount(pod: PodLike, spec: MountSpec): string[] {
  const warnings: string[] = [];
  const podSpec = pod.spec;
  if (!podSpec) return warnings;
  const mountPath = spec.mountPath.replace(/\/+$/, "");

  podSpec.volumes ??= [];
  // defaultMode as the API server would default it: rendered without it, the stored pod has it
  // and a second pass (the API server's reinvocation) would remove it again.
  const volume = {
    name: PROPERTIES_VOLUME,
    configMap: {
      name: spec.configMapName,
      items: [{ key: PROPERTIES_KEY, path: PROPERTIES_KEY }],
      defaultMode: CONFIGMAP_DEFAULT_MODE,
    },
  };
  const existing = podSpec.volumes.findIndex((v) => v.name === PROPERTIES_VOLUME);
  if (existing >= 0) podSpec.volumes[existing] = volume;
  else podSpec.volumes.push(volume);

  const containers = podSpec.containers ?? [];
  containers.forEach((received, index) => {
    if (spec.skipContainers.has(received.name)) return;
    const clash = received.volumeMounts?.find(
      (m) => m.name !== PROPERTIES_VOLUME && m.mountPath.replace(/\/+$/, "") === mountPath,
    );
    if (clash) {
      warnings.push(
        `container "${received.name}" already mounts volume "${clash.name}" at ${mountPath}, so graft did not mount application.properties there: set annotation graft.pnda.io/properties-mount-path to a free directory`,
      );
      return;
    }
    // The container and its lists are shared with the pod received: change a copy of them.
    const container = {
      ...received,
      volumeMounts: [...(received.volumeMounts ?? [])],
      env: [...(received.env ?? [])],
    };
    mountInto(container, mountPath);
    setEnv(container, { name: ENV_PROPERTIES_FILE, value: propertiesFilePath(mountPath) });
    const warning = appendJavaToolOptions(container, classPathOption(mountPath));
    if (warning) warnings.push(warning);
    containers[index] = container;
  });
  return warnings;
}

function mountInto(container: V1Container, mountPath: string): void {
  container.volumeMounts ??= [];
  const mount = { name: PROPERTIES_VOLUME, mountPath, readOnly: true };
  const existing = container.volumeMounts.findIndex((m) => m.name === PROPERTIES_VOLUME);
  if (existing >= 0) container.volumeMounts[existing] = mount;
  else container.volumeMounts.push(mount);
}

function setEnv(container: V1Container, variable: V1EnvVar): void {
  container.env ??= [];
  const existing = container.env.findIndex((e) => e.name === variable.name);
  if (existing >= 0) container.env[existing] = variable;
  else container.env.push(variable);
}

function appendJavaToolOptions(container: V1Container, option: string): string | undefined {
  container.env ??= [];
  const index = container.env.findIndex((e) => e.name === ENV_JAVA_TOOL_OPTIONS);
  const existing = container.env[index];
  if (/\s/.test(option)) {
    return `container "${container.name}": the properties mount path contains white space, which ${ENV_JAVA_TOOL_OPTIONS} cannot carry, so the JVM will not find application.properties on its class path: choose a path without spaces`;
  }
  if (existing?.valueFrom) {
    return `container "${container.name}" takes ${ENV_JAVA_TOOL_OPTIONS} from valueFrom, which graft cannot append to: add "${option}" to it yourself, or the JVM will not find application.properties on its class path`;
  }
  if (existing) {
    const current = existing.value ?? "";
    if (!current.split(/\s+/).includes(option))
      container.env[index] = { ...existing, value: current === "" ? option : `${current} ${option}` };
    return undefined;
  }
  container.env.push({ name: ENV_JAVA_TOOL_OPTIONS, value: option });
  if (container.envFrom?.length) {
    return `container "${container.name}" has envFrom: if it sets ${ENV_JAVA_TOOL_OPTIONS}, graft's value ("${option}") replaces it; set ${ENV_JAVA_TOOL_OPTIONS} in env instead, and graft appends to it`;
  }
  return undefined;
}
