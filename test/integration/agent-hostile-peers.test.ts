/**
 * Every check type against hostile peers on 127.0.0.1 — a huge announced length, a reply that
 * streams forever, garbage, silence — run by the agent as it ships (the built CLI with the
 * sidecar's node flags, in a child process). Each check must come back ERROR naming the bound
 * that held (a byte cap, or the timeout), and the agent's peak resident memory (VmHWM) must
 * stay under the sidecar's memory limit.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_REPLY_BUDGET_BYTES } from "../../agent/reply-budget.js";
import { formatBytes } from "../../core/bytes.js";
import { type AgentProcess, buildOnce, startAgentProcess } from "../services/agent.js";
import { waitFor } from "../services/spawn.js";
import {
  endlessBytes,
  garbage,
  httpEndlessBody,
  httpEndlessHeaders,
  httpHugeLength,
  httpManyObjects,
  kafkaHugeResponse,
  redisEndlessLine,
  redisGarbageInfo,
  redisHugeBulk,
  silence,
  startTcpPeer,
} from "./agent-hostile-targets.js";
import { startDnsTarget, type Target } from "./agent-targets.js";

/** The sidecar's memory limit as shipped (webhook/model/config.ts, manifests/base/config.yaml). */
const MEMORY_LIMIT_BYTES = 128 * 1024 * 1024;
const MiB = 1024 * 1024;
/** Runs of every check to wait for: the first run and a few more, to catch growth across runs. */
const RUNS = 3;

const peers: Target[] = [];
async function peer(onConnection: Parameters<typeof startTcpPeer>[0]): Promise<Target> {
  const target = await startTcpPeer(onConnection);
  peers.push(target);
  return target;
}
afterAll(async () => {
  await Promise.all(peers.map((target) => target.stop()));
});

beforeAll(() => {
  buildOnce();
}, 300_000);

type Expected = { check: Record<string, unknown>; health: string; cause: RegExp };

/** Checks every 3 s with a 2 s timeout, each its own source so /status names it. */
function check(name: string, type: string, fields: Record<string, unknown>) {
  return { name, type, source: name, interval: "3s", timeout: "2s", ...fields };
}

/**
 * Starts an agent with `expected`'s checks, waits for RUNS runs of each, then asserts each
 * check's health and cause and the agent's peak RSS.
 */
async function runAgainst(
  expected: Expected[],
  options: { pushUrl?: string; also?: (agent: AgentProcess) => Promise<void> } = {},
): Promise<void> {
  const agent = await startAgentProcess({
    checks: expected.map((e) => e.check),
    ...(options.pushUrl === undefined ? {} : { pushUrl: options.pushUrl }),
  });
  try {
    await waitFor(
      `${RUNS} runs of every check`,
      async () => {
        const runs = await agent.runs();
        return expected.every((e) => (runs.get(e.check.name as string) ?? 0) >= RUNS);
      },
      { timeoutMs: 30_000 },
    );
    const status = await agent.status();
    for (const { check: spec, health, cause } of expected) {
      const event = status.get(spec.name as string);
      expect(event?.value, `${spec.name}: ${event?.causes.join("; ")}`).toBe(health);
      expect(event?.causes.join("; "), `${spec.name}`).toMatch(cause);
    }
    await options.also?.(agent);
    const peak = await agent.peakRssBytes();
    expect(peak, `peak RSS ${(peak / MiB).toFixed(1)} MiB`).toBeLessThan(MEMORY_LIMIT_BYTES);
  } finally {
    await agent.stop();
  }
}

const url = (target: Target) => `http://127.0.0.1:${target.port}`;
const hostPort = (target: Target) => `127.0.0.1:${target.port}`;
const TIMEOUT = /no (answer|result|connection) (within|before)/;

