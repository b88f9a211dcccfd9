/** A real graft agent on 127.0.0.1 and a free port, running `checks` (a spec as users write it). */
import { type Agent, startAgent } from "../../agent/main.js";
import { parseChecksSpec } from "../../core/checks.js";

/** Resolves once every check has reported once. */
export async function startAgentWith(checks: unknown[]): Promise<Agent> {
  const parsed = parseChecksSpec(checks);
  if (!parsed.ok) throw new Error(parsed.errors.join("\n"));
  const agent = await startAgent({ checks: parsed.checks, port: 0, host: "127.0.0.1" });
  await agent.ready;
  return agent;
}

/** A tcp check, every second, of a port (one where nothing listens is an ERROR naming it). */
export function tcpCheck(name: string, port: number, source = name) {
  return { name, type: "tcp", host: "127.0.0.1", port, source, interval: "1s", timeout: "500ms" };
}
