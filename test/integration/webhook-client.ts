// A small HTTPS client for the webhook integration tests: real TLS, real sockets, and what the
// tests need to see about them (status, JSON body, whether the socket was reused, peer cert).
import { type Agent, request as httpsRequest } from "node:https";
import type { TLSSocket } from "node:tls";
import { admissionReview, pod } from "../../webhook/testdata/review.js";

export type Reply = {
  status: number;
  body: string;
  json: () => unknown;
  /** The serial of the certificate the server presented on this connection (hex, no leading zeros). */
  serial: string;
  reusedSocket: boolean;
  socket: TLSSocket;
};

export function post(
  url: string,
  body: string | Buffer,
  options: { agent?: Agent; ca?: string | string[]; contentType?: string } = {},
): Promise<Reply> {
  return send(url, "POST", body, options);
}

export function get(url: string, options: { agent?: Agent; ca?: string | string[] } = {}): Promise<Reply> {
  return send(url, "GET", undefined, options);
}

function send(
  url: string,
  method: string,
  body: string | Buffer | undefined,
  options: { agent?: Agent; ca?: string | string[]; contentType?: string },
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      url,
      {
        method,
        // Without an agent of the test's own: a new connection and a full handshake every time.
        ...(options.agent ? { agent: options.agent } : { agent: false, ca: options.ca }),
        headers: body === undefined ? {} : { "content-type": options.contentType ?? "application/json" },
      },
      (res) => {
        // Read before the body ends: then the socket goes back to the agent (or is closed).
        const socket = res.socket as TLSSocket;
        const serial = socket.getPeerCertificate().serialNumber.replace(/^0+/, "");
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("error", reject);
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          resolve({
            status: res.statusCode ?? 0,
            body: text,
            json: () => JSON.parse(text),
            serial,
            reusedSocket: req.reusedSocket,
            socket,
          });
        });
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

/** An AdmissionReview for a pod in `namespace`, as the API server sends it. */
export function podReview(uid: string, namespace = "analytics", labels: Record<string, string> = {}) {
  return admissionReview({ uid, namespace, object: pod({ labels }) });
}

/** Polls `check` until it returns true, or fails after `timeoutMs` naming `what`. */
export async function eventually(
  what: string,
  check: () => Promise<boolean>,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      if (await check()) return;
    } catch (error) {
      last = error;
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(
    `timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${last})` : ""}`,
  );
}
