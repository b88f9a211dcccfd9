/** Building a check's result from what it found: the worst finding decides the health. */
import { formatBytes } from "../../core/bytes.js";
import { healthValue, worstHealth } from "../../core/health.js";
import { MAX_HEADER_BYTES } from "../http-request.js";
import type { CheckResult } from "./types.js";

export { worstHealth };

/** One thing a check found wrong, naming its target ("127.0.0.1:2181: not serving requests"). */
export type Finding = { health: "WARN" | "ERROR"; cause: string };

export type Values = Record<string, number>;

export function warn(cause: string): Finding {
  return { health: "WARN", cause };
}

export function error(cause: string): Finding {
  return { health: "ERROR", cause };
}

/** OK without findings, else the worst finding's health with every cause (ERRORs first). */
export function resultOf(findings: Finding[], values?: Values): CheckResult {
  const sorted = [...findings].sort((a, b) => healthValue(b.health) - healthValue(a.health));
  return {
    health: worstHealth(sorted.map((finding) => finding.health)),
    causes: sorted.map((finding) => finding.cause),
    ...(values && Object.keys(values).length > 0 ? { values } : {}),
  };
}

/** The result of a check that could not even read its target. */
export function failedWith(cause: string): CheckResult {
  return { health: "ERROR", causes: [cause] };
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
