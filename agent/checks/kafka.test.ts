import { describe, expect, it } from "vitest";
import { assessCluster, watchResponseSizes } from "./kafka.js";

const partition = (partitionId: number, leader: number, replicas: number[], isr: number[]) => ({
  partitionErrorCode: 0,
  partitionId,
  leader,
  replicas,
  isr,
});

describe("assessCluster", () => {
  it("is OK with a controller and every partition led and in sync", () => {
    const result = assessCluster(
      { brokers: 2, controller: 1, topics: [{ name: "t", partitions: [partition(0, 1, [1, 2], [1, 2])] }] },
      "k:9092",
    );
    expect(result).toEqual({
      health: "OK",
      causes: [],
      values: {
        brokers: 2,
        controller_present: 1,
        topics: 1,
        partitions: 1,
        offline_partitions: 0,
        under_replicated_partitions: 0,
      },
    });
  });

  it("is WARN for partitions whose ISR is smaller than their replicas", () => {
    const result = assessCluster(
      { brokers: 1, controller: 1, topics: [{ name: "t", partitions: [partition(0, 1, [1, 2], [1])] }] },
      "k:9092",
    );
    expect(result.health).toBe("WARN");
    expect(result.causes).toEqual(["k:9092: 1 under-replicated partition(s): t-0"]);
  });

  it("is ERROR for offline partitions (no leader) and without a controller, naming at most five", () => {
    const offline = Array.from({ length: 7 }, (_, i) => partition(i, -1, [2], []));
    const result = assessCluster(
      { brokers: 1, controller: null, topics: [{ name: "t", partitions: offline }] },
      "k",
    );
    expect(result.health).toBe("ERROR");
    expect(result.causes).toEqual([
      "k: no active controller",
      "k: 7 offline partition(s) (no leader): t-0, t-1, t-2, t-3, t-4 and 2 more",
    ]);
    expect(result.values).toMatchObject({ controller_present: 0, offline_partitions: 7 });
  });
});

describe("watchResponseSizes", () => {
  const frame = (size: number, bodyBytes = size) => {
    const prefix = Buffer.alloc(4);
    prefix.writeInt32BE(size);
    return Buffer.concat([prefix, Buffer.alloc(bodyBytes)]);
  };

  it("follows responses of allowed sizes across chunk boundaries, prefixes split too", () => {
    const refused: number[] = [];
    const watch = watchResponseSizes(100, (size) => refused.push(size));
    const stream = Buffer.concat([frame(10), frame(100), frame(0), frame(7)]);
    for (let at = 0; at < stream.length; at += 3) watch(stream.subarray(at, at + 3));
    expect(refused).toEqual([]);
  });

  it("refuses the first response announced over the limit, once, before its body arrives", () => {
    const refused: number[] = [];
    const watch = watchResponseSizes(100, (size) => refused.push(size));
    watch(Buffer.concat([frame(50), frame(2 ** 31 - 1, 0)]));
    watch(frame(2 ** 31 - 1, 0));
    expect(refused).toEqual([2 ** 31 - 1]);
  });

  it("refuses a negative size", () => {
    const refused: number[] = [];
    watchResponseSizes(100, (size) => refused.push(size))(frame(-5, 0));
    expect(refused).toEqual([-5]);
  });
});
