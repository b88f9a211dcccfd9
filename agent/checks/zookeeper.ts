/**
 * `zookeeper`: four-letter words to every listed server — `ruok` (alive) and `srvr` (mode and
 * counters; "not currently serving requests" when it has no quorum). One server: OK when it
 * serves. An ensemble: ERROR without a serving majority and a leader, WARN when a member is down
 * but quorum holds. A word refused by `4lw.commands.whitelist` is a failure saying so.
 */

import { setMaxListeners } from "node:events";
import net from "node:net";
import { TooLargeError } from "../../core/bytes.js";
import type { ReasonCode } from "../../core/health.js";
import { error, type Finding, networkFailure, resultOf, warn } from "./outcome.js";
import type { CheckResult, CheckRunner } from "./types.js";

export type ServerState =
  | {
      target: string;
      serving: true;
      mode: string;
      znodes?: number;
      connections?: number;
      outstanding?: number;
    }
  | { target: string; serving: false; cause: string; reason?: ReasonCode };

const WHITELIST = /is not executed because it is not in the whitelist/;
const NOT_SERVING = /not currently serving requests/;
const MODES = new Set(["leader", "follower", "standalone", "observer", "read-only"]);
/** `srvr` answers a few hundred bytes; a server that sends more than this is cut off. */
export const MAX_REPLY_BYTES = 64 * 1024;

/** Sends one four-letter word and resolves with everything the server sends before it closes. */
export function fourLetterWord(
  host: string,
  port: number,
  word: string,
  signal: AbortSignal,
): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port, signal });
    const chunks: Buffer[] = [];
    let received = 0;
    socket.once("connect", () => socket.write(word));
    socket.on("data", (chunk: Buffer) => {
      received += chunk.length;
      if (received > MAX_REPLY_BYTES) {
        socket.destroy(new TooLargeError(`the reply to ${word}`, MAX_REPLY_BYTES));
        return;
      }
      chunks.push(chunk);
    });
    socket.once("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    socket.once("error", reject);
  });
}

/** Reads a server's state from its replies to `ruok` and `srvr`. */
export function parseServerState(target: string, ruok: string, srvr: string): ServerState {
  for (const [word, reply] of [
    ["ruok", ruok],
    ["srvr", srvr],
  ] as const) {
    if (WHITELIST.test(reply)) {
      return {
        target,
        serving: false,
        cause: `${target}: ${reply.trim().replace(/\.$/, "")} (add ruok,srvr to 4lw.commands.whitelist)`,
      };
    }
    if (reply.trim() === "") return { target, serving: false, cause: `${target}: empty reply to ${word}` };
  }
  if (ruok.trim() !== "imok")
    return { target, serving: false, cause: `${target}: ruok answered ${quote(ruok)}` };
  if (NOT_SERVING.test(srvr))
    return { target, serving: false, cause: `${target}: not serving requests (no quorum)` };
  const fields = new Map(
    srvr
      .split("\n")
      .map((line) => line.split(/:\s*/, 2))
      .filter((pair): pair is [string, string] => pair.length === 2)
      .map(([key, value]) => [key.trim(), value.trim()]),
  );
  const mode = fields.get("Mode");
  if (mode === undefined || !MODES.has(mode)) {
    return { target, serving: false, cause: `${target}: srvr answered without a mode: ${quote(srvr)}` };
  }
  const count = (key: string) => {
    const value = Number(fields.get(key));
    return Number.isFinite(value) ? value : undefined;
  };
  return {
    target,
    serving: true,
    mode,
    znodes: count("Node count"),
    connections: count("Connections"),
    outstanding: count("Outstanding"),
  };
}

export function assessEnsemble(servers: ServerState[]): CheckResult {
  const serving = servers.filter((server) => server.serving);
  const down = servers.filter((server) => !server.serving);
  const leaders = serving.filter((server) => server.mode === "leader").length;
  const findings: Finding[] = [];
  if (servers.length === 1) {
    findings.push(...down.map((server) => error(server.cause, server.reason)));
  } else {
    const needed = Math.floor(servers.length / 2) + 1;
    const voters = serving.filter((server) => server.mode !== "observer").length;
    const targets = servers.map((server) => server.target).join(",");
    if (voters < needed || leaders === 0) {
      findings.push(
        error(`${targets}: no quorum: ${voters} of ${servers.length} servers serving, ${needed} needed`),
      );
      findings.push(...down.map((server) => error(server.cause, server.reason)));
    } else {
      if (leaders > 1) findings.push(error(`${targets}: ${leaders} servers claim to be the leader`));
      if (down.length > 0) {
        findings.push(warn(`${targets}: quorum holds with ${voters} of ${servers.length} servers serving`));
        findings.push(...down.map((server) => warn(server.cause, server.reason)));
      }
    }
  }
  const sum = (pick: (server: ServerState & { serving: true }) => number | undefined) =>
    serving.reduce((total, server) => total + (pick(server) ?? 0), 0);
  return resultOf(findings, {
    servers: servers.length,
    servers_serving: serving.length,
    leaders,
    znodes: Math.max(0, ...serving.map((server) => server.znodes ?? 0)),
    connections: sum((server) => server.connections),
    outstanding_requests: sum((server) => server.outstanding),
  });
}

function quote(text: string): string {
  const line = text.replace(/\s+/g, " ").trim();
  return JSON.stringify(line.length > 80 ? `${line.slice(0, 80)}…` : line);
}

async function probe(server: string, signal: AbortSignal, timeoutMs: number): Promise<ServerState> {
  const colon = server.lastIndexOf(":");
  const host = server.slice(0, colon).replace(/^\[(.*)\]$/, "$1");
  const port = Number(server.slice(colon + 1));
  try {
    const [ruok, srvr] = await Promise.all([
      fourLetterWord(host, port, "ruok", signal),
      fourLetterWord(host, port, "srvr", signal),
    ]);
    return parseServerState(server, ruok, srvr);
  } catch (caught) {
    return { target: server, serving: false, ...networkFailure(server, caught, signal, timeoutMs) };
  }
}

export const checkZookeeper: CheckRunner<"zookeeper"> = async (spec, { signal }) => {
  // Two connections per server share the run's signal, each listening for its abort.
  setMaxListeners(4 * spec.servers.length + 10, signal);
  return assessEnsemble(
    await Promise.all(spec.servers.map((server) => probe(server, signal, spec.timeoutMs))),
  );
};
