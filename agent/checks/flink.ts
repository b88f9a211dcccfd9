/**
 * `flink`: the JobManager's REST API. `/overview` for TaskManagers (none registered: ERROR),
 * `/jobs/overview` for jobs (failed, failing or restarting: WARN, naming them); with
 * `requireRunningJob` (a `flinkStreaming` pod's default check), no RUNNING job is ERROR. Each
 * live job's `numRestarts` (`/jobs/<jid>/metrics`) against the previous run's: a count that went
 * up within `restartWindow` is WARN (flink-restarts.ts).
 */
import { type Static, Type } from "@sinclair/typebox";
import { parseDuration } from "../../core/duration.js";
import {
  asRestartMemory,
  DEFAULT_RESTART_WINDOW_MS,
  JOB_ID,
  type JobRestarts,
  judgeRestarts,
  MAX_TRACKED_JOBS,
  type RestartVerdict,
  restartsOf,
} from "./flink-restarts.js";
import { apiUrl, getJson, getJsonAs, type JsonRequest } from "./http-json.js";
import { error, type Finding, failedWith, resultOf, warn } from "./outcome.js";
import type { CheckResult, CheckRunner } from "./types.js";

const Count = Type.Integer({ minimum: 0 });

export const ClusterOverview = Type.Object({
  taskmanagers: Count,
  "slots-total": Count,
  "slots-available": Count,
  "jobs-running": Count,
  "jobs-failed": Count,
});
export type ClusterOverview = Static<typeof ClusterOverview>;

export const JobsOverview = Type.Object({
  jobs: Type.Array(Type.Object({ jid: Type.String(), name: Type.String(), state: Type.String() })),
});
export type JobsOverview = Static<typeof JobsOverview>;

const TROUBLED_STATES = new Set(["FAILED", "FAILING", "RESTARTING"]);
/** States a job never leaves: it restarts no more, and its metrics are gone. */
const ENDED_STATES = new Set(["FINISHED", "FAILED", "CANCELED", "SUSPENDED"]);
const MAX_NAMED_JOBS = 5;

export function assessFlink(
  overview: ClusterOverview,
  jobs: JobsOverview,
  target: string,
  requireRunningJob = false,
  restarts?: RestartVerdict,
): CheckResult {
  const findings: Finding[] = [];
  if (requireRunningJob && !jobs.jobs.some((job) => job.state === "RUNNING")) {
    const states = jobs.jobs.slice(0, MAX_NAMED_JOBS).map((job) => `"${job.name}" ${job.state}`);
    findings.push(error(`${target}: no job is RUNNING${states.length > 0 ? ` (${states.join(", ")})` : ""}`));
  }
  if (overview.taskmanagers === 0) findings.push(error(`${target}: no TaskManager is registered`));
  const troubled = jobs.jobs.filter((job) => TROUBLED_STATES.has(job.state));
  if (troubled.length > 0) {
    const named = troubled.slice(0, MAX_NAMED_JOBS).map((job) => `"${job.name}" ${job.state}`);
    const more = troubled.length > MAX_NAMED_JOBS ? ` and ${troubled.length - MAX_NAMED_JOBS} more` : "";
    findings.push(warn(`${target}: ${troubled.length} job(s) not healthy: ${named.join(", ")}${more}`));
  }
  if (restarts) findings.push(...restarts.findings);
  return resultOf(findings, {
    taskmanagers: overview.taskmanagers,
    slots_total: overview["slots-total"],
    slots_available: overview["slots-available"],
    jobs_running: overview["jobs-running"],
    jobs_failed: overview["jobs-failed"],
    jobs_restarting: jobs.jobs.filter((job) => job.state === "RESTARTING").length,
    ...(restarts ? { restarts_in_window: restarts.restartsInWindow } : {}),
  });
}

export const checkFlink: CheckRunner<"flink"> = async (spec, { signal, replyBudget, memory, now }) => {
  const request = { signal, timeoutMs: spec.timeoutMs, replyBudget };
  const [overview, jobs] = await Promise.all([
    getJsonAs(apiUrl(spec.url, "/overview"), ClusterOverview, request),
    getJsonAs(apiUrl(spec.url, "/jobs/overview"), JobsOverview, request),
  ]);
  if (!overview.ok) return failedWith(overview.error);
  if (!jobs.ok) return failedWith(jobs.error);
  let restarts: RestartVerdict | undefined;
  if (memory) {
    const live = jobs.value.jobs
      .filter((job) => !ENDED_STATES.has(job.state) && JOB_ID.test(job.jid))
      .slice(0, MAX_TRACKED_JOBS);
    const seen = await Promise.all(live.map((job) => restartsOfJob(spec.url, job, request)));
    const windowMs = (spec.restartWindow && parseDuration(spec.restartWindow)) || DEFAULT_RESTART_WINDOW_MS;
    restarts = judgeRestarts(asRestartMemory(memory.value), seen, now(), windowMs, spec.url);
    memory.value = restarts.memory;
  }
  return assessFlink(overview.value, jobs.value, spec.url, spec.requireRunningJob, restarts);
};

/** A job's `numRestarts`; undefined when it cannot be read (the job just ended, a metric not yet there). */
async function restartsOfJob(
  url: string,
  job: { jid: string; name: string },
  request: JsonRequest,
): Promise<JobRestarts> {
  const reply = await getJson(apiUrl(url, `/jobs/${job.jid}/metrics?get=numRestarts`), request);
  return { jid: job.jid, name: job.name, restarts: reply.ok ? restartsOf(reply.value.body) : undefined };
}
