/** `tcp`: the target accepts a connection. Nothing is sent; the connection is closed at once. */
import net from "node:net";
import { reasonOfError } from "./outcome.js";
import type { CheckRunner } from "./types.js";

export const checkTcp: CheckRunner<"tcp"> = (spec, { signal, now }) => {
  const target = `${spec.host}:${spec.port}`;
  const startedAt = now();
  return new Promise((resolve) => {
    const socket = net.connect({ host: spec.host, port: spec.port, signal });
    socket.once("connect", () => {
      socket.destroy();
      resolve({ health: "OK", causes: [], values: { connect_seconds: (now() - startedAt) / 1000 } });
    });
    socket.once("error", (error: NodeJS.ErrnoException) => {
      socket.destroy();
      const reason = signal.aborted ? "no connection before the timeout" : (error.code ?? error.message);
      resolve({ health: "ERROR", causes: [`${target}: ${reason}`], reason: reasonOfError(error, signal) });
    });
  });
};
