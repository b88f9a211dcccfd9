import type { V1Namespace } from "@kubernetes/client-node";
import { describe, expect, it, vi } from "vitest";
import { defaultWebhookConfig } from "./config.js";
import type { AdmissionFacts } from "./facts.js";
import {
  createNamespaceCache,
  type NamespaceInformer,
  NamespaceOptInUnknown,
  verifyNamespaceOptIn,
} from "./namespace-cache.js";
import type { AdmissionRequest } from "./review.js";

type Callback = (arg?: unknown) => void;

/** An informer whose lists answer what the test says (held back until `release` when asked). */
function fakeInformer(lists: Array<V1Namespace[] | Error>, { held = false } = {}) {
  const callbacks = new Map<string, Callback[]>();
  let objects: V1Namespace[] = [];
  let release = () => {};
  const gate = held ? new Promise<void>((resolve) => (release = resolve)) : Promise.resolve();
  const emit = (verb: string, arg?: unknown) => {
    for (const cb of callbacks.get(verb) ?? []) cb(arg);
  };
  const informer = {
    on: (verb: string, cb: Callback) => callbacks.set(verb, [...(callbacks.get(verb) ?? []), cb]),
    off: () => {},
    start: async () => {
      await gate;
      emit("connect");
      const next = lists.shift() ?? [];
      if (next instanceof Error) return emit("error", next);
      objects = next;
    },
    stop: async () => {},
    get: (name: string) => objects.find((ns) => ns.metadata?.name === name),
    list: () => objects,
  };
  const relabel = (name: string, labels: Record<string, string>) => {
    objects = [...objects.filter((ns) => ns.metadata?.name !== name), { metadata: { name, labels } }];
  };
  return { informer: informer as unknown as NamespaceInformer, release: () => release(), relabel };
}

const ns = (name: string, labels: Record<string, string> = {}): V1Namespace => ({
  metadata: { name, labels },
});
const ENABLED = { "graft.pnda.io/inject": "enabled" };
const excluded = new Set(["kube-system", "graft"]);

function podReview(namespace: string): AdmissionRequest {
  return {
    uid: "u1",
    kind: { group: "", version: "v1", kind: "Pod" },
    resource: { group: "", version: "v1", resource: "pods" },
    namespace,
    operation: "CREATE",
    object: { metadata: { name: "p" }, spec: { containers: [{ name: "c", image: "i" }] } },
  } as AdmissionRequest;
}

const facts = (namespaceOptIn: boolean | undefined): AdmissionFacts => ({
  config: defaultWebhookConfig(),
  nativeSidecars: true,
  namespaceOptIn,
});

describe("createNamespaceCache", () => {
  it("knows nothing before the first list, then which namespaces have inject=enabled", async () => {
    const { informer, relabel } = fakeInformer([
      [ns("apps", ENABLED), ns("victim"), ns("kube-system", ENABLED)],
    ]);
    const cache = createNamespaceCache(informer, { excluded });
    expect(cache.optedIn("apps")).toBeUndefined();
    await cache.start();
    expect(cache.optedIn("apps")).toBe(true);
    expect(cache.optedIn("victim")).toBe(false);
    expect(cache.optedIn("no-such-namespace")).toBe(false);
    // Excluded namespaces never count as opted in, whatever their labels.
    expect(cache.optedIn("kube-system")).toBe(false);
    relabel("victim", { "graft.pnda.io/inject": "enabled" });
    expect(cache.optedIn("victim")).toBe(true);
    relabel("apps", { "graft.pnda.io/inject": "disabled" });
    expect(cache.optedIn("apps")).toBe(false);
  });

  it("rejects start when the list fails, and lists again after retryMs", async () => {
    const errors: unknown[] = [];
    const { informer } = fakeInformer([new Error("forbidden: namespaces"), [ns("apps", ENABLED)]]);
    const cache = createNamespaceCache(informer, { excluded, retryMs: 10, onError: (e) => errors.push(e) });
    await expect(cache.start()).rejects.toThrow("forbidden: namespaces");
    expect(cache.optedIn("apps")).toBeUndefined();
    await vi.waitFor(() => expect(cache.optedIn("apps")).toBe(true));
    expect(errors).toHaveLength(1);
    await cache.stop();
  });

  it("tells a waiting admission when the first list arrives, or gives up after its wait", async () => {
    const { informer, release } = fakeInformer([[ns("apps", ENABLED)]], { held: true });
    const cache = createNamespaceCache(informer, { excluded });
    expect(await cache.synced(5)).toBe(false);
    const started = cache.start();
    const waiting = cache.synced(60_000);
    release();
    await started;
    expect(await waiting).toBe(true);
  });
});

describe("verifyNamespaceOptIn", () => {
  const cache = (answer: boolean | undefined) => ({
    optedIn: () => answer,
    synced: async () => answer !== undefined,
  });

  it("keeps the namespace route's opt-in when the watched Namespace has the label", async () => {
    const verified = await verifyNamespaceOptIn(cache(true))(podReview("apps"), facts(true));
    expect(verified.namespaceOptIn).toBe(true);
  });

  it("withdraws it when the Namespace does not (a forged review for another namespace)", async () => {
    const verified = await verifyNamespaceOptIn(cache(false))(podReview("victim"), facts(true));
    expect(verified.namespaceOptIn).toBe(false);
  });

  it("refuses to guess before Namespaces were listed, naming the namespace", async () => {
    const verify = verifyNamespaceOptIn(cache(undefined), { syncWaitMs: 5 });
    await expect(verify(podReview("apps"), facts(true))).rejects.toThrow(NamespaceOptInUnknown);
    await expect(verify(podReview("apps"), facts(true))).rejects.toThrow('namespace "apps"');
  });

  it("leaves the pod route and workloads as they are (their opt-in is not the namespace's)", async () => {
    const verify = verifyNamespaceOptIn(cache(undefined), { syncWaitMs: 5 });
    expect((await verify(podReview("apps"), facts(false))).namespaceOptIn).toBe(false);
    expect((await verify(podReview("apps"), facts(undefined))).namespaceOptIn).toBeUndefined();
  });
});
