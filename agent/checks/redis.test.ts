import { describe, expect, it } from "vitest";
import { assessInfo, assessReplies } from "./redis.js";

const info = (fields: Record<string, string | number>) =>
  new Map(Object.entries(fields).map(([k, v]) => [k, String(v)]));

describe("assessReplies", () => {
  const bulkInfo = {
    kind: "bulk" as const,
    text: "# Server\r\nredis_version:7.2.4\r\n# Replication\r\nrole:master\r\nconnected_clients:2\r\n",
  };

  it("is OK when PING answers PONG and INFO answers", () => {
    expect(assessReplies([{ kind: "simple", text: "PONG" }, bulkInfo], false, "r:6379")).toMatchObject({
      health: "OK",
      values: { connected_clients: 2, keys: 0 },
    });
  });

  it("asks for a password on NOAUTH and reports a rejected one", () => {
    const noauth = { kind: "error" as const, text: "NOAUTH Authentication required." };
    expect(assessReplies([noauth, noauth], false, "r:6379").causes).toEqual([
      "r:6379: requires a password (name the env var holding it in passwordEnv)",
    ]);
    const wrongpass = { kind: "error" as const, text: "WRONGPASS invalid username-password pair" };
    expect(assessReplies([wrongpass, noauth, noauth], true, "r:6379").causes[0]).toMatch(/password rejected/);
  });

  it("is ERROR when INFO answers a bulk string that is not Redis INFO", () => {
    const garbage = { kind: "bulk" as const, text: "\u0000\u00ffGARBAGE\r\nnot a reply" };
    const result = assessReplies([{ kind: "simple", text: "PONG" }, garbage], false, "r");
    expect(result.health).toBe("ERROR");
    expect(result.causes).toEqual([
      expect.stringMatching(
        /^r: INFO answered something that is not Redis INFO \(no redis_version\): ".*GARBAGE/,
      ),
    ]);
  });

  it("is ERROR when PING answers something else", () => {
    expect(assessReplies([{ kind: "error", text: "LOADING" }, bulkInfo], false, "r").causes).toEqual([
      "r: PING answered LOADING",
    ]);
  });
});

describe("assessInfo", () => {
  it("warns on loading, failed saves, a replica without its master and memory near maxmemory", () => {
    const result = assessInfo(
      info({
        loading: 1,
        rdb_last_bgsave_status: "err",
        role: "slave",
        master_link_status: "down",
        used_memory: 95,
        maxmemory: 100,
      }),
      "r",
    );
    expect(result.health).toBe("WARN");
    expect(result.causes).toEqual([
      "r: loading its dataset",
      "r: the last RDB save failed",
      "r: replica with its master link down",
      "r: memory at 95% of maxmemory",
    ]);
  });

  it("sums keys over databases", () => {
    expect(assessInfo(info({ db0: "keys=3,expires=0", db2: "keys=4,expires=1" }), "r").values).toEqual({
      keys: 7,
    });
  });
});
