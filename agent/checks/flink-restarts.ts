/**
 * "Restarts not climbing", for the flink check: each run reads every live job's `numRestarts`
 * (the JobManager's job metric) and compares it with what the previous run of the same check saw
 * (its CheckMemory). A count that went up within the window is WARN, naming the job and how often
 * it restarted; once it stops climbing for a whole window the job is OK again. A job seen for the
 * first time only sets the baseline: its earlier restarts happened at an unknown time.
 *
 * The memory is bounded: at most MAX_TRACKED_JOBS jobs, and per job at most MAX_CLIMBS increases,
 * none older than the window. A job no longer listed is forgotten.
 */
import { type Finding, warn } from "./outcome.js";

/** How long a restart keeps the check WARN when the spec names no `restartWindow`. */
export const DEFAULT_RESTART_WINDOW_MS = 5 * 60 * 1000;
/** Jobs whose restarts are followed; a JobManager running more has its first ones followed. */
export const MAX_TRACKED_JOBS = 20;
/** Increases kept per job within the window (each the difference seen between two runs). */
export const MAX_CLIMBS = 32;

/** One live job as this run saw it: `restarts` undefined when its count could not be read. */
export type JobRestarts = { jid: string; name: string; restarts: number | undefined };

type Tracked = {
  name: string;
  restarts: number;
  /** When an increase was seen, and by how much, oldest first; none older than the window. */
  climbs: { at: number; by: number }[];
};

/** What one flink check keeps between its runs (CheckMemory's value). */
export type RestartMemory = { jobs: Record<string, Tracked> };

export type RestartVerdict = {
  findings: Finding[];
  memory: RestartMemory;
  /** Restarts seen within the window, over every followed job. */
  restartsInWindow: number;
};

/** Reads a memory back: anything that is not a RestartMemory starts afresh. */
export function asRestartMemory(value: unknown): RestartMemory | undefined {
  if (typeof value !== "object" || value === null || !("jobs" in value)) return undefined;
  const { jobs } = value as { jobs: unknown };
  return typeof jobs === "object" && jobs !== null ? (value as RestartMemory) : undefined;
}

/** A job's name as causes show it: a JobManager's answer is not trusted to be short. */
const MAX_NAME_CHARS = 100;
const shown = (name: string) => (name.length > MAX_NAME_CHARS ? `${name.slice(0, MAX_NAME_CHARS)}…` : name);

const duration = (ms: number) =>
  ms % 60_000 === 0 ? `${ms / 60_000}m` : ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;

/** Judges this run's counts against the previous run's memory, at `now`, over `windowMs`. */
export function judgeRestarts(
  previous: RestartMemory | undefined,
  seen: readonly JobRestarts[],
  now: number,
  windowMs: number,
  target: string,
): RestartVerdict {
  const jobs: Record<string, Tracked> = {};
  const findings: Finding[] = [];
  let restartsInWindow = 0;
  for (const job of seen.slice(0, MAX_TRACKED_JOBS)) {
    const before = previous?.jobs[job.jid];
    const recent = (before?.climbs ?? []).filter((climb) => now - climb.at < windowMs);
    let restarts = before?.restarts;
    if (job.restarts !== undefined) {
      if (before !== undefined && job.restarts > before.restarts) {
        recent.push({ at: now, by: job.restarts - before.restarts });
      }
      // A count lower than before is a new run of the job (resubmitted): a new baseline.
      restarts = job.restarts;
    }
    if (restarts === undefined) continue;
    const climbs = recent.slice(-MAX_CLIMBS);
    jobs[job.jid] = { name: shown(job.name), restarts, climbs };
    const times = climbs.reduce((sum, climb) => sum + climb.by, 0);
    restartsInWindow += times;
    if (times > 0) {
      findings.push(
        warn(
          `${target}: job "${shown(job.name)}" restarted ${times} time(s) in the last ${duration(windowMs)} (${restarts} restarts in all)`,
        ),
      );
    }
  }
  return { findings, memory: { jobs }, restartsInWindow };
}

/** The value of `numRestarts` in a `/jobs/<jid>/metrics?get=numRestarts` answer, if it is one. */
export function restartsOf(body: unknown): number | undefined {
  if (!Array.isArray(body)) return undefined;
  const metric = body.find(
    (entry): entry is { id: string; value: unknown } =>
      typeof entry === "object" && entry !== null && (entry as { id?: unknown }).id === "numRestarts",
  );
  if (metric === undefined || typeof metric.value !== "string" || !/^\d{1,15}$/.test(metric.value))
    return undefined;
  return Number(metric.value);
}

/** Flink's JobID: 32 hex digits. Anything else is not put into a URL path. */
export const JOB_ID = /^[0-9a-f]{32}$/;
