/**
 * Serving certificates from files, reloaded when the files change. A Secret mounted into a pod
 * is updated by swapping a symlink, and cert-manager or `graft certs` rewrite the two files one
 * after the other, so this polls both paths (following symlinks) and only hands on a pair
 * that loads together: a new certificate with the old key is kept back until the key arrives.
 */
import { type Stats, unwatchFile, watchFile } from "node:fs";
import { readFile } from "node:fs/promises";
import { createSecureContext, type Server as TlsServer } from "node:tls";
import { errorMessage } from "../core/result.js";
import { SERVER_TLS_POLICY } from "./tls-policy.js";
import { checkCertificatePair, type ServingPair } from "./validate.js";

export type CertificateFiles = { certFile: string; keyFile: string };

/**
 * Reads the pair and checks it (certificates parse, the key belongs to the first, OpenSSL takes
 * them under graft's TLS policy); throws a message naming the files and what is wrong.
 */
export async function readCertificatePair({ certFile, keyFile }: CertificateFiles): Promise<ServingPair> {
  const [cert, key] = await Promise.all([readFile(certFile, "utf8"), readFile(keyFile, "utf8")]);
  try {
    const pair = checkCertificatePair({ cert, key });
    createSecureContext({ ...SERVER_TLS_POLICY, cert, key });
    return pair;
  } catch (error) {
    throw new Error(
      `${certFile} and ${keyFile} are not a usable certificate and key pair (${errorMessage(error)}); ` +
        "give a PEM certificate chain and the PEM private key that belongs to it",
    );
  }
}

export type CertificateWatch = { close: () => void };

export type WatchOptions = CertificateFiles & {
  /** Called with every new pair that loads; the server swaps its secure context here. */
  onChange: (pair: ServingPair) => void;
  /** Called when the files changed but do not (yet) form a usable pair; the old pair stays in use. */
  onError: (error: Error) => void;
  /** How often the files are stat'ed; `fs.watch` misses symlink swaps, polling does not. */
  intervalMs?: number;
};

export function watchCertificateFiles(options: WatchOptions): CertificateWatch {
  const { certFile, keyFile, onChange, onError, intervalMs = 2000 } = options;
  let loading = Promise.resolve();
  let closed = false;

  const reload = () => {
    loading = loading.then(async () => {
      if (closed) return;
      try {
        const pair = await readCertificatePair({ certFile, keyFile });
        if (!closed) onChange(pair);
      } catch (error) {
        if (!closed) onError(error as Error);
      }
    });
  };
  const onStat = (current: Stats, previous: Stats) => {
    if (
      current.mtimeMs !== previous.mtimeMs ||
      current.ino !== previous.ino ||
      current.size !== previous.size
    ) {
      reload();
    }
  };

  watchFile(certFile, { interval: intervalMs, persistent: false }, onStat);
  watchFile(keyFile, { interval: intervalMs, persistent: false }, onStat);
  return {
    close: () => {
      closed = true;
      unwatchFile(certFile, onStat);
      unwatchFile(keyFile, onStat);
    },
  };
}

type Logger = {
  info: (fields: object, message: string) => void;
  warn: (fields: object, message: string) => void;
};

/** Sees what the reload did: the metrics count failures and show the serving certificate's expiry. */
export type ReloadObserver = {
  reloaded: (pair: ServingPair) => void;
  failed: (error: Error) => void;
};

/**
 * Swaps the TLS server's certificate whenever the files change. `setSecureContext` applies to
 * new connections only: a connection already open keeps its certificate and is never dropped.
 * Files that do not form a usable pair (empty, cut short, garbage, a key of another certificate)
 * are logged, counted and ignored: the last good pair keeps serving.
 */
export function reloadCertificatesOnChange(
  server: Pick<TlsServer, "setSecureContext">,
  files: CertificateFiles,
  log: Logger,
  intervalMs?: number,
  observer?: ReloadObserver,
): CertificateWatch {
  return watchCertificateFiles({
    ...files,
    intervalMs,
    onChange: (pair) => {
      server.setSecureContext({ ...SERVER_TLS_POLICY, cert: pair.cert, key: pair.key });
      observer?.reloaded(pair);
      log.info(
        { certFile: files.certFile, serialNumber: pair.serialNumber, notAfter: pair.notAfter.toISOString() },
        "serving certificate reloaded",
      );
    },
    onError: (error) => {
      observer?.failed(error);
      log.warn(
        { reason: error.message },
        "certificate files changed but are not a usable pair; serving the previous one",
      );
    },
  });
}
