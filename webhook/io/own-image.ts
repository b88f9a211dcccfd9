/**
 * The image of the container the webhook runs in, read once at start-up from its own pod
 * (POD_NAME and POD_NAMESPACE, from the Downward API). The agent sidecar defaults to it, so one
 * `images:` entry (kustomize) moves the webhook and the agents it injects together, and the two
 * never run different versions. Outside a pod, or when the pod cannot be read, the config's
 * default stands.
 */
import type { V1Pod } from "@kubernetes/client-node";
import { errorMessage } from "../../core/result.js";
import { type KubeClient, resourcePath } from "./kube/client.js";

/** The name manifests/base gives the webhook's container. */
export const WEBHOOK_CONTAINER = "webhook";

export type OwnImage = { image: string } | { reason: string };

/** The webhook container's image in `pod`: the container named webhook, else the only one. */
export function imageOf(pod: V1Pod): string | undefined {
  const containers = pod.spec?.containers ?? [];
  const container =
    containers.find((c) => c.name === WEBHOOK_CONTAINER) ??
    (containers.length === 1 ? containers[0] : undefined);
  return container?.image || undefined;
}

/**
 * Reads the webhook's own pod: a list by name (the webhook may already list pods, for the
 * properties clean-up, so this needs no further RBAC). Never throws.
 */
export async function readOwnImage(
  client: KubeClient,
  env: Readonly<Record<string, string | undefined>>,
): Promise<OwnImage> {
  const name = env.POD_NAME;
  const namespace = env.POD_NAMESPACE;
  if (!name || !namespace) return { reason: "POD_NAME and POD_NAMESPACE are not set (not in a pod)" };
  try {
    const pods = await client.list<V1Pod>(resourcePath({ apiVersion: "v1", resource: "pods", namespace }), {
      fieldSelector: `metadata.name=${name}`,
    });
    const pod = pods.items[0];
    if (!pod) return { reason: `pod ${namespace}/${name} was not found` };
    const image = imageOf(pod);
    return image ? { image } : { reason: `pod ${namespace}/${name} has no container "${WEBHOOK_CONTAINER}"` };
  } catch (error) {
    return { reason: `pod ${namespace}/${name} could not be read: ${errorMessage(error)}` };
  }
}
