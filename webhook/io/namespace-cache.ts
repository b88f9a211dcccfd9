/**
 * Which namespaces opted in (`graft.pnda.io/inject=enabled`), kept by a watch on Namespaces
 * (list once, then watch; listed again after a dropped watch), so an admission reads memory.
 * A namespace the watch does not (yet) show as opted in is read once from the API server before
 * graft acts on that answer: the label may have been set a moment ago (`kubectl label` then
 * `kubectl apply`), and the API server's selector saw it before graft's watch did.
 *
 * Why: the route a review arrives on (`/mutate/namespace`) says the API server's selector
 * matched, but anyone who reaches the webhook's port can post to that route. The namespace's
 * label is checked here before graft reads or writes anything for such a pod, and again right
 * before any write; a forged review for a namespace that never opted in changes nothing.
 */
import type { V1Namespace } from "@kubernetes/client-node";
import { INJECT_ENABLED, LABEL_INJECT } from "../../core/annotations.js";
import { withDeadline } from "../../core/deadline.js";
import type { AdmissionFacts } from "../model/facts.js";
import { podUnderReview } from "../pipeline/admission.js";
import type { AdmissionRequest } from "../pipeline/review.js";
import { hasStatus, type KubeClient, resourcePath } from "./kube/client.js";
import { createInformer, type Informer } from "./kube/informer.js";
import { PropertiesApiError } from "./properties/api.js";

export type NamespaceInformer = Pick<Informer<V1Namespace>, "start" | "stop" | "synced" | "get">;

export type NamespaceCache = {
  /** Whether `namespace` opted in and is not excluded, as watched; undefined until the first list answered. */
  optedIn(namespace: string): boolean | undefined;
  /**
   * The watched answer when it is yes; otherwise the namespace as the API server has it now
   * (`read`); undefined (unknown) when that read fails, takes over 2 s, or 4 are in flight.
   */
  confirm(namespace: string): Promise<boolean | undefined>;
  /** Resolves once the first list has answered (or rejects with why it could not). */
  start(): Promise<void>;
  stop(): Promise<void>;
};

/** A Namespace's labels from the API server; null when there is no such namespace. */
export type ReadNamespaceLabels = (name: string) => Promise<Record<string, string> | null>;

export type NamespaceCacheOptions = {
  /** Never opted in, whatever their labels (kube-system, graft's own, configured ones). */
  excluded: ReadonlySet<string>;
  /** Reads one Namespace when the watch says no (RBAC: namespaces get); absent: the watch decides. */
  read?: ReadNamespaceLabels;
  now?: () => number;
};

/** Reads of single Namespaces in flight at once, how long one may take, how long a "no" is kept. */
const MAX_CONCURRENT_READS = 4;
const READ_TIMEOUT_MS = 2_000;
const NO_REMEMBERED_MS = 1_000;
const MAX_REMEMBERED = 1_000;

/**
 * An informer on every Namespace (RBAC: namespaces list and watch). Told when the watch fails;
 * it is restarted after `retryMs` (doubling up to 30 s).
 */
export function namespaceInformer(
  client: KubeClient,
  { onError, retryMs }: { onError?: (error: unknown) => void; retryMs?: number } = {},
): NamespaceInformer {
  return createInformer<V1Namespace>(client, {
    what: "the watch on Namespaces",
    path: resourcePath({ apiVersion: "v1", resource: "namespaces" }),
    ...(onError ? { onError } : {}),
    ...(retryMs ? { retryMs } : {}),
  });
}

/** `get` of one Namespace; 404 is null. */
export function namespaceReader(client: KubeClient): ReadNamespaceLabels {
  return async (name) => {
    try {
      const namespace = await client.get<V1Namespace>(
        resourcePath({ apiVersion: "v1", resource: "namespaces", name }),
      );
      return namespace.metadata?.labels ?? {};
    } catch (error) {
      if (hasStatus(error, 404)) return null;
      throw error;
    }
  };
}

