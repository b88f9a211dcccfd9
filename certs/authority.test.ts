import { createPrivateKey, X509Certificate } from "node:crypto";
import { describe, expect, it } from "vitest";
import { createAuthority, issueServingCert } from "./authority.js";

const now = new Date("2030-01-01T00:00:00Z");
const authority = createAuthority({ now });

describe("createAuthority", () => {
  it("makes a self-signed CA certificate", () => {
    const ca = new X509Certificate(authority.cert);
    expect(ca.ca).toBe(true);
    expect(ca.verify(ca.publicKey)).toBe(true);
    expect(ca.subject).toBe("CN=graft-ca");
  });
});

describe("issueServingCert", () => {
  const serving = issueServingCert(authority, {
    dnsNames: ["graft-webhook.graft.svc"],
    ipAddresses: ["127.0.0.1"],
    now,
    validDays: 30,
  });
  const cert = new X509Certificate(serving.cert);

  it("is signed by the authority and is not itself a CA", () => {
    expect(cert.verify(new X509Certificate(authority.cert).publicKey)).toBe(true);
    expect(cert.checkIssued(new X509Certificate(authority.cert))).toBe(true);
    expect(cert.ca).toBe(false);
  });

  it("names every DNS name and IP address as a subject alternative name", () => {
    expect(cert.checkHost("graft-webhook.graft.svc")).toBe("graft-webhook.graft.svc");
    expect(cert.checkIP("127.0.0.1")).toBe("127.0.0.1");
    expect(cert.checkHost("other.graft.svc")).toBeUndefined();
  });

  it("comes with the private key that belongs to it", () => {
    expect(cert.checkPrivateKey(createPrivateKey(serving.key))).toBe(true);
  });

  it("is valid from the given clock for the given number of days", () => {
    expect(new Date(cert.validFrom).getTime()).toBeLessThanOrEqual(now.getTime());
    expect(new Date(cert.validTo).getTime()).toBe(now.getTime() + 30 * 86_400_000);
  });

  it("refuses a host name given as an IP address, and no names at all", () => {
    expect(() => issueServingCert(authority, { ipAddresses: ["localhost"], now })).toThrow(
      /not an IP address/,
    );
    expect(() => issueServingCert(authority, { now })).toThrow(/at least one DNS name or IP address/);
  });
});
