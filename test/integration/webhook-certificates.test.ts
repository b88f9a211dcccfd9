// The built `graft webhook` CLI and its certificate files: a pair that cannot serve is refused at
// start-up with a message and a non-zero exit, and ignored on reload (the last good pair keeps
// serving, the refusal is logged and counted); what TLS it accepts, checked by real handshakes.
import { spawnSync } from "node:child_process";
import { X509Certificate } from "node:crypto";
import { mkdtemp, rename, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type ConnectionOptions, connect as connectTls } from "node:tls";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAuthority, issueServingCert, type PemPair } from "../../certs/authority.js";
import { buildCli, startWebhookCli, type WebhookCli } from "../services/webhook-cli.js";
import { eventually, get } from "./webhook-client.js";

const root = fileURLToPath(new URL("../..", import.meta.url));

type Handshake =
  | { ok: true; protocol: string; cipher: string; serial: string }
  | { ok: false; error: string };

function handshake(base: string, options: ConnectionOptions): Promise<Handshake> {
  return new Promise((resolve) => {
    const socket = connectTls({ host: "127.0.0.1", port: Number(new URL(base).port), ...options }, () => {
      resolve({
        ok: true,
        protocol: socket.getProtocol() ?? "",
        cipher: socket.getCipher().name,
        serial: socket.getPeerCertificate().serialNumber,
      });
      socket.destroy();
    });
    socket.on("error", (error: NodeJS.ErrnoException) =>
      resolve({ ok: false, error: error.code ?? error.message }),
    );
  });
}

function serialOf(pair: PemPair): string {
  return new X509Certificate(pair.cert).serialNumber;
}

async function metric(base: string, ca: string, name: string): Promise<number | undefined> {
  const text = (await get(`${base}/metrics`, { ca })).body;
  const line = text.split("\n").find((entry) => entry.startsWith(`${name} `));
  return line === undefined ? undefined : Number(line.slice(name.length + 1));
}

async function writeAtomically(path: string, content: string): Promise<void> {
  await writeFile(`${path}.tmp`, content);
  await rename(`${path}.tmp`, path);
}

