import { describe, expect, it } from "vitest";
import { decideNativeSidecars, parseServerVersion, supportsNativeSidecars } from "./cluster-version.js";

describe("supportsNativeSidecars", () => {
  it.each([
    [{ major: "1", minor: "28" }, false],
    [{ major: "1", minor: "29" }, true],
    [{ major: "1", minor: "33" }, true],
    [{ major: "1", minor: "29+" }, true],
    [{ major: "1", minor: "27+" }, false],
    [{ major: "2", minor: "0" }, true],
  ])("%j → %s", (version, expected) => {
    expect(supportsNativeSidecars(version)).toBe(expected);
  });

  it("falls back to gitVersion when major and minor are empty", () => {
    expect(parseServerVersion({ major: "", minor: "", gitVersion: "v1.30.2-eks-1552ad0" })).toEqual({
      major: 1,
      minor: 30,
    });
    expect(supportsNativeSidecars({ major: "", minor: "", gitVersion: "v1.28.9-gke.100" })).toBe(false);
  });

  it("says no when the version cannot be read at all", () => {
    expect(supportsNativeSidecars({ major: "", minor: "", gitVersion: "unknown" })).toBe(false);
  });
});

describe("decideNativeSidecars", () => {
  const never = () => Promise.reject(new Error("must not be called"));

  it("never asks the API server for always and never", async () => {
    expect(await decideNativeSidecars("always", never)).toMatchObject({ native: true });
    expect(await decideNativeSidecars("never", never)).toMatchObject({ native: false });
  });

  it("auto follows the API server's version", async () => {
    const v133 = await decideNativeSidecars("auto", async () => ({
      major: "1",
      minor: "33",
      gitVersion: "v1.33.1",
    }));
    expect(v133).toEqual({ native: true, reason: "API server v1.33.1 supports native sidecars" });
    const v128 = await decideNativeSidecars("auto", async () => ({ major: "1", minor: "28" }));
    expect(v128.native).toBe(false);
    expect(v128.reason).toMatch(/1\.28 is older than 1\.29/);
  });

  it("auto uses a regular container, saying why, when the version cannot be read", async () => {
    const decision = await decideNativeSidecars("auto", () =>
      Promise.reject(new Error("connect ECONNREFUSED")),
    );
    expect(decision.native).toBe(false);
    expect(decision.reason).toMatch(/ECONNREFUSED.*regular container/);
  });
});
