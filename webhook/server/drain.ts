/**
 * Graceful shutdown for the HTTPS server, in the order a Kubernetes Service needs it:
 *
 * 1. Shutdown begins (SIGTERM): readiness fails, so the endpoint is removed, and every reply from
 *    then on says `Connection: close`, so each keep-alive connection ends right after its next
 *    reply instead of being cut while a client writes on it. The listener stays open: requests
 *    and new connections that still arrive while endpoints propagate are served (for the
 *    `delayMs` of the drain, as Istio's and Linkerd's proxies do).
 * 2. The listener closes. A request in flight gets its reply (`Connection: close`), then its
 *    connection ends. A connection with nothing in flight is ended once it has been quiet for
 *    `quietMs`: one that has been idle since before shutdown goes at once, one accepted a moment
 *    ago still gets to send its request.
 * 3. Whatever is still open `timeoutMs` after the listener closed is destroyed, so the process
 *    exits within a bound, inside the pod's termination grace period.
 *
 * Node's `server.close()` would destroy every connection without a request in flight at once —
 * racing clients that are writing one — so the listener is closed at the `net` level here, and
 * fastify's own close finds nothing left to do.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Server as HttpsServer } from "node:https";
import { Server as NetServer, type Socket } from "node:net";
import type { TLSSocket } from "node:tls";

export type DrainOptions = {
  /** How long to keep serving, with readiness failing, before the listener closes. */
  delayMs: number;
  /** After the listener closed, a connection with nothing in flight is ended once quiet this long. */
  quietMs?: number;
  /** After the listener closed, connections still open this long are destroyed. */
  timeoutMs?: number;
};

export type Drain = {
  /** True once shutdown has begun: readiness fails and every reply says `Connection: close`. */
  readonly draining: boolean;
  /** Begins shutdown; resolves once the listener is closed and every connection has ended. */
  drain: () => Promise<void>;
};

export const DEFAULT_QUIET_MS = 1_000;
export const DEFAULT_DRAIN_TIMEOUT_MS = 10_000;

type Connection = { inFlight: number; quietSince: number };

export function trackConnectionsForDrain(server: HttpsServer, options: DrainOptions): Drain {
  const quietMs = options.quietMs ?? DEFAULT_QUIET_MS;
  const timeoutMs = options.timeoutMs ?? DEFAULT_DRAIN_TIMEOUT_MS;
  /** Every TCP connection, TLS handshake done or not. */
  const raw = new Set<Socket>();
  /** Connections whose TLS handshake is done: the ones requests arrive on. */
  const secure = new Map<TLSSocket, Connection>();
  let draining = false;
  let drained: Promise<void> | undefined;
  /** Set while waiting for the last connection to end. */
  let onAllClosed: (() => void) | undefined;
  const closed = () => {
    if (raw.size === 0 && secure.size === 0) onAllClosed?.();
  };

  server.on("connection", (socket: Socket) => {
    raw.add(socket);
    socket.once("close", () => {
      raw.delete(socket);
      closed();
    });
  });
  server.on("secureConnection", (socket: TLSSocket) => {
    secure.set(socket, { inFlight: 0, quietSince: Date.now() });
    socket.once("close", () => {
      secure.delete(socket);
      closed();
    });
  });
  server.on("request", (request: IncomingMessage, response: ServerResponse) => {
    const socket = request.socket as TLSSocket;
    const connection = secure.get(socket);
    if (draining) closeAfterReply(response);
    if (!connection) return;
    connection.inFlight += 1;
    response.once("close", () => {
      connection.inFlight -= 1;
      connection.quietSince = Date.now();
    });
  });

  const endQuietConnections = () => {
    const now = Date.now();
    for (const [socket, connection] of secure) {
      if (connection.inFlight === 0 && now - connection.quietSince >= quietMs) socket.destroySoon();
    }
  };

  const run = async () => {
    draining = true;
    // Requests already in flight: their reply closes the connection too.
    for (const socket of secure.keys()) {
      const response = (socket as { _httpMessage?: ServerResponse })._httpMessage;
      if (response) closeAfterReply(response);
    }
    await delay(options.delayMs);

    // The net-level close stops accepting and leaves the open connections to the sweep below.
    if (server.listening) NetServer.prototype.close.call(server);
    endQuietConnections();
    const sweep = setInterval(endQuietConnections, Math.max(10, Math.min(200, quietMs / 5)));
    try {
      await new Promise<void>((resolve) => {
        const deadline = setTimeout(() => {
          for (const socket of secure.keys()) socket.destroy();
          for (const socket of raw) socket.destroy();
          resolve();
        }, timeoutMs);
        onAllClosed = () => {
          clearTimeout(deadline);
          resolve();
        };
        closed();
      });
    } finally {
      clearInterval(sweep);
      onAllClosed = undefined;
    }
  };

  return {
    get draining() {
      return draining;
    },
    drain: () => {
      drained ??= run();
      return drained;
    },
  };
}

function closeAfterReply(response: ServerResponse): void {
  // Node ends the connection after a reply that says so. A reply already on its way without it
  // has told the client to keep the connection: its next request is the one answered with close
  // (ending the connection now would race that request).
  if (!response.headersSent) response.setHeader("connection", "close");
}

function delay(ms: number): Promise<void> {
  return ms > 0 ? new Promise((resolve) => setTimeout(resolve, ms)) : Promise.resolve();
}
