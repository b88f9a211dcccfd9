import fc from "fast-check";
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

  it("ends a string at a quote after an even run of backslashes, not an odd one", () => {
    expect(jsonTextDepth(String.raw`["a\\", ["b"]]`, 10)).toBe(2);
    expect(jsonTextDepth(String.raw`["a\", ["b"]]`, 10)).toBe(1);
    expect(jsonTextDepth(String.raw`[["\"], ""[[\"[["]`, 10)).toBe(2);
  });

  it("agrees with a character-by-character reading on any text", () => {
    // The reading jsonTextDepth replaced: every character visited, a backslash skipping the next.
    const reference = (text: string, limit: number) => {
      let depth = 0;
      let deepest = 0;
      let inString = false;
      for (let i = 0; i < text.length; i++) {
        const code = text.charCodeAt(i);
        if (inString) {
          if (code === 0x5c) i++;
          else if (code === 0x22) inString = false;
        } else if (code === 0x22) inString = true;
        else if (code === 0x5b || code === 0x7b) {
          depth++;
          if (depth > deepest) deepest = depth;
          if (deepest > limit) return deepest;
        } else if (code === 0x5d || code === 0x7d) depth--;
      }
      return deepest;
    };
    const text = fc
      .array(fc.constantFrom("[", "]", "{", "}", '"', "\\", "a", ","), { maxLength: 60 })
      .map((parts) => parts.join(""));
    fc.assert(
      fc.property(text, fc.integer({ min: 0, max: 6 }), (json, limit) => {
        expect(jsonTextDepth(json, limit)).toBe(reference(json, limit));
      }),
      { numRuns: 5000 },
    );
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
