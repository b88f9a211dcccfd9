/**
 * Reading JSON from a service's HTTP API, for every check that speaks one. A failure of any
 * kind (network, status, not JSON, unexpected shape) becomes one cause naming the URL.
 */
import type { Static, TSchema } from "@sinclair/typebox";
import { Value } from "@sinclair/typebox/value";
import type { Result } from "../../core/result.js";
import { httpRequest } from "../http-request.js";
import type { ReplyBudget } from "../reply-budget.js";
import { excerpt, type Failure, networkFailure } from "./outcome.js";

/** A reply read and understood, or why not (the cause names the URL, the reason says what kind). */
export type Reply<T> = Result<T, Failure>;

export type JsonRequest = {
  signal: AbortSignal;
  timeoutMs: number;
  headers?: Record<string, string>;
  /** The agent's budget for reply bodies being received (CheckContext.replyBudget). */
  replyBudget?: ReplyBudget | undefined;
  /** Statuses whose body is the answer (e.g. 503 from a health endpoint reporting a failure). */
  acceptStatus?: readonly number[];
};

export type JsonReply = { status: number; body: unknown };

/** A JSON reply this large parses to tens of MiB of objects: more is refused, naming the cap. */
export const MAX_BODY_BYTES = 2 * 1024 * 1024;
/**
 * 2 MiB of `{},{},…` parses to 37 MiB of heap: a reply with more objects and arrays than this is
 * refused before it is parsed (counted as `{` and `[` anywhere, strings too: an over-count only).
 * A Spark driver's 1,000 retained jobs or a RabbitMQ cluster's nodes stay far below it.
 */
export const MAX_CONTAINERS = 100_000;

/** Joins a base URL (with or without a trailing slash or a path prefix) and an API path. */
export function apiUrl(base: string, path: string): string {
  return base.replace(/\/+$/, "") + path;
}

/** GETs `url` and parses its body as JSON. */
export async function getJson(url: string, request: JsonRequest): Promise<Reply<JsonReply>> {
  let response: Awaited<ReturnType<typeof httpRequest>>;
  try {
    response = await httpRequest(url, {
      signal: request.signal,
      headers: { accept: "application/json", ...request.headers },
      maxBodyBytes: MAX_BODY_BYTES,
      ...(request.replyBudget ? { budget: request.replyBudget } : {}),
    });
  } catch (error) {
    return { ok: false, error: networkFailure(url, error, request.signal, request.timeoutMs) };
  }
  const accepted = request.acceptStatus ?? [200];
  if (!accepted.includes(response.status)) {
    return {
      ok: false,
      error: {
        cause: `${url}: HTTP ${response.status}${statusDetail(response.body)}`,
        reason: "http_status",
      },
    };
  }
  if (exceedsContainers(response.body, MAX_CONTAINERS)) {
    return {
      ok: false,
      error: {
        cause: `${url}: reply has more than the cap of ${MAX_CONTAINERS} objects and arrays`,
        reason: "protocol",
      },
    };
  }
  try {
    return { ok: true, value: { status: response.status, body: JSON.parse(response.body) } };
  } catch {
    return {
      ok: false,
      error: { cause: `${url}: reply is not JSON: ${excerpt(response.body)}`, reason: "protocol" },
    };
  }
}

/** Whether `text` has more than `limit` `{` and `[` characters; stops counting at the limit. */
export function exceedsContainers(text: string, limit: number): boolean {
  let count = 0;
  for (const open of ["{", "["]) {
    for (let at = text.indexOf(open); at >= 0; at = text.indexOf(open, at + 1)) {
      count += 1;
      if (count > limit) return true;
    }
  }
  return false;
}

/** Checks a parsed reply against the shape a check relies on; the cause names the first wrong field. */
export function decodeReply<S extends TSchema>(schema: S, body: unknown, where: string): Reply<Static<S>> {
  if (Value.Check(schema, body)) return { ok: true, value: body };
  const first = Value.Errors(schema, body).First();
  const field = first?.path ? `field "${first.path.slice(1).replaceAll("/", ".")}"` : "reply";
  return {
    ok: false,
    error: {
      cause: `${where}: unexpected reply: ${field} ${first?.message ?? "is invalid"}`,
      reason: "protocol",
    },
  };
}

/** GETs `url` and checks its JSON against `schema`. */
export async function getJsonAs<S extends TSchema>(
  url: string,
  schema: S,
  request: JsonRequest,
): Promise<Reply<Static<S>>> {
  const reply = await getJson(url, request);
  return reply.ok ? decodeReply(schema, reply.value.body, url) : reply;
}

/** What an error status's body says, if it says something short: services put the reason there. */
function statusDetail(body: string): string {
  const text = body.trim();
  if (text === "") return "";
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed === "object" && parsed !== null) {
      for (const key of ["information", "reason", "error", "message"]) {
        const value = (parsed as Record<string, unknown>)[key];
        if (typeof value === "string") return `: ${excerpt(value, 200)}`;
      }
    }
  } catch {
    // Not JSON: an HTML error page's <title> says more than its first bytes.
  }
  const title = /<title>([^<]*)<\/title>/i.exec(text)?.[1];
  return `: ${excerpt(title ?? text)}`;
}

/**
 * An HTTP Basic `authorization` header from the env vars a spec names (`usernameEnv`,
 * `passwordEnv`). Without either, `fallback` credentials, or no header at all.
 */
export function basicAuthFromEnv(
  spec: { usernameEnv?: string; passwordEnv?: string },
  env: Readonly<Record<string, string | undefined>>,
  fallback?: { username: string; password: string },
): Reply<Record<string, string>> {
  if (spec.usernameEnv === undefined && spec.passwordEnv === undefined && fallback === undefined) {
    return { ok: true, value: {} };
  }
  const parts: string[] = [];
  for (const [field, name, otherwise] of [
    ["usernameEnv", spec.usernameEnv, fallback?.username],
    ["passwordEnv", spec.passwordEnv, fallback?.password],
  ] as const) {
    const value = name === undefined ? (otherwise ?? "") : env[name];
    if (value === undefined)
      return { ok: false, error: { cause: `env var ${name} (${field}) is not set`, reason: "config" } };
    parts.push(value);
  }
  return { ok: true, value: { authorization: `Basic ${Buffer.from(parts.join(":")).toString("base64")}` } };
}
