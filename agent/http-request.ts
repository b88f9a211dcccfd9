/**
 * One HTTP(S) request on node:http/https, for checks and the PNDA push. Not `fetch`: loading
 * undici costs the agent several MB of resident memory, and `fetch` cannot show the peer
 * certificate that the TLS-expiry check needs.
 */
import http from "node:http";
import type * as https from "node:https";
import type { PeerCertificate, TLSSocket } from "node:tls";
import { formatBytes, TooLargeError } from "../core/bytes.js";
import type { ReplyBudget } from "./reply-budget.js";

export type HttpRequest = {
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  signal: AbortSignal;
  /**
   * The most bytes of body read: a longer body (announced or streamed) fails the request with a
   * TooLargeError naming the cap, as soon as it is known. 0: status and headers only, the body is
   * never read (the connection is closed).
   */
  maxBodyBytes?: number;
  /** Shared with the agent's other reads: the body's bytes are held in it while it is received. */
  budget?: ReplyBudget;
  /** https only: accept a certificate that does not verify (the expiry is still read). */
  insecureSkipVerify?: boolean;
};

export type HttpResponse = {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
  /** https only: the server's leaf certificate. */
  certificate?: PeerCertificate;
};

export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;
/** Node's default, set explicitly: more header bytes fail with HPE_HEADER_OVERFLOW. */
export const MAX_HEADER_BYTES = 16 * 1024;

/**
 * Sends one request and resolves with the whole body; rejects on network or protocol errors and
 * on a body over `maxBodyBytes`.
 */
export function httpRequest(url: string, options: HttpRequest): Promise<HttpResponse> {
  const target = new URL(url);
  const isHttps = target.protocol === "https:";
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  return new Promise((resolve, reject) => {
    // Gives back the budget a body holds, whichever way the request ends (abort included).
    let releaseBody = () => {};
    const requestOptions: https.RequestOptions = {
      method: options.method ?? "GET",
      headers: {
        ...options.headers,
        ...(options.body === undefined ? {} : { "content-length": String(Buffer.byteLength(options.body)) }),
      },
      signal: options.signal,
      // One connection per request: a check every 30s gains nothing from keep-alive sockets.
      agent: false,
      maxHeaderSize: MAX_HEADER_BYTES,
      ...(isHttps ? { rejectUnauthorized: !options.insecureSkipVerify } : {}),
    };
    // node:https (with TLS and OpenSSL's crypto, ~4 MiB resident) only for an https URL: an agent
    // whose checks are all plain HTTP, TCP or DNS never loads it.
    const client = isHttps ? process.getBuiltinModule("node:https") : http;
    const request = client.request(target, requestOptions, (response) => {
      const certificate = isHttps ? (response.socket as TLSSocket).getPeerCertificate() : undefined;
      const answer = (body: string) =>
        resolve({
          status: response.statusCode ?? 0,
          headers: response.headers,
          body,
          ...(certificate && Object.keys(certificate).length > 0 ? { certificate } : {}),
        });
      const refuse = (error: Error) => {
        response.destroy();
        reject(error);
      };
      if (maxBodyBytes === 0) {
        // Status only: settle first, then drop the connection (agent: false, nothing reuses it).
        answer("");
        response.destroy();
        return;
      }
      const announced = Number(response.headers["content-length"]);
      if (announced > maxBodyBytes) return refuse(new TooLargeError("reply body", maxBodyBytes, announced));
      const chunks: Buffer[] = [];
      let received = 0;
      const release = () => {
        options.budget?.give(received);
        received = 0;
      };
      releaseBody = release;
      response.on("data", (chunk: Buffer) => {
        if (received + chunk.length > maxBodyBytes) {
          release();
          return refuse(new TooLargeError("reply body", maxBodyBytes));
        }
        if (options.budget && !options.budget.take(chunk.length)) {
          release();
          return refuse(options.budget.exhausted());
        }
        received += chunk.length;
        chunks.push(chunk);
      });
      response.on("error", (error) => {
        release();
        reject(error);
      });
      response.on("close", release);
      response.on("end", () => {
        const body = Buffer.concat(chunks).toString("utf8");
        release();
        answer(body);
      });
    });
    request.on("error", (error) => {
      releaseBody();
      reject(error);
    });
    request.end(options.body);
  });
}

/** A short reason for a failed request: the error code when Node gives one, else its message. */
export function describeRequestError(error: unknown, signal: AbortSignal): string {
  if (signal.aborted) return "no answer before the timeout";
  const { code, message } = error as { code?: string; message?: string };
  if (code === "HPE_HEADER_OVERFLOW")
    return `reply headers larger than the ${formatBytes(MAX_HEADER_BYTES)} cap`;
  if (code?.startsWith("HPE_")) return `not an HTTP reply (${code})`;
  if (code && message && !message.includes(code)) return `${code}: ${message}`;
  return message ?? code ?? String(error);
}
