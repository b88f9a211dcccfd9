/** What every check module implements: one module per check type in agent/checks/<type>.ts. */
import type { CheckSpecOf, CheckType } from "../../core/checks.js";
import type { Health, ReasonCode } from "../../core/health.js";
import type { ReplyBudget } from "../reply-budget.js";

/** PNDA's health values (core/health.ts): `<source>.health` is one of these. */
export type { Health };

export type CheckResult = {
  health: Health;
  /** Human-readable reasons for WARN/ERROR, naming the target ("127.0.0.1:2181: connection refused"). */
  causes: string[];
  /**
   * Why, from core/health.ts' fixed set (`refused`, `timeout`, `http_status`, …). A check that
   * names none gets its health's default (ok, degraded, unhealthy) from the agent.
   */
  reason?: ReasonCode;
  /**
   * The check's own gauges, by a fixed per-type key set (e.g. kafka: `brokers`,
   * `offline_partitions`). Exported as `graft_check_value{check,key}`: keys never come from data.
   */
  values?: Record<string, number>;
};

/**
 * What a check keeps from one run to its next (e.g. the flink check's restart counts): one per
 * check, held by the scheduler for as long as the agent runs; the check bounds what it puts in.
 */
export type CheckMemory = { value: unknown };

export type CheckContext = {
  /** Aborted when the check's timeout elapses; every network call must honour it. */
  signal: AbortSignal;
  /** Where secrets named by `*Env` fields are read from (the process env in production). */
  env: Readonly<Record<string, string | undefined>>;
  now: () => number;
  /** The agent's budget for reply bodies being received, shared by every check (none: unbounded). */
  replyBudget?: ReplyBudget;
  /** This check's memory of its previous runs (none: the check judges each run alone). */
  memory?: CheckMemory;
};

export type CheckRunner<K extends CheckType> = (
  spec: CheckSpecOf<K> & { timeoutMs: number },
  context: CheckContext,
) => Promise<CheckResult>;
