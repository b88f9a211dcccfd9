/**
 * `graft check --prometheus-url` reads an answer from a server the user names: against real HTTP
 * servers on 127.0.0.1, a Prometheus' answer is read, and a hostile or broken one — too large
 * (announced or streamed), garbage, silent before or during the body — fails with a clear error
 * within the configured time, never a hang or an unbounded read.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { agentsUp } from "./check.js";

const LIMITS = { timeoutMs: 400, maxBytes: 64 * 1024 };
const servers: Server[] = [];

/** A server on a free port of 127.0.0.1 answering every request with `handle`; its base URL. */
async function serve(handle: (request: IncomingMessage, response: ServerResponse) => void): Promise<string> {
  const server = createServer(handle);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

const series = (namespace: string, pod: string, value: string) => ({
  metric: { __name__: "up", container: "graft-agent", namespace, pod },
  value: [1_700_000_000, value],
});

describe("agentsUp (graft check --prometheus-url)", () => {
  it("reads the agents a Prometheus sees up from its query answer", async () => {
    let asked = "";
    const url = await serve((request, response) => {
      asked = request.url ?? "";
      response.setHeader("content-type", "application/json");
      response.end(
        JSON.stringify({
          status: "success",
          data: {
            resultType: "vector",
            result: [series("apps", "kafka-0", "1"), series("apps", "spark-0", "0")],
          },
        }),
      );
    });
    expect(await agentsUp(`${url}/prom`, LIMITS)).toEqual(new Set(["apps/kafka-0"]));
    expect(decodeURIComponent(asked)).toBe('/prom/api/v1/query?query=up{container="graft-agent"}');
  });

  it("refuses a body announced larger than the cap without reading it", async () => {
    const url = await serve((_request, response) => {
      response.writeHead(200, { "content-length": String(1024 * 1024 * 1024) });
      response.write("x".repeat(1024));
    });
    await expect(agentsUp(url, LIMITS)).rejects.toThrow(
      `Prometheus at ${url} could not be queried: reply body larger than the 64 KiB cap (1073741824 bytes announced)`,
    );
  });

  it("stops reading a streamed body at the cap, and the server sees the connection closed", async () => {
    let sent = 0;
    let closed: () => void = () => {};
    const serverSawClose = new Promise<void>((resolve) => {
      closed = resolve;
    });
    const url = await serve((_request, response) => {
      response.writeHead(200, { "content-type": "application/json" });
      const chunk = `${"[".repeat(1023)}\n`;
      const pump = () => {
        // An endless body: it only ends when the client goes away.
        while (!response.destroyed && response.write(chunk)) sent += chunk.length;
        if (!response.destroyed) response.once("drain", pump);
      };
      response.on("close", closed);
      pump();
    });
    await expect(agentsUp(url, LIMITS)).rejects.toThrow(
      `Prometheus at ${url} could not be queried: reply body larger than the 64 KiB cap`,
    );
    await serverSawClose;
    // The client stopped: far less than the endless body went out (socket buffers aside).
    expect(sent).toBeLessThan(64 * 1024 * 1024);
  });

  it.each([
    [
      "HTML",
      200,
      "<html><body>Welcome to nginx!</body></html>",
      '"<html><body>Welcome to nginx!</body></html>"',
    ],
    ["JSON of another shape", 200, '{"status":"success","data":{"result":7}}', '"{\\"status'],
    ["an error status", 503, "Service Unavailable", '"Service Unavailable"'],
    ["binary junk", 200, "\u0000\u0001\u00ff{{{[[[", '"'],
    ["nothing", 200, "", '""'],
  ])("fails on %s, saying what it answered", async (_what, status, body, shown) => {
    const url = await serve((_request, response) => {
      response.writeHead(status, { "content-type": "application/json" });
      response.end(body);
    });
    const failure = agentsUp(url, LIMITS);
    await expect(failure).rejects.toThrow(
      `Prometheus at ${url} answered HTTP ${status} without a query result: ${shown}`,
    );
  });

  it("gives up on a server that sends headers and part of the body, then nothing", async () => {
    let closed: () => void = () => {};
    const serverSawClose = new Promise<void>((resolve) => {
      closed = resolve;
    });
    const url = await serve((_request, response) => {
      response.writeHead(200, { "content-type": "application/json" });
      response.write('{"status":"success","data":{"resultType":"vector","result":[');
      response.on("close", closed);
    });
    const started = performance.now();
    await expect(agentsUp(url, LIMITS)).rejects.toThrow(
      `Prometheus at ${url} could not be queried: no whole answer within 0.4s`,
    );
    // Not before its time: the bound is the configured one, and the connection is let go.
    expect(performance.now() - started).toBeGreaterThanOrEqual(LIMITS.timeoutMs - 5);
    await serverSawClose;
  });

  it("gives up on a server that accepts the request and never answers", async () => {
    const url = await serve(() => {});
    await expect(agentsUp(url, LIMITS)).rejects.toThrow(
      `Prometheus at ${url} could not be queried: no whole answer within 0.4s`,
    );
  });

  it("says the connection was refused", async () => {
    const url = await serve(() => {});
    for (const server of servers.splice(0)) await new Promise((resolve) => server.close(resolve));
    await expect(agentsUp(url, LIMITS)).rejects.toThrow(/could not be queried: .*ECONNREFUSED/);
  });
});
