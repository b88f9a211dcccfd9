import type { V1Namespace } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { defaultWebhookConfig } from "../model/config.js";
import type { AdmissionFacts } from "../model/facts.js";
import type { AdmissionRequest } from "../pipeline/review.js";
import {
  createNamespaceCache,
  guardWrites,
  type NamespaceInformer,
  verifyNamespaceOptIn,
} from "./namespace-cache.js";
import { PropertiesApiError } from "./properties/api.js";

/** An informer whose lists answer what the test says (held back until `release` when asked). */
function fakeInformer(lists: Array<V1Namespace[] | Error>, { held = false } = {}) {
  let objects: V1Namespace[] = [];
  let synced = false;
  let release = () => {};
  const gate = held ? new Promise<void>((resolve) => (release = resolve)) : Promise.resolve();
  const informer: NamespaceInformer = {
    start: async () => {
      await gate;
      const next = lists.shift() ?? [];
      if (next instanceof Error) throw next;
      objects = next;
      synced = true;
    },
    stop: async () => {},
    synced: () => synced,
    get: (name: string) => objects.find((ns) => ns.metadata?.name === name),
  };
  const relabel = (name: string, labels: Record<string, string>) => {
    objects = [...objects.filter((ns) => ns.metadata?.name !== name), { metadata: { name, labels } }];
  };
  return { informer, release: () => release(), relabel };
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

  it("rejects start when the list fails, and knows nothing until a list answers", async () => {
    const { informer } = fakeInformer([new Error("forbidden: namespaces"), [ns("apps", ENABLED)]]);
    const cache = createNamespaceCache(informer, { excluded });
    await expect(cache.start()).rejects.toThrow("forbidden: namespaces");
    expect(cache.optedIn("apps")).toBeUndefined();
    // The informer lists again by itself (webhook/io/kube/informer.test.ts); here, by hand.
    await cache.start();
    expect(cache.optedIn("apps")).toBe(true);
    await cache.stop();
  });
});

describe("NamespaceCache.confirm", () => {
  it("asks the API server when the watch says no (a label set a moment ago), never for an excluded namespace", async () => {
    const reads: string[] = [];
    const { informer } = fakeInformer([[ns("apps", ENABLED), ns("fresh"), ns("victim")]]);
    const cache = createNamespaceCache(informer, {
      excluded,
      read: async (name) => {
        reads.push(name);
        return name === "fresh" ? ENABLED : name === "gone" ? null : {};
      },
    });
    // Not listed yet: the read decides.
    expect(await cache.confirm("fresh")).toBe(true);
    await cache.start();
    reads.length = 0;
    expect(await cache.confirm("apps")).toBe(true);
    expect(await cache.confirm("fresh")).toBe(true);
    expect(await cache.confirm("victim")).toBe(false);
    expect(await cache.confirm("gone")).toBe(false);
    expect(await cache.confirm("kube-system")).toBe(false);
    expect(reads).toEqual(["fresh", "victim", "gone"]);
  });

  it("says unknown when the read fails", async () => {
    const { informer } = fakeInformer([[ns("victim")]]);
    const cache = createNamespaceCache(informer, {
      excluded,
      read: async () => {
        throw new Error("connection refused");
      },
    });
    expect(await cache.confirm("victim")).toBeUndefined();
    await cache.start();
    expect(await cache.confirm("victim")).toBeUndefined();
  });

  it("costs the API server at most one read per namespace per second and 4 at a time (forged reviews)", async () => {
    let clock = 0;
    let reads = 0;
    const pending: Array<() => void> = [];
    const { informer } = fakeInformer([[]]);
    const cache = createNamespaceCache(informer, {
      excluded,
      now: () => clock,
      read: (name) => {
        reads++;
        if (!name.startsWith("slow-")) return Promise.resolve({});
        return new Promise((resolve) => pending.push(() => resolve({})));
      },
    });
    await cache.start();
    for (let i = 0; i < 100; i++) expect(await cache.confirm("victim")).toBe(false);
    expect(reads).toBe(1);
    clock += 1_001;
    expect(await cache.confirm("victim")).toBe(false);
    expect(reads).toBe(2);
    const slow = ["slow-1", "slow-2", "slow-3", "slow-4"].map((name) => cache.confirm(name));
    expect(await cache.confirm("slow-5")).toBeUndefined();
    expect(reads).toBe(6);
    for (const release of pending) release();
    expect(await Promise.all(slow)).toEqual([false, false, false, false]);
  });
});

