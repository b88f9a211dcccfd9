import type { V1ConfigMap } from "@kubernetes/client-node";
import { describe, expect, it, vi } from "vitest";
import { createPlatformCache, type PlatformInformer } from "./platform-cache.js";

type Callback = (arg?: unknown) => void;

/** An informer whose list answers what the test says, and whose watch events the test sends. */
function fakeInformer(lists: Array<V1ConfigMap[] | Error>) {
  const callbacks = new Map<string, Callback[]>();
  let objects: V1ConfigMap[] = [];
  const emit = (verb: string, arg?: unknown) => {
    for (const cb of callbacks.get(verb) ?? []) cb(arg);
  };
  const informer = {
    on: (verb: string, cb: Callback) => callbacks.set(verb, [...(callbacks.get(verb) ?? []), cb]),
    off: () => {},
    start: async () => {
      emit("connect");
      const next = lists.shift() ?? [];
      if (next instanceof Error) return emit("error", next);
      objects = next;
      for (const cm of next) emit("add", cm);
    },
    stop: async () => {},
    get: (name: string) => objects.find((cm) => cm.metadata?.name === name),
    list: () => objects,
  };
  const update = (cm: V1ConfigMap) => {
    objects = [cm];
    emit("update", cm);
  };
  return { informer: informer as unknown as PlatformInformer, update };
}

const platform = (brokers: string, resourceVersion: string): V1ConfigMap => ({
  metadata: { name: "graft-platform", namespace: "graft", resourceVersion },
  data: { kafka_brokers: brokers },
});

describe("createPlatformCache", () => {
  it("holds the variables after the first list, and each change the watch brings", async () => {
    const { informer, update } = fakeInformer([[platform("a:9092", "1")]]);
    const cache = createPlatformCache(informer, { namespace: "graft" });
    expect(cache.current().synced).toBe(false);
    await cache.start();
    expect(cache.current()).toEqual({
      synced: true,
      variables: new Map([["kafka_brokers", "a:9092"]]),
      resourceVersion: "1",
    });
    update(platform("b:9092", "2"));
    expect(cache.current().variables.get("kafka_brokers")).toBe("b:9092");
  });

  it("is synced and empty when graft-platform does not exist", async () => {
    const cache = createPlatformCache(fakeInformer([[]]).informer, { namespace: "graft" });
    await cache.start();
    expect(cache.current()).toEqual({ synced: true, variables: new Map() });
  });

  it("rejects start when the list fails, stays unsynced, and lists again after retryMs", async () => {
    const errors: unknown[] = [];
    const { informer } = fakeInformer([new Error("connection refused"), [platform("a:9092", "1")]]);
    const cache = createPlatformCache(informer, {
      namespace: "graft",
      retryMs: 10,
      onError: (e) => errors.push(e),
    });
    await expect(cache.start()).rejects.toThrow("connection refused");
    expect(cache.current().synced).toBe(false);
    await vi.waitFor(() => expect(cache.current().synced).toBe(true));
    expect(errors).toHaveLength(1);
    await cache.stop();
  });
});
