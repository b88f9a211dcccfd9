/**
 * `spark`: mode `streaming` is mode `driver` for a streaming app's own driver (the default check
 * of a `sparkStreaming` pod): no running application is ERROR, and its DStreams statistics
 * (`/streaming/statistics`) must show batches keeping up — a scheduling delay or processing time
 * above the batch interval is WARN, above four intervals ERROR. Mode `driver` (default) reads a driver's (or History Server's) REST API —
 * `/api/v1/applications`, then the jobs and executors of each running application: a failed job
 * is WARN. Mode `master` reads a standalone master's `/json`: no alive worker is ERROR, dead
 * workers or a master recovering are WARN.
 */
import { type Static, Type } from "@sinclair/typebox";
import { apiUrl, getJsonAs, type JsonRequest } from "./http-json.js";
import { error, type Finding, failedWith, resultOf, warn } from "./outcome.js";
import type { CheckResult, CheckRunner } from "./types.js";

export const Applications = Type.Array(
  Type.Object({
    id: Type.String(),
    name: Type.String(),
    attempts: Type.Array(Type.Object({ completed: Type.Boolean() })),
  }),
);
export const Jobs = Type.Array(
  Type.Object({ jobId: Type.Integer(), name: Type.String(), status: Type.String() }),
);
export const Executors = Type.Array(Type.Object({ id: Type.String(), isActive: Type.Boolean() }));

export type RunningApplication = {
  name: string;
  jobs: Static<typeof Jobs>;
  executors: Static<typeof Executors>;
};

export const MasterState = Type.Object({
  status: Type.String(),
  workers: Type.Array(Type.Object({ id: Type.String(), state: Type.String() })),
  cores: Type.Integer({ minimum: 0 }),
  coresused: Type.Integer({ minimum: 0 }),
  memory: Type.Integer({ minimum: 0 }),
  memoryused: Type.Integer({ minimum: 0 }),
  activeapps: Type.Array(Type.Unknown()),
});
export type MasterState = Static<typeof MasterState>;

/** `/api/v1/applications/<id>/streaming/statistics` (Spark ≥ 2.2): the batch interval. */
export const StreamingStatistics = Type.Object({
  batchDuration: Type.Integer({ minimum: 0 }),
  numActiveBatches: Type.Optional(Type.Integer({ minimum: 0 })),
});
export type StreamingStatistics = Static<typeof StreamingStatistics>;

/** `/streaming/batches`: the retained batches (`spark.streaming.ui.retainedBatches`), newest first. */
export const StreamingBatches = Type.Array(
  Type.Object({
    batchId: Type.Integer(),
    status: Type.String(),
    schedulingDelay: Type.Optional(Type.Number({ minimum: 0 })),
    processingTime: Type.Optional(Type.Number({ minimum: 0 })),
  }),
);
export type StreamingBatches = Static<typeof StreamingBatches>;

/** Delays above this many batch intervals are ERROR (the job is only falling further behind). */
export const FALLING_BEHIND_ERROR_FACTOR = 4;

/**
 * Whether one streaming application's batches keep up with its batch interval, judged by the
 * latest completed batch (averages keep a slow start for ever): a scheduling delay or
 * processing time above the interval is WARN, above four intervals ERROR.
 */
export function assessStreaming(
  name: string,
  interval: number,
  batches: StreamingBatches,
  target: string,
): Finding[] {
  const latest = batches
    .filter((batch) => batch.status === "COMPLETED")
    .reduce<StreamingBatches[number] | undefined>((a, b) => (a && a.batchId > b.batchId ? a : b), undefined);
  if (!latest || interval === 0) return [];
  const findings: Finding[] = [];
  const delays: Array<[string, number | undefined]> = [
    ["scheduling delay", latest.schedulingDelay],
    ["processing time", latest.processingTime],
  ];
  for (const [what, ms] of delays) {
    if (ms === undefined || ms <= interval) continue;
    const cause = `${target}: application "${name}" is falling behind: the latest batch's ${what} was ${Math.round(ms)} ms, batch interval ${interval} ms`;
    findings.push(ms > FALLING_BEHIND_ERROR_FACTOR * interval ? error(cause) : warn(cause));
  }
  return findings;
}

/** A History Server may list thousands of applications: only this many running ones are read. */
const MAX_RUNNING_APPLICATIONS = 5;
const MIB = 1024 * 1024;

export function assessApplications(
  applications: Static<typeof Applications>,
  running: RunningApplication[],
  target: string,
): CheckResult {
  const findings: Finding[] = [];
  if (applications.length === 0) findings.push(warn(`${target}: no Spark application`));
  for (const app of running) {
    const failed = app.jobs.filter((job) => job.status === "FAILED");
    if (failed.length > 0) {
      const ids = failed.slice(0, 5).map((job) => job.jobId);
      findings.push(
        warn(
          `${target}: application "${app.name}" has ${failed.length} failed job(s) (ids ${ids.join(", ")})`,
        ),
      );
    }
  }
  const count = (pick: (app: RunningApplication) => number) =>
    running.reduce((sum, app) => sum + pick(app), 0);
  return resultOf(findings, {
    applications: applications.length,
    running_applications: applications.filter((app) => app.attempts.some((attempt) => !attempt.completed))
      .length,
    jobs_running: count((app) => app.jobs.filter((job) => job.status === "RUNNING").length),
    jobs_failed: count((app) => app.jobs.filter((job) => job.status === "FAILED").length),
    executors_active: count((app) => app.executors.filter((executor) => executor.isActive).length),
  });
}

