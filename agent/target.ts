/** What a check looks at, as causes name it when the scheduler reports for the check (timeout, crash). */
import type { ResolvedCheck } from "../core/checks.js";

/** The URL without credentials or query string (either may hold a secret). */
export function describeUrl(url: string): string {
  const parsed = new URL(url);
  return `${parsed.origin}${parsed.pathname}`;
}

export function describeTarget(check: ResolvedCheck): string {
  if ("url" in check) return describeUrl(check.url);
  if ("servers" in check) return check.servers.join(",");
  if ("brokers" in check) return check.brokers.join(",");
  if ("hostname" in check) return check.hostname;
  if (check.type === "redis") return `${check.host}:${check.port ?? 6379}`;
  if (check.type === "hive") return `${check.host}:${check.port ?? 10000}`;
  return `${check.host}:${check.port}`;
}
