/**
 * The agent: validated checks in, scheduled runs out to metrics, /status and (optionally) the
 * console's data logger. Everything it touches from outside (clock, env, registry, runners) is
 * passed in.
 */
import type { AddressInfo } from "node:net";
import type { ResolvedCheck } from "../core/checks.js";
import { pushedSource } from "../core/pnda.js";
import { loadRunner, RUNNERS, type RunnerLoaders, unsupportedChecks } from "./checks/index.js";
import type { CheckContext } from "./checks/types.js";
import { Exposition } from "./exposition.js";
import { collectPeriodically, type ExposedGc, exposedGc } from "./full-gc.js";
import { createAgentMetrics } from "./metrics.js";
import { createPusher, type Pusher, type PushOptions } from "./push.js";
import { ReplyBudget } from "./reply-budget.js";
import { type Clock, type Job, type Outcome, startScheduler, systemClock } from "./scheduler.js";
import { createAgentServer } from "./server.js";
import { forReplica, type LatestRun, statusDocument, toPndaEvents } from "./status.js";
import { describeTarget } from "./target.js";

export type AgentOptions = {
  checks: ResolvedCheck[];
  port: number;
  host?: string;
  /** The console's data logger (PNDA: `http://console:3001/metrics`); no push when absent. */
  pushUrl?: string;
  push?: Omit<PushOptions, "url" | "clock" | "metrics" | "log">;
  /**
   * This replica's name (the pod's, GRAFT_POD_NAME): pushed metrics carry it after the source
   * (`kafka.kafka-0.health`), so replicas never overwrite each other's; graft console's push
   * sends the aggregate `<source>.health`. Without it, `<source>.health` as PNDA named it.
   */
  replica?: string;
  /**
   * The app and component this agent's pod belongs to (GRAFT_APP, GRAFT_COMPONENT): labels on
   * every metric, one value each per agent, so bounded by workloads (never pod names).
   */
  identity?: { app?: string; component?: string };
  env?: CheckContext["env"];
  clock?: Clock;
  runners?: RunnerLoaders;
  registry?: Exposition;
  /** Process-level metrics (memory, CPU, event loop) under graft_agent_. */
  processMetrics?: boolean;
  log?: (line: string) => void;
  /** Called for a full collection every `fullGcEveryMs` (full-gc.ts); node's `--expose-gc` one if absent. */
  gc?: ExposedGc;
  fullGcEveryMs?: number;
};

export type Agent = {
  /** The address the server listens on (port resolved when 0 was asked for). */
  port: number;
  url: string;
  /** Resolves once every check has reported once (when /readyz turns 200). */
  ready: Promise<void>;
  pusher?: Pusher;
  stop: () => Promise<void>;
};

export async function startAgent(options: AgentOptions): Promise<Agent> {
  const { checks, clock = systemClock, runners = RUNNERS, env = {}, log = () => {} } = options;
  const unsupported = unsupportedChecks(checks, runners);
  if (unsupported.length > 0) throw new Error(unsupported.join("\n"));

  const registry = options.registry ?? new Exposition();
  const { app, component } = options.identity ?? {};
  if (app !== undefined || component !== undefined) {
    registry.setDefaultLabels({
      ...(app !== undefined ? { app } : {}),
      ...(component !== undefined ? { component } : {}),
    });
  }
  const metrics = createAgentMetrics(registry, checks, { processMetrics: options.processMetrics ?? true });
  const pusher =
    options.pushUrl === undefined
      ? undefined
      : createPusher({ ...options.push, url: options.pushUrl, clock, metrics: metrics.push, log });

  const byName = new Map(checks.map((check) => [check.name, check]));
  const latest = new Map<string, LatestRun>();
  let ready = checks.length === 0;

  const onOutcome = ({ name, result, durationMs, startedAt, timedOut }: Outcome) => {
    const check = byName.get(name)!;
    const finishedAt = startedAt + durationMs;
    const before = latest.get(name)?.result.health;
    latest.set(name, { name, source: check.source, result, finishedAt });
    metrics.observeRun(check, { result, durationMs, finishedAt, timedOut });
    if (before !== result.health) {
      log(JSON.stringify({ check: name, health: result.health, was: before ?? null, causes: result.causes }));
    }
    if (pusher) {
      // Pushed under PNDA's component names (pnda.ts): the latest runs regrouped by that source.
      const source = pushedSource(check);
      const sameSource = [...latest.values()]
        .map((run) => ({ ...run, source: pushedSource(byName.get(run.name)!) }))
        .filter((run) => run.source === source);
      const events = toPndaEvents(sameSource);
      pusher.enqueue(options.replica === undefined ? events : forReplica(events, options.replica));
    }
  };

  const jobs: Job[] = await Promise.all(
    checks.map(async (check) => ({
      name: check.name,
      target: describeTarget(check),
      intervalMs: check.intervalMs,
      timeoutMs: check.timeoutMs,
      run: await loadRunner(check, runners),
    })),
  );

  const server = createAgentServer({
    registry,
    isReady: () => ready,
    status: () => statusDocument(latest.values(), clock.now()),
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host ?? "0.0.0.0", () => {
      server.off("error", reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const host = options.host ?? "0.0.0.0";

  const scheduler = startScheduler({ jobs, onOutcome, clock, env, replyBudget: new ReplyBudget() });
  const firstRound = scheduler.firstRound.then(() => {
    ready = true;
  });
  const stopCollecting = collectPeriodically(options.gc ?? exposedGc(), options.fullGcEveryMs);

  return {
    port,
    url: `http://${host === "0.0.0.0" ? "127.0.0.1" : host.includes(":") ? `[${host}]` : host}:${port}`,
    ready: firstRound,
    ...(pusher ? { pusher } : {}),
    stop: async () => {
      stopCollecting();
      await scheduler.stop();
      pusher?.stop();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
