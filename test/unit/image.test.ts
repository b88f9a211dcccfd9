import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { AGENT_COMMAND } from "../../webhook/features/agent.js";

describe("the image", () => {
  const dockerfile = readFileSync(new URL("../../Dockerfile", import.meta.url), "utf8");

  it("has the node binary and CLI the injected agent container starts", () => {
    const entrypoint = JSON.parse(/^ENTRYPOINT (.+)$/m.exec(dockerfile)?.[1] ?? "[]") as string[];
    expect(AGENT_COMMAND[0]).toBe(entrypoint[0]);
    expect(AGENT_COMMAND.at(-1)).toBe(entrypoint.at(-1));
  });

  it("runs as the non-root user the agent container asks for", () => {
    expect(dockerfile).toMatch(/^USER 65532:65532$/m);
  });
});
