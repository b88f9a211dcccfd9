import type { V1ConfigMap } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { createPlatformCache, type MakePlatformInformer } from "./platform-cache.js";

/** An informer whose lists answer what the test says, and whose watch events the test sends. */
function fakeInformer(lists: Array<V1ConfigMap[] | Error>) {
  let objects: V1ConfigMap[] = [];
  let changed = () => {};
  const make: MakePlatformInformer = (onChange) => {
    changed = onChange;
    return {
      start: async () => {
        const next = lists.shift() ?? [];
        if (next instanceof Error) throw next;
        objects = next;
        onChange();
      },
      stop: async () => {},
      get: (name: string) => objects.find((cm) => cm.metadata?.name === name),
    };
  };
  const update = (cm: V1ConfigMap) => {
    objects = [cm];
    changed();
  };
  return { informer: make, update };
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

  it("rejects start when the list fails and stays unsynced until a list answers", async () => {
    const { informer } = fakeInformer([new Error("connection refused"), [platform("a:9092", "1")]]);
    const cache = createPlatformCache(informer, { namespace: "graft" });
    await expect(cache.start()).rejects.toThrow("connection refused");
    expect(cache.current().synced).toBe(false);
    // The informer lists again by itself (webhook/io/kube/informer.test.ts); here, by hand.
    await cache.start();
    expect(cache.current().synced).toBe(true);
    await cache.stop();
  });
});
