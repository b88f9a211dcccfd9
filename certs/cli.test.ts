import { X509Certificate } from "node:crypto";
import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { run } from "./cli.js";

describe("graft certs", () => {
  const dirs: string[] = [];
  afterEach(async () => {
    vi.restoreAllMocks();
    await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
  });

  it("writes ca.crt, tls.crt and tls.key (owner-only) for the given names", async () => {
    vi.spyOn(process.stdout, "write").mockReturnValue(true);
    const dir = await mkdtemp(join(tmpdir(), "graft-certs-"));
    dirs.push(dir);
    expect(
      await run(["--out", dir, "--dns", "graft-webhook.graft.svc", "--ip", "127.0.0.1", "--days", "30"]),
    ).toBe(0);
    const ca = new X509Certificate(await readFile(join(dir, "ca.crt")));
    const serving = new X509Certificate(await readFile(join(dir, "tls.crt")));
    expect(serving.checkIssued(ca)).toBe(true);
    expect(serving.checkHost("graft-webhook.graft.svc")).toBe("graft-webhook.graft.svc");
    expect(serving.checkIP("127.0.0.1")).toBe("127.0.0.1");
    expect((await stat(join(dir, "tls.key"))).mode & 0o777).toBe(0o600);
  });

  it("refuses to run without --out, saying so", async () => {
    const stderr = vi.spyOn(process.stderr, "write").mockReturnValue(true);
    expect(await run(["--ip", "127.0.0.1"])).toBe(2);
    expect(String(stderr.mock.calls[0]?.[0])).toContain("--out DIR is required");
  });
});
