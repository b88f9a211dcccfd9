/**
 * HDFS, Flink, Elasticsearch, OpenTSDB and PNDA's deployment manager cannot run here: these
 * checks are tested against RECORDED UPSTREAM RESPONSES (test/fixtures/recorded, each naming its
 * source and version) served by a local HTTP server, plus a stopped, a silent and a garbage target.
 */
import { afterEach, describe, expect, it } from "vitest";
import { checkDeploymentManager } from "../../agent/checks/deployment-manager.js";
import { checkElasticsearch } from "../../agent/checks/elasticsearch.js";
import { checkFlink } from "../../agent/checks/flink.js";
import { checkHdfs } from "../../agent/checks/hdfs.js";
import { checkOpentsdb } from "../../agent/checks/opentsdb.js";
import type { CheckRunner } from "../../agent/checks/types.js";
import type { CheckType } from "../../core/checks.js";
import {
  closedPort,
  loadRecorded,
  pathOf,
  type Served,
  serveRecorded,
  serveRoutes,
} from "../services/recorded.js";
import { ABORT_SLACK_MS, runCheck } from "./run-check.js";

let served: Served | undefined;
afterEach(async () => {
  await served?.stop();
  served = undefined;
});

async function serve(service: string, ...names: string[]): Promise<string> {
  served = await serveRecorded(...(await Promise.all(names.map((name) => loadRecorded(service, name)))));
  return served.url;
}

type UrlCheck = "elasticsearch" | "flink" | "hdfs" | "opentsdb" | "deployment-manager";
const runners: { [K in UrlCheck]: CheckRunner<K> } = {
  elasticsearch: checkElasticsearch,
  flink: checkFlink,
  hdfs: checkHdfs,
  opentsdb: checkOpentsdb,
  "deployment-manager": checkDeploymentManager,
};
const HEALTHY: Record<UrlCheck, string[]> = {
  elasticsearch: ["cluster-health-green"],
  flink: ["overview", "jobs-overview-running"],
  hdfs: ["namenode-info", "fsnamesystem"],
  opentsdb: ["version", "stats"],
  "deployment-manager": ["repository-packages", "packages", "applications"],
};

/** The values each check reads from those responses: the figures in the fixture files. */
const HEALTHY_VALUES: Record<UrlCheck, Record<string, number>> = {
  // cluster-health-green: number_of_nodes, number_of_data_nodes, the *_shards counts.
  elasticsearch: {
    nodes: 2,
    data_nodes: 2,
    active_shards: 2,
    relocating_shards: 0,
    initializing_shards: 0,
    unassigned_shards: 0,
  },
  // overview: taskmanagers, slots-total, slots-available, jobs-running, jobs-failed; no job RESTARTING.
  flink: {
    taskmanagers: 2,
    slots_total: 8,
    slots_available: 6,
    jobs_running: 1,
    jobs_failed: 1,
    jobs_restarting: 0,
  },
  // namenode-info and fsnamesystem: three live DataNodes, no bad blocks, 150 GiB capacity, active.
  hdfs: {
    live_datanodes: 3,
    dead_datanodes: 0,
    missing_blocks: 0,
    corrupt_blocks: 0,
    under_replicated_blocks: 0,
    capacity_bytes: 161_061_273_600,
    capacity_remaining_bytes: 154_304_249_856,
    active: 1,
  },
  // stats: tsd.connectionmgr.connections type=open, tsd.datapoints.added, tsd.rpc.errors hbase_errors, …
  opentsdb: { connections: 4, datapoints_added: 5120, hbase_errors: 2, rpc_exceptions: 0 },
  // one package in the repository, one deployed, one application.
  "deployment-manager": { packages_available: 1, packages_deployed: 1, applications: 1 },
};

function run(type: UrlCheck, url: string, timeoutMs?: number) {
  const runner = runners[type] as CheckRunner<CheckType>;
  return runCheck(runner, { name: "c", type, url } as never, timeoutMs === undefined ? {} : { timeoutMs });
}

