import { describe, expect, it } from "vitest";
import { parseChecksSpec } from "../core/checks.js";
import { loadRunner, RUNNERS, unsupportedChecks } from "./checks/index.js";
import { checkTcp } from "./checks/tcp.js";

const checks = () => {
  const parsed = parseChecksSpec(
    "- {name: a, type: tcp, host: h, port: 1}\n- {name: b, type: dns, hostname: h}",
  );
  if (!parsed.ok) throw new Error(parsed.errors.join());
  return parsed.checks;
};

describe("check runners", () => {
  it("names each check whose type this build cannot run", () => {
    expect(unsupportedChecks(checks(), { tcp: async () => checkTcp })).toEqual([
      'check "b": type "dns" is not supported by this agent',
    ]);
  });

  it("has a runner module for every type it lists", async () => {
    for (const load of Object.values(RUNNERS)) expect(typeof (await load())).toBe("function");
  });

  it("refuses to load a runner for a type it does not have", async () => {
    await expect(loadRunner(checks()[1]!, {})).rejects.toThrow('check "b": type "dns" is not supported');
  });
});
