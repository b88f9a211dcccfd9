/**
 * Checks that a PEM certificate chain and private key form a pair a TLS server can serve: at
 * least one certificate, each one parses, the key parses and belongs to the first (the serving)
 * certificate. OpenSSL itself accepts empty input as "no certificate", which would make a server
 * that listens and then fails every handshake; this refuses it with a message naming what is wrong.
 * Pure apart from node:crypto's parsers: no files, no clock.
 */
import { createPrivateKey, X509Certificate } from "node:crypto";
import { errorMessage } from "../core/result.js";
import type { PemPair } from "./authority.js";

export type ServingPair = PemPair & {
  /** The serving certificate's serial number, hex, as OpenSSL prints it. */
  serialNumber: string;
  /** When the serving certificate expires. */
  notAfter: Date;
};

/** Far above any real chain (a few KiB); bounds the parsing of a wrong file mounted by mistake. */
export const MAX_PEM_BYTES = 1024 * 1024;

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;

/** The pair with its serving certificate's facts, or throws an Error saying what is wrong with it. */
export function checkCertificatePair(pair: PemPair): ServingPair {
  if (pair.cert.trim() === "") throw new Error("the certificate file is empty");
  if (pair.key.trim() === "") throw new Error("the key file is empty");
  if (pair.cert.length > MAX_PEM_BYTES || pair.key.length > MAX_PEM_BYTES) {
    throw new Error(`the certificate or key file is larger than ${MAX_PEM_BYTES} bytes`);
  }
  const blocks = pair.cert.match(PEM_CERTIFICATE) ?? [];
  if (blocks.length === 0) throw new Error("the certificate file holds no PEM certificate");
  const begun = pair.cert.split("-----BEGIN CERTIFICATE-----").length - 1;
  if (begun > blocks.length) {
    throw new Error(
      `certificate ${blocks.length + 1} of the chain is cut short (no END line): a truncated file`,
    );
  }
  const chain = blocks.map((block, index) => {
    try {
      return new X509Certificate(block);
    } catch (error) {
      throw new Error(`certificate ${index + 1} of the chain does not parse (${errorMessage(error)})`);
    }
  });
  const leaf = chain[0] as X509Certificate;
  let key: ReturnType<typeof createPrivateKey>;
  try {
    key = createPrivateKey(pair.key);
  } catch (error) {
    throw new Error(`the key file holds no usable PEM private key (${errorMessage(error)})`);
  }
  if (!leaf.checkPrivateKey(key)) {
    throw new Error(`the private key does not belong to the certificate (serial ${leaf.serialNumber})`);
  }
  return { ...pair, serialNumber: leaf.serialNumber, notAfter: new Date(leaf.validTo) };
}
