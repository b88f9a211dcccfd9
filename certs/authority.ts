/**
 * graft's own certificate authority (node-forge): a self-signed CA and serving certificates
 * signed by it, as PEM. Used by `graft certs`, the tests and the demo; the clock is passed in.
 */
import { isIP } from "node:net";
import forge from "node-forge";

export type PemPair = { cert: string; key: string };

export type AuthorityOptions = {
  commonName?: string;
  now: Date;
  validDays?: number;
};

export type ServingCertOptions = {
  /** DNS names, e.g. `graft-webhook.graft.svc`; the first (or the first IP) becomes the CN. */
  dnsNames?: string[];
  /** IP addresses, e.g. `127.0.0.1` for a webhook registered by URL in tests. */
  ipAddresses?: string[];
  now: Date;
  validDays?: number;
};

const RSA_BITS = 2048;
const DAY_MS = 86_400_000;
/** Backdated so a certificate is valid at once on a machine whose clock is a little behind. */
const CLOCK_SKEW_MS = 5 * 60_000;

/** A self-signed CA that may sign serving certificates (and nothing below them). */
export function createAuthority({
  commonName = "graft-ca",
  now,
  validDays = 3650,
}: AuthorityOptions): PemPair {
  const keys = forge.pki.rsa.generateKeyPair({ bits: RSA_BITS });
  const cert = forge.pki.createCertificate();
  cert.publicKey = keys.publicKey;
  cert.serialNumber = serialNumber();
  setValidity(cert, now, validDays);
  const subject = [{ name: "commonName", value: commonName }];
  cert.setSubject(subject);
  cert.setIssuer(subject);
  cert.setExtensions([
    { name: "basicConstraints", cA: true, pathLenConstraint: 0, critical: true },
    { name: "keyUsage", keyCertSign: true, cRLSign: true, critical: true },
    { name: "subjectKeyIdentifier" },
  ]);
  cert.sign(keys.privateKey, forge.md.sha256.create());
  return { cert: forge.pki.certificateToPem(cert), key: forge.pki.privateKeyToPem(keys.privateKey) };
}

/** A TLS server certificate for the given names, signed by `authority`. */
export function issueServingCert(authority: PemPair, options: ServingCertOptions): PemPair {
  const dnsNames = options.dnsNames ?? [];
  const ipAddresses = options.ipAddresses ?? [];
  const badIp = ipAddresses.find((ip) => isIP(ip) === 0);
  if (badIp !== undefined) throw new Error(`"${badIp}" is not an IP address; put host names in dnsNames`);
  const commonName = dnsNames[0] ?? ipAddresses[0];
  if (commonName === undefined)
    throw new Error("a serving certificate needs at least one DNS name or IP address");

  const caCert = forge.pki.certificateFromPem(authority.cert);
  const caKey = forge.pki.privateKeyFromPem(authority.key);
  const keys = forge.pki.rsa.generateKeyPair({ bits: RSA_BITS });
  const cert = forge.pki.createCertificate();
  cert.publicKey = keys.publicKey;
  cert.serialNumber = serialNumber();
  setValidity(cert, options.now, options.validDays ?? 365);
  cert.setSubject([{ name: "commonName", value: commonName }]);
  cert.setIssuer(caCert.subject.attributes);
  cert.setExtensions([
    { name: "basicConstraints", cA: false, critical: true },
    { name: "keyUsage", digitalSignature: true, keyEncipherment: true, critical: true },
    { name: "extKeyUsage", serverAuth: true },
    {
      name: "subjectAltName",
      altNames: [
        ...dnsNames.map((value) => ({ type: 2, value })),
        ...ipAddresses.map((ip) => ({ type: 7, ip })),
      ],
    },
    { name: "subjectKeyIdentifier" },
    { name: "authorityKeyIdentifier", keyIdentifier: caCert.generateSubjectKeyIdentifier().getBytes() },
  ]);
  cert.sign(caKey, forge.md.sha256.create());
  return { cert: forge.pki.certificateToPem(cert), key: forge.pki.privateKeyToPem(keys.privateKey) };
}

function setValidity(cert: forge.pki.Certificate, now: Date, validDays: number): void {
  cert.validity.notBefore = new Date(now.getTime() - CLOCK_SKEW_MS);
  cert.validity.notAfter = new Date(now.getTime() + validDays * DAY_MS);
}

/** A positive random 128-bit serial (leading byte masked so DER never reads it as negative). */
function serialNumber(): string {
  const bytes = forge.random.getBytesSync(16);
  return forge.util.bytesToHex(String.fromCharCode(bytes.charCodeAt(0) & 0x7f) + bytes.slice(1));
}
