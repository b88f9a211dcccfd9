/**
 * The hive check against a real HiveServer2 (Hive 4.0.1 embedded, test/services/hive.ts): a
 * session opened and closed over its Thrift port, then the server stopped. HiveServer2's metastore
 * has no schema here (see test/services/hive/MiniHive.java), so only sessions are tested, which is
 * all the check does. Then the Thrift port's hostile peers: silence, garbage, a refused SASL
 * handshake and a 2 GiB frame.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { checkHive } from "../../agent/checks/hive.js";
import { type Hive, startHive } from "../services/hive.js";
import { closedPort, type Served, serveBytes, serveSilence } from "../services/recorded.js";
import { ABORT_SLACK_MS, runCheck } from "./run-check.js";

const spec = (port: number, extra: Record<string, string> = {}) => ({
  name: "hive",
  type: "hive" as const,
  host: "127.0.0.1",
  port,
  ...extra,
});

describe("hive check against a real HiveServer2", () => {
  let hive: Hive;
  beforeAll(async () => {
    hive = await startHive();
  }, 300_000);
  afterAll(async () => {
    await hive?.stop();
  });

  it("is OK once a session opened and closed, with the protocol version the server chose", async () => {
    const result = await runCheck(checkHive, spec(hive.port), { timeoutMs: 30_000 });
    expect(result.causes).toEqual([]);
    expect(result.health).toBe("OK");
    // The check asks for HIVE_CLI_SERVICE_PROTOCOL_V8; Hive 4 speaks newer ones and agrees to it.
    expect(result.values?.protocol_version).toBe(8);
    expect(result.values?.session_ms).toBeGreaterThan(0);
  });

  it("is ERROR naming the server once it is stopped", async () => {
    await hive.stop();
    const result = await runCheck(checkHive, spec(hive.port));
    expect(result).toMatchObject({ health: "ERROR", causes: [`127.0.0.1:${hive.port}: connection refused`] });
  });
});

describe("hive check against misbehaving Thrift ports", () => {
  let served: Served | undefined;
  afterEach(async () => {
    await served?.stop();
    served = undefined;
  });

  it("is ERROR naming the target when nothing listens", async () => {
    const port = await closedPort();
    const result = await runCheck(checkHive, spec(port));
    expect(result.causes).toEqual([`127.0.0.1:${port}: connection refused`]);
  });

  it("is ERROR by timeout, within the bound, when the server accepts and never answers", async () => {
    served = await serveSilence();
    const result = await runCheck(checkHive, spec(served.port), { timeoutMs: 500 });
    expect(result.causes).toEqual([`127.0.0.1:${served.port}: no answer within 500ms`]);
    expect(result.elapsedMs).toBeLessThan(500 + ABORT_SLACK_MS);
  });

  it("is ERROR saying why when the SASL handshake is refused", async () => {
    // Status BAD (3) and a message, as a server with LDAP authentication answers a wrong password.
    const message = "Error validating the login";
    served = await serveBytes(`\u0003\u0000\u0000\u0000${String.fromCharCode(message.length)}${message}`);
    const result = await runCheck(checkHive, spec(served.port));
    expect(result.causes).toEqual([`127.0.0.1:${served.port}: SASL PLAIN refused: "${message}"`]);
  });

  it("is ERROR at once when a frame announces more than the 1 MiB cap", async () => {
    served = await serveBytes("\u0005\u007f\u00ff\u00ff\u00ff");
    const result = await runCheck(checkHive, spec(served.port));
    expect(result.causes[0]).toMatch(/the SASL reply larger than the 1 MiB cap \(\d+ bytes announced\)$/);
    expect(result.elapsedMs).toBeLessThan(ABORT_SLACK_MS);
  });

  it("is ERROR when the server answers something that is not Thrift", async () => {
    served = await serveBytes("HTTP/1.1 400 Bad Request\r\n\r\n");
    const result = await runCheck(checkHive, spec(served.port));
    expect(result.health).toBe("ERROR");
    expect(result.causes[0]).toMatch(
      /^127\.0\.0\.1:\d+: (SASL PLAIN answered status 72|the SASL reply larger than)/,
    );
  });

  it("is ERROR naming the env var when the credentials it names are not set", async () => {
    const result = await runCheck(checkHive, spec(10000, { usernameEnv: "HIVE_USER" }), { env: {} });
    expect(result.causes).toEqual(["127.0.0.1:10000: env var HIVE_USER is not set"]);
  });
});
