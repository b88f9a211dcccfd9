/**
 * The restart-tracking logic of the flink check, run after run with a fake clock: the memory of
 * one run is the input of the next, as the scheduler hands it over (agent/scheduler.ts).
 */
import { describe, expect, it } from "vitest";
import {
  asRestartMemory,
  JOB_ID,
  type JobRestarts,
  judgeRestarts,
  MAX_CLIMBS,
  MAX_TRACKED_JOBS,
  type RestartMemory,
  restartsOf,
} from "./flink-restarts.js";

const WINDOW = 60_000;
const JID = "a".repeat(32);
const job = (restarts: number | undefined, name = "ingest", jid = JID): JobRestarts => ({
  jid,
  name,
  restarts,
});

/** Runs the judgement at each [time, counts] in turn, carrying the memory; the health at each. */
function runs(steps: [number, JobRestarts[]][], windowMs = WINDOW) {
  let memory: RestartMemory | undefined;
  return steps.map(([now, seen]) => {
    const verdict = judgeRestarts(memory, seen, now, windowMs, "http://jm:8081");
    memory = verdict.memory;
    return verdict;
  });
}

describe("judgeRestarts", () => {
  it("takes a job's first count as its baseline, whatever it is", () => {
    const [first] = runs([[0, [job(7)]]]);
    expect(first?.findings).toEqual([]);
    expect(first?.memory.jobs[JID]).toEqual({ name: "ingest", restarts: 7, climbs: [] });
  });

  it("is WARN once the count went up since the last run, naming the job and how often", () => {
    const [, second] = runs([
      [0, [job(0)]],
      [30_000, [job(2)]],
    ]);
    expect(second?.findings).toEqual([
      {
        health: "WARN",
        reason: "degraded",
        cause: 'http://jm:8081: job "ingest" restarted 2 time(s) in the last 1m (2 restarts in all)',
      },
    ]);
    expect(second?.restartsInWindow).toBe(2);
  });

  it("stays WARN while restarts keep coming within the window, and is OK a window after the last", () => {
    const verdicts = runs([
      [0, [job(0)]],
      [30_000, [job(1)]], // climbs
      [60_000, [job(2)]], // climbs again: 2 within the window
      [89_000, [job(2)]], // the first climb is 59 s old, still in the window
      [90_000, [job(2)]], // the first climb is 60 s old: out; the second (30 s old) still in
      [119_000, [job(2)]],
      [120_000, [job(2)]], // a whole window without a restart: OK
    ]);
    expect(verdicts.map((v) => v.restartsInWindow)).toEqual([0, 1, 2, 2, 1, 1, 0]);
    expect(verdicts.map((v) => v.findings.length > 0)).toEqual([false, true, true, true, true, true, false]);
    expect(verdicts[6]?.memory.jobs[JID]).toEqual({ name: "ingest", restarts: 2, climbs: [] });
  });

  it("takes a lower count as a new run of the job: a new baseline, not a climb", () => {
    const [, , third] = runs([
      [0, [job(5)]],
      [30_000, [job(0)]],
      [60_000, [job(0)]],
    ]);
    expect(third?.findings).toEqual([]);
    expect(third?.memory.jobs[JID]?.restarts).toBe(0);
  });

  it("keeps the last count of a job whose count could not be read, and judges its next one against it", () => {
    const verdicts = runs([
      [0, [job(1)]],
      [30_000, [job(undefined)]],
      [60_000, [job(3)]],
    ]);
    expect(verdicts[1]?.findings).toEqual([]);
    expect(verdicts[1]?.memory.jobs[JID]?.restarts).toBe(1);
    expect(verdicts[2]?.restartsInWindow).toBe(2);
  });

  it("forgets a job no longer listed (ended or gone) and follows each job on its own", () => {
    const other = "b".repeat(32);
    const verdicts = runs([
      [0, [job(0), job(0, "enrich", other)]],
      [30_000, [job(0, "enrich", other)]],
      [60_000, [job(4), job(1, "enrich", other)]],
    ]);
    expect(Object.keys(verdicts[1]?.memory.jobs ?? {})).toEqual([other]);
    // "ingest" is back: a new baseline at 4; "enrich" climbed from 0 to 1.
    expect(verdicts[2]?.findings.map((f) => f.cause)).toEqual([
      'http://jm:8081: job "enrich" restarted 1 time(s) in the last 1m (1 restarts in all)',
    ]);
  });

  it("is bounded: at most MAX_TRACKED_JOBS jobs, MAX_CLIMBS climbs a job, short names", () => {
    const many = Array.from({ length: MAX_TRACKED_JOBS + 30 }, (_, i) =>
      job(0, `job-${i}`, i.toString(16).padStart(32, "0")),
    );
    const [first] = runs([[0, many]]);
    expect(Object.keys(first?.memory.jobs ?? {})).toHaveLength(MAX_TRACKED_JOBS);

    const steps: [number, JobRestarts[]][] = Array.from({ length: MAX_CLIMBS + 20 }, (_, i) => [
      i * 100,
      [job(i, "x".repeat(10_000))],
    ]);
    const last = runs(steps).at(-1);
    expect(last?.memory.jobs[JID]?.climbs).toHaveLength(MAX_CLIMBS);
    expect(last?.memory.jobs[JID]?.name.length).toBeLessThanOrEqual(101);
    expect(last?.findings[0]?.cause.length).toBeLessThan(300);
  });
});

describe("restartsOf and asRestartMemory", () => {
  it("reads numRestarts from a job-metrics answer, and nothing from anything else", () => {
    expect(restartsOf([{ id: "numRestarts", value: "3" }])).toBe(3);
    expect(
      restartsOf([
        { id: "other", value: "1" },
        { id: "numRestarts", value: "0" },
      ]),
    ).toBe(0);
    for (const garbage of [
      [],
      {},
      null,
      "3",
      [{ id: "numRestarts", value: 3 }],
      [{ id: "numRestarts", value: "-1" }],
      [{ id: "numRestarts", value: "1e400" }],
      [{ id: "numRestarts", value: "9".repeat(40) }],
      [null, 7],
    ]) {
      expect(restartsOf(garbage)).toBeUndefined();
    }
  });

  it("puts only a Flink JobID into a URL path, never what a hostile JobManager names a job", () => {
    expect(JOB_ID.test("7f0e3c9a5b1d2e4f6a8b0c1d2e3f4a5b")).toBe(true);
    for (const jid of [
      "../../overview",
      "7f0e3c9a5b1d2e4f6a8b0c1d2e3f4a5b?x=1",
      "",
      "A".repeat(32),
      "a".repeat(33),
    ]) {
      expect(JOB_ID.test(jid), jid).toBe(false);
    }
  });

  it("starts afresh from a memory that is not a restart memory", () => {
    expect(asRestartMemory(undefined)).toBeUndefined();
    expect(asRestartMemory({ something: 1 })).toBeUndefined();
    expect(asRestartMemory({ jobs: null })).toBeUndefined();
    expect(asRestartMemory({ jobs: {} })).toEqual({ jobs: {} });
  });
});
