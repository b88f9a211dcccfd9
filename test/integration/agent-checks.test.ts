/** The http, tcp and dns checks against real local servers on 127.0.0.1. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkDns } from "../../agent/checks/dns.js";
import { checkHttp } from "../../agent/checks/http.js";
import { checkTcp } from "../../agent/checks/tcp.js";
import type { CheckResult, CheckRunner } from "../../agent/checks/types.js";
import type { CheckSpecOf, CheckType } from "../../core/checks.js";
import { resolvedChecks } from "../services/agent.js";
import {
  selfSignedCertificate,
  startDnsTarget,
  startGarbageTcpTarget,
  startHttpsTarget,
  startHttpTarget,
  startSilentTcpTarget,
  stoppedPort,
  type Target,
} from "./agent-targets.js";

const TIMEOUT_MS = 400;
/**
 * How long after its timeout a check may take to give up. The bound is the behaviour (a check
 * that ignores the abort hangs on a silent server, or waits out c-ares' default 5 s × 4 tries),
 * with a margin for a loaded 2-core machine.
 */
const ABORT_SLACK_MS = 2_600;

function spec<K extends CheckType>(type: K, fields: Record<string, unknown>) {
  const parsed = resolvedChecks([{ name: "t", type, interval: "1s", timeout: `${TIMEOUT_MS}ms`, ...fields }]);
  return parsed[0] as CheckSpecOf<K> & { timeoutMs: number };
}

async function run<K extends CheckType>(
  runner: CheckRunner<K>,
  checkSpec: CheckSpecOf<K> & { timeoutMs: number },
): Promise<CheckResult & { elapsedMs: number }> {
  const started = Date.now();
  // A check that ignores its signal fails here, naming why, instead of at the test's timeout.
  let timer: NodeJS.Timeout | undefined;
  const bound = checkSpec.timeoutMs + ABORT_SLACK_MS;
  const overdue = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`check still running ${bound} ms after it started`)), bound);
  });
  try {
    const result = await Promise.race([
      runner(checkSpec, { signal: AbortSignal.timeout(checkSpec.timeoutMs), env: {}, now: Date.now }),
      overdue,
    ]);
    return { ...result, elapsedMs: Date.now() - started };
  } finally {
    clearTimeout(timer);
  }
}

const targets: Target[] = [];
afterAll(async () => {
  await Promise.all(targets.map((t) => t.stop()));
});
function keep<T extends Target>(target: T): T {
  targets.push(target);
  return target;
}

describe("http check", () => {
  let web: Awaited<ReturnType<typeof startHttpTarget>>;
  beforeAll(async () => {
    web = keep(
      await startHttpTarget((request, response) => {
        if (request.url === "/broken") response.writeHead(500).end("internal error");
        else response.writeHead(200, { "content-type": "text/plain" }).end("service is healthy");
      }),
    );
  });

  it("is OK when the status is 2xx and the body contains the text", async () => {
    const result = await run(checkHttp, spec("http", { url: `${web.url}/`, bodyMatch: "healthy" }));
    expect(result).toMatchObject({ health: "OK", causes: [], values: { status_code: 200 } });
  });

  it("is ERROR naming the URL when the body lacks the text", async () => {
    const result = await run(checkHttp, spec("http", { url: `${web.url}/`, bodyMatch: "ready" }));
    expect(result.health).toBe("ERROR");
    expect(result.causes).toEqual([`${web.url}/: body does not contain "ready"`]);
  });

  it("is ERROR naming the URL when the status is not the expected one", async () => {
    const result = await run(checkHttp, spec("http", { url: `${web.url}/broken` }));
    expect(result).toMatchObject({ health: "ERROR", values: { status_code: 500 } });
    expect(result.causes).toEqual([`${web.url}/broken: status 500, expected 2xx or 3xx`]);
  });

  it("is ERROR naming the URL when nothing listens", async () => {
    const url = `http://127.0.0.1:${await stoppedPort()}/health`;
    const result = await run(checkHttp, spec("http", { url }));
    expect(result.health).toBe("ERROR");
    expect(result.causes[0]).toMatch(new RegExp(`^${url}: .*ECONNREFUSED`));
  });

  it("is ERROR by timeout, within the bound, when the server accepts and never answers", async () => {
    const silent = keep(await startSilentTcpTarget());
    const url = `http://127.0.0.1:${silent.port}/`;
    const result = await run(checkHttp, spec("http", { url }));
    expect(result).toMatchObject({ health: "ERROR", causes: [`${url}: no answer before the timeout`] });
    expect(result.elapsedMs).toBeLessThan(TIMEOUT_MS + ABORT_SLACK_MS);
  });

  it("is ERROR when the server answers garbage instead of HTTP", async () => {
    const garbage = keep(await startGarbageTcpTarget());
    const url = `http://127.0.0.1:${garbage.port}/`;
    const result = await run(checkHttp, spec("http", { url }));
    expect(result.health).toBe("ERROR");
    expect(result.causes[0]).toMatch(new RegExp(`^${url}: not an HTTP reply`));
  });

  describe("over TLS", () => {
    let expiringSoon: Awaited<ReturnType<typeof startHttpsTarget>>;
    let longLived: Awaited<ReturnType<typeof startHttpsTarget>>;
    beforeAll(async () => {
      const ok = (_: unknown, response: import("node:http").ServerResponse) => response.end("ok");
      expiringSoon = keep(await startHttpsTarget(selfSignedCertificate(5), ok));
      longLived = keep(await startHttpsTarget(selfSignedCertificate(90), ok));
    });

    it("is WARN naming the URL when the certificate expires within tlsExpiryWarnDays", async () => {
      const result = await run(
        checkHttp,
        spec("http", { url: `${expiringSoon.url}/`, insecureSkipVerify: true, tlsExpiryWarnDays: 14 }),
      );
      expect(result.health).toBe("WARN");
      expect(result.causes[0]).toMatch(
        new RegExp(`^${expiringSoon.url}/: TLS certificate expires in 4 days`),
      );
      expect(result.values?.tls_expiry_seconds).toBeGreaterThan(4 * 86_400);
      expect(result.values?.tls_expiry_seconds).toBeLessThan(5 * 86_400);
    });

    it("is OK when the certificate lasts longer than tlsExpiryWarnDays", async () => {
      const result = await run(
        checkHttp,
        spec("http", { url: `${longLived.url}/`, insecureSkipVerify: true, tlsExpiryWarnDays: 14 }),
      );
      expect(result).toMatchObject({ health: "OK", causes: [] });
      expect(result.values?.tls_expiry_seconds).toBeGreaterThan(89 * 86_400);
    });

    it("is ERROR when the certificate does not verify and insecureSkipVerify is off", async () => {
      const result = await run(checkHttp, spec("http", { url: `${longLived.url}/` }));
      expect(result.health).toBe("ERROR");
      expect(result.causes[0]).toMatch(new RegExp(`^${longLived.url}/: .*self.signed`, "i"));
    });
  });
});

