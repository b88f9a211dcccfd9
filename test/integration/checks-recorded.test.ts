/**
 * The URL checks against stored upstream responses (test/fixtures/recorded) served by a local
 * HTTP server, plus a stopped, a silent and a garbage target. The HDFS, Flink, HBase and OpenTSDB
 * responses were captured from the real servers of test/services
 * (test/fixtures/recorded/capture.ts; the same servers are checked live in checks-hdfs,
 * checks-flink, checks-hbase and checks-opentsdb.test.ts). The other files are authored from the
 * documentation page each names, and say so, for: Elasticsearch, which cannot run here (its
 * distribution is on none of the registries this machine reaches; the
 * org.elasticsearch:elasticsearch jar alone lacks the modules a node needs); PNDA's deployment
 * manager, which was not tried (it is Python 2 with Ansible and Hadoop distribution clients).
 */
import { afterEach, describe, expect, it } from "vitest";
import { checkDeploymentManager } from "../../agent/checks/deployment-manager.js";
import { checkElasticsearch } from "../../agent/checks/elasticsearch.js";
import { checkFlink } from "../../agent/checks/flink.js";
import { checkHbase } from "../../agent/checks/hbase.js";
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

type UrlCheck = "elasticsearch" | "flink" | "hbase" | "hdfs" | "opentsdb" | "deployment-manager";
const runners: { [K in UrlCheck]: CheckRunner<K> } = {
  elasticsearch: checkElasticsearch,
  flink: checkFlink,
  hbase: checkHbase,
  hdfs: checkHdfs,
  opentsdb: checkOpentsdb,
  "deployment-manager": checkDeploymentManager,
};
const HEALTHY: Record<UrlCheck, string[]> = {
  elasticsearch: ["cluster-health-green"],
  flink: ["overview", "jobs-overview-running"],
  hbase: ["status-cluster"],
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
    taskmanagers: 1,
    slots_total: 2,
    slots_available: 1,
    jobs_running: 1,
    jobs_failed: 0,
    jobs_restarting: 0,
  },
  // status-cluster: LiveNodes, DeadNodes, regions, averageLoad.
  hbase: { live_regionservers: 2, dead_regionservers: 0, regions: 3, average_load: 1.5 },
  // namenode-info and fsnamesystem: two live DataNodes, no bad blocks, CapacityTotal and
  // CapacityRemaining as the NameNode counted them, HA state active.
  hdfs: {
    live_datanodes: 2,
    dead_datanodes: 0,
    missing_blocks: 0,
    corrupt_blocks: 0,
    under_replicated_blocks: 0,
    capacity_bytes: 1_082_212_696_064,
    capacity_remaining_bytes: 211_919_192_064,
    active: 1,
  },
  // stats: tsd.connectionmgr.connections type=open (the capture's own), tsd.datapoints.added (the
  // 5 points it wrote), tsd.rpc.errors type=hbase_errors, tsd.rpc.exceptions.
  opentsdb: { connections: 1, datapoints_added: 5, hbase_errors: 0, rpc_exceptions: 0 },
  // one package in the repository, one deployed, one application.
  "deployment-manager": { packages_available: 1, packages_deployed: 1, applications: 1 },
};

function run(type: UrlCheck, url: string, timeoutMs?: number) {
  const runner = runners[type] as CheckRunner<CheckType>;
  return runCheck(runner, { name: "c", type, url } as never, timeoutMs === undefined ? {} : { timeoutMs });
}

describe.each(Object.keys(runners) as UrlCheck[])("%s check (stored upstream responses)", (type) => {
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

describe("degraded services (stored upstream responses)", () => {
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

  it("flink: a restarting or failed job is WARN naming it; no TaskManager is ERROR", async () => {
    const restarting = await run("flink", await serve("flink", "overview", "jobs-overview-restarting"));
    expect(restarting.health).toBe("WARN");
    expect(restarting.causes).toEqual([
      expect.stringMatching(/1 job\(s\) not healthy: "graft-failing" RESTARTING$/),
    ]);
    expect(restarting.values?.jobs_restarting).toBe(1);
    await served?.stop();
    const failedJob = await run("flink", await serve("flink", "overview-job-failed", "jobs-overview-failed"));
    expect(failedJob.health).toBe("WARN");
    expect(failedJob.causes).toEqual([
      expect.stringMatching(/1 job\(s\) not healthy: "graft-failing" FAILED$/),
    ]);
    expect(failedJob.values).toMatchObject({ jobs_running: 1, jobs_failed: 1 });
    await served?.stop();
    const noTaskManagers = await run(
      "flink",
      await serve("flink", "overview-no-taskmanagers", "jobs-overview-no-taskmanagers"),
    );
    expect(noTaskManagers.health).toBe("ERROR");
    expect(noTaskManagers.causes[0]).toMatch(/no TaskManager is registered$/);
    expect(noTaskManagers.values).toMatchObject({ taskmanagers: 0, slots_total: 0 });
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
      expect.stringMatching(/: 1 dead data node\(s\): 127\.0\.0\.1:40861$/),
      expect.stringMatching(/: 3 under-replicated blocks$/),
    ]);
    expect(deadNode.values).toMatchObject({
      live_datanodes: 1,
      dead_datanodes: 1,
      under_replicated_blocks: 3,
    });
    await served?.stop();
    const missing = await run(
      "hdfs",
      await serve("hdfs", "namenode-info-missing-blocks", "fsnamesystem-missing-blocks"),
    );
    expect(missing.health).toBe("ERROR");
    expect(missing.causes).toEqual([
      expect.stringMatching(/NameNode is in safe mode: Safe mode is ON\. It was turned on manually\./),
      expect.stringMatching(/: 3 missing blocks \(no replica left\)$/),
      expect.stringMatching(/: no live data node$/),
      expect.stringMatching(/: 2 dead data node\(s\): 127\.0\.0\.1:\d+, 127\.0\.0\.1:\d+$/),
      expect.stringMatching(/: 3 under-replicated blocks$/),
    ]);
    expect(missing.values).toMatchObject({ live_datanodes: 0, dead_datanodes: 2, capacity_bytes: 0 });
  });

  it("hbase: a dead region server is WARN naming it; none live is ERROR", async () => {
    const dead = await run("hbase", await serve("hbase", "status-cluster-dead-regionserver"));
    expect(dead.health).toBe("WARN");
    expect(dead.causes).toEqual([
      expect.stringMatching(/: 1 dead region server\(s\): 127\.0\.0\.1,\d+,\d+$/),
    ]);
    expect(dead.values).toMatchObject({ live_regionservers: 1, dead_regionservers: 1 });
    await served?.stop();
    const none = await run("hbase", await serve("hbase", "status-cluster-no-live-regionserver"));
    expect(none.health).toBe("ERROR");
    expect(none.causes[0]).toMatch(/: no live region server$/);
    expect(none.values).toMatchObject({ live_regionservers: 0, dead_regionservers: 2 });
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
