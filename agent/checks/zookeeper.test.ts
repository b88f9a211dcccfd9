import { describe, expect, it } from "vitest";
import { assessEnsemble, parseServerState, type ServerState } from "./zookeeper.js";

const SRVR = (mode: string) =>
  `Zookeeper version: 3.8.0\nLatency min/avg/max: 0/0.1/3\nReceived: 10\nSent: 9\nConnections: 2\nOutstanding: 0\nZxid: 0x2\nMode: ${mode}\nNode count: 5\n`;

describe("parseServerState", () => {
  it("reads the mode and counters of a serving server", () => {
    expect(parseServerState("zk:2181", "imok", SRVR("follower"))).toEqual({
      target: "zk:2181",
      serving: true,
      mode: "follower",
      znodes: 5,
      connections: 2,
      outstanding: 0,
    });
  });

  it("treats a word refused by the whitelist as a failure saying so, not as empty data", () => {
    expect(
      parseServerState(
        "zk:2181",
        "ruok is not executed because it is not in the whitelist.\n",
        SRVR("leader"),
      ),
    ).toEqual({
      target: "zk:2181",
      serving: false,
      cause:
        "zk:2181: ruok is not executed because it is not in the whitelist (add ruok,srvr to 4lw.commands.whitelist)",
    });
  });

  it("recognises a member without quorum, empty replies and garbage", () => {
    const notServing = "This ZooKeeper instance is not currently serving requests\n";
    expect(parseServerState("zk", "imok", notServing)).toMatchObject({
      cause: "zk: not serving requests (no quorum)",
    });
    expect(parseServerState("zk", "", "")).toMatchObject({ cause: "zk: empty reply to ruok" });
    expect(parseServerState("zk", "imok", "Mode: banana\n")).toMatchObject({ serving: false });
  });
});

describe("assessEnsemble", () => {
  const up = (target: string, mode: string): ServerState => ({
    target,
    serving: true,
    mode,
    znodes: 5,
    connections: 1,
  });
  const down = (target: string): ServerState => ({
    target,
    serving: false,
    cause: `${target}: connection refused`,
  });

  it("is OK for a serving standalone server and ERROR for a failed one", () => {
    expect(assessEnsemble([up("a", "standalone")]).health).toBe("OK");
    expect(assessEnsemble([down("a")])).toMatchObject({ health: "ERROR", causes: ["a: connection refused"] });
  });

  it("is OK for a full ensemble with one leader", () => {
    const result = assessEnsemble([up("a", "leader"), up("b", "follower"), up("c", "follower")]);
    expect(result).toMatchObject({
      health: "OK",
      values: { servers: 3, servers_serving: 3, leaders: 1, connections: 3 },
    });
  });

  it("is WARN when a member is down and quorum holds", () => {
    expect(assessEnsemble([up("a", "leader"), up("b", "follower"), down("c")]).causes).toEqual([
      "a,b,c: quorum holds with 2 of 3 servers serving",
      "c: connection refused",
    ]);
  });

  it("is ERROR without a majority or without a leader", () => {
    expect(assessEnsemble([up("a", "leader"), down("b"), down("c")]).causes[0]).toBe(
      "a,b,c: no quorum: 1 of 3 servers serving, 2 needed",
    );
    expect(assessEnsemble([up("a", "follower"), up("b", "follower"), up("c", "follower")]).health).toBe(
      "ERROR",
    );
  });
});
