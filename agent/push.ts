/**
 * Pushes PNDA events to a console data logger (`POST <url>`, PNDA's `/metrics`), as
 * platform-testing did. Every body stays under `maxBodyBytes` (PNDA's data logger refuses bodies
 * over 100 kB with 413: body-parser's default limit): a batch takes events while they fit, and an
 * event too large on its own is sent with fewer causes. Memory stays bounded while the console is
 * down: the queue holds at most `maxQueuedEvents` (the oldest are dropped first, they are
 * superseded anyway), one batch at a time is in flight, each batch is retried at most
 * `maxAttempts` times, and the wait between attempts doubles up to `maxBackoffMs`.
 */

import { errorMessage } from "../core/result.js";
import { describeRequestError, httpRequest } from "./http-request.js";
import type { PushMetrics } from "./metrics.js";
import type { Clock } from "./scheduler.js";
import { dataLoggerBody, fitEvent, type PndaEvent } from "./status.js";

export type PushOptions = {
  url: string;
  clock: Clock;
  metrics?: PushMetrics;
  maxQueuedEvents?: number;
  maxBatchEvents?: number;
  /** No body larger than this (bytes, UTF-8). */
  maxBodyBytes?: number;
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
  /** body-parser's `100kb` is 102,400 bytes: keep a margin under it. */
  maxBodyBytes: 100_000,
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

  // `{"data":[` + `],"timestamp":` + 13 digits + `}`, and a comma between events.
  const envelopeBytes = Buffer.byteLength(dataLoggerBody([], Date.now())) + 6;
  /** The next events that fit one body, in order; an event too large alone is cut to fit or dropped. */
  const takeBatch = (): PndaEvent[] => {
    const taken: PndaEvent[] = [];
    let bytes = envelopeBytes;
    while (queue.length > 0 && taken.length < settings.maxBatchEvents) {
      const fitted = fitEvent(queue[0]!, settings.maxBodyBytes - envelopeBytes);
      if (fitted === undefined) {
        const [unfit] = queue.splice(0, 1);
        metrics?.countDropped(1);
        log(
          `push to ${url}: event ${unfit?.metric} cannot fit a ${settings.maxBodyBytes}-byte body, dropped`,
        );
        continue;
      }
      const size = fitted.bytes + (taken.length > 0 ? 1 : 0);
      if (bytes + size > settings.maxBodyBytes) break;
      queue.shift();
      taken.push(fitted.event);
      bytes += size;
    }
    return taken;
  };
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
    batch ??= takeBatch();
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