export function createNamespaceCache(
  informer: NamespaceInformer,
  options: NamespaceCacheOptions,
): NamespaceCache {
  const now = options.now ?? Date.now;
  const recentNo = new Map<string, number>();
  let reading = 0;

  const optedIn = (namespace: string): boolean | undefined => {
    if (!informer.synced()) return undefined;
    if (options.excluded.has(namespace)) return false;
    return informer.get(namespace)?.metadata?.labels?.[LABEL_INJECT] === INJECT_ENABLED;
  };

  return {
    optedIn,
    async confirm(namespace) {
      const watched = optedIn(namespace);
      if (watched === true || options.excluded.has(namespace) || !options.read) return watched;
      const saidNo = recentNo.get(namespace);
      if (saidNo !== undefined && saidNo > now()) return false;
      // Every forged review for an unlabelled namespace would cost the API server a read: a few
      // at a time, and a "no" is remembered for a second. Beyond that the answer is unknown
      // (graft then writes nothing: guardWrites).
      if (reading >= MAX_CONCURRENT_READS) return undefined;
      reading++;
      try {
        const labels = await withDeadline(options.read(namespace), READ_TIMEOUT_MS, "a Namespace read");
        if (labels?.[LABEL_INJECT] === INJECT_ENABLED) return true;
        recentNo.delete(namespace);
        recentNo.set(namespace, now() + NO_REMEMBERED_MS);
        while (recentNo.size > MAX_REMEMBERED) recentNo.delete(recentNo.keys().next().value!);
        return false;
      } catch {
        return undefined;
      } finally {
        reading--;
      }
    },
    start: informer.start,
    stop: informer.stop,
  };
}

/**
 * The facts step that replaces what the route claims with what the cluster says: a pod that
 * arrived because of its namespace's label (`facts.namespaceOptIn` true) is injected only if
 * the watched Namespace has it, so a forged review for a namespace that never opted in makes
 * graft read and write nothing. Before the first list answers the route is taken at its word
 * for the patch (which only the caller sees); writes are then held back by guardWrites.
 * A workload (only validated) gets its namespace's opt-in from the cache. Other requests are
 * unchanged: a pod's own label is in the review itself (docs/install.md says what that leaves open).
 */
export function verifyNamespaceOptIn(
  cache: Pick<NamespaceCache, "confirm">,
): (request: AdmissionRequest, facts: AdmissionFacts) => Promise<AdmissionFacts> {
  return async (request, facts) => {
    // A workload's route says nothing about its namespace: ask, so its template is checked as
    // its pods will be (an unknown answer leaves only the template's own label).
    if (facts.namespaceOptIn === undefined && podUnderReview(request)?.workload) {
      const optedIn = await cache.confirm(namespaceOf(request));
      return optedIn === undefined ? facts : { ...facts, namespaceOptIn: optedIn };
    }
    if (facts.namespaceOptIn !== true || request.kind.kind !== "Pod" || request.operation !== "CREATE") {
      return facts;
    }
    return (await cache.confirm(namespaceOf(request))) === false
      ? { ...facts, namespaceOptIn: false }
      : facts;
  };
}

/**
 * Checked right before graft writes for `request` (webhook/server/cli.ts, ensureObjects): the pod
 * opted in itself (its label, in the review), or its namespace did, as the watched Namespaces
 * say. Throws a PropertiesApiError otherwise (the properties feature's onFailure then decides:
 * by default the pod is refused and its controller retries).
 */
export function guardWrites(
  cache: Pick<NamespaceCache, "confirm">,
): (request: AdmissionRequest) => Promise<void> {
  return async (request) => {
    const object = request.object as { metadata?: { labels?: Record<string, unknown> } } | null | undefined;
    if (object?.metadata?.labels?.[LABEL_INJECT] === INJECT_ENABLED) return;
    const namespace = namespaceOf(request);
    const optedIn = await cache.confirm(namespace);
    if (optedIn === true) return;
    throw new PropertiesApiError(
      optedIn === undefined
        ? `graft could not read Namespaces, so it cannot check that namespace "${namespace}" has ${LABEL_INJECT}=${INJECT_ENABLED} before writing there`
        : `namespace "${namespace}" does not have ${LABEL_INJECT}=${INJECT_ENABLED}, and neither has the pod: graft writes nothing there`,
      undefined,
    );
  };
}

function namespaceOf(request: AdmissionRequest): string {
  const object = request.object as { metadata?: { namespace?: unknown } } | null | undefined;
  const inObject = object?.metadata?.namespace;
  return request.namespace || (typeof inObject === "string" ? inObject : "") || "default";
}
