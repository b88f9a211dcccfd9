/**
 * The webhook's Kubernetes client: the few calls it makes (get, list, create, patch, delete,
 * watch), as JSON over node:https with one keep-alive agent. Every answer is bounded: a unary call
 * gets `timeoutMs` for connect, headers and body together and at most `maxBodyBytes` of body; a
 * watch stream is dropped when it is silent for longer than the server's own timeout plus a
 * margin, or when one event line passes `maxLineBytes`. A failure is a KubeApiError carrying the
 * HTTP status and the Kubernetes Status `reason` (NotFound, AlreadyExists, Conflict, Forbidden,
 * Expired…) when the server sent one, else only the cause (refused, reset, timed out, too large,
 * not JSON).
 *
 * Why not @kubernetes/client-node: importing it costs the webhook ~0.5 s of start-up and ~70 MiB
 * of resident memory (its generated models), for six calls (docs/benchmarks.md, docs/design.md).
 */
import type { Agent as HttpAgent, IncomingMessage, RequestOptions } from "node:http";
import https from "node:https";
import { TooLargeError } from "../../../core/bytes.js";
import { truncated } from "../../../core/limits.js";
import { errorMessage, isRecord } from "../../../core/result.js";
import type { KubeAccess } from "./access.js";

/** What every Kubernetes object has, as far as the client cares. */
export type KubeObject = {
  apiVersion?: string;
  kind?: string;
  metadata?: {
    name?: string;
    namespace?: string;
    resourceVersion?: string;
    uid?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
};

export type KubeList<T> = { items: T[]; resourceVersion: string | undefined };

/** A watch event as the API server sends it, one JSON object per line. */
export type WatchEvent = { type: "ADDED" | "MODIFIED" | "DELETED" | "BOOKMARK"; object: KubeObject };

/** Query parameters; undefined ones are left out. */
export type Query = Readonly<Record<string, string | number | boolean | undefined>>;

/** apply: server-side apply; strategic: strategic merge patch; merge: JSON merge patch. */
export type PatchType = "apply" | "strategic" | "merge";

const PATCH_CONTENT_TYPE: Record<PatchType, string> = {
  apply: "application/apply-patch+yaml",
  strategic: "application/strategic-merge-patch+json",
  merge: "application/merge-patch+json",
};

/** A call that failed: HTTP status and Status reason when the API server answered, else neither. */
export class KubeApiError extends Error {
  constructor(
    message: string,
    /** The HTTP status (or a watch ERROR event's code); undefined when there was no answer. */
    readonly status: number | undefined,
    /** The Status object's reason, e.g. "NotFound", "AlreadyExists", "Expired". */
    readonly reason: string | undefined,
    /** The Status object's message (or the start of a body that was no Status). */
    readonly detail: string | undefined,
  ) {
    super(message);
    this.name = "KubeApiError";
  }
}

/** True when `error` is a KubeApiError with HTTP status `status`. */
export function hasStatus(error: unknown, status: number): error is KubeApiError {
  return error instanceof KubeApiError && error.status === status;
}

export type KubeClientOptions = {
  /** Connect, headers and body of one unary call together; default 10 s. */
  timeoutMs?: number;
  /** The largest body read from one answer (a list page included); default 32 MiB. */
  maxBodyBytes?: number;
  /** The longest single line of a watch stream (one event); default 8 MiB. */
  maxLineBytes?: number;
  /** Items per page of a list (`limit`, then `continue`); default 500. */
  pageSize?: number;
  /** How long past its own timeoutSeconds a watch may stay silent before it is dropped; default 30 s. */
  watchSilenceMarginMs?: number;
};

export type WatchOptions = {
  /** Ask the server to end the watch after this long (it then ends cleanly); default 300 s. */
  timeoutSeconds?: number;
  /** Called once the server accepted the watch (answered 200). */
  onConnected?: () => void;
  signal?: AbortSignal;
};

export type KubeClient = {
  /** Where it connects, for messages. */
  readonly describe: string;
  get<T>(path: string, query?: Query): Promise<T>;
  /** Every item, page by page, and the list's resourceVersion (to watch from). */
  list<T extends KubeObject>(path: string, query?: Query, signal?: AbortSignal): Promise<KubeList<T>>;
  create<T extends KubeObject>(path: string, body: unknown, query?: Query): Promise<T>;
  patch<T extends KubeObject>(path: string, body: unknown, type: PatchType, query?: Query): Promise<T>;
  delete(path: string, body?: unknown, query?: Query): Promise<void>;
  /**
   * Watches `path` from `query.resourceVersion`, calling `onEvent` for each event. Resolves when
   * the server ends the stream cleanly; rejects on anything else, a watch ERROR event included
   * (410 Expired: the caller lists again).
   */
  watch(
    path: string,
    query: Query,
    onEvent: (event: WatchEvent) => void,
    options?: WatchOptions,
  ): Promise<void>;
  /** Closes idle keep-alive connections. */
  close(): void;
};

const DEFAULTS = {
  timeoutMs: 10_000,
  maxBodyBytes: 32 * 1024 * 1024,
  maxLineBytes: 8 * 1024 * 1024,
  pageSize: 500,
  watchSilenceMarginMs: 30_000,
};
/** What an error body is read up to (a Status is small). */
const MAX_ERROR_BODY_BYTES = 64 * 1024;

/** `/api/v1/namespaces/<ns>/<resource>[/<name>]` (core) or `/apis/<group>/<version>/…`. */
export function resourcePath(target: {
  apiVersion: string;
  resource: string;
  namespace?: string | undefined;
  name?: string | undefined;
}): string {
  const root = target.apiVersion.includes("/") ? `/apis/${target.apiVersion}` : `/api/${target.apiVersion}`;
  const ns = target.namespace ? `/namespaces/${encodeURIComponent(target.namespace)}` : "";
  const name = target.name ? `/${encodeURIComponent(target.name)}` : "";
  return `${root}${ns}/${target.resource}${name}`;
}

function withQuery(path: string, query: Query | undefined): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query ?? {})) {
    if (value !== undefined) params.set(key, String(value));
  }
  const text = params.toString();
  return text ? `${path}?${text}` : path;
}

