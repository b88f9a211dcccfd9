/**
 * Pushes PNDA events to a console data logger (`POST <url>`, PNDA's `/metrics`), as
 * platform-testing did. Memory stays bounded while the console is down: the queue holds at most
 * `maxQueuedEvents` (the oldest are dropped first, they are superseded anyway), one batch at a
 * time is in flight, each batch is retried at most `maxAttempts` times, and the wait between
 * attempts doubles up to `maxBackoffMs`.
 */

import { errorMessage } from "../core/result.js";
import { describeRequestError, httpRequest } from "./http-request.js";
import type { PushMetrics } from "./metrics.js";
import type { Clock } from "./scheduler.js";
import { dataLoggerBody, type PndaEvent } from "./status.js";

export type PushOptions = {
  url: string;
  clock: Clock;
  metrics?: PushMetrics;
  maxQueuedEvents?: number;
  maxBatchEvents?: number;
  maxAttempts?: number;
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  requestTimeoutMs?: number;
  /** Sends one body; rejects when the data logger did not accept it. Defaults to an HTTP POST. */
  send?: (url: string, body: string, signal: AbortSignal) => Promise<void>;
  log?: (message: string) => void;
};

export type Pusher = {
  enqueue: (events: PndaEvent[]) => void;
  /** Events held: queued plus the batch in flight. Never more than maxQueuedEvents + maxBatchEvents. */
  held: () => number;
  stop: () => void;
};

export const PUSH_DEFAULTS = {
  maxQueuedEvents: 1000,
  maxBatchEvents: 100,
  maxAttempts: 5,
  initialBackoffMs: 1000,
  maxBackoffMs: 60_000,
  requestTimeoutMs: 5000,
} as const;

/** The wait before the next attempt after `failures` consecutive failed POSTs. */
export function backoffMs(failures: number, initialMs: number, maxMs: number): number {
  if (failures <= 0) return 0;
  return Math.min(maxMs, initialMs * 2 ** Math.min(failures - 1, 30));
}

export async function postToDataLogger(url: string, body: string, signal: AbortSignal): Promise<void> {
  let status: number;
  try {
    ({ status } = await httpRequest(url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body,
      signal,
      maxBodyBytes: 0,
    }));
  } catch (error) {
    throw new Error(`${url}: ${describeRequestError(error, signal)}`);
  }
  if (status < 200 || status >= 300) throw new Error(`${url}: status ${status}`);
}

export function createPusher(options: PushOptions): Pusher {
  const settings = { ...PUSH_DEFAULTS, ...definedOnly(options) };
  const { url, clock, metrics, send = postToDataLogger, log = () => {} } = options;
  const queue: PndaEvent[] = [];
  let batch: PndaEvent[] | undefined;
  let attempts = 0;
  let failures = 0;
  let timer: unknown;
  let sending: AbortController | undefined;
  let stopped = false;

  const held = () => queue.length + (batch?.length ?? 0);
  const reportQueued = () => metrics?.setQueued(held());

  const wake = (delayMs: number) => {
    if (stopped || timer !== undefined || sending) return;
    timer = clock.setTimeout(() => {
      timer = undefined;
      void attempt();
    }, delayMs);
  };

  const attempt = async () => {
    if (stopped) return;
    batch ??= queue.splice(0, settings.maxBatchEvents);
    if (batch.length === 0) {
      batch = undefined;
      return;
    }
    const controller = new AbortController();
    sending = controller;
    const timeout = clock.setTimeout(() => controller.abort(), settings.requestTimeoutMs);
    let error: unknown;
    try {
      await send(url, dataLoggerBody(batch, clock.now()), controller.signal);
    } catch (caught) {
      error = caught ?? new Error("send failed");
    } finally {
      clock.clearTimeout(timeout);
      sending = undefined;
    }
    if (stopped) return;
    attempts++;
    if (error === undefined) {
      if (failures > 0) log(`push to ${url} recovered after ${failures} failed attempts`);
      metrics?.countRequest("ok");
      metrics?.countSent(batch.length);
      batch = undefined;
      attempts = 0;
      failures = 0;
    } else {
      metrics?.countRequest("error");
      failures++;
      if (failures === 1) log(`push to ${url} failed, retrying with backoff: ${errorMessage(error)}`);
      if (attempts >= settings.maxAttempts) {
        metrics?.countDropped(batch.length);
        batch = undefined;
        attempts = 0;
      }
    }
    reportQueued();
    if (held() > 0) wake(backoffMs(failures, settings.initialBackoffMs, settings.maxBackoffMs));
  };

  return {
    enqueue: (events) => {
      if (stopped) return;
      queue.push(...events);
      const excess = queue.length - settings.maxQueuedEvents;
      if (excess > 0) {
        queue.splice(0, excess);
        metrics?.countDropped(excess);
      }
      reportQueued();
      wake(backoffMs(failures, settings.initialBackoffMs, settings.maxBackoffMs));
    },
    held,
    stop: () => {
      stopped = true;
      if (timer !== undefined) clock.clearTimeout(timer);
      timer = undefined;
      sending?.abort();
    },
  };
}

function definedOnly<T extends object>(object: T): Partial<T> {
  return Object.fromEntries(Object.entries(object).filter(([, value]) => value !== undefined)) as Partial<T>;
}
