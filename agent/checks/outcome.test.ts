import { describe, expect, it } from "vitest";
import { error, resultOf, warn, worstHealth } from "./outcome.js";

describe("resultOf", () => {
  it("is OK without findings and leaves out empty values", () => {
    expect(resultOf([], {})).toEqual({ health: "OK", causes: [] });
  });

  it("takes the worst finding's health and lists ERROR causes first", () => {
    expect(resultOf([warn("w"), error("e")], { x: 1 })).toEqual({
      health: "ERROR",
      causes: ["e", "w"],
      values: { x: 1 },
    });
  });

  it("ranks ERROR over WARN over OK", () => {
    expect(worstHealth(["OK", "WARN", "OK"])).toBe("WARN");
    expect(worstHealth([])).toBe("OK");
  });
});
