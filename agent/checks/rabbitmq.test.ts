import { describe, expect, it } from "vitest";
import { assessBroker, type Overview } from "./rabbitmq.js";

const overview: Overview = {
  rabbitmq_version: "3.10.8",
  object_totals: { connections: 2, channels: 3, queues: 4, consumers: 1 },
  queue_totals: { messages: 10, messages_unacknowledged: 1 },
};
const node = (name: string, running = true, partitions: string[] = []) => ({ name, running, partitions });

describe("assessBroker", () => {
  it("is OK with every node running and no alarm, with the totals", () => {
    expect(assessBroker(overview, [node("a")], { status: "ok" }, "mq")).toEqual({
      health: "OK",
      causes: [],
      values: {
        nodes: 1,
        nodes_running: 1,
        connections: 2,
        channels: 3,
        queues: 4,
        consumers: 1,
        messages: 10,
        messages_unacknowledged: 1,
      },
    });
  });

  it("is WARN when a cluster node is not running", () => {
    expect(assessBroker(overview, [node("a"), node("b", false)], { status: "ok" }, "mq").causes).toEqual([
      "mq: cluster node(s) not running: b",
    ]);
  });

  it("is ERROR for resource alarms and network partitions", () => {
    const result = assessBroker(
      overview,
      [node("a", true, ["b"])],
      { status: "failed", alarms: [{ node: "a", resource: "disk" }] },
      "mq",
    );
    expect(result.health).toBe("ERROR");
    expect(result.causes).toEqual([
      "mq: disk alarm on a (publishers are blocked)",
      "mq: network partition seen by a",
    ]);
  });

  it("counts no messages before the first statistics", () => {
    expect(assessBroker({ ...overview, queue_totals: {} }, [], { status: "ok" }, "mq").values?.messages).toBe(
      0,
    );
  });
});
