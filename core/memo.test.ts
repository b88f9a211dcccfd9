import { describe, expect, it } from "vitest";
import { createMemo, deepFreeze, identityOf } from "./memo.js";

describe("createMemo", () => {
  it("computes once per key and returns the same frozen result after", () => {
    const memo = createMemo<{ list: number[] }>();
    let calls = 0;
    const compute = () => {
      calls++;
      return { list: [1, 2] };
    };
    const first = memo("a", compute);
    expect(memo("a", compute)).toBe(first);
    expect(calls).toBe(1);
    expect(Object.isFrozen(first.list)).toBe(true);
    expect(() => first.list.push(3)).toThrow(TypeError);
  });

  it("forgets the least recently used key beyond its capacity", () => {
    const memo = createMemo<string>({ capacity: 2 });
    const calls: string[] = [];
    const get = (key: string) =>
      memo(key, () => {
        calls.push(key);
        return key.toUpperCase();
      });
    get("a");
    get("b");
    get("a"); // a is now the most recently used
    get("c"); // forgets b
    get("a");
    get("b");
    expect(calls).toEqual(["a", "b", "c", "b"]);
  });

  it("computes every time a result it is told not to keep", () => {
    const memo = createMemo<string>({ keep: (value) => value.length <= 3 });
    let calls = 0;
    memo("big", () => `${++calls}-too-long`);
    memo("big", () => `${++calls}-too-long`);
    memo("small", () => `${++calls}`);
    memo("small", () => `${++calls}`);
    expect(calls).toBe(3);
  });

  it("with secondSight, keeps a result only when its key comes a second time", () => {
    const memo = createMemo<{ key: string }>({ secondSight: true });
    const calls: string[] = [];
    const get = (key: string) =>
      memo(key, () => {
        calls.push(key);
        return { key };
      });
    const first = get("a");
    expect(Object.isFrozen(first)).toBe(true);
    expect(get("a")).not.toBe(first); // seen once: not kept
    const kept = get("a");
    expect(get("a")).toBe(kept);
    expect(calls).toEqual(["a", "a"]);
  });

  it("with secondSight, remembers at most `capacity` keys seen once", () => {
    const memo = createMemo<string>({ capacity: 2, secondSight: true });
    const calls: string[] = [];
    const get = (key: string) =>
      memo(key, () => {
        calls.push(key);
        return key;
      });
    get("a");
    get("b");
    get("c"); // forgets that a was seen
    get("a"); // a first sight again: not kept
    get("c"); // c's second sight: kept
    get("c");
    expect(calls).toEqual(["a", "b", "c", "a", "c"]);
  });

  it("computes every time for a key longer than its limit", () => {
    const memo = createMemo<number>({ maxKeyLength: 4 });
    let calls = 0;
    memo("12345", () => ++calls);
    memo("12345", () => ++calls);
    expect(calls).toBe(2);
  });
});

describe("deepFreeze", () => {
  it("freezes nested objects, arrays and Map values", () => {
    const value = deepFreeze({ a: [{ b: 1 }], m: new Map([["k", { c: 2 }]]) });
    expect(Object.isFrozen(value.a[0])).toBe(true);
    expect(Object.isFrozen(value.m.get("k"))).toBe(true);
  });
});

describe("identityOf", () => {
  it("is stable for one object and differs between two equal ones", () => {
    const a = { x: 1 };
    expect(identityOf(a)).toBe(identityOf(a));
    expect(identityOf(a)).not.toBe(identityOf({ x: 1 }));
  });
});