export function assessMaster(master: MasterState, target: string): CheckResult {
  const findings: Finding[] = [];
  const alive = master.workers.filter((worker) => worker.state === "ALIVE").length;
  const dead = master.workers.filter((worker) => worker.state === "DEAD").length;
  if (master.status === "RECOVERING" || master.status === "COMPLETING_RECOVERY") {
    findings.push(warn(`${target}: master is ${master.status}`));
  } else if (master.status !== "ALIVE" && master.status !== "STANDBY") {
    findings.push(error(`${target}: master status is ${master.status}`));
  }
  if (master.status === "ALIVE" && alive === 0) findings.push(error(`${target}: no alive worker`));
  if (dead > 0) findings.push(warn(`${target}: ${dead} dead worker(s)`));
  return resultOf(findings, {
    standby: master.status === "STANDBY" ? 1 : 0,
    workers_alive: alive,
    workers_dead: dead,
    cores: master.cores,
    cores_used: master.coresused,
    memory_bytes: master.memory * MIB,
    memory_used_bytes: master.memoryused * MIB,
    active_applications: master.activeapps.length,
  });
}

async function checkStreaming(url: string, request: JsonRequest): Promise<CheckResult> {
  const applications = await getJsonAs(apiUrl(url, "/api/v1/applications"), Applications, request);
  if (!applications.ok) return failedWith(applications.error);
  const running = applications.value.filter((app) => app.attempts.some((attempt) => !attempt.completed));
  if (running.length === 0) return resultOf([error(`${url}: no running Spark application`)]);
  const findings: Finding[] = [];
  const values: Record<string, number> = { running_applications: running.length };
  for (const app of running.slice(0, MAX_RUNNING_APPLICATIONS)) {
    const base = apiUrl(url, `/api/v1/applications/${encodeURIComponent(app.id)}/streaming`);
    const stats = await getJsonAs(`${base}/statistics`, StreamingStatistics, request);
    if (!stats.ok) {
      if (/: HTTP 404\b/.test(stats.error.cause)) {
        findings.push(
          error(
            `${url}: application "${app.name}" has no streaming context (HTTP 404 from /streaming/statistics)`,
          ),
        );
        continue;
      }
      return failedWith(stats.error);
    }
    const batches = await getJsonAs(`${base}/batches`, StreamingBatches, request);
    if (!batches.ok) return failedWith(batches.error);
    findings.push(...assessStreaming(app.name, stats.value.batchDuration, batches.value, url));
    values.batch_interval_ms = stats.value.batchDuration;
    values.batches_completed = batches.value.filter((batch) => batch.status === "COMPLETED").length;
    if (stats.value.numActiveBatches !== undefined) values.batches_active = stats.value.numActiveBatches;
  }
  return resultOf(findings, values);
}

async function checkDriver(url: string, request: JsonRequest): Promise<CheckResult> {
  const applications = await getJsonAs(apiUrl(url, "/api/v1/applications"), Applications, request);
  if (!applications.ok) return failedWith(applications.error);
  const runningApps = applications.value
    .filter((app) => app.attempts.some((attempt) => !attempt.completed))
    .slice(0, MAX_RUNNING_APPLICATIONS);
  const running: RunningApplication[] = [];
  for (const app of runningApps) {
    const base = apiUrl(url, `/api/v1/applications/${encodeURIComponent(app.id)}`);
    const [jobs, executors] = await Promise.all([
      getJsonAs(`${base}/jobs`, Jobs, request),
      getJsonAs(`${base}/executors`, Executors, request),
    ]);
    if (!jobs.ok) return failedWith(jobs.error);
    if (!executors.ok) return failedWith(executors.error);
    running.push({ name: app.name, jobs: jobs.value, executors: executors.value });
  }
  return assessApplications(applications.value, running, url);
}

export const checkSpark: CheckRunner<"spark"> = async (spec, { signal, replyBudget }) => {
  const request = { signal, timeoutMs: spec.timeoutMs, replyBudget };
  if (spec.mode === "master") {
    // `/json` answers with a redirect to `/json/` (Spark 3.x).
    const master = await getJsonAs(apiUrl(spec.url, "/json/"), MasterState, request);
    return master.ok ? assessMaster(master.value, spec.url) : failedWith(master.error);
  }
  if (spec.mode === "streaming") return checkStreaming(spec.url, request);
  return checkDriver(spec.url, request);
};