describe("the agent against hostile peers, memory under its limit", () => {
  it("http: a 2 GiB body, an endless body or endless headers stop at their cap; garbage and silence are ERROR", async () => {
    const [huge, endless, headers, junk, quiet] = await Promise.all([
      peer(httpHugeLength),
      peer(httpEndlessBody),
      peer(httpEndlessHeaders),
      peer(garbage),
      peer(silence),
    ]);
    const http = (name: string, target: Target) => check(name, "http", { url: url(target), bodyMatch: "ok" });
    await runAgainst([
      {
        check: http("huge", huge),
        health: "ERROR",
        cause: /reply body larger than the 1 MiB cap \(2147483648 bytes announced\)/,
      },
      { check: http("endless", endless), health: "ERROR", cause: /reply body larger than the 1 MiB cap$/ },
      { check: http("headers", headers), health: "ERROR", cause: /reply headers larger than the 16 KiB cap/ },
      { check: http("junk", junk), health: "ERROR", cause: /not an HTTP reply/ },
      { check: http("quiet", quiet), health: "ERROR", cause: TIMEOUT },
    ]);
  });

  it("every JSON-API check type: a 2 GiB or endless body stops at the 2 MiB cap", async () => {
    const [huge, endless] = await Promise.all([peer(httpHugeLength), peer(httpEndlessBody)]);
    const types = [
      "rabbitmq",
      "spark",
      "flink",
      "hdfs",
      "elasticsearch",
      "opentsdb",
      "jupyterhub",
      "deployment-manager",
    ];
    await runAgainst(
      types.flatMap((type) => [
        {
          check: check(`${type}-huge`, type, { url: url(huge) }),
          health: "ERROR",
          cause: /reply body larger than the 2 MiB cap \(2147483648 bytes announced\)/,
        },
        {
          check: check(`${type}-endless`, type, { url: url(endless) }),
          health: "ERROR",
          // Eight endless replies at 2 MiB each overrun the agent's shared budget: a run may find
          // it taken by the others' bytes, which is the other bound.
          cause: new RegExp(
            `reply body larger than the 2 MiB cap|${formatBytes(DEFAULT_REPLY_BUDGET_BYTES)} for replies being received is taken`,
          ),
        },
      ]),
    );
  });

  it("JSON-API checks: 2 MiB of valid JSON with 700,000 objects is refused before it is parsed", async () => {
    const many = await peer(httpManyObjects);
    // They share one reader (http-json.ts); rabbitmq reads three such replies at once.
    await runAgainst(
      ["rabbitmq", "spark", "hdfs"].map((type) => ({
        check: check(`${type}-many`, type, { url: url(many) }),
        health: "ERROR",
        cause: /reply has more than the cap of 100000 objects and arrays/,
      })),
    );
  });

  it("redis: a 2 GiB bulk string, an endless line, INFO that is not INFO, garbage, silence", async () => {
    const [huge, endless, info, junk, quiet] = await Promise.all([
      peer(redisHugeBulk),
      peer(redisEndlessLine),
      peer(redisGarbageInfo),
      peer(garbage),
      peer(silence),
    ]);
    const redis = (name: string, target: Target) =>
      check(name, "redis", { host: "127.0.0.1", port: target.port });
    await runAgainst([
      {
        check: redis("huge", huge),
        health: "ERROR",
        cause: /a bulk reply larger than the 1 MiB cap \(2147483647 bytes announced\)/,
      },
      { check: redis("endless", endless), health: "ERROR", cause: /a reply line larger than the 64 KiB cap/ },
      { check: redis("info", info), health: "ERROR", cause: /not Redis INFO \(no redis_version\)/ },
      { check: redis("junk", junk), health: "ERROR", cause: /not a Redis reply/ },
      { check: redis("quiet", quiet), health: "ERROR", cause: TIMEOUT },
    ]);
  });

  it("zookeeper: a reply that never ends stops at the 64 KiB cap; garbage and silence are ERROR", async () => {
    const [endless, junk, quiet] = await Promise.all([peer(endlessBytes), peer(garbage), peer(silence)]);
    const zk = (name: string, target: Target) => check(name, "zookeeper", { servers: [hostPort(target)] });
    await runAgainst([
      {
        check: zk("endless", endless),
        health: "ERROR",
        cause: /the reply to (ruok|srvr) larger than the 64 KiB cap/,
      },
      { check: zk("junk", junk), health: "ERROR", cause: /ruok answered/ },
      { check: zk("quiet", quiet), health: "ERROR", cause: TIMEOUT },
    ]);
  });

  it("kafka: a response announced as 2 GiB is cut off at the 4 MiB cap; garbage and silence are ERROR", async () => {
    const [huge, junk, quiet] = await Promise.all([peer(kafkaHugeResponse), peer(garbage), peer(silence)]);
    const kafka = (name: string, target: Target) => check(name, "kafka", { brokers: [hostPort(target)] });
    await runAgainst([
      {
        check: kafka("huge", huge),
        health: "ERROR",
        cause: /a response larger than the 4 MiB cap \(2147483647 bytes announced\)/,
      },
      // Its first four bytes read as a size of 16 MiB: refused before anything is buffered.
      { check: kafka("junk", junk), health: "ERROR", cause: /a response larger than the 4 MiB cap/ },
      { check: kafka("quiet", quiet), health: "ERROR", cause: /timeout|no answer within/i },
    ]);
  });

  it("dns and tcp: a garbage or silent DNS server is ERROR; a flooding port is only connected to", async () => {
    const dns = await startDnsTarget({});
    peers.push(dns);
    dns.setMode("garbage");
    const silentDns = await startDnsTarget({});
    peers.push(silentDns);
    silentDns.setMode("silent");
    const flooding = await peer((socket) => endlessBytes(socket));
    await runAgainst([
      {
        check: check("dns-junk", "dns", { hostname: "a.example", server: dns.server }),
        health: "ERROR",
        cause: /a\.example/,
      },
      {
        check: check("dns-quiet", "dns", { hostname: "a.example", server: silentDns.server }),
        health: "ERROR",
        cause: /a\.example/,
      },
      {
        check: check("tcp-flood", "tcp", { host: "127.0.0.1", port: flooding.port }),
        health: "OK",
        cause: /^$/,
      },
    ]);
  });

  it("push: a data logger that answers 200 and streams forever is done with at its status", async () => {
    const logger = await peer(httpEndlessBody);
    const quiet = await peer(silence);
    const requests = async (agent: AgentProcess, result: string) =>
      Number(
        new RegExp(`^graft_push_requests_total\\{result="${result}"\\} (\\d+)$`, "m").exec(
          await agent.metrics(),
        )?.[1] ?? 0,
      );
    await runAgainst(
      [{ check: check("quiet", "tcp", { host: "127.0.0.1", port: quiet.port }), health: "OK", cause: /^$/ }],
      {
        pushUrl: `${url(logger)}/metrics`,
        // Before the change the body was read until the 5 s request timeout: every push failed.
        also: async (agent) => {
          await waitFor("a push accepted", async () => (await requests(agent, "ok")) >= 1, {
            timeoutMs: 10_000,
          });
          expect(await requests(agent, "error")).toBe(0);
        },
      },
    );
  });
});
