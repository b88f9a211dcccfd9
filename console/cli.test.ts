import { describe, expect, it } from "vitest";
import type { CliIo } from "../core/cli-io.js";
import { runConsoleCli } from "./cli.js";

function io(env: CliIo["env"] = {}) {
  const out = { stderr: "" };
  const streams: CliIo = {
    env,
    stdout: () => {},
    stderr: (text) => {
      out.stderr += text;
    },
    stopSignal: Promise.resolve(),
  };
  return { streams, out };
}

const prometheus = ["--prometheus-url", "http://127.0.0.1:9/", "--port", "0"];

describe("graft console's options", () => {
  it("refuses a staleness window or lookback that is not a duration", async () => {
    for (const [flag, value] of [
      ["--stale-after", "soon"],
      ["--lookback", "5 minutes"],
      ["--push-every", "1e999s"],
    ] as const) {
      const { streams, out } = io();
      expect(await runConsoleCli([...prometheus, flag, value], streams)).toBe(2);
      expect(out.stderr).toContain(`${flag} must be a duration`);
    }
  });

  it("refuses a lookback no longer than the staleness window: dead agents would vanish before greying", async () => {
    const { streams, out } = io();
    expect(await runConsoleCli([...prometheus, "--stale-after", "3m", "--lookback", "2m"], streams)).toBe(2);
    expect(out.stderr).toContain("--lookback must be longer than --stale-after");
  });

  it("refuses a push URL that is not http(s)", async () => {
    const { streams, out } = io({ GRAFT_PUSH_URL: "file:///etc/passwd" });
    expect(await runConsoleCli(prometheus, streams)).toBe(2);
    expect(out.stderr).toContain("--push-url must be an http(s) URL");
  });
});
