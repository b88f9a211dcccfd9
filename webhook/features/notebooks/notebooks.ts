/**
 * Notebook sync (docs/design.md "What is injected" §2): the notebook container of a Jupyter pod gets a
 * postStart hook that syncs the user's `jupyter-<user>` repository into the notebooks folder
 * (see sync-script.ts for what a sync does). The script reaches the container by reference: a
 * read-only volume of the ConfigMap graft ensures in the pod's namespace (sync-configmap.ts), so
 * the hook itself is one short `sh FILE ARGS…`. A container with a postStart hook of its own
 * keeps it: the same command then runs as an init container on the same volumes instead.
 */
import { ANNOTATION } from "../../../core/annotations.js";
import {
  appContainers,
  containsAll,
  ensureList,
  ensureNamed,
  type Feature,
  type FeaturePlan,
  type PlanInput,
} from "../../model/feature.js";
import type { Container, PodLike } from "../../model/kube.js";
import { reason } from "../../model/reasons.js";
import { SYNC_CONFIGMAP_NAME, SYNC_VOLUME, syncConfigMap, syncMount, syncVolume } from "./sync-configmap.js";
import { isNotebookSyncCommand, notebookSyncCommand, SYNC_MOUNT_PATH } from "./sync-script.js";
import { checkNotebookFolder, checkNotebookUser, findNotebookUser, notebookRepoUrl } from "./target.js";

/** KubeSpawner names the single-user server's container `notebook`. */
export const NOTEBOOK_CONTAINER = "notebook";
export const SYNC_INIT_CONTAINER = "graft-notebook-sync";

export type NotebooksParams = {
  /** The repository URL, `{user}` replaced by a validated username. */
  repoUrl: string;
  folder: string;
  /** How long the container's start waits for the sync. */
  waitSeconds: number;
  /** How long the sync may run in all, the rest of it in the background. */
  limitSeconds: number;
  /** Files larger than this are not written. */
  maxFileBytes: number;
  /** Bytes one sync writes at most. */
  maxSyncBytes: number;
  /** Files one sync adds, updates or removes at most. */
  maxFiles: number;
  /** The container whose start the sync belongs to. */
  container: string;
  /** `postStart` on that container, or an init container when it has a postStart hook of its own. */
  via: "postStart" | "initContainer";
};

function notebookContainer(pod: Readonly<PodLike>): Container | undefined {
  const containers = appContainers(pod as PodLike);
  return containers.find((c) => c.name === NOTEBOOK_CONTAINER) ?? containers[0];
}

function hasOwnPostStart(container: Container): boolean {
  const postStart = container.lifecycle?.postStart;
  return postStart !== undefined && !isNotebookSyncCommand(postStart.exec?.command);
}

const under = (path: string, folder: string) => path === folder || path.startsWith(`${folder}/`);

/** The container's own mount at or above graft's script mount, which graft would shadow or be shadowed by. */
function mountInTheWay(container: Container): string | undefined {
  return (container.volumeMounts ?? []).find(
    ({ name, mountPath }) =>
      name !== SYNC_VOLUME &&
      (under(SYNC_MOUNT_PATH, mountPath.replace(/\/+$/, "")) || under(mountPath, SYNC_MOUNT_PATH)),
  )?.name;
}

/** True when `folder` is on one of the container's volumes, so an init container can reach it. */
function onAVolume(container: Container, folder: string): boolean {
  return (container.volumeMounts ?? []).some(({ mountPath }) => {
    const mount = mountPath.replace(/\/+$/, "");
    return mount === "" || folder === mount || folder.startsWith(`${mount}/`);
  });
}

const skipWithWarning = (why: string): FeaturePlan<NotebooksParams> => ({
  skip: reason("notebooks-target-invalid", why),
  warnings: [`graft: notebook sync not injected: ${why}`],
});