describe("verifyNamespaceOptIn", () => {
  const cache = (answer: boolean | undefined) => ({ confirm: async () => answer });

  it("keeps the namespace route's opt-in when the watched Namespace has the label", async () => {
    const verified = await verifyNamespaceOptIn(cache(true))(podReview("apps"), facts(true));
    expect(verified.namespaceOptIn).toBe(true);
  });

  it("withdraws it when the Namespace does not (a forged review for another namespace)", async () => {
    const verified = await verifyNamespaceOptIn(cache(false))(podReview("victim"), facts(true));
    expect(verified.namespaceOptIn).toBe(false);
  });

  it("takes the route at its word for the patch before Namespaces were listed (writes are guarded)", async () => {
    const verified = await verifyNamespaceOptIn(cache(undefined))(podReview("apps"), facts(true));
    expect(verified.namespaceOptIn).toBe(true);
  });

  it("leaves the pod route as it is (its opt-in is the pod's label)", async () => {
    const verify = verifyNamespaceOptIn(cache(false));
    expect((await verify(podReview("apps"), facts(false))).namespaceOptIn).toBe(false);
    expect((await verify(podReview("apps"), facts(undefined))).namespaceOptIn).toBeUndefined();
  });

  it("gives a workload its namespace's opt-in, so its template is checked as its pods will be", async () => {
    const workload = (namespace: string): AdmissionRequest => ({
      ...podReview(namespace),
      kind: { group: "apps", version: "v1", kind: "Deployment" },
      object: { metadata: { name: "web" }, spec: { template: { spec: { containers: [] } } } },
    });
    expect((await verifyNamespaceOptIn(cache(true))(workload("apps"), facts(undefined))).namespaceOptIn).toBe(
      true,
    );
    expect(
      (await verifyNamespaceOptIn(cache(false))(workload("apps"), facts(undefined))).namespaceOptIn,
    ).toBe(false);
    // Unknown (Namespaces not readable): only the template's own label counts, as before.
    expect(
      (await verifyNamespaceOptIn(cache(undefined))(workload("apps"), facts(undefined))).namespaceOptIn,
    ).toBeUndefined();
    // A status update is no template change.
    const status = { ...workload("apps"), subResource: "status" };
    expect(
      (await verifyNamespaceOptIn(cache(true))(status, facts(undefined))).namespaceOptIn,
    ).toBeUndefined();
  });
});

describe("guardWrites", () => {
  const guard = (answer: boolean | undefined) => guardWrites({ confirm: async () => answer });
  const labelled = (namespace: string): AdmissionRequest => {
    const request = podReview(namespace);
    return { ...request, object: { metadata: { labels: { "graft.pnda.io/inject": "enabled" } } } };
  };

  it("lets graft write where the Namespace opted in, or for a pod labelled inject=enabled", async () => {
    await expect(guard(true)(podReview("apps"))).resolves.toBeUndefined();
    await expect(guard(false)(labelled("elsewhere"))).resolves.toBeUndefined();
  });

  it("refuses a write in a namespace that did not opt in, as a properties failure naming it", async () => {
    await expect(guard(false)(podReview("victim"))).rejects.toThrow(PropertiesApiError);
    await expect(guard(false)(podReview("victim"))).rejects.toThrow(
      'namespace "victim" does not have graft.pnda.io/inject=enabled',
    );
  });

  it("refuses a write when Namespaces cannot be read, saying so", async () => {
    await expect(guard(undefined)(podReview("apps"))).rejects.toThrow("graft could not read Namespaces");
  });
});
