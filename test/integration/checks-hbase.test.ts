/**
 * The hbase check against a real HBase: HBase 2.6's mini cluster and REST server
 * (test/services/hbase.ts), a master and two region servers on 127.0.0.1. The failures are made
 * real: a region server stopped, then the last one aborted as a crash would, then the REST server
 * stopped.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkHbase } from "../../agent/checks/hbase.js";
import { type Hbase, startHbase } from "../services/hbase.js";
import { waitFor } from "../services/spawn.js";
import { runCheck, type TimedResult } from "./run-check.js";

const spec = (url: string) => ({ name: "hbase", type: "hbase" as const, url });

async function checkUntil(url: string, what: string, condition: (result: TimedResult) => boolean) {
  let result: TimedResult | undefined;
  await waitFor(
    what,
    async () => {
      result = await runCheck(checkHbase, spec(url));
      return condition(result);
    },
    { timeoutMs: 90_000 },
  );
  return result as TimedResult;
}

/** A region server as the master names it: host,port,start code. */
const SERVER_NAME = "127\\.0\\.0\\.1,\\d+,\\d+";

describe("hbase check against a real master, region servers and REST server", () => {
  let hbase: Hbase;
  beforeAll(async () => {
    hbase = await startHbase({ regionServers: 2 });
  }, 480_000);
  afterAll(async () => {
    await hbase?.stop();
  });

  it("is OK with both region servers live and the table's regions served", async () => {
    // Region servers report their regions to the master every few seconds: the table created
    // last may not be counted yet when the REST server first answers.
    const result = await checkUntil(
      hbase.url,
      "the master to count 3 regions",
      (r) => r.values?.regions === 3,
    );
    expect(result.causes).toEqual([]);
    expect(result.health).toBe("OK");
    // hbase:meta, hbase:namespace and the table "graft": three regions on two servers.
    expect(result.values).toEqual({
      live_regionservers: 2,
      dead_regionservers: 0,
      regions: 3,
      average_load: 1.5,
    });
  });

  it("is WARN naming the dead region server once one is stopped", async () => {
    await hbase.stopRegionServer(0);
    const result = await checkUntil(
      hbase.url,
      "the master to list a dead region server",
      (r) => r.health !== "OK",
    );
    expect(result.health).toBe("WARN");
    expect(result.causes).toEqual([
      expect.stringMatching(new RegExp(`^${hbase.url}: 1 dead region server\\(s\\): ${SERVER_NAME}$`)),
    ]);
    expect(result.values).toMatchObject({ live_regionservers: 1, dead_regionservers: 1 });
  }, 120_000);

  it("is ERROR once no region server is live", async () => {
    await hbase.abortRegionServer(0);
    const result = await checkUntil(hbase.url, "no live region server", (r) => r.health === "ERROR");
    expect(result.causes).toEqual([
      `${hbase.url}: no live region server`,
      expect.stringMatching(new RegExp(`: 2 dead region server\\(s\\): ${SERVER_NAME}, ${SERVER_NAME}$`)),
    ]);
    expect(result.values).toMatchObject({ live_regionservers: 0, dead_regionservers: 2 });
  }, 120_000);

  it("is ERROR naming the REST server once it is stopped", async () => {
    await hbase.stop();
    const result = await runCheck(checkHbase, spec(hbase.url));
    expect(result.health).toBe("ERROR");
    expect(result.causes).toEqual([`${hbase.url}/status/cluster: connection refused`]);
  });
});
