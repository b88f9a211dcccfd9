/**
 * Which namespaces opted in (`graft.pnda.io/inject=enabled`), kept by a watch on Namespaces
 * (list once, then watch; listed again after a dropped watch), so an admission reads memory.
 *
 * Why: the route a review arrives on (`/mutate/namespace`) says the API server's selector
 * matched, but anyone who reaches the webhook's port can post to that route. Before graft
 * writes anything for a pod admitted because of its namespace, the namespace's label is checked
 * here; a forged review for a namespace that never opted in then changes nothing.
 */
import {
  CoreV1Api,
  type Informer,
  type KubeConfig,
  ListWatch,
  type ObjectCache,
  type V1Namespace,
  Watch,
} from "@kubernetes/client-node";
import { INJECT_ENABLED, LABEL_INJECT } from "../core/annotations.js";
import type { AdmissionFacts } from "./facts.js";
import type { AdmissionRequest } from "./review.js";

export type NamespaceInformer = Informer<V1Namespace> & ObjectCache<V1Namespace>;

export type NamespaceCache = {
  /** Whether `namespace` opted in and is not excluded; undefined until the first list answered. */
  optedIn(namespace: string): boolean | undefined;
  /** Resolves when the first list has answered, or after `timeoutMs` (then false). */
  synced(timeoutMs: number): Promise<boolean>;
  /** Resolves once the first list has answered (or rejects with why it could not). */
  start(): Promise<void>;
  stop(): Promise<void>;
};

export type NamespaceCacheOptions = {
  /** Never opted in, whatever their labels (kube-system, graft's own, configured ones). */
  excluded: ReadonlySet<string>;
  /** Told when the watch fails; it is restarted after `retryMs` (doubling up to 30 s). */
  onError?: (error: unknown) => void;
  retryMs?: number;
};

/** An informer on every Namespace (RBAC: namespaces list and watch). */
export function namespaceInformer(kubeConfig: KubeConfig): NamespaceInformer {
  const core = kubeConfig.makeApiClient(CoreV1Api);
  return new ListWatch<V1Namespace>("/api/v1/namespaces", new Watch(kubeConfig), () => core.listNamespace());
}

export function createNamespaceCache(
  informer: NamespaceInformer,
  options: NamespaceCacheOptions,
): NamespaceCache {
  const baseRetryMs = options.retryMs ?? 1000;
  let listed = false;
  let stopped = false;
  let retryMs = baseRetryMs;
  let retryTimer: NodeJS.Timeout | undefined;
  const waiting = new Set<() => void>();

  const markListed = () => {
    listed = true;
    for (const wake of waiting) wake();
    waiting.clear();
  };

  informer.on("connect", () => {
    retryMs = baseRetryMs;
  });

  let failure: unknown;
  /** Lists (and watches); ListWatch reports a failed list through "error", not by rejecting. */
  const attempt = async () => {
    failure = undefined;
    await informer.start();
    if (failure !== undefined) throw failure;
    markListed();
  };
  informer.on("error", (error) => {
    failure = error ?? new Error("the watch on Namespaces failed");
    options.onError?.(failure);
    if (stopped) return;
    clearTimeout(retryTimer);
    retryTimer = setTimeout(() => attempt().catch(() => {}), retryMs);
    retryTimer.unref();
    retryMs = Math.min(retryMs * 2, 30_000);
  });

  return {
    optedIn(namespace) {
      if (!listed) return undefined;
      if (options.excluded.has(namespace)) return false;
      return informer.get(namespace)?.metadata?.labels?.[LABEL_INJECT] === INJECT_ENABLED;
    },
    synced(timeoutMs) {
      if (listed) return Promise.resolve(true);
      return new Promise<boolean>((resolve) => {
        const wake = () => {
          clearTimeout(timer);
          resolve(true);
        };
        const timer = setTimeout(() => {
          waiting.delete(wake);
          resolve(false);
        }, timeoutMs);
        waiting.add(wake);
      });
    },
    start: async () => {
      stopped = false;
      await attempt();
    },
    stop: async () => {
      stopped = true;
      clearTimeout(retryTimer);
      for (const wake of waiting) wake();
      waiting.clear();
      await informer.stop();
    },
  };
}

/** How long an admission waits for the first list of Namespaces before it gives up. */
export const DEFAULT_SYNC_WAIT_MS = 2_000;

/** Thrown when a namespace's opt-in cannot be checked: the server answers 500, failurePolicy decides. */
export class NamespaceOptInUnknown extends Error {
  constructor(namespace: string) {
    super(
      `graft has not listed Namespaces yet, so it cannot check that namespace "${namespace}" has ` +
        `${LABEL_INJECT}=${INJECT_ENABLED}; the pod's controller retries`,
    );
    this.name = "NamespaceOptInUnknown";
  }
}

/**
 * The facts step that replaces what the route claims with what the cluster says: a pod that
 * arrived because of its namespace's label (`facts.namespaceOptIn` true) is injected only if
 * the watched Namespace has it. Other requests are unchanged: a pod's own label is in the
 * review itself (docs/install.md says what that leaves open), and workloads are only validated.
 */
export function verifyNamespaceOptIn(
  cache: Pick<NamespaceCache, "optedIn" | "synced">,
  { syncWaitMs = DEFAULT_SYNC_WAIT_MS } = {},
): (request: AdmissionRequest, facts: AdmissionFacts) => Promise<AdmissionFacts> {
  return async (request, facts) => {
    if (facts.namespaceOptIn !== true || request.kind.kind !== "Pod") return facts;
    const object = request.object as { metadata?: { namespace?: unknown } } | null | undefined;
    const inObject = object?.metadata?.namespace;
    const namespace = request.namespace || (typeof inObject === "string" ? inObject : "") || "default";
    let optedIn = cache.optedIn(namespace);
    if (optedIn === undefined && (await cache.synced(syncWaitMs))) optedIn = cache.optedIn(namespace);
    if (optedIn === undefined) throw new NamespaceOptInUnknown(namespace);
    return optedIn ? facts : { ...facts, namespaceOptIn: false };
  };
}
