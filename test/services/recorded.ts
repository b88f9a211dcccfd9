/**
 * Stored upstream responses served by a local HTTP server (test/fixtures/recorded/<service>/*.json):
 * captured from the real HDFS, Flink, HBase and OpenTSDB of test/services, or, for services that
 * do not run here (Elasticsearch, PNDA's deployment manager), authored from the documentation page
 * each file names. Also the misbehaving targets every check is tested against: one that accepts and
 * never answers, and one that answers garbage.
 */
import { readFile } from "node:fs/promises";
import http from "node:http";
import net from "node:net";
import path from "node:path";

/**
 * An upstream response, as stored in test/fixtures/recorded: `source` says whether it was captured
 * from a running server (and `command` how) or authored from a documented schema (which page).
 */
export type Recorded = {
  source: string;
  version: string;
  command?: string;
  request: string;
  status: number;
  body: unknown;
};

/** What one path answers: a recorded response, raw text, or nothing at all (the request hangs). */
export type Route = Recorded | { status: number; text: string } | "hang";

export type Served = { url: string; host: string; port: number; stop: () => Promise<void> };

const FIXTURES = path.join(import.meta.dirname, "..", "fixtures", "recorded");

export async function loadRecorded(service: string, name: string): Promise<Recorded> {
  return JSON.parse(await readFile(path.join(FIXTURES, service, `${name}.json`), "utf8")) as Recorded;
}

/** The path (with query) a recorded response answers, from its `request` line ("GET /x?y"). */
export function pathOf(recorded: Recorded): string {
  return recorded.request.replace(/^[A-Z]+ /, "");
}

/** Serves `routes` (path with query → answer) on 127.0.0.1; unknown paths get 404. */
export async function serveRoutes(routes: Record<string, Route>): Promise<Served> {
  const sockets = new Set<net.Socket>();
  const server = http.createServer((request, response) => {
    const route = routes[decodeURIComponent(request.url ?? "/")];
    if (route === "hang") return;
    if (route === undefined) {
      response
        .writeHead(404, { "content-type": "text/plain" })
        .end(`no recorded response for ${request.url}`);
    } else if ("text" in route) {
      response.writeHead(route.status, { "content-type": "text/plain" }).end(route.text);
    } else {
      response
        .writeHead(route.status, { "content-type": "application/json" })
        .end(JSON.stringify(route.body));
    }
  });
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  return listen(server, sockets);
}

/** Serves recorded responses, each on the path it was recorded from. */
export async function serveRecorded(...recorded: Recorded[]): Promise<Served> {
  return serveRoutes(Object.fromEntries(recorded.map((answer) => [pathOf(answer), answer])));
}

/** A TCP server that accepts connections and never sends a byte. */
export async function serveSilence(): Promise<Served> {
  return serveBytes(undefined);
}

/** A TCP server that answers every connection with `bytes` (after the first data, or at once). */
export async function serveBytes(bytes: string | undefined): Promise<Served> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => {});
    if (bytes !== undefined) socket.once("data", () => socket.end(bytes));
  });
  return listen(server, sockets);
}

/** A port on 127.0.0.1 with nothing listening: a stopped service. */
export async function closedPort(): Promise<number> {
  const served = await serveSilence();
  await served.stop();
  return served.port;
}

async function listen(server: net.Server, sockets: Set<net.Socket>): Promise<Served> {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    host: "127.0.0.1",
    port,
    stop: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
