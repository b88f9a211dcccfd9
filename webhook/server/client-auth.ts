/**
 * Verifying the API server's client certificate (optional; docs/install.md): the API server
 * presents one when its AdmissionConfiguration names a kubeConfigFile for graft's Service. The
 * TLS layer asks every client for a certificate and checks it against `ca`; the admission routes
 * then refuse a connection whose certificate did not verify (401) or whose subject CN is not
 * among `allowedNames` (403). Probes and `/metrics` stay open: the kubelet and Prometheus
 * present no certificate, which is why the handshake itself does not reject (rejectUnauthorized
 * false) and the check is per route.
 */
import type { SecureContextOptions, TLSSocket, Server as TlsServer } from "node:tls";
import type { FastifyInstance } from "fastify";
import type { Result } from "../../core/result.js";

export type ClientAuth = {
  /** PEM of the CA(s) that sign the API server's client certificate. */
  ca: string;
  /** Accepted subject common names; empty: any certificate the CA signed. */
  allowedNames: readonly string[];
};

/** The node:https options that make the server ask for (not require) a client certificate. */
export function clientCertificateTlsOptions(auth: ClientAuth) {
  return { ca: auth.ca, requestCert: true, rejectUnauthorized: false } as const;
}

/**
 * The server's setSecureContext, keeping the client CA: it replaces the whole secure context,
 * so a reloaded serving pair without `ca` would fail every client certificate from then on.
 */
export function keepClientCa(
  server: Pick<TlsServer, "setSecureContext">,
  auth: ClientAuth | undefined,
): Pick<TlsServer, "setSecureContext"> {
  return {
    setSecureContext: (context: SecureContextOptions) =>
      server.setSecureContext(auth ? { ...context, ca: auth.ca } : context),
  };
}

/** The accepted client's certificate CN, or the HTTP status and message that refuse it. */
export type ClientCheck = Result<string, { status: 401 | 403; message: string }>;

/** Whether the peer on `socket` presented a certificate `auth` accepts. */
export function checkClientCertificate(socket: TLSSocket, auth: ClientAuth): ClientCheck {
  if (!socket.authorized) {
    const reason = socket.authorizationError ? String(socket.authorizationError) : "none presented";
    return {
      ok: false,
      error: {
        status: 401,
        message: `graft requires a client certificate signed by its configured client CA (--client-ca): ${reason}`,
      },
    };
  }
  const subject = socket.getPeerCertificate()?.subject as { CN?: string | string[] } | undefined;
  const name = Array.isArray(subject?.CN) ? subject.CN[0] : subject?.CN;
  if (auth.allowedNames.length > 0 && (name === undefined || !auth.allowedNames.includes(name))) {
    return {
      ok: false,
      error: {
        status: 403,
        message: `client certificate CN "${name ?? ""}" is not among the accepted names (--client-name): ${auth.allowedNames.join(", ")}`,
      },
    };
  }
  return { ok: true, value: name ?? "" };
}

/** Refuses requests to `paths` from clients without an accepted certificate, before the body is read. */
export function requireClientCertificate(
  app: FastifyInstance,
  auth: ClientAuth,
  paths: ReadonlySet<string>,
): void {
  app.addHook("onRequest", async (request, reply) => {
    const path = request.url.split("?")[0] ?? "";
    if (!paths.has(path)) return;
    const check = checkClientCertificate(request.raw.socket as TLSSocket, auth);
    if (check.ok) return;
    const { status, message } = check.error;
    request.log.warn({ path, status, reason: message }, "review refused");
    return reply.code(status).send({ message });
  });
}
