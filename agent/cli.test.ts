import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { CliIo } from "../core/cli-io.js";
import { loadChecks, runAgentCli } from "./cli.js";

function io(env: CliIo["env"] = {}) {
  const out = { stdout: "", stderr: "" };
  const streams: CliIo = {
    env,
    stdout: (text) => {
      out.stdout += text;
    },
    stderr: (text) => {
      out.stderr += text;
    },
    stopSignal: Promise.resolve(),
  };
  return { streams, out };
}

describe("graft agent", () => {
  it("refuses a bad spec in GRAFT_CHECKS, naming the check and the field", async () => {
    const { streams, out } = io({ GRAFT_CHECKS: '[{"name":"web","type":"http","url":"ftp://x"}]' });
    expect(await runAgentCli(["--port", "0"], streams)).toBe(2);
    expect(out.stderr).toMatch(/GRAFT_CHECKS: check "web": field "url"/);
  });

  it("refuses a replica name that is not a pod name (it becomes part of pushed metric names)", async () => {
    for (const replica of ["Kafka_0", "a".repeat(300), "x\ny", "-a", "a/b"]) {
      const { streams, out } = io({ GRAFT_POD_NAME: replica, GRAFT_CHECKS: "[]" });
      expect(await runAgentCli(["--port", "0"], streams)).toBe(2);
      expect(out.stderr).toMatch(/the replica name must be a pod name/);
    }
  });

  it("refuses a bad spec file, naming the file, the check and the field", async () => {
    const dir = await mkdtemp(join(tmpdir(), "graft-agent-"));
    const file = join(dir, "checks.yaml");
    await writeFile(file, "- {name: db, type: tcp, host: db, port: 70000}\n");
    const { streams, out } = io();
    expect(await runAgentCli(["--checks", file, "--port", "0"], streams)).toBe(2);
    expect(out.stderr).toContain(`${file}: check "db": field "port"`);
  });

  it("runs the file's checks and adds the GRAFT_CHECKS defaults the file does not name", async () => {
    const dir = await mkdtemp(join(tmpdir(), "graft-agent-"));
    const file = join(dir, "checks.yaml");
    await writeFile(
      file,
      "- {name: db, type: tcp, host: db, port: 5432}\n- {name: spark-driver, type: tcp, host: s, port: 1}\n",
    );
    const env = {
      GRAFT_CHECKS: JSON.stringify([
        { name: "spark-driver", type: "spark", mode: "streaming", url: "http://127.0.0.1:4040" },
        { name: "flink-jobmanager", type: "flink", url: "http://127.0.0.1:8081", requireRunningJob: true },
      ]),
    };
    const loaded = await loadChecks(file, env);
    expect(loaded.ok && loaded.value.map((check) => [check.name, check.type])).toEqual([
      ["db", "tcp"],
      ["spark-driver", "tcp"],
      ["flink-jobmanager", "flink"],
    ]);
    const bad = await loadChecks(file, { GRAFT_CHECKS: "[{name: x}]" });
    expect(bad.ok).toBe(false);
  });

  it("refuses a GRAFT_APP or GRAFT_COMPONENT that is not a label value (they label every metric)", async () => {
    for (const [variable, value] of [
      ["GRAFT_APP", "a b"],
      ["GRAFT_COMPONENT", "x".repeat(64)],
      ["GRAFT_APP", 'a"}'],
    ] as const) {
      const { streams, out } = io({ [variable]: value, GRAFT_CHECKS: "[]" });
      expect(await runAgentCli(["--port", "0"], streams)).toBe(2);
      expect(out.stderr).toContain(`${variable} must be a Kubernetes label value`);
    }
  });

  it("says where checks come from when none are given", async () => {
    const { streams, out } = io();
    expect(await runAgentCli(["--port", "0"], streams)).toBe(2);
    expect(out.stderr).toContain("pass --checks FILE or set GRAFT_CHECKS");
  });

  it("rejects a port that is not a number", async () => {
    const { streams, out } = io({ GRAFT_CHECKS: "[]" });
    expect(await runAgentCli(["--port", "web"], streams)).toBe(2);
    expect(out.stderr).toContain('--port must be a port number (0-65535), got "web"');
  });

  it("starts with a valid spec and exits 0 when asked to stop", async () => {
    const { streams, out } = io({ GRAFT_CHECKS: "- {name: local, type: tcp, host: 127.0.0.1, port: 9}" });
    expect(await runAgentCli(["--port", "0", "--host", "127.0.0.1"], streams)).toBe(0);
    expect(out.stdout).toContain('"msg":"graft agent listening"');
  });
});