describe("tcp check", () => {
  it("is OK when the port accepts a connection", async () => {
    const silent = keep(await startSilentTcpTarget());
    const result = await run(checkTcp, spec("tcp", { host: "127.0.0.1", port: silent.port }));
    expect(result).toMatchObject({ health: "OK", causes: [] });
    expect(result.values?.connect_seconds).toBeGreaterThanOrEqual(0);
  });

  it("is ERROR naming host:port when nothing listens", async () => {
    const port = await stoppedPort();
    const result = await run(checkTcp, spec("tcp", { host: "127.0.0.1", port }));
    expect(result).toEqual(
      expect.objectContaining({ health: "ERROR", causes: [`127.0.0.1:${port}: ECONNREFUSED`] }),
    );
  });
});

describe("dns check", () => {
  let dns: Awaited<ReturnType<typeof startDnsTarget>>;
  beforeAll(async () => {
    dns = keep(await startDnsTarget({ "kafka.graft.test": ["10.0.0.7", "10.0.0.8"] }));
  });

  it("is OK with the number of answers when the name resolves", async () => {
    dns.setMode("answer");
    const result = await run(checkDns, spec("dns", { hostname: "kafka.graft.test", server: dns.server }));
    expect(result).toMatchObject({ health: "OK", causes: [], values: { answers: 2 } });
  });

  it("is ERROR naming the name and server when the name does not exist", async () => {
    dns.setMode("answer");
    const result = await run(checkDns, spec("dns", { hostname: "nope.graft.test", server: dns.server }));
    expect(result).toMatchObject({
      health: "ERROR",
      causes: [`nope.graft.test (A via ${dns.server}): ENOTFOUND`],
    });
  });

  it("is ERROR by timeout, within the bound, when the server never answers", async () => {
    dns.setMode("silent");
    const result = await run(checkDns, spec("dns", { hostname: "kafka.graft.test", server: dns.server }));
    expect(result.health).toBe("ERROR");
    expect(result.causes[0]).toMatch(
      /^kafka\.graft\.test \(A via 127\.0\.0\.1:\d+\): (ETIMEOUT|ECANCELLED|no answer)/,
    );
    expect(result.elapsedMs).toBeLessThan(TIMEOUT_MS + ABORT_SLACK_MS);
  });

  it("is ERROR when the server answers garbage", async () => {
    dns.setMode("garbage");
    const result = await run(checkDns, spec("dns", { hostname: "kafka.graft.test", server: dns.server }));
    expect(result.health).toBe("ERROR");
    expect(result.causes[0]).toMatch(/^kafka\.graft\.test \(A via 127\.0\.0\.1:\d+\): /);
  });

  it("is ERROR naming the server when it is stopped", async () => {
    const stopped = await startDnsTarget({});
    await stopped.stop();
    const result = await run(checkDns, spec("dns", { hostname: "kafka.graft.test", server: stopped.server }));
    expect(result.health).toBe("ERROR");
    expect(result.causes[0]).toContain(`kafka.graft.test (A via ${stopped.server}): `);
  });
});