describe.each(Object.keys(runners) as UrlCheck[])("%s check (recorded upstream responses)", (type) => {
  it("is OK against the recorded healthy service, with its values", async () => {
    const result = await run(type, await serve(type, ...HEALTHY[type]));
    expect(result.causes).toEqual([]);
    expect(result.health).toBe("OK");
    expect(result.values).toEqual(HEALTHY_VALUES[type]);
  });

  it("is ERROR naming the target when nothing listens there", async () => {
    const url = `http://127.0.0.1:${await closedPort()}`;
    const result = await run(type, url);
    expect(result.health).toBe("ERROR");
    expect(result.causes.join("\n")).toContain(`${url}/`);
    expect(result.causes.join("\n")).toContain("connection refused");
  });

  it("is ERROR by timeout, within the bound, when the target accepts and never answers", async () => {
    const recorded = await Promise.all(HEALTHY[type].map((name) => loadRecorded(type, name)));
    served = await serveRoutes(
      Object.fromEntries(recorded.map((answer) => [pathOf(answer), "hang" as const])),
    );
    const result = await run(type, served.url, 500);
    expect(result.health).toBe("ERROR");
    expect(result.causes[0]).toMatch(/no answer within 500ms/);
    expect(result.elapsedMs).toBeLessThan(500 + ABORT_SLACK_MS);
  });

  it("is ERROR when the target answers something that is not the API", async () => {
    const recorded = await Promise.all(HEALTHY[type].map((name) => loadRecorded(type, name)));
    served = await serveRoutes(
      Object.fromEntries(
        recorded.map((answer) => [pathOf(answer), { status: 200, text: "<html>hello</html>" }]),
      ),
    );
    const notJson = await run(type, served.url);
    expect(notJson.health).toBe("ERROR");
    expect(notJson.causes[0]).toMatch(/reply is not JSON/);
    await served.stop();

    served = await serveRoutes(
      Object.fromEntries(
        recorded.map((answer) => [pathOf(answer), { status: 200, text: '{"unexpected":true}' }]),
      ),
    );
    const wrongShape = await run(type, served.url);
    expect(wrongShape.health).toBe("ERROR");
    expect(wrongShape.causes[0]).toMatch(/unexpected reply/);
  });
});

describe("degraded services (recorded upstream responses)", () => {
  it("elasticsearch: yellow is WARN, red is ERROR", async () => {
    const yellow = await run("elasticsearch", await serve("elasticsearch", "cluster-health-yellow"));
    expect(yellow.health).toBe("WARN");
    expect(yellow.causes[0]).toMatch(
      /cluster "testcluster" is yellow \(replicas unassigned; 1 unassigned shards\)/,
    );
    await served?.stop();
    const red = await run("elasticsearch", await serve("elasticsearch", "cluster-health-red"));
    expect(red.health).toBe("ERROR");
    expect(red.values?.unassigned_shards).toBe(2);
  });

  it("flink: a failed job is WARN naming it; no TaskManager is ERROR", async () => {
    const failedJob = await run("flink", await serve("flink", "overview", "jobs-overview"));
    expect(failedJob.health).toBe("WARN");
    expect(failedJob.causes[0]).toContain('"pnda-enrichment" FAILED');
    await served?.stop();
    const noTaskManagers = await run(
      "flink",
      await serve("flink", "overview-no-taskmanagers", "jobs-overview-running"),
    );
    expect(noTaskManagers.health).toBe("ERROR");
    expect(noTaskManagers.causes[0]).toMatch(/no TaskManager is registered/);
  });

  it("flink with requireRunningJob (a flinkStreaming pod's default): OK with a RUNNING job, ERROR without one", async () => {
    const spec = (url: string) => ({
      name: "flink-jobmanager",
      type: "flink" as const,
      url,
      requireRunningJob: true,
    });
    const running = await runCheck(
      checkFlink,
      spec(await serve("flink", "overview", "jobs-overview-running")),
    );
    expect(running.health).toBe("OK");
    await served?.stop();
    const url = await serve("flink", "overview", "jobs-overview-none-running");
    const none = await runCheck(checkFlink, spec(url));
    expect(none.health).toBe("ERROR");
    expect(none.causes[0]).toBe(`${url}: no job is RUNNING ("pnda-enrichment" FAILED)`);
  });

  it("hdfs: a dead data node and under-replicated blocks are WARN; missing blocks and safe mode ERROR", async () => {
    const deadNode = await run(
      "hdfs",
      await serve("hdfs", "namenode-info-dead-node", "fsnamesystem-under-replicated"),
    );
    expect(deadNode.health).toBe("WARN");
    expect(deadNode.causes).toEqual([
      expect.stringMatching(/1 dead data node\(s\): 10\.0\.0\.13:9866/),
      expect.stringMatching(/40 under-replicated blocks/),
    ]);
    expect(deadNode.values).toMatchObject({ live_datanodes: 2, dead_datanodes: 1 });
    await served?.stop();
    const missing = await run(
      "hdfs",
      await serve("hdfs", "namenode-info-missing-blocks", "fsnamesystem-missing-blocks"),
    );
    expect(missing.health).toBe("ERROR");
    expect(missing.causes.slice(0, 2)).toEqual([
      expect.stringMatching(/NameNode is in safe mode: Safe mode is ON/),
      expect.stringMatching(/7 missing blocks/),
    ]);
  });

  it("deployment-manager: an unreachable package repository is ERROR with the manager's reason", async () => {
    const result = await run(
      "deployment-manager",
      await serve("deployment-manager", "repository-packages-unreachable", "packages", "applications"),
    );
    expect(result.health).toBe("ERROR");
    expect(result.causes).toEqual([
      expect.stringMatching(
        /\/repository\/packages: HTTP 503: "Unable to connect to the Package Repository Manager/,
      ),
    ]);
    expect(result.values).toEqual({ packages_deployed: 1, applications: 1 });
  });
});
