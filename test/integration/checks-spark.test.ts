/** The spark check against a real Spark driver (PyPI pyspark) and a real standalone master with a worker. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkSpark } from "../../agent/checks/spark.js";
import { closedPort, serveRoutes, serveSilence } from "../services/recorded.js";
import { type SparkDriver, type SparkMaster, startSparkDriver, startSparkMaster } from "../services/spark.js";
import { waitFor } from "../services/spawn.js";
import { ABORT_SLACK_MS, runCheck, type TimedResult } from "./run-check.js";

const spec = (url: string, mode?: "driver" | "master" | "streaming") => ({
  name: "spark",
  type: "spark" as const,
  url,
  ...(mode ? { mode } : {}),
});

describe("spark check against a real driver", () => {
  let driver: SparkDriver;
  beforeAll(async () => {
    driver = await startSparkDriver();
  });
  afterAll(async () => {
    await driver?.stop();
  });

  it("is OK with the running application, its jobs and executors", async () => {
    const result = await runCheck(checkSpark, spec(driver.url));
    expect(result).toMatchObject({
      health: "OK",
      causes: [],
      values: { applications: 1, running_applications: 1, jobs_failed: 0, executors_active: 1 },
    });
  });

  it("in mode streaming (a sparkStreaming pod's default) is ERROR: the application has no streaming context", async () => {
    const result = await runCheck(checkSpark, spec(driver.url, "streaming"));
    expect(result.health).toBe("ERROR");
    expect(result.causes).toEqual([
      `${driver.url}: application "graft-spark-check" has no streaming context (HTTP 404 from /streaming/statistics)`,
    ]);
  });

  it("is WARN naming the application once one of its jobs failed", async () => {
    await driver.failAJob();
    const result = await runCheck(checkSpark, spec(driver.url));
    expect(result.health).toBe("WARN");
    expect(result.causes).toEqual([
      `${driver.url}: application "graft-spark-check" has 1 failed job(s) (ids 1)`,
    ]);
  });

  it("is ERROR naming the driver once it is stopped", async () => {
    await driver.stop();
    const result = await runCheck(checkSpark, spec(driver.url));
    expect(result).toMatchObject({
      health: "ERROR",
      causes: [`${driver.url}/api/v1/applications: connection refused`],
    });
  });
});

describe("spark check in mode streaming against a real streaming driver (DStreams, 5 s batches)", () => {
  let driver: SparkDriver;
  beforeAll(async () => {
    driver = await startSparkDriver({ streaming: true });
  });
  afterAll(async () => {
    await driver?.stop();
  });

  it("is OK while batches keep up with the interval, and WARN or ERROR naming the delay once they fall behind", async () => {
    let result: TimedResult | undefined;
    // The first batches run while the JVM warms up, slower than the interval on a loaded machine.
    await waitFor(
      "a batch processed within the interval",
      async () => {
        result = await runCheck(checkSpark, spec(driver.url, "streaming"));
        return (result.values?.batches_completed ?? 0) > 0 && result.health === "OK";
      },
      { timeoutMs: 90_000 },
    );
    expect(result).toMatchObject({
      health: "OK",
      causes: [],
      values: { running_applications: 1, batch_interval_ms: 5000 },
    });
    await driver.slowBatches();
    await waitFor(
      "the streaming job to fall behind",
      async () => {
        result = await runCheck(checkSpark, spec(driver.url, "streaming"));
        return result.health !== "OK";
      },
      { timeoutMs: 60_000 },
    );
    expect(["WARN", "ERROR"]).toContain(result?.health);
    expect(result?.causes[0]).toMatch(
      new RegExp(
        `^${driver.url}: application "graft-spark-check" is falling behind: the latest batch's (scheduling delay|processing time) was \\d+ ms, batch interval 5000 ms$`,
      ),
    );
  }, 240_000);
});

describe("spark check against a real standalone master", () => {
  let master: SparkMaster;
  beforeAll(async () => {
    master = await startSparkMaster();
  });
  afterAll(async () => {
    await master?.stop();
  });

  it("is OK with an alive worker, and ERROR once no worker is alive", async () => {
    expect(await runCheck(checkSpark, spec(master.url, "master"))).toMatchObject({
      health: "OK",
      values: { workers_alive: 1, cores: 1, memory_bytes: 256 * 1024 * 1024 },
    });
    await master.stopWorker();
    let result: TimedResult | undefined;
    await waitFor("the master to see its worker gone", async () => {
      result = await runCheck(checkSpark, spec(master.url, "master"));
      return result.health !== "OK";
    });
    expect(result?.health).toBe("ERROR");
    expect(result?.causes).toEqual([`${master.url}: no alive worker`, `${master.url}: 1 dead worker(s)`]);
  });
});

describe("spark check against misbehaving targets", () => {
  it("is ERROR naming the target when nothing listens", async () => {
    const url = `http://127.0.0.1:${await closedPort()}`;
    expect((await runCheck(checkSpark, spec(url, "master"))).causes).toEqual([
      `${url}/json/: connection refused`,
    ]);
  });

  it("is ERROR by timeout, within the bound, when the target accepts and never answers", async () => {
    const silent = await serveSilence();
    const result = await runCheck(checkSpark, spec(silent.url), { timeoutMs: 500 });
    await silent.stop();
    expect(result.causes).toEqual([`${silent.url}/api/v1/applications: no answer within 500ms`]);
    expect(result.elapsedMs).toBeLessThan(500 + ABORT_SLACK_MS);
  });

  it("is ERROR when the target answers garbage", async () => {
    const garbage = await serveRoutes({ "/api/v1/applications": { status: 200, text: '[{"id": 7}]' } });
    const result = await runCheck(checkSpark, spec(garbage.url));
    await garbage.stop();
    expect(result.health).toBe("ERROR");
    expect(result.causes[0]).toMatch(/\/api\/v1\/applications: unexpected reply: field "0\.\w+"/);
  });
});
