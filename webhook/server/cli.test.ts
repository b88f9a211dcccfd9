import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { createAuthority, issueServingCert } from "../../certs/authority.js";
import { run } from "./cli.js";

afterEach(() => vi.restoreAllMocks());

function stderr() {
  const err: string[] = [];
  vi.spyOn(process.stderr, "write").mockImplementation((chunk) => err.push(String(chunk)) > 0);
  return () => err.join("");
}

describe("graft webhook --client-ca", () => {
  let dir = "";
  // On loopback: were the flags not refused, the webhook would start (and the test time out).
  const tls = () => [
    "--host",
    "127.0.0.1",
    "--tls-cert",
    join(dir, "tls.crt"),
    "--tls-key",
    join(dir, "tls.key"),
  ];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "graft-webhook-cli-"));
    const now = new Date();
    const pair = issueServingCert(createAuthority({ now }), { ipAddresses: ["127.0.0.1"], now });
    await writeFile(join(dir, "tls.crt"), pair.cert);
    await writeFile(join(dir, "tls.key"), pair.key);
    await writeFile(
      join(dir, "garbage.pem"),
      "-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n",
    );
    await writeFile(join(dir, "empty.pem"), "");
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("refuses --client-name without --client-ca", async () => {
    const err = stderr();
    expect(await run([...tls(), "--client-name", "kube-apiserver"])).toBe(2);
    expect(err()).toContain("--client-name needs --client-ca");
  });

  it("refuses a client CA file that is missing, empty or not a certificate, naming the file", async () => {
    for (const file of ["missing.pem", "empty.pem", "garbage.pem"]) {
      const err = stderr();
      expect(await run([...tls(), "--client-ca", join(dir, file)])).toBe(2);
      expect(err()).toContain(`--client-ca ${join(dir, file)}`);
      vi.restoreAllMocks();
    }
  });
});
