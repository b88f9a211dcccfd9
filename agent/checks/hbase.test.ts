import { describe, expect, it } from "vitest";
import { assessClusterStatus } from "./hbase.js";

const server = (i: number) => `10.0.0.${i},16020,1700000000000`;

describe("assessClusterStatus", () => {
  it("is OK with live region servers and none dead, with the master's figures", () => {
    const result = assessClusterStatus(
      { LiveNodes: [{ name: "a:16030" }, { name: "b:16030" }], DeadNodes: [], regions: 3, averageLoad: 1.5 },
      "http://rest",
    );
    expect(result).toEqual({
      health: "OK",
      causes: [],
      values: { live_regionservers: 2, dead_regionservers: 0, regions: 3, average_load: 1.5 },
    });
  });

  it("reads lists the REST server left out as empty", () => {
    const result = assessClusterStatus({ regions: 0, averageLoad: 0 }, "http://rest");
    expect(result.health).toBe("ERROR");
    expect(result.causes).toEqual(["http://rest: no live region server"]);
  });

  it("names at most five dead region servers and counts the rest", () => {
    const dead = Array.from({ length: 7 }, (_, i) => server(i + 1));
    const result = assessClusterStatus(
      { LiveNodes: [{ name: "a:16030" }], DeadNodes: dead, regions: 3, averageLoad: 3 },
      "http://rest",
    );
    expect(result.health).toBe("WARN");
    expect(result.causes).toEqual([
      `http://rest: 7 dead region server(s): ${dead.slice(0, 5).join(", ")} and 2 more`,
    ]);
    expect(result.values?.dead_regionservers).toBe(7);
  });
});