export function planNotebooks({
  pod,
  namespace,
  intent,
  componentType,
  facts,
}: PlanInput): FeaturePlan<NotebooksParams> {
  if (intent.notebooks === false) {
    return { skip: reason("disabled", `annotation "${ANNOTATION.notebooks}" is "false"`) };
  }
  if (intent.notebooks !== true && componentType !== "jupyter") {
    return {
      skip: reason(
        "off-by-default",
        `component type is ${componentType}, not jupyter, and "${ANNOTATION.notebooks}" is not "true"`,
      ),
    };
  }
  const source = findNotebookUser(pod.metadata?.labels, pod.metadata?.annotations);
  if (!source) {
    return skipWithWarning(
      `the pod names no user: KubeSpawner's hub.jupyter.org/username is missing; set annotation "${ANNOTATION.notebooksUser}"`,
    );
  }
  const user = checkNotebookUser(source);
  if (!user.ok) return skipWithWarning(user.error);
  const folder = checkNotebookFolder(facts.config.notebooks.folder);
  if (!folder.ok) return skipWithWarning(folder.error);
  if (under(folder.value, SYNC_MOUNT_PATH)) {
    return skipWithWarning(
      `notebooks.folder ${folder.value} is within ${SYNC_MOUNT_PATH}, where graft mounts the sync script`,
    );
  }
  const container = notebookContainer(pod);
  if (!container) return skipWithWarning("the pod has no container to sync notebooks for");
  const inTheWay = mountInTheWay(container);
  if (inTheWay) {
    return skipWithWarning(
      `container "${container.name}" mounts volume "${inTheWay}" at or around ${SYNC_MOUNT_PATH}, where graft mounts the sync script`,
    );
  }
  if (facts.notebooks?.unavailable) {
    return {
      skip: reason(
        "notebooks-unavailable",
        `ConfigMap ${namespace}/${SYNC_CONFIGMAP_NAME} (the sync script) could not be made: ${facts.notebooks.unavailable}`,
      ),
      warnings: [
        `graft: notebook sync not injected: ConfigMap ${SYNC_CONFIGMAP_NAME} (the sync script) could not be made: ${facts.notebooks.unavailable}`,
      ],
    };
  }
  const create = [syncConfigMap(namespace)];

  const params: NotebooksParams = {
    repoUrl: notebookRepoUrl(facts.config.notebooks.repoTemplate, user.value),
    folder: folder.value,
    waitSeconds: facts.config.notebooks.waitSeconds,
    limitSeconds: facts.config.notebooks.limitSeconds,
    maxFileBytes: facts.config.notebooks.maxFileBytes,
    maxSyncBytes: facts.config.notebooks.maxSyncBytes,
    maxFiles: facts.config.notebooks.maxFiles,
    container: container.name,
    via: "postStart",
  };
  if (!hasOwnPostStart(container)) return { apply: params, create };
  if (!onAVolume(container, folder.value)) {
    return skipWithWarning(
      `container "${container.name}" has a postStart hook of its own, which graft keeps, and ${folder.value} is on no volume an init container could sync instead`,
    );
  }
  return {
    // An init container's processes end with it: nothing can go on in the background.
    apply: { ...params, via: "initContainer", limitSeconds: params.waitSeconds },
    create,
    warnings: [
      `graft: container "${container.name}" has a postStart hook of its own, which graft keeps: notebooks are synced by init container "${SYNC_INIT_CONTAINER}" before it starts instead`,
    ],
  };
}

/** Resource requests and limits the init container copies, so the pod asks for no more than before. */
function cpuAndMemory(container: Container): Container["resources"] {
  const pick = (list: Record<string, string> | undefined) => {
    const picked = Object.fromEntries(
      Object.entries(list ?? {}).filter(([name]) => name === "cpu" || name === "memory"),
    );
    return Object.keys(picked).length > 0 ? picked : undefined;
  };
  const requests = pick(container.resources?.requests);
  const limits = pick(container.resources?.limits);
  return requests || limits ? { ...(requests && { requests }), ...(limits && { limits }) } : undefined;
}

/** `mounts` with the script's volume mount ensured (kept as it is when already there). */
function withSyncMount(mounts: Container["volumeMounts"]): NonNullable<Container["volumeMounts"]> {
  const list = [...(mounts ?? [])];
  ensureNamed(list, syncMount());
  return list;
}

/**
 * The init container that stands in for the hook: the notebook's image, user, volumes and HOME,
 * so it writes the same files as the hook would, owned by the same user; and the script's volume.
 */
export function syncInitContainer(container: Container, command: string[]): Container {
  const home = container.env?.filter((variable) => variable.name === "HOME");
  const resources = cpuAndMemory(container);
  const mounts = (container.volumeMounts ?? []).filter((mount) => mount.name !== SYNC_VOLUME);
  return {
    name: SYNC_INIT_CONTAINER,
    image: container.image,
    ...(container.imagePullPolicy && { imagePullPolicy: container.imagePullPolicy }),
    command,
    ...(home && home.length > 0 && { env: home }),
    volumeMounts: withSyncMount(mounts),
    ...(container.securityContext && { securityContext: container.securityContext }),
    ...(resources && { resources }),
  };
}

export function renderNotebooks(pod: PodLike, params: NotebooksParams): void {
  const containers = pod.spec?.containers ?? [];
  const index = containers.findIndex((c) => c.name === params.container);
  const container = containers[index];
  if (!container) return;
  const command = notebookSyncCommand(params);
  ensureNamed(ensureList(pod, "volumes"), syncVolume());
  if (params.via === "initContainer") {
    ensureNamed(ensureList(pod, "initContainers"), syncInitContainer(container, command));
    return;
  }
  const postStart = { exec: { command } };
  const mounted = container.volumeMounts?.some((mount) => containsAll(mount, syncMount()));
  if (containsAll(container.lifecycle?.postStart, postStart) && mounted) return;
  containers[index] = {
    ...container,
    ...(!mounted && { volumeMounts: withSyncMount(container.volumeMounts) }),
    lifecycle: { ...container.lifecycle, postStart },
  };
}

export const notebooksFeature: Feature<NotebooksParams> = {
  name: "notebooks",
  plan: planNotebooks,
  render: renderNotebooks,
};
