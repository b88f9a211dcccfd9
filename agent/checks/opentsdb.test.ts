import { describe, expect, it } from "vitest";
import { assessStats } from "./opentsdb.js";

describe("assessStats", () => {
  it("sums the exported stats, reading the string values OpenTSDB sends", () => {
    const result = assessStats([
      { metric: "tsd.datapoints.added", value: "10", tags: { type: "all", host: "h" } },
      { metric: "tsd.rpc.errors", value: "2", tags: { type: "hbase_errors", host: "h" } },
      { metric: "tsd.rpc.errors", value: "5", tags: { type: "invalid_values", host: "h" } },
      { metric: "tsd.connectionmgr.connections", value: "3", tags: { type: "open", host: "h" } },
      { metric: "tsd.connectionmgr.connections", value: "99", tags: { type: "total", host: "h" } },
      { metric: "tsd.rpc.exceptions", value: 1 },
    ]);
    expect(result).toEqual({
      health: "OK",
      causes: [],
      values: { connections: 3, datapoints_added: 10, hbase_errors: 2, rpc_exceptions: 1 },
    });
  });

  it("leaves out stats that are absent or not numbers", () => {
    expect(assessStats([{ metric: "tsd.datapoints.added", value: "n/a" }]).values).toBeUndefined();
  });
});
