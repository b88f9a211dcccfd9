import { describe, expect, it } from "vitest";
import { HEALTH_LEVELS, healthOfValue, healthValue, isHealth, worstHealth } from "./health.js";

describe("the health contract", () => {
  it("encodes OK, WARN, ERROR as 0, 1, 2 and decodes them back", () => {
    expect(HEALTH_LEVELS.map(healthValue)).toEqual([0, 1, 2]);
    for (const level of HEALTH_LEVELS) expect(healthOfValue(healthValue(level))).toBe(level);
  });

  it("decodes no other number", () => {
    for (const value of [-1, 3, 0.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(healthOfValue(value)).toBeUndefined();
    }
  });

  it("knows its levels and the worst of several (OK when there is none)", () => {
    expect(isHealth("WARN")).toBe(true);
    expect(isHealth("STALE")).toBe(false);
    expect(worstHealth([])).toBe("OK");
    expect(worstHealth(["OK", "WARN", "OK"])).toBe("WARN");
    expect(worstHealth(["ERROR", "WARN"])).toBe("ERROR");
  });
});