describe("graft webhook start-up with an unusable certificate pair", () => {
  let dir = "";
  const authority = createAuthority({ now: new Date() });
  const serving = issueServingCert(authority, { ipAddresses: ["127.0.0.1"], now: new Date() });
  const other = issueServingCert(authority, { ipAddresses: ["127.0.0.1"], now: new Date() });

  beforeAll(async () => {
    buildCli();
    dir = await mkdtemp(join(tmpdir(), "graft-webhook-certs-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it.each([
    ["empty files", "", "", "the certificate file is empty"],
    ["an empty key", serving.cert, "", "the key file is empty"],
    ["a certificate cut short", serving.cert.slice(0, 300), serving.key, "holds no PEM certificate"],
    ["garbage", "garbage\n", "garbage\n", "holds no PEM certificate"],
    ["a key of another certificate", serving.cert, other.key, "does not belong to the certificate"],
  ])("refuses %s: exits 2 naming the files and the fault, never listens", async (_name, cert, key, fault) => {
    await writeFile(join(dir, "tls.crt"), cert);
    await writeFile(join(dir, "tls.key"), key);
    // A webhook that wrongly starts is killed after 20 s, never left behind.
    const ran = spawnSync(
      process.execPath,
      [
        "bin/graft.js",
        "webhook",
        ...["--host", "127.0.0.1", "--port", "0"],
        ...["--tls-cert", join(dir, "tls.crt"), "--tls-key", join(dir, "tls.key")],
      ],
      { cwd: root, encoding: "utf8", timeout: 20_000, killSignal: "SIGKILL" },
    );
    expect(ran.status).toBe(2);
    expect(ran.stderr).toContain(`${join(dir, "tls.crt")} and ${join(dir, "tls.key")} are not a usable`);
    expect(ran.stderr).toContain(fault);
    expect(ran.stdout).not.toContain("Server listening");
  });
});

describe("graft webhook serving TLS", () => {
  let webhook: WebhookCli;

  beforeAll(async () => {
    webhook = await startWebhookCli({ config: "nativeSidecars: never\n" });
  });
  afterAll(async () => {
    await webhook?.cleanup();
  });

  const policy = async () => {
    const { base, ca } = webhook;
    const tls12 = { ca, maxVersion: "TLSv1.2" } as const;
    // Forward-secret AEAD suites on TLS 1.2, and TLS 1.3.
    expect(await handshake(base, { ...tls12, ciphers: "ECDHE-RSA-AES128-GCM-SHA256" })).toMatchObject({
      ok: true,
      protocol: "TLSv1.2",
      cipher: "ECDHE-RSA-AES128-GCM-SHA256",
    });
    expect(await handshake(base, { ...tls12, ciphers: "ECDHE-RSA-CHACHA20-POLY1305" })).toMatchObject({
      ok: true,
      cipher: "ECDHE-RSA-CHACHA20-POLY1305",
    });
    expect(await handshake(base, { ca })).toMatchObject({ ok: true, protocol: "TLSv1.3" });
    // RSA key exchange (no forward secrecy), CBC with SHA-1, CBC even with ECDHE: refused.
    for (const ciphers of ["AES256-GCM-SHA384", "AES128-GCM-SHA256", "AES128-SHA", "ECDHE-RSA-AES128-SHA"]) {
      expect({ ciphers, ...(await handshake(base, { ...tls12, ciphers })) }).toMatchObject({
        ciphers,
        ok: false,
      });
    }
    // TLS 1.1 and 1.0: refused (the client's own floor lowered to offer them).
    for (const version of ["TLSv1.1", "TLSv1"] as const) {
      const offered = { ca, minVersion: version, maxVersion: version, ciphers: "DEFAULT@SECLEVEL=0" };
      expect({ version, ...(await handshake(base, offered)) }).toMatchObject({ version, ok: false });
    }
  };

  it("accepts TLS 1.2 only with ECDHE and AEAD suites, and TLS 1.3", policy);

  it("keeps serving the last good pair when the files turn unusable, counts each refusal, then takes a good new pair — with the same TLS policy", async () => {
    const { base, ca, certFile, keyFile, serving, authority, logs } = webhook;
    const oldSerial = serialOf(serving);
    const errors = () => metric(base, ca, "graft_certificate_reload_errors_total");
    const expiry = () => metric(base, ca, "graft_certificate_expiry_timestamp_seconds");
    expect(await errors()).toBe(0);
    expect(await expiry()).toBe(new Date(new X509Certificate(serving.cert).validTo).getTime() / 1000);
    expect(await handshake(base, { ca })).toMatchObject({ ok: true, serial: oldSerial });

    const next = issueServingCert(authority, { ipAddresses: ["127.0.0.1"], now: new Date(), validDays: 7 });
    const steps: Array<[string, () => Promise<void>]> = [
      ["a truncated tls.crt", () => writeFile(certFile, serving.cert.slice(0, serving.cert.length / 2))],
      ["an empty tls.crt", () => writeFile(certFile, "")],
      ["garbage in tls.crt", () => writeFile(certFile, "\u0000garbage\n".repeat(100))],
      ["the new certificate beside the old key", () => writeAtomically(certFile, next.cert)],
      ["an empty tls.key", () => writeFile(keyFile, "")],
    ];
    for (const [what, step] of steps) {
      const before = (await errors()) ?? 0;
      await step();
      await eventually(`the refusal of ${what} to be counted`, async () => ((await errors()) ?? 0) > before);
      expect({ what, ...(await handshake(base, { ca })) }).toMatchObject({
        what,
        ok: true,
        serial: oldSerial,
      });
    }
    expect(logs.filter((line) => line.msg?.includes("not a usable pair")).length).toBeGreaterThanOrEqual(
      steps.length,
    );

    await writeAtomically(keyFile, next.key);
    await eventually("the new pair to be served", async () => {
      const served = await handshake(base, { ca });
      return served.ok && served.serial === serialOf(next);
    });
    expect(await expiry()).toBe(new Date(new X509Certificate(next.cert).validTo).getTime() / 1000);
    expect(logs.some((line) => line.serialNumber === serialOf(next))).toBe(true);
    await policy();
  });
});
