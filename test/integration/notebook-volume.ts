/**
 * The notebook sync script's volume as the kubelet fills it, for tests that run the hook on this
 * machine: the ConfigMap the admission decision asks graft to make, written key by key as the
 * pod's configMap volume lists them (with their mode) into a fresh folder that stands for the
 * mount path, and the hook's command with that folder in place of the mount path. So the tests
 * run exactly the text graft ships in the ConfigMap, reached through the pod's own volume, mount
 * and command — not a copy of the script.
 */
import { chmodSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { KubernetesObject, V1ConfigMap } from "@kubernetes/client-node";
import type { Container, PodLike } from "../../webhook/model/kube.js";

export type SyncVolume = {
  /** The command with the mount path replaced by `dir`. */
  command: string[];
  /** The folder holding the volume's files (remove it when done). */
  dir: string;
};

/**
 * Fills the volume that `container` (a container or init container of the admitted `pod`) mounts
 * for its sync command, from the ConfigMaps in `created`; `command` is that container's hook (or
 * its own command for an init container). Fails when any link is missing: a volume naming a
 * ConfigMap the decision did not ask for, a key the ConfigMap lacks, a command not reading from it.
 */
export function fillSyncVolume(
  pod: PodLike,
  created: readonly KubernetesObject[],
  container: Container,
  command: readonly string[],
): SyncVolume {
  for (const mount of container.volumeMounts ?? []) {
    const volume = pod.spec?.volumes?.find((v) => v.name === mount.name);
    const source = volume?.configMap;
    if (!source) continue;
    const mountPath = mount.mountPath.replace(/\/+$/, "");
    if (!command.some((arg) => arg.startsWith(`${mountPath}/`))) continue;
    const configMap = created.find(
      (object): object is V1ConfigMap => object.kind === "ConfigMap" && object.metadata?.name === source.name,
    );
    if (!configMap)
      throw new Error(`volume ${mount.name} names ConfigMap ${source.name}, which graft did not ask to make`);
    if (mount.readOnly !== true) throw new Error(`volume ${mount.name} is not mounted read-only`);
    const dir = mkdtempSync(join(tmpdir(), "graft-sync-volume-"));
    chmodSync(dir, 0o755);
    const items: { key: string; path: string; mode?: number }[] =
      source.items ?? Object.keys(configMap.data ?? {}).map((key) => ({ key, path: key }));
    for (const item of items) {
      const text = configMap.data?.[item.key];
      if (text === undefined) throw new Error(`ConfigMap ${source.name} has no key ${item.key}`);
      const file = join(dir, item.path);
      writeFileSync(file, text);
      chmodSync(file, item.mode ?? source.defaultMode ?? 0o644);
    }
    const mapped = command.map((arg) =>
      arg.startsWith(`${mountPath}/`) ? dir + arg.slice(mountPath.length) : arg,
    );
    return { command: mapped, dir };
  }
  throw new Error(
    `container ${container.name} mounts no ConfigMap volume its command reads from: ${command.join(" ")}`,
  );
}
