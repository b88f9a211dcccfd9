/**
 * The opentsdb check against a real OpenTSDB: OpenTSDB 2.4.1's TSD (test/services/opentsdb.ts)
 * storing through asynchbase into HBase 2.6's mini cluster (test/services/hbase.ts, one region
 * server), all on 127.0.0.1. Data points are written through the TSD and read back from HBase
 * through it. The failures are made real: HBase's only region server aborted (the TSD still
 * answers /api/version, but /api/stats waits on HBase for its UID counts), then the TSD stopped.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkOpentsdb } from "../../agent/checks/opentsdb.js";
import { type Hbase, startHbase } from "../services/hbase.js";
import { type Opentsdb, startOpentsdb } from "../services/opentsdb.js";
import { runCheck } from "./run-check.js";

const spec = (url: string) => ({ name: "tsd", type: "opentsdb" as const, url });

const POINTS = 5;

/** Writes `POINTS` data points through the TSD's HTTP API, waiting for HBase to store them. */
async function putPoints(url: string): Promise<unknown> {
  const now = Math.floor(Date.now() / 1000) - POINTS;
  const points = Array.from({ length: POINTS }, (_, i) => ({
    metric: "graft.check.test",
    timestamp: now + i,
    value: i,
    tags: { host: "graft" },
  }));
  const response = await fetch(`${url}/api/put?details&sync&sync_timeout=60000`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(points),
  });
  return response.json();
}

describe("opentsdb check against a real TSD storing into a real HBase", () => {
  let hbase: Hbase | undefined;
  let tsd: Opentsdb | undefined;
  beforeAll(async () => {
    hbase = await startHbase({ regionServers: 1 });
    tsd = await startOpentsdb(hbase);
  }, 700_000); // hbase (up to 420 s), its tables, then the TSD (up to 150 s)
  afterAll(async () => {
    await tsd?.stop();
    await hbase?.stop();
  });

  it("is OK with the TSD's counters once data points are stored and read back", async () => {
    const url = tsd!.url;
    expect(await putPoints(url)).toEqual({ success: POINTS, failed: 0, timeouts: 0, errors: [] });
    const query = await fetch(`${url}/api/query?start=1h-ago&m=sum:graft.check.test`);
    expect(query.status).toBe(200);
    const [series] = (await query.json()) as { dps: Record<string, number> }[];
    expect(Object.values(series?.dps ?? {})).toEqual([0, 1, 2, 3, 4]);

    const result = await runCheck(checkOpentsdb, spec(url));
    expect(result.causes).toEqual([]);
    expect(result.health).toBe("OK");
    expect(result.values).toEqual({
      // The check's own connection is open while the TSD counts.
      connections: expect.any(Number),
      datapoints_added: POINTS,
      hbase_errors: 0,
      rpc_exceptions: 0,
    });
    expect(result.values?.connections).toBeGreaterThanOrEqual(1);
  }, 120_000);

  it("is ERROR naming /api/stats once HBase has no region server, while /api/version still answers", async () => {
    const url = tsd!.url;
    await hbase!.abortRegionServer(0);
    const version = await fetch(`${url}/api/version`);
    expect(version.status).toBe(200);
    const result = await runCheck(checkOpentsdb, spec(url), { timeoutMs: 5000 });
    expect(result.health).toBe("ERROR");
    // asynchbase retries HBase for over a minute (measured 74-100 s) before the TSD answers 500.
    expect(result.causes).toEqual([`${url}/api/stats: no answer within 5000ms`]);
  }, 120_000);

  it("is ERROR naming the TSD once it is stopped", async () => {
    const url = tsd!.url;
    await tsd!.stop();
    const result = await runCheck(checkOpentsdb, spec(url));
    expect(result.health).toBe("ERROR");
    expect(result.causes).toEqual([`${url}/api/version: connection refused`]);
  });
});
