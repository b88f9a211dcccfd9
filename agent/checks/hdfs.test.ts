import { describe, expect, it } from "vitest";
import { assessNameNode, type FSNamesystem, type NameNodeInfo, parseNodeMap } from "./hdfs.js";

const info = (live: string[], dead: string[], safemode = ""): NameNodeInfo => ({
  Version: "3.3.6",
  Safemode: safemode,
  // The NameNode sends these maps as JSON inside a string.
  LiveNodes: JSON.stringify(Object.fromEntries(live.map((node) => [node, { adminState: "In Service" }]))),
  DeadNodes: JSON.stringify(Object.fromEntries(dead.map((node) => [node, { decommissioned: false }]))),
  NumberOfMissingBlocks: 0,
});
const fs = (overrides: Partial<FSNamesystem> = {}): FSNamesystem => ({
  "tag.HAState": "active",
  MissingBlocks: 0,
  CorruptBlocks: 0,
  UnderReplicatedBlocks: 0,
  CapacityTotal: 100,
  CapacityRemaining: 50,
  ...overrides,
});

describe("parseNodeMap", () => {
  it("decodes the JSON-in-a-string node maps to node names", () => {
    expect(parseNodeMap('{"dn1:9866":{},"dn2:9866":{}}', "LiveNodes", "nn")).toEqual({
      ok: true,
      value: ["dn1:9866", "dn2:9866"],
    });
  });

  it("fails naming the field when the string is not JSON or not a map", () => {
    expect(parseNodeMap("{oops", "LiveNodes", "nn")).toEqual({
      ok: false,
      error: {
        cause: "nn: NameNodeInfo.LiveNodes is not JSON-encoded",
      },
    });
    expect(parseNodeMap("[1]", "DeadNodes", "nn").ok).toBe(false);
  });
});

describe("assessNameNode", () => {
  it("is OK with live data nodes and no block problems", () => {
    const result = assessNameNode(info(["a", "b"], []), fs(), "nn");
    expect(result).toMatchObject({
      health: "OK",
      values: { live_datanodes: 2, dead_datanodes: 0, active: 1 },
    });
  });

  it("is WARN for dead data nodes, corrupt and under-replicated blocks", () => {
    const result = assessNameNode(
      info(["a"], ["b"]),
      fs({ CorruptBlocks: 1, UnderReplicatedBlocks: 3 }),
      "nn",
    );
    expect(result.health).toBe("WARN");
    expect(result.causes).toEqual([
      "nn: 1 dead data node(s): b",
      "nn: 1 corrupt blocks",
      "nn: 3 under-replicated blocks",
    ]);
  });

  it("is ERROR for missing blocks, safe mode or no live data node", () => {
    expect(assessNameNode(info(["a"], []), fs({ MissingBlocks: 2 }), "nn").causes).toEqual([
      "nn: 2 missing blocks (no replica left)",
    ]);
    expect(assessNameNode(info(["a"], [], "Safe mode is ON.\nmore"), fs(), "nn").causes).toEqual([
      "nn: NameNode is in safe mode: Safe mode is ON.",
    ]);
    expect(assessNameNode(info([], []), fs(), "nn").health).toBe("ERROR");
  });

  it("is ERROR when a node map is garbage", () => {
    expect(assessNameNode({ ...info([], []), LiveNodes: "not json" }, fs(), "nn")).toEqual({
      health: "ERROR",
      causes: ["nn: NameNodeInfo.LiveNodes is not JSON-encoded"],
    });
  });
});