/** The Status object in an error body, when it is one. */
function statusOf(body: string): { reason?: string; message?: string } | undefined {
  try {
    const parsed: unknown = JSON.parse(body);
    if (!isRecord(parsed)) return undefined;
    return {
      ...(typeof parsed.reason === "string" ? { reason: parsed.reason } : {}),
      ...(typeof parsed.message === "string" ? { message: parsed.message } : {}),
    };
  } catch {
    return undefined;
  }
}

function answerError(method: string, path: string, status: number, body: string): KubeApiError {
  const parsed = statusOf(body);
  const detail = parsed?.message ?? (body.trim() === "" ? undefined : truncated(body.trim(), 200));
  const reason = parsed?.reason;
  return new KubeApiError(
    `${method} ${path}: the API server answered ${status}${reason ? ` ${reason}` : ""}${detail ? `: ${detail}` : ""}`,
    status,
    reason,
    detail,
  );
}

function both(a: AbortSignal | undefined, b: AbortSignal): AbortSignal {
  return a ? AbortSignal.any([a, b]) : b;
}

type Transport = { agent: HttpAgent; request: (options: RequestOptions) => ReturnType<typeof https.request> };

/**
 * node:https for an https server; node:http, loaded only then, for a plain one (a local test
 * server). An ES import of node:http costs ~10 MiB and ~50 ms: its module facade reads every
 * export, and the WebSocket getter among them loads undici.
 */
async function plainHttp(): Promise<Transport> {
  const http = await import("node:http");
  return { agent: new http.Agent({ keepAlive: true, maxSockets: 16 }), request: http.request };
}

