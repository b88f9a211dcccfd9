import { describe, expect, it } from "vitest";
import { parseChecksSpec } from "../core/checks.js";
import { checkTcp } from "./checks/tcp.js";
import { unsupportedChecks } from "./main.js";

describe("unsupportedChecks", () => {
  it("names each check whose type this build cannot run", () => {
    const parsed = parseChecksSpec(
      "- {name: a, type: tcp, host: h, port: 1}\n- {name: b, type: dns, hostname: h}",
    );
    if (!parsed.ok) throw new Error(parsed.errors.join());
    expect(unsupportedChecks(parsed.checks, { tcp: checkTcp })).toEqual([
      'check "b": type "dns" is not supported by this agent',
    ]);
  });
});
