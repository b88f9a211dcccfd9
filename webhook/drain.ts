/**
 * Graceful shutdown for the HTTPS server. Node's `server.close()` waits for every open
 * connection, and leaves alone a TLS connection on which no request has been sent yet; the API
 * server keeps such connections in its pool for 90 s, so a plain close can outlast a pod's
 * termination grace period. Here, once shutdown begins, idle connections are closed at once and
 * each in-flight request gets its reply with `Connection: close`, then its connection ends.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Server as HttpsServer } from "node:https";
import type { Socket } from "node:net";

export type Drain = {
  /** Stop keeping connections alive: close the idle ones now, the busy ones after their reply. */
  begin: () => void;
};

export function trackConnectionsForDrain(server: HttpsServer): Drain {
  const open = new Set<Socket>();
  const inFlight = new Map<Socket, ServerResponse>();
  let draining = false;

  server.on("secureConnection", (socket: Socket) => {
    if (draining) {
      socket.destroy();
      return;
    }
    open.add(socket);
    socket.once("close", () => {
      open.delete(socket);
      inFlight.delete(socket);
    });
  });
  server.on("request", (request: IncomingMessage, response: ServerResponse) => {
    const socket = request.socket;
    inFlight.set(socket, response);
    if (draining) response.setHeader("connection", "close");
    response.once("close", () => {
      if (inFlight.get(socket) === response) inFlight.delete(socket);
    });
  });

  return {
    begin: () => {
      draining = true;
      for (const socket of open) {
        const response = inFlight.get(socket);
        if (!response) socket.destroy();
        // Node closes the connection after a reply that says so.
        else if (!response.headersSent) response.setHeader("connection", "close");
        else response.once("finish", () => socket.end());
      }
    },
  };
}
