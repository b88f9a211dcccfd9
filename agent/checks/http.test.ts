import { describe, expect, it } from "vitest";
import { judgeCertificateExpiry } from "./http.js";

const NOW = Date.parse("2025-01-01T00:00:00Z");

describe("judgeCertificateExpiry", () => {
  it("is OK outside the warning window", () => {
    expect(judgeCertificateExpiry("https://h/", "Feb 15 00:00:00 2025 GMT", NOW, 14)).toEqual({
      health: "OK",
      secondsLeft: 45 * 86_400,
    });
  });

  it("is WARN inside the window, saying when", () => {
    expect(judgeCertificateExpiry("https://h/", "Jan 10 00:00:00 2025 GMT", NOW, 14)).toEqual({
      health: "WARN",
      cause: "https://h/: TLS certificate expires in 9 days (2025-01-10T00:00:00.000Z)",
      secondsLeft: 9 * 86_400,
    });
  });

  it("is ERROR once expired", () => {
    expect(judgeCertificateExpiry("https://h/", "Dec 31 00:00:00 2024 GMT", NOW, 14)).toMatchObject({
      health: "ERROR",
      cause: "https://h/: TLS certificate expired at 2024-12-31T00:00:00.000Z",
    });
  });
});
