/** The zookeeper check against real ZooKeeper (Debian's jars): a standalone server and a 3-node ensemble. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkZookeeper } from "../../agent/checks/zookeeper.js";
import { closedPort, serveBytes, serveSilence } from "../services/recorded.js";
import { tcpExchange, waitFor } from "../services/spawn.js";
import { startZooKeeper, type ZooKeeper } from "../services/zookeeper.js";
import { ABORT_SLACK_MS, runCheck } from "./run-check.js";

const spec = (servers: string[]) => ({ name: "zk", type: "zookeeper" as const, servers });

describe("zookeeper check against a real standalone server", () => {
  let standalone: ZooKeeper;
  let srvrOnly: ZooKeeper;
  beforeAll(async () => {
    [standalone, srvrOnly] = await Promise.all([startZooKeeper(), startZooKeeper({ whitelist: "srvr" })]);
  });
  afterAll(async () => {
    await Promise.all([standalone?.stop(), srvrOnly?.stop()]);
  });

  it("is OK in standalone mode, with its gauges", async () => {
    const result = await runCheck(checkZookeeper, spec(standalone.addresses));
    expect(result).toMatchObject({ health: "OK", causes: [] });
    expect(result.values).toMatchObject({ servers: 1, servers_serving: 1, leaders: 0 });
    expect(result.values?.znodes).toBeGreaterThan(0);
  });

  it("is ERROR saying so when ruok is not in the four-letter-word whitelist", async () => {
    const result = await runCheck(checkZookeeper, spec(srvrOnly.addresses));
    expect(result).toMatchObject({
      health: "ERROR",
      causes: [
        `${srvrOnly.addresses[0]}: ruok is not executed because it is not in the whitelist (add ruok,srvr to 4lw.commands.whitelist)`,
      ],
    });
  });

  it("is ERROR naming the server once it is stopped", async () => {
    const doomed = await startZooKeeper();
    await doomed.stop();
    expect(await runCheck(checkZookeeper, spec(doomed.addresses))).toMatchObject({
      health: "ERROR",
      causes: [`${doomed.addresses[0]}: connection refused`],
    });
  });
});

describe("zookeeper check against a real 3-node ensemble", () => {
  let ensemble: ZooKeeper;
  beforeAll(async () => {
    ensemble = await startZooKeeper({ servers: 3 });
  });
  afterAll(async () => {
    await ensemble?.stop();
  });

  it("is OK with one leader and every member serving", async () => {
    const result = await runCheck(checkZookeeper, spec(ensemble.addresses));
    expect(result).toMatchObject({ health: "OK", values: { servers: 3, servers_serving: 3, leaders: 1 } });
  });

  it("is WARN when a member is down but quorum holds, then ERROR without quorum", async () => {
    const [first, second] = ensemble.servers;
    await first!.stop();
    // A follower's loss leaves the leader serving; a leader's loss takes an election first.
    let warned = await runCheck(checkZookeeper, spec(ensemble.addresses));
    await waitFor("the ensemble to serve with two members", async () => {
      warned = await runCheck(checkZookeeper, spec(ensemble.addresses));
      return warned.health === "WARN";
    });
    expect(warned.health).toBe("WARN");
    expect(warned.causes).toEqual([
      `${ensemble.addresses.join(",")}: quorum holds with 2 of 3 servers serving`,
      `${first!.address}: connection refused`,
    ]);

    await second!.stop();
    const lost = await runCheck(checkZookeeper, spec(ensemble.addresses));
    expect(lost.health).toBe("ERROR");
    expect(lost.causes[0]).toMatch(/: no quorum: [01] of 3 servers serving, 2 needed$/);
    // The last member notices within syncLimit ticks and stops serving.
    const last = ensemble.servers[2]!;
    await waitFor("the last member to stop serving", async () =>
      /not currently serving/.test(await tcpExchange(last.port, "srvr")),
    );
    const settled = await runCheck(checkZookeeper, spec(ensemble.addresses));
    expect(settled.causes).toEqual([
      `${ensemble.addresses.join(",")}: no quorum: 0 of 3 servers serving, 2 needed`,
      `${first!.address}: connection refused`,
      `${second!.address}: connection refused`,
      `${last.address}: not serving requests (no quorum)`,
    ]);
  });
});

describe("zookeeper check against misbehaving targets", () => {
  it("is ERROR naming the target when nothing listens", async () => {
    const port = await closedPort();
    expect((await runCheck(checkZookeeper, spec([`127.0.0.1:${port}`]))).causes).toEqual([
      `127.0.0.1:${port}: connection refused`,
    ]);
  });

  it("is ERROR by timeout, within the bound, when the target accepts and never answers", async () => {
    const silent = await serveSilence();
    const result = await runCheck(checkZookeeper, spec([`127.0.0.1:${silent.port}`]), { timeoutMs: 500 });
    await silent.stop();
    expect(result.causes).toEqual([`127.0.0.1:${silent.port}: no answer within 500ms`]);
    expect(result.elapsedMs).toBeLessThan(500 + ABORT_SLACK_MS);
  });

  it("is ERROR when the target answers garbage", async () => {
    const garbage = await serveBytes("HTTP/1.1 400 Bad Request\r\n\r\n");
    const result = await runCheck(checkZookeeper, spec([`127.0.0.1:${garbage.port}`]));
    await garbage.stop();
    expect(result.causes).toEqual([`127.0.0.1:${garbage.port}: ruok answered "HTTP/1.1 400 Bad Request"`]);
  });
});
