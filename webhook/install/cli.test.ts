import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { parse, parseAllDocuments } from "yaml";
import { run } from "./cli.js";

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  vi.spyOn(process.stdout, "write").mockImplementation((chunk) => out.push(String(chunk)) > 0);
  vi.spyOn(process.stderr, "write").mockImplementation((chunk) => err.push(String(chunk)) > 0);
  return { out: () => out.join(""), err: () => err.join("") };
}

afterEach(() => vi.restoreAllMocks());

describe("graft webhook-configuration", () => {
  it("points every webhook at the URL with the CA as caBundle", async () => {
    const dir = await mkdtemp(join(tmpdir(), "graft-whc-"));
    await writeFile(join(dir, "ca.crt"), "-----BEGIN CERTIFICATE-----\nX\n-----END CERTIFICATE-----\n");
    const io = capture();
    expect(await run(["--url", "https://127.0.0.1:9443", "--ca-file", join(dir, "ca.crt")])).toBe(0);
    const config = parse(io.out());
    expect(config.kind).toBe("MutatingWebhookConfiguration");
    const urls = config.webhooks.map((w: { clientConfig: { url: string } }) => w.clientConfig.url);
    expect(urls).toEqual([
      "https://127.0.0.1:9443/mutate/namespace",
      "https://127.0.0.1:9443/mutate/pod",
      "https://127.0.0.1:9443/validate",
    ]);
    const caBundle = Buffer.from(config.webhooks[0].clientConfig.caBundle, "base64").toString();
    expect(caBundle).toContain("BEGIN CERTIFICATE");
  });

  it("targets a Service", async () => {
    const io = capture();
    expect(await run(["--service", "graft/graft-webhook:443"])).toBe(0);
    expect(parse(io.out()).webhooks[2].clientConfig.service).toEqual({
      namespace: "graft",
      name: "graft-webhook",
      port: 443,
      path: "/validate",
    });
  });

  it("refuses an http URL, both targets, or neither, saying why", async () => {
    const io = capture();
    expect(await run(["--url", "http://127.0.0.1:1"])).toBe(2);
    expect(await run(["--url", "https://a", "--service", "a/b"])).toBe(2);
    expect(await run([])).toBe(2);
    expect(io.err()).toContain('--url must be https:// with no query or fragment, got "http://127.0.0.1:1"');
    expect(io.err()).toContain("give exactly one of --url and --service");
  });

  it("prints the write policy and its binding for the config's namespace and exclusions", async () => {
    const dir = await mkdtemp(join(tmpdir(), "graft-whc-"));
    await writeFile(join(dir, "config.yaml"), "namespace: graft-system\nexcludedNamespaces: [legacy]\n");
    const io = capture();
    expect(await run(["--write-policy", "--config", join(dir, "config.yaml")])).toBe(0);
    const [policy, binding] = parseAllDocuments(io.out()).map((d) => d.toJS());
    expect(policy.kind).toBe("ValidatingAdmissionPolicy");
    expect(binding).toMatchObject({
      kind: "ValidatingAdmissionPolicyBinding",
      spec: { policyName: "graft-writes" },
    });
    const text = JSON.stringify(policy);
    expect(text).toContain("system:serviceaccount:graft-system:graft");
    expect(text).toContain("'legacy'");
  });
});
