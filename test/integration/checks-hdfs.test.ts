/**
 * The hdfs check against a real HDFS: Hadoop 3.4.1's MiniDFSCluster (test/services/hdfs.ts), a
 * NameNode and two DataNodes on 127.0.0.1 holding a 3-block file replicated twice. The failures
 * are made real: DataNodes stopped (the NameNode declares each dead ~12 s later), safe mode.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkHdfs } from "../../agent/checks/hdfs.js";
import { type Hdfs, startHdfs } from "../services/hdfs.js";
import { waitFor } from "../services/spawn.js";
import { runCheck, type TimedResult } from "./run-check.js";

const spec = (url: string) => ({ name: "hdfs", type: "hdfs" as const, url });

/** Runs the check until `condition` holds on its result (the NameNode notices a stop in seconds). */
async function checkUntil(url: string, what: string, condition: (result: TimedResult) => boolean) {
  let result: TimedResult | undefined;
  await waitFor(
    what,
    async () => {
      result = await runCheck(checkHdfs, spec(url));
      return condition(result);
    },
    { timeoutMs: 90_000 },
  );
  return result as TimedResult;
}

describe("hdfs check against a real NameNode and DataNodes", () => {
  let hdfs: Hdfs;
  beforeAll(async () => {
    hdfs = await startHdfs({ dataNodes: 2 });
  });
  afterAll(async () => {
    await hdfs?.stop();
  });

  it("is OK with both DataNodes live and every block fully replicated, with the NameNode's figures", async () => {
    // Capacity comes from the DataNodes' heartbeats: the NameNode's first figures can still be 0.
    const result = await checkUntil(
      hdfs.url,
      "the NameNode to count the DataNodes' capacity",
      (r) => (r.values?.capacity_bytes ?? 0) > 0,
    );
    expect(result.causes).toEqual([]);
    expect(result.health).toBe("OK");
    expect(result.values).toMatchObject({
      live_datanodes: 2,
      dead_datanodes: 0,
      missing_blocks: 0,
      corrupt_blocks: 0,
      under_replicated_blocks: 0,
      active: 1,
    });
    expect(result.values?.capacity_bytes).toBeGreaterThan(0);
    expect(result.values?.capacity_remaining_bytes).toBeGreaterThan(0);
  });

  it("is WARN naming the dead DataNode and the blocks it left under-replicated once one is stopped", async () => {
    await hdfs.stopDataNode(0);
    const result = await checkUntil(
      hdfs.url,
      "the NameNode to declare the DataNode dead and its blocks under-replicated",
      (r) => r.values?.dead_datanodes === 1 && r.values?.under_replicated_blocks === 3,
    );
    expect(result.health).toBe("WARN");
    expect(result.causes).toEqual([
      expect.stringMatching(new RegExp(`^${hdfs.url}: 1 dead data node\\(s\\): 127\\.0\\.0\\.1:\\d+$`)),
      `${hdfs.url}: 3 under-replicated blocks`,
    ]);
    expect(result.values).toMatchObject({ live_datanodes: 1, missing_blocks: 0 });
  }, 120_000);

  it("is ERROR with the missing blocks and no live DataNode once the last one is stopped", async () => {
    await hdfs.stopDataNode(0);
    const result = await checkUntil(
      hdfs.url,
      "the NameNode to count the blocks missing",
      (r) => r.values?.missing_blocks === 3,
    );
    expect(result.health).toBe("ERROR");
    expect(result.causes).toEqual([
      `${hdfs.url}: 3 missing blocks (no replica left)`,
      `${hdfs.url}: no live data node`,
      expect.stringMatching(/: 2 dead data node\(s\): 127\.0\.0\.1:\d+, 127\.0\.0\.1:\d+$/),
      `${hdfs.url}: 3 under-replicated blocks`,
    ]);
    expect(result.values).toMatchObject({ live_datanodes: 0, dead_datanodes: 2 });
  }, 120_000);

  it("is ERROR naming safe mode once the NameNode is put in it", async () => {
    await hdfs.enterSafeMode();
    const result = await runCheck(checkHdfs, spec(hdfs.url));
    expect(result.health).toBe("ERROR");
    expect(result.causes[0]).toBe(
      `${hdfs.url}: NameNode is in safe mode: Safe mode is ON. It was turned on manually. ` +
        'Use "hdfs dfsadmin -safemode leave" to turn safe mode off.',
    );
  });

  it("is ERROR naming the NameNode once it is stopped", async () => {
    await hdfs.stop();
    const result = await runCheck(checkHdfs, spec(hdfs.url));
    expect(result.health).toBe("ERROR");
    expect(result.causes).toEqual([
      `${hdfs.url}/jmx?qry=Hadoop:service=NameNode,name=NameNodeInfo: connection refused`,
    ]);
  });
});
