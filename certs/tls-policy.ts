/**
 * What graft's HTTPS servers accept: TLS 1.2 or 1.3, and on TLS 1.2 only forward-secret key
 * exchange (ECDHE) with AEAD ciphers (AES-GCM, ChaCha20-Poly1305) — Mozilla's "intermediate"
 * profile without the finite-field DHE suites. TLS 1.3's suites are all forward-secret AEAD and
 * keep OpenSSL's defaults. Applied wherever a secure context is made, including each certificate
 * reload (a context made from the certificate alone would fall back to OpenSSL's defaults).
 */
import type { SecureContextOptions } from "node:tls";

/** TLS 1.2 suites, best first; the client's order decides among them only if the server's does not. */
export const TLS12_CIPHERS = [
  "ECDHE-ECDSA-AES128-GCM-SHA256",
  "ECDHE-RSA-AES128-GCM-SHA256",
  "ECDHE-ECDSA-AES256-GCM-SHA384",
  "ECDHE-RSA-AES256-GCM-SHA384",
  "ECDHE-ECDSA-CHACHA20-POLY1305",
  "ECDHE-RSA-CHACHA20-POLY1305",
] as const;

export const SERVER_TLS_POLICY = {
  minVersion: "TLSv1.2",
  ciphers: TLS12_CIPHERS.join(":"),
  honorCipherOrder: true,
} as const satisfies SecureContextOptions;
