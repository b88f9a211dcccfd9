import { createRequire } from "node:module";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ucs2length } from "./ucs2length.js";

/** ajv's own, which the generated validators would otherwise require at run time. */
const ajvUcs2length: (text: string) => number = createRequire(import.meta.url)(
  "ajv/dist/runtime/ucs2length",
).default;

describe("ucs2length", () => {
  it("counts code points: a surrogate pair is one, a lone half is one", () => {
    expect(ucs2length("")).toBe(0);
    expect(ucs2length("abc")).toBe(3);
    expect(ucs2length("😀😀")).toBe(2);
    expect(ucs2length("\ud83d")).toBe(1);
    expect(ucs2length("\ude00\ud83d")).toBe(2);
    expect(ucs2length("a\ud83d")).toBe(2);
  });

  it("agrees with ajv's on any UTF-16 text, lone surrogates included", () => {
    const halves = fc.string({ unit: fc.constantFrom("\ud83d", "\ude00", "😀", "é", "x"), maxLength: 40 });
    const text = fc.oneof(fc.string({ unit: "binary", maxLength: 20 }), halves);
    fc.assert(
      fc.property(text, (value) => ucs2length(value) === ajvUcs2length(value)),
      { numRuns: 500 },
    );
  }, 30_000);
});
