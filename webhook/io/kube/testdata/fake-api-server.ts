/**
 * For the client's tests: an HTTP(S) server on 127.0.0.1 whose answers the test writes, standing
 * in for a kube-apiserver that misbehaves (garbage, huge bodies, silence, resets). It records every
 * request and closes every connection it accepted when closed.
 */
import http, { type IncomingMessage, type ServerResponse } from "node:http";
import https from "node:https";
import type { AddressInfo, Socket } from "node:net";

export type Seen = { method: string; url: URL; headers: IncomingMessage["headers"]; body: string };

export type FakeApiServer = {
  url: string;
  seen: Seen[];
  close(): Promise<void>;
};

export type Handler = (request: Seen, response: ServerResponse, raw: IncomingMessage) => void;

export async function startFakeApiServer(
  handler: Handler,
  tls?: { cert: string; key: string; ca?: string; requestCert?: boolean },
): Promise<FakeApiServer> {
  const seen: Seen[] = [];
  const sockets = new Set<Socket>();
  const listener = (raw: IncomingMessage, response: ServerResponse) => {
    const chunks: Buffer[] = [];
    raw.on("data", (chunk: Buffer) => chunks.push(chunk));
    raw.on("end", () => {
      const request = {
        method: raw.method ?? "",
        url: new URL(raw.url ?? "/", "http://fake"),
        headers: raw.headers,
        body: Buffer.concat(chunks).toString("utf8"),
      };
      seen.push(request);
      handler(request, response, raw);
    });
  };
  const server = tls
    ? https.createServer(
        {
          cert: tls.cert,
          key: tls.key,
          ...(tls.ca ? { ca: tls.ca } : {}),
          requestCert: tls.requestCert === true,
          rejectUnauthorized: tls.requestCert === true,
        },
        listener,
      )
    : http.createServer(listener);
  server.on(tls ? "secureConnection" : "connection", (socket: Socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `${tls ? "https" : "http"}://127.0.0.1:${port}`,
    seen,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A JSON answer. */
export function json(response: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(status, {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(text),
  });
  response.end(text);
}
