import { X509Certificate } from "node:crypto";
import { createSecureContext } from "node:tls";
import { describe, expect, it } from "vitest";
import { createAuthority, issueServingCert } from "./authority.js";
import { checkCertificatePair } from "./validate.js";

const now = new Date("2030-01-01T00:00:00Z");
const authority = createAuthority({ now });
const serving = issueServingCert(authority, { ipAddresses: ["127.0.0.1"], now, validDays: 30 });
const other = issueServingCert(authority, { ipAddresses: ["127.0.0.1"], now, validDays: 30 });

describe("checkCertificatePair", () => {
  it("accepts a certificate with its key, and reports the serving certificate's serial and expiry", () => {
    const pair = checkCertificatePair(serving);
    expect(pair.serialNumber).toBe(new X509Certificate(serving.cert).serialNumber);
    expect(pair.notAfter.toISOString()).toBe("2030-01-31T00:00:00.000Z");
  });

  it("accepts a chain whose first certificate is the key's", () => {
    const pair = checkCertificatePair({ cert: `${serving.cert}\n${authority.cert}`, key: serving.key });
    expect(pair.serialNumber).toBe(new X509Certificate(serving.cert).serialNumber);
  });

  // OpenSSL takes these without a word, and every handshake then fails.
  it("is what refuses the empty pair OpenSSL accepts", () => {
    expect(() => createSecureContext({ cert: "", key: "" })).not.toThrow();
    expect(() => checkCertificatePair({ cert: "", key: "" })).toThrow("the certificate file is empty");
  });

  it.each([
    ["an empty certificate", { cert: "\n", key: serving.key }, "the certificate file is empty"],
    ["an empty key", { cert: serving.cert, key: "" }, "the key file is empty"],
    [
      "garbage for a certificate",
      { cert: "not a certificate\n", key: serving.key },
      "holds no PEM certificate",
    ],
    ["garbage for a key", { cert: serving.cert, key: "\u0000\u0001garbage" }, "no usable PEM private key"],
    [
      "a certificate cut short",
      { cert: serving.cert.slice(0, Math.floor(serving.cert.length / 2)), key: serving.key },
      "holds no PEM certificate",
    ],
    [
      "a chain whose second certificate is cut short",
      { cert: `${serving.cert}${authority.cert.slice(0, 200)}`, key: serving.key },
      "certificate 2 of the chain is cut short",
    ],
    [
      "a certificate whose base64 is damaged",
      { cert: serving.cert.replace(/\n[A-Za-z0-9+/]{20}/, "\n!!!!!!!!!!!!!!!!!!!!"), key: serving.key },
      "certificate 1 of the chain does not parse",
    ],
    [
      "a key of another certificate",
      { cert: serving.cert, key: other.key },
      "does not belong to the certificate",
    ],
  ])("refuses %s, saying what is wrong", (_name, pair, message) => {
    expect(() => checkCertificatePair(pair)).toThrow(message);
  });

  it("refuses a huge garbage file within a bound", () => {
    const started = performance.now();
    const huge = "-----BEGIN CERTIFICATE-----\n".repeat(200_000);
    expect(() => checkCertificatePair({ cert: huge, key: serving.key })).toThrow("larger than");
    expect(performance.now() - started).toBeLessThan(2_000);
  });
});
