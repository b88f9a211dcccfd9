/** Building a check's result from what it found: the worst finding decides the health. */
import { formatBytes, TooLargeError } from "../../core/bytes.js";
import { healthValue, type ReasonCode, worstHealth } from "../../core/health.js";
import { MAX_HEADER_BYTES } from "../http-request.js";
import type { CheckResult } from "./types.js";

export { worstHealth };

/** One thing a check found wrong, naming its target ("127.0.0.1:2181: not serving requests"). */
export type Finding = { health: "WARN" | "ERROR"; cause: string; reason: ReasonCode };

/** A target that could not be read, and why (http-json's failed replies are these). */
export type Failure = { cause: string; reason?: ReasonCode };

export type Values = Record<string, number>;

export function warn(cause: string, reason: ReasonCode = "degraded"): Finding {
  return { health: "WARN", cause, reason };
}

export function error(cause: string, reason: ReasonCode = "unhealthy"): Finding {
  return { health: "ERROR", cause, reason };
}

/**
 * OK without findings (the agent gives it reason `ok`), else the worst finding's health with
 * every cause (ERRORs first) and the first worst finding's reason.
 */
export function resultOf(findings: Finding[], values?: Values): CheckResult {
  const sorted = [...findings].sort((a, b) => healthValue(b.health) - healthValue(a.health));
  return {
    health: worstHealth(sorted.map((finding) => finding.health)),
    causes: sorted.map((finding) => finding.cause),
    ...(sorted[0] ? { reason: sorted[0].reason } : {}),
    ...(values && Object.keys(values).length > 0 ? { values } : {}),
  };
}

/** The result of a check that could not even read its target (the agent's default, `unhealthy`, unless told why). */
export function failedWith(failure: string | Failure, reason?: ReasonCode): CheckResult {
  const { cause, reason: own } =
    typeof failure === "string" ? { cause: failure, reason: undefined } : failure;
  const why = reason ?? own;
  return { health: "ERROR", causes: [cause], ...(why ? { reason: why } : {}) };
}

/** The failure of a socket or request to `target`: its cause in words and its reason code. */
export function networkFailure(
  target: string,
  error: unknown,
  signal: AbortSignal,
  timeoutMs: number,
): Failure {
  return {
    cause: `${target}: ${describeNetworkError(error, signal, timeoutMs)}`,
    reason: reasonOfError(error, signal),
  };
}

const REFUSED = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EPIPE",
  "ECONNABORTED",
]);
const DNS = new Set(["ENOTFOUND", "EAI_AGAIN", "EAI_FAIL", "EAI_NONAME", "ESERVFAIL", "ENODATA", "ENONAME"]);
const TLS = new Set([
  "EPROTO",
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "SELF_SIGNED_CERT_IN_CHAIN",
]);

/**
 * The reason code of a failed socket, request or client call, from the error itself (its Node
 * `code`, or that of an error it wraps), never from its message: the one place errors are
 * classified.
 */
export function reasonOfError(error: unknown, signal?: AbortSignal): ReasonCode {
  if (signal?.aborted) return "timeout";
  for (let current = error, depth = 0; current instanceof Object && depth < 5; depth++) {
    if (current instanceof TooLargeError) return "protocol";
    const { code, cause, originalError } = current as {
      code?: unknown;
      cause?: unknown;
      originalError?: unknown;
    };
    if (typeof code === "string") {
      if (REFUSED.has(code)) return "refused";
      if (DNS.has(code)) return "dns";
      if (code === "ETIMEDOUT" || code === "ETIMEOUT" || code === "ABORT_ERR") return "timeout";
      if (
        TLS.has(code) ||
        code.startsWith("ERR_TLS_") ||
        code.startsWith("ERR_SSL_") ||
        code.startsWith("CERT_")
      )
        return "tls";
      if (code.startsWith("HPE_")) return "protocol";
    }
    current = cause ?? originalError;
  }
  return "unhealthy";
}

/** Why a socket or request failed, in words a user can act on; a timeout says how long it waited. */
export function describeNetworkError(error: unknown, signal: AbortSignal, timeoutMs: number): string {
  if (signal.aborted) return `no answer within ${timeoutMs}ms`;
  const { code, message } = error as { code?: string; message?: string };
  switch (code) {
    case "ECONNREFUSED":
      return "connection refused";
    case "ECONNRESET":
      return "connection reset";
    case "ENOTFOUND":
      return "host not found";
    case "EHOSTUNREACH":
    case "ENETUNREACH":
      return "host unreachable";
    default:
      if (code === "HPE_HEADER_OVERFLOW")
        return `reply headers larger than the ${formatBytes(MAX_HEADER_BYTES)} cap`;
      if (code?.startsWith("HPE_")) return `not an HTTP reply (${code})`;
      return code && message && !message.includes(code) ? `${code}: ${message}` : (message ?? String(error));
  }
}

/** A short, single-line excerpt of a reply, for causes about replies that make no sense. */
export function excerpt(text: string, max = 80): string {
  const line = text.replace(/\s+/g, " ").trim();
  return JSON.stringify(line.length > max ? `${line.slice(0, max)}…` : line);
}
