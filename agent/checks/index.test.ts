import { describe, expect, it } from "vitest";
import { CHECK_TYPES } from "../../core/checks.js";
import { RUNNERS } from "./index.js";

describe("RUNNERS", () => {
  it("has a runner for every check type the schema admits", async () => {
    expect(CHECK_TYPES.filter((type) => RUNNERS[type] === undefined)).toEqual([]);
    for (const type of CHECK_TYPES) expect(typeof (await RUNNERS[type]!())).toBe("function");
  });
});
