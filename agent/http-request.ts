/**
 * One HTTP(S) request on node:http/https, for checks and the PNDA push. Not `fetch`: loading
 * undici costs the agent several MB of resident memory, and `fetch` cannot show the peer
 * certificate that the TLS-expiry check needs.
 */
import http from "node:http";
import https from "node:https";
import type { PeerCertificate, TLSSocket } from "node:tls";

export type HttpRequest = {
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  signal: AbortSignal;
  /** Bytes of body kept; the rest is read and dropped. */
  maxBodyBytes?: number;
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

const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;

/** Sends one request and resolves with the whole (capped) body; rejects on network or protocol errors. */
export function httpRequest(url: string, options: HttpRequest): Promise<HttpResponse> {
  const target = new URL(url);
  const isHttps = target.protocol === "https:";
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  return new Promise((resolve, reject) => {
    const requestOptions: https.RequestOptions = {
      method: options.method ?? "GET",
      headers: {
        ...options.headers,
        ...(options.body === undefined ? {} : { "content-length": String(Buffer.byteLength(options.body)) }),
      },
      signal: options.signal,
      // One connection per request: a check every 30s gains nothing from keep-alive sockets.
      agent: false,
      ...(isHttps ? { rejectUnauthorized: !options.insecureSkipVerify } : {}),
    };
    const request = (isHttps ? https : http).request(target, requestOptions, (response) => {
      const certificate = isHttps ? (response.socket as TLSSocket).getPeerCertificate() : undefined;
      const chunks: Buffer[] = [];
      let kept = 0;
      response.on("data", (chunk: Buffer) => {
        if (kept >= maxBodyBytes) return;
        const slice = chunk.subarray(0, maxBodyBytes - kept);
        chunks.push(slice);
        kept += slice.length;
      });
      response.on("error", reject);
      response.on("end", () =>
        resolve({
          status: response.statusCode ?? 0,
          headers: response.headers,
          body: Buffer.concat(chunks).toString("utf8"),
          ...(certificate && Object.keys(certificate).length > 0 ? { certificate } : {}),
        }),
      );
    });
    request.on("error", reject);
    request.end(options.body);
  });
}

/** A short reason for a failed request: the error code when Node gives one, else its message. */
export function describeRequestError(error: unknown, signal: AbortSignal): string {
  if (signal.aborted) return "no answer before the timeout";
  const { code, message } = error as { code?: string; message?: string };
  if (code === "HPE_INVALID_CONSTANT" || code?.startsWith("HPE_")) return `not an HTTP reply (${code})`;
  if (code && message && !message.includes(code)) return `${code}: ${message}`;
  return message ?? code ?? String(error);
}
