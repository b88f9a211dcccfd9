import { createServer } from "node:net";
import { describe, expect, it } from "vitest";
import { CHECK_TYPES, type CheckType, type ResolvedCheck } from "../../core/checks.js";
import { resolvedChecks } from "../../test/services/agent.js";
import { describeTarget } from "../target.js";
import { loadRunner, RUNNERS } from "./index.js";

/** A loopback port nothing listens on (bound, then released). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return typeof address === "object" && address ? address.port : 0;
}

/** The fields of a check of `type` aimed at 127.0.0.1:port. */
function aimedAt(type: CheckType, port: number): Record<string, unknown> {
  const hostPort = `127.0.0.1:${port}`;
  switch (type) {
    case "tcp":
    case "redis":
    case "hive":
      return { host: "127.0.0.1", port };
    case "dns":
      return { hostname: "kafka.graft.test", server: hostPort };
    case "zookeeper":
      return { servers: [hostPort] };
    case "kafka":
      return { brokers: [hostPort] };
    default:
      return { url: `http://${hostPort}/` };
  }
}

describe("RUNNERS", () => {
  it("has a runner for every check type the schema admits", () => {
    expect(CHECK_TYPES.filter((type) => RUNNERS[type] === undefined)).toEqual([]);
  });

  // The runner each type loads is that type's: pointed at a port where nothing listens, it reads
  // its own fields and reports ERROR naming that check's target (another type's runner would
  // read fields the check does not have).
  it.each(CHECK_TYPES)("loads the %s runner, which reports its own target down", async (type) => {
    const port = await closedPort();
    const parsed = resolvedChecks([{ name: "c", type, timeout: "2s", ...aimedAt(type, port) }]);
    const check = parsed[0] as ResolvedCheck;
    // One module per type, agent/checks/<type>.ts: the runner comes from the type's own module.
    const own: Record<string, unknown> = await import(`./${type}.js`);
    expect(Object.values(own)).toContain(await RUNNERS[type]?.());
    const run = await loadRunner(check);
    const result = await run({ signal: AbortSignal.timeout(check.timeoutMs), env: {}, now: Date.now });
    expect(result.health).toBe("ERROR");
    expect(result.causes.join("\n")).toContain(describeTarget(check));
  });
});
