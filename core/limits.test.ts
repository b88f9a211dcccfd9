import { describe, expect, it } from "vitest";
import { jsonTextDepth, nestingDepth, truncated } from "./limits.js";

describe("nestingDepth", () => {
  it("counts levels of arrays and objects, without recursion, stopping past the limit", () => {
    expect(nestingDepth("text", 4)).toBe(0);
    expect(nestingDepth([], 4)).toBe(1);
    expect(nestingDepth({ a: [1, { b: [] }] }, 4)).toBe(4);
    let deep: unknown = [];
    for (let i = 0; i < 1_000_000; i++) deep = [deep];
    expect(nestingDepth(deep, 4)).toBe(5);
  });
});

describe("jsonTextDepth", () => {
  it("counts levels in JSON text, skipping brackets inside strings and escaped quotes", () => {
    expect(jsonTextDepth('{"a": [1, {"b": "[[[\\"[[["}]}', 10)).toBe(3);
    expect(jsonTextDepth("[".repeat(4_000_000), 1000)).toBe(1001);
    expect(jsonTextDepth('"[[[', 10)).toBe(0);
  });
});

describe("truncated", () => {
  it("keeps short text, and cuts long text to the limit saying how much was cut", () => {
    expect(truncated("short", 10)).toBe("short");
    const cut = truncated("x".repeat(10_000), 100);
    expect(cut).toHaveLength(100);
    const [, kept, more] = /^(x+) … \((\d+) more characters\)$/.exec(cut) ?? [];
    expect((kept?.length ?? 0) + Number(more)).toBe(10_000);
  });
});