export function createKubeClient(access: KubeAccess, options: KubeClientOptions = {}): KubeClient {
  const settings = { ...DEFAULTS, ...options };
  const secure = access.server.protocol === "https:";
  const transport: Promise<Transport> = secure
    ? Promise.resolve({
        agent: new https.Agent({
          keepAlive: true,
          maxSockets: 16,
          ...(access.ca ? { ca: access.ca } : {}),
          ...(access.cert && access.key ? { cert: access.cert, key: access.key } : {}),
          ...(access.tlsServerName ? { servername: access.tlsServerName } : {}),
          rejectUnauthorized: access.insecureSkipTlsVerify !== true,
        }),
        request: https.request,
      })
    : plainHttp();
  const base = access.server.pathname.replace(/\/+$/, "");

  /** Sends one request; resolves with the response once its headers arrived. */
  const send = async (
    method: string,
    path: string,
    body: unknown,
    contentType: string | undefined,
    signal: AbortSignal | undefined,
  ): Promise<IncomingMessage> => {
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const authorization = await access.authorization();
    const { agent, request: open } = await transport;
    return new Promise((resolve, reject) => {
      const request = open({
        agent,
        protocol: access.server.protocol,
        hostname: access.server.hostname.replace(/^\[|\]$/g, ""),
        port: access.server.port || (secure ? 443 : 80),
        method,
        path: `${base}${path}`,
        headers: {
          accept: "application/json",
          "user-agent": "graft-webhook",
          ...(authorization ? { authorization } : {}),
          ...(payload
            ? { "content-type": contentType ?? "application/json", "content-length": payload.length }
            : {}),
        },
        ...(signal ? { signal } : {}),
      });
      request.once("error", reject);
      request.once("response", (response) => {
        request.off("error", reject);
        // Later request errors (an abort, a reset) surface on the response, where the caller listens.
        request.on("error", (error) => response.destroy(error));
        resolve(response);
      });
      request.end(payload);
    });
  };

  /** The whole body, at most `max` bytes. */
  const readBody = (response: IncomingMessage, max: number, what: string): Promise<string> =>
    new Promise((resolve, reject) => {
      let settled = false;
      const fail = (error: Error) => {
        if (settled) return;
        settled = true;
        reject(error);
        response.destroy();
      };
      const announced = Number(response.headers["content-length"]);
      if (Number.isFinite(announced) && announced > max) {
        fail(new TooLargeError(what, max, announced));
        return;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      response.on("data", (chunk: Buffer) => {
        size += chunk.length;
        if (size > max) fail(new TooLargeError(what, max));
        else chunks.push(chunk);
      });
      response.once("end", () => {
        if (settled) return;
        settled = true;
        resolve(Buffer.concat(chunks).toString("utf8"));
      });
      response.once("error", fail);
      response.once("close", () => {
        if (!response.complete) fail(new Error("the connection closed before the answer ended"));
      });
    });

  /** One unary call: its JSON answer, or a KubeApiError. */
  const call = async (
    method: string,
    path: string,
    {
      body,
      contentType,
      signal,
    }: { body?: unknown; contentType?: string; signal?: AbortSignal | undefined } = {},
  ): Promise<unknown> => {
    let timer: NodeJS.Timeout | undefined;
    // The deadline closes the connection whatever it is waiting for: connect, headers or body.
    const controller = new AbortController();
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        reject(new Error(`no complete answer within ${settings.timeoutMs / 1000} s`));
        controller.abort();
      }, settings.timeoutMs);
    });
    const work = async () => {
      const response = await send(method, path, body, contentType, both(signal, controller.signal));
      const status = response.statusCode ?? 0;
      const what = `the API server's answer to ${method} ${path}`;
      if (status < 200 || status >= 300) {
        // The status is the news; a body past the cap is left out, not made the error.
        const text = await readBody(response, MAX_ERROR_BODY_BYTES, what).catch(() => "");
        throw answerError(method, path, status, text);
      }
      const text = await readBody(response, settings.maxBodyBytes, what);
      if (text === "") return {};
      try {
        return JSON.parse(text) as unknown;
      } catch {
        throw new KubeApiError(
          `${method} ${path}: the API server answered ${status} with a body that is not JSON: ${truncated(text, 120)}`,
          status,
          undefined,
          undefined,
        );
      }
    };
    try {
      return await Promise.race([work(), deadline]);
    } catch (error) {
      if (error instanceof KubeApiError) throw error;
      throw new KubeApiError(
        `${method} ${path}: ${access.describe}: ${errorMessage(error)}`,
        undefined,
        undefined,
        undefined,
      );
    } finally {
      clearTimeout(timer);
    }
  };

  const object = async <T>(method: string, path: string, answer: Promise<unknown>): Promise<T> => {
    const value = await answer;
    if (!isRecord(value))
      throw new KubeApiError(
        `${method} ${path}: the API server's answer is not an object`,
        undefined,
        undefined,
        undefined,
      );
    return value as T;
  };

  return {
    describe: access.describe,

    get: (path, query) => object("GET", path, call("GET", withQuery(path, query))),

    async list<T extends KubeObject>(
      path: string,
      query?: Query,
      signal?: AbortSignal,
    ): Promise<KubeList<T>> {
      const items: T[] = [];
      let resourceVersion: string | undefined;
      let next: string | undefined;
      do {
        const page = await call(
          "GET",
          withQuery(path, { ...query, limit: settings.pageSize, continue: next }),
          {
            signal,
          },
        );
        if (!isRecord(page) || !Array.isArray(page.items))
          throw new KubeApiError(
            `GET ${path}: the API server's answer is not a list`,
            undefined,
            undefined,
            undefined,
          );
        items.push(...(page.items as T[]));
        const metadata = isRecord(page.metadata) ? page.metadata : {};
        resourceVersion = typeof metadata.resourceVersion === "string" ? metadata.resourceVersion : undefined;
        next =
          typeof metadata.continue === "string" && metadata.continue !== "" ? metadata.continue : undefined;
      } while (next !== undefined);
      return { items, resourceVersion };
    },

    create: (path, body, query) => object("POST", path, call("POST", withQuery(path, query), { body })),

    patch: (path, body, type, query) =>
      object(
        "PATCH",
        path,
        call("PATCH", withQuery(path, query), { body, contentType: PATCH_CONTENT_TYPE[type] }),
      ),

    async delete(path, body, query) {
      await call("DELETE", withQuery(path, query), body === undefined ? {} : { body });
    },

    async watch(path, query, onEvent, { timeoutSeconds = 300, onConnected, signal } = {}) {
      const target = withQuery(path, { ...query, watch: true, allowWatchBookmarks: true, timeoutSeconds });
      const silenceMs = timeoutSeconds * 1000 + settings.watchSilenceMarginMs;
      const fail = (cause: unknown): KubeApiError =>
        cause instanceof KubeApiError
          ? cause
          : new KubeApiError(
              `watch ${path}: ${access.describe}: ${errorMessage(cause)}`,
              undefined,
              undefined,
              undefined,
            );

      let connectTimer: NodeJS.Timeout | undefined;
      let response: IncomingMessage;
      const controller = new AbortController();
      try {
        const connected = send("GET", target, undefined, undefined, both(signal, controller.signal));
        const timedOut = new Promise<never>((_, reject) => {
          connectTimer = setTimeout(() => {
            reject(new Error(`not accepted within ${settings.timeoutMs / 1000} s`));
            controller.abort();
          }, settings.timeoutMs);
        });
        response = await Promise.race([connected, timedOut]);
      } catch (error) {
        throw fail(error);
      } finally {
        clearTimeout(connectTimer);
      }

      const status = response.statusCode ?? 0;
      if (status !== 200) {
        const text = await readBody(
          response,
          MAX_ERROR_BODY_BYTES,
          `the API server's answer to watch ${path}`,
        ).catch(() => "");
        throw answerError("watch", path, status, text);
      }
      onConnected?.();

      await new Promise<void>((resolve, reject) => {
        let pieces: Buffer[] = [];
        let pending = 0;
        let settled = false;
        const finish = (cause?: unknown) => {
          if (settled) return;
          settled = true;
          // However the stream broke when the caller stopped it, it was stopped.
          const error = cause !== undefined && signal?.aborted ? new Error("stopped") : cause;
          clearTimeout(silence);
          signal?.removeEventListener("abort", onAbort);
          if (error === undefined) resolve();
          else {
            response.destroy();
            reject(fail(error));
          }
        };
        let silence = setTimeout(() => finish(new Error(`silent for ${silenceMs / 1000} s`)), silenceMs);
        const onAbort = () => finish(new Error("stopped"));
        signal?.addEventListener("abort", onAbort);
        if (signal?.aborted || response.destroyed)
          finish(new Error("the connection closed during the watch"));
        const line = (bytes: Buffer) => {
          if (bytes.length === 0) return;
          let event: unknown;
          try {
            event = JSON.parse(bytes.toString("utf8"));
          } catch {
            throw new Error(`a watch line is not JSON: ${truncated(bytes.toString("utf8"), 120)}`);
          }
          if (!isRecord(event) || typeof event.type !== "string" || !isRecord(event.object))
            throw new Error(`a watch line is not an event: ${truncated(bytes.toString("utf8"), 120)}`);
          if (event.type === "ERROR") {
            const object = event.object;
            const code = typeof object.code === "number" ? object.code : undefined;
            const reason = typeof object.reason === "string" ? object.reason : undefined;
            const message = typeof object.message === "string" ? object.message : undefined;
            throw new KubeApiError(
              `watch ${path}: the API server sent an error${code ? ` ${code}` : ""}${reason ? ` ${reason}` : ""}${message ? `: ${message}` : ""}`,
              code,
              reason,
              message,
            );
          }
          if (!["ADDED", "MODIFIED", "DELETED", "BOOKMARK"].includes(event.type))
            throw new Error(`a watch event has the unknown type "${truncated(event.type, 40)}"`);
          onEvent(event as WatchEvent);
        };
        response.on("data", (chunk: Buffer) => {
          if (settled) return;
          clearTimeout(silence);
          silence = setTimeout(() => finish(new Error(`silent for ${silenceMs / 1000} s`)), silenceMs);
          try {
            let rest = chunk;
            for (let at = rest.indexOf(0x0a); at !== -1; at = rest.indexOf(0x0a)) {
              const head = rest.subarray(0, at);
              if (pending + head.length > settings.maxLineBytes)
                throw new TooLargeError("a watch line", settings.maxLineBytes);
              line(pieces.length === 0 ? head : Buffer.concat([...pieces, head]));
              pieces = [];
              pending = 0;
              rest = rest.subarray(at + 1);
            }
            pending += rest.length;
            if (pending > settings.maxLineBytes)
              throw new TooLargeError("a watch line", settings.maxLineBytes);
            if (rest.length > 0) pieces.push(rest);
          } catch (error) {
            finish(error);
          }
        });
        response.once("end", () => {
          if (pending > 0) finish(new Error("the watch ended inside an event line"));
          else finish();
        });
        response.once("error", (error) => finish(error));
        response.once("close", () => {
          if (!response.complete) finish(new Error("the connection closed during the watch"));
        });
      });
    },

    close: () => {
      transport.then(({ agent }) => agent.destroy()).catch(() => {});
    },
  };
}
