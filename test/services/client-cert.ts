/** Client certificates for tests of mutual TLS (the API server's to graft, graft's kubeconfig's). */
import forge from "node-forge";
import type { PemPair } from "../../certs/authority.js";

/** A TLS client certificate (extKeyUsage clientAuth) for `commonName`, signed by `authority`, valid a day. */
export function issueClientCert(authority: PemPair, commonName: string): PemPair {
  const caCert = forge.pki.certificateFromPem(authority.cert);
  const keys = forge.pki.rsa.generateKeyPair({ bits: 2048 });
  const cert = forge.pki.createCertificate();
  cert.publicKey = keys.publicKey;
  cert.serialNumber = `0${forge.util.bytesToHex(forge.random.getBytesSync(8))}`;
  cert.validity.notBefore = new Date(Date.now() - 60_000);
  cert.validity.notAfter = new Date(Date.now() + 86_400_000);
  cert.setSubject([{ name: "commonName", value: commonName }]);
  cert.setIssuer(caCert.subject.attributes);
  cert.setExtensions([
    { name: "basicConstraints", cA: false },
    { name: "keyUsage", digitalSignature: true, keyEncipherment: true },
    { name: "extKeyUsage", clientAuth: true },
  ]);
  cert.sign(forge.pki.privateKeyFromPem(authority.key), forge.md.sha256.create());
  return { cert: forge.pki.certificateToPem(cert), key: forge.pki.privateKeyToPem(keys.privateKey) };
}
