/**
 * `redis`: PING and INFO over RESP (AUTH first when `passwordEnv` names the password). Loading,
 * a failed save, a replica without its master, memory near `maxmemory`: WARN.
 */
import { error, excerpt, type Finding, failedWith, networkFailure, resultOf, warn } from "./outcome.js";
import { parseInfo, RespProtocolError, type RespReply, respExchange } from "./resp.js";
import type { CheckResult, CheckRunner } from "./types.js";

const MEMORY_WARN_RATIO = 0.9;

function text(reply: RespReply | undefined): string {
  return reply && "text" in reply ? reply.text : JSON.stringify(reply ?? null);
}

/** Judges a server from its INFO fields. */
export function assessInfo(info: Map<string, string>, target: string): CheckResult {
  const findings: Finding[] = [];
  const number = (key: string) => Number(info.get(key) ?? Number.NaN);
  if (info.get("loading") === "1") findings.push(warn(`${target}: loading its dataset`));
  if (info.get("rdb_last_bgsave_status") === "err")
    findings.push(warn(`${target}: the last RDB save failed`));
  if (info.get("aof_last_write_status") === "err")
    findings.push(warn(`${target}: the last AOF write failed`));
  if (info.get("role") === "slave" && info.get("master_link_status") !== "up") {
    findings.push(
      warn(`${target}: replica with its master link ${info.get("master_link_status") ?? "unknown"}`),
    );
  }
  const used = number("used_memory");
  const max = number("maxmemory");
  if (max > 0 && used / max >= MEMORY_WARN_RATIO) {
    findings.push(warn(`${target}: memory at ${Math.round((used / max) * 100)}% of maxmemory`));
  }
  let keys = 0;
  for (const [field, value] of info) {
    if (/^db\d+$/.test(field)) keys += Number(/keys=(\d+)/.exec(value)?.[1] ?? 0);
  }
  const values: Record<string, number> = { keys };
  const exported = {
    connected_clients: "connected_clients",
    blocked_clients: "blocked_clients",
    used_memory_bytes: "used_memory",
    uptime_seconds: "uptime_in_seconds",
    connected_replicas: "connected_slaves",
  } as const;
  for (const [key, field] of Object.entries(exported))
    if (Number.isFinite(number(field))) values[key] = number(field);
  return resultOf(findings, values);
}

/** Judges the replies to [AUTH], PING, INFO. */
export function assessReplies(replies: RespReply[], withAuth: boolean, target: string): CheckResult {
  const [auth, ping, info] = withAuth ? replies : [undefined, ...replies];
  if (auth?.kind === "error") return failedWith(`${target}: password rejected: ${auth.text}`, "config");
  if (ping?.kind === "error" && ping.text.startsWith("NOAUTH")) {
    return failedWith(
      `${target}: requires a password (name the env var holding it in passwordEnv)`,
      "config",
    );
  }
  if (ping?.kind !== "simple" || ping.text !== "PONG")
    return failedWith(`${target}: PING answered ${text(ping)}`, "protocol");
  if (info?.kind !== "bulk") return failedWith(`${target}: INFO answered ${text(info)}`, "protocol");
  const fields = parseInfo(info.text);
  // Every Redis (and Valkey, KeyDB, Dragonfly) INFO has it: without it the reply is not INFO.
  if (!fields.has("redis_version")) {
    return failedWith(
      `${target}: INFO answered something that is not Redis INFO (no redis_version): ${excerpt(info.text)}`,
      "protocol",
    );
  }
  return assessInfo(fields, target);
}

export const checkRedis: CheckRunner<"redis"> = async (spec, { signal, env }) => {
  const port = spec.port ?? 6379;
  const target = `${spec.host}:${port}`;
  const password = spec.passwordEnv === undefined ? undefined : env[spec.passwordEnv];
  if (spec.passwordEnv !== undefined && password === undefined) {
    return resultOf([error(`${target}: env var ${spec.passwordEnv} (passwordEnv) is not set`, "config")]);
  }
  const commands = [...(password === undefined ? [] : [["AUTH", password]]), ["PING"], ["INFO"]];
  try {
    const replies = await respExchange({ host: spec.host, port }, commands, signal);
    return assessReplies(replies, password !== undefined, target);
  } catch (caught) {
    if (caught instanceof RespProtocolError && !signal.aborted)
      return failedWith(`${target}: ${caught.message}`, "protocol");
    return failedWith(networkFailure(target, caught, signal, spec.timeoutMs));
  }
};
