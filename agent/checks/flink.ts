/**
 * `flink`: the JobManager's REST API. `/overview` for TaskManagers (none registered: ERROR),
 * `/jobs/overview` for jobs (failed, failing or restarting: WARN, naming them); with
 * `requireRunningJob` (a `flinkStreaming` pod's default check), no RUNNING job is ERROR.
 */
import { type Static, Type } from "@sinclair/typebox";
import { apiUrl, getJsonAs } from "./http-json.js";
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
const MAX_NAMED_JOBS = 5;

export function assessFlink(
  overview: ClusterOverview,
  jobs: JobsOverview,
  target: string,
  requireRunningJob = false,
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
  return resultOf(findings, {
    taskmanagers: overview.taskmanagers,
    slots_total: overview["slots-total"],
    slots_available: overview["slots-available"],
    jobs_running: overview["jobs-running"],
    jobs_failed: overview["jobs-failed"],
    jobs_restarting: jobs.jobs.filter((job) => job.state === "RESTARTING").length,
  });
}

export const checkFlink: CheckRunner<"flink"> = async (spec, { signal, replyBudget }) => {
  const request = { signal, timeoutMs: spec.timeoutMs, replyBudget };
  const [overview, jobs] = await Promise.all([
    getJsonAs(apiUrl(spec.url, "/overview"), ClusterOverview, request),
    getJsonAs(apiUrl(spec.url, "/jobs/overview"), JobsOverview, request),
  ]);
  if (!overview.ok) return failedWith(overview);
  if (!jobs.ok) return failedWith(jobs);
  return assessFlink(overview.value, jobs.value, spec.url, spec.requireRunningJob);
};
