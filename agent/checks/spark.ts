/**
 * `spark`: mode `driver` (default) reads a driver's (or History Server's) REST API —
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

async function checkDriver(url: string, request: JsonRequest): Promise<CheckResult> {
  const applications = await getJsonAs(apiUrl(url, "/api/v1/applications"), Applications, request);
  if (!applications.ok) return failedWith(applications);
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
    if (!jobs.ok) return failedWith(jobs);
    if (!executors.ok) return failedWith(executors);
    running.push({ name: app.name, jobs: jobs.value, executors: executors.value });
  }
  return assessApplications(applications.value, running, url);
}

export const checkSpark: CheckRunner<"spark"> = async (spec, { signal, replyBudget }) => {
  const request = { signal, timeoutMs: spec.timeoutMs, replyBudget };
  if (spec.mode === "master") {
    // `/json` answers with a redirect to `/json/` (Spark 3.x).
    const master = await getJsonAs(apiUrl(spec.url, "/json/"), MasterState, request);
    return master.ok ? assessMaster(master.value, spec.url) : failedWith(master);
  }
  return checkDriver(spec.url, request);
};
