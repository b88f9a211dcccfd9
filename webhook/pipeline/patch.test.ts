import { applyPatch } from "rfc6902";
import { describe, expect, it } from "vitest";
import { diffPatch } from "./patch.js";

describe("diffPatch", () => {
  it("is empty for equal objects", () => {
    expect(diffPatch({ a: { b: [1, 2] } }, { a: { b: [1, 2] } })).toEqual([]);
  });

  it("escapes ~ and / in keys", () => {
    const original = { metadata: { annotations: { "a/b~c": "1" } } };
    const mutated = { metadata: { annotations: { "a/b~c": "2", "prometheus.io/port": "9464" } } };
    expect(diffPatch(original, mutated)).toEqual([
      { op: "replace", path: "/metadata/annotations/a~1b~0c", value: "2" },
      { op: "add", path: "/metadata/annotations/prometheus.io~1port", value: "9464" },
    ]);
  });

  it("creates an absent map or list whole", () => {
    const original = { metadata: {}, spec: { containers: [{ name: "a" }] } };
    const mutated = {
      metadata: { annotations: { x: "1" } },
      spec: { containers: [{ name: "a" }], initContainers: [{ name: "b" }] },
    };
    expect(diffPatch(original, mutated)).toEqual([
      { op: "add", path: "/metadata/annotations", value: { x: "1" } },
      { op: "add", path: "/spec/initContainers", value: [{ name: "b" }] },
    ]);
  });

  it("appends to a list by index and leaves fields it does not know untouched", () => {
    const original = { spec: { containers: [{ name: "a", futureField: { x: 1 } }], futureSpec: true } };
    const mutated = structuredClone(original) as typeof original & { spec: { containers: object[] } };
    mutated.spec.containers.push({ name: "b" });
    const patch = diffPatch(original, mutated);
    expect(patch).toEqual([{ op: "add", path: "/spec/containers/1", value: { name: "b" } }]);
    const applied = structuredClone(original);
    applyPatch(applied, patch as Parameters<typeof applyPatch>[1]);
    expect(applied).toEqual(mutated);
  });

  it("never looks at or touches metadata.managedFields", () => {
    const managedFields = [{ manager: "kubectl", operation: "Update", fieldsV1: { "f:spec": {} } }];
    const original = { metadata: { name: "p", managedFields } };
    const mutated = { metadata: { name: "p", labels: { a: "b" } } };
    expect(diffPatch(original, mutated)).toEqual([
      { op: "add", path: "/metadata/labels", value: { a: "b" } },
    ]);
    expect(original.metadata.managedFields).toBe(managedFields);
  });

  it("removes from the end of a shrinking list, highest index first, and replaces a changed type", () => {
    const original = { list: [1, 2, 3, 4], value: { a: 1 }, gone: "x" };
    const mutated = { list: [1, 5], value: [1], extra: null };
    const patch = diffPatch(original, mutated);
    expect(patch).toEqual([
      { op: "replace", path: "/list/1", value: 5 },
      { op: "remove", path: "/list/3" },
      { op: "remove", path: "/list/2" },
      { op: "replace", path: "/value", value: [1] },
      { op: "remove", path: "/gone" },
      { op: "add", path: "/extra", value: null },
    ]);
    const applied = structuredClone(original);
    applyPatch(applied, patch as Parameters<typeof applyPatch>[1]);
    expect(applied).toEqual(mutated);
  });

  it("skips a subtree both sides share without reading it", () => {
    const shared = new Proxy(
      { a: 1 },
      {
        ownKeys: () => {
          throw new Error("a shared subtree was walked");
        },
      },
    );
    expect(diffPatch({ spec: shared, x: 1 }, { spec: shared, x: 2 })).toEqual([
      { op: "replace", path: "/x", value: 2 },
    ]);
  });

  it("treats a key whose value is undefined as absent, as JSON does", () => {
    expect(diffPatch({ a: undefined, b: 1 }, { a: 2, b: undefined })).toEqual([
      { op: "remove", path: "/b" },
      { op: "add", path: "/a", value: 2 },
    ]);
  });

  it("reads only a map's own keys, so keys such as constructor and __proto__ are plain keys", () => {
    const original = JSON.parse('{"metadata":{"annotations":{"toString":"a"}}}');
    const mutated = JSON.parse('{"metadata":{"annotations":{"constructor":"b","__proto__":"c"}}}');
    const patch = diffPatch(original, mutated);
    expect(patch).toEqual([
      { op: "remove", path: "/metadata/annotations/toString" },
      { op: "add", path: "/metadata/annotations/constructor", value: "b" },
      { op: "add", path: "/metadata/annotations/__proto__", value: "c" },
    ]);
  });
});
