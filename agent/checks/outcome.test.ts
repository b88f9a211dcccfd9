import { describe, expect, it } from "vitest";
import { TooLargeError } from "../../core/bytes.js";
import { error, failedWith, reasonOfError, resultOf, warn, worstHealth } from "./outcome.js";

describe("resultOf", () => {
  it("is OK without findings and leaves out empty values", () => {
    expect(resultOf([], {})).toEqual({ health: "OK", causes: [] });
  });

  it("takes the worst finding's health and lists ERROR causes first", () => {
    expect(resultOf([warn("w"), error("e")], { x: 1 })).toEqual({
      health: "ERROR",
      causes: ["e", "w"],
      values: { x: 1 },
      reason: "unhealthy",
    });
  });

  it("gives the reason of the first worst finding", () => {
    expect(
      resultOf([warn("slow", "degraded"), error("down", "refused"), error("x", "protocol")]).reason,
    ).toBe("refused");
    expect(resultOf([warn("expiring", "tls")]).reason).toBe("tls");
  });

  it("ranks ERROR over WARN over OK", () => {
    expect(worstHealth(["OK", "WARN", "OK"])).toBe("WARN");
    expect(worstHealth([])).toBe("OK");
  });
});

describe("reasonOfError", () => {
  const errno = (code: string) => Object.assign(new Error(`connect ${code} 127.0.0.1:1`), { code });

  it("classifies by the error's code, or the code of an error it wraps", () => {
    expect(reasonOfError(errno("ECONNREFUSED"))).toBe("refused");
    expect(reasonOfError(errno("ECONNRESET"))).toBe("refused");
    expect(reasonOfError(errno("ENOTFOUND"))).toBe("dns");
    expect(reasonOfError(errno("ERR_TLS_CERT_ALTNAME_INVALID"))).toBe("tls");
    expect(reasonOfError(errno("DEPTH_ZERO_SELF_SIGNED_CERT"))).toBe("tls");
    expect(reasonOfError(errno("HPE_INVALID_CONSTANT"))).toBe("protocol");
    expect(reasonOfError(new TooLargeError("the reply", 1024))).toBe("protocol");
    expect(reasonOfError(new Error("Connection error", { cause: errno("ECONNREFUSED") }))).toBe("refused");
    // kafkajs keeps the socket's error as originalError
    expect(reasonOfError(Object.assign(new Error("x"), { originalError: errno("ENOTFOUND") }))).toBe("dns");
  });

  it("is a timeout once the run's signal is aborted, whatever the error", () => {
    expect(reasonOfError(errno("ECONNREFUSED"), AbortSignal.abort())).toBe("timeout");
  });

  it("is unhealthy for anything it cannot name, never reading the message", () => {
    expect(reasonOfError(new Error("ECONNREFUSED"))).toBe("unhealthy");
    expect(reasonOfError("boom")).toBe("unhealthy");
    expect(reasonOfError(undefined)).toBe("unhealthy");
  });
});

describe("failedWith", () => {
  it("keeps a failure's reason, and leaves the default to the agent when there is none", () => {
    expect(failedWith({ cause: "u: HTTP 503", reason: "http_status" })).toEqual({
      health: "ERROR",
      causes: ["u: HTTP 503"],
      reason: "http_status",
    });
    expect(failedWith("u: env var X is not set", "config").reason).toBe("config");
    expect(failedWith("u: odd").reason).toBeUndefined();
  });
});
