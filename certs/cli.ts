/**
 * `graft certs --out DIR [--dns NAME]... [--ip ADDR]... [--days N]`: a new CA and a serving
 * certificate signed by it, written as ca.crt, tls.crt and tls.key (the names of a
 * kubernetes.io/tls Secret plus its CA). Each file is written beside its final name and renamed,
 * so a running `graft webhook` never reads half a file.
 */
import { mkdir, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { PROCESS_OUTPUT, parseCommandLine } from "../core/cli-io.js";
import { errorMessage } from "../core/result.js";
import { createAuthority, issueServingCert } from "./authority.js";

const USAGE = `Usage: graft certs --out DIR [--dns NAME]... [--ip ADDR]... [--days N]

Writes DIR/ca.crt, DIR/tls.crt and DIR/tls.key: a new CA and a serving certificate for the
given names, e.g. --dns graft-webhook.graft.svc --ip 127.0.0.1. Defaults: --ip 127.0.0.1
--dns localhost when no name is given; --days 365.
`;

export async function run(argv: string[]): Promise<number> {
  const line = parseCommandLine(
    "certs",
    argv,
    {
      usage: USAGE,
      options: {
        out: { type: "string" },
        dns: { type: "string", multiple: true },
        ip: { type: "string", multiple: true },
        days: { type: "string" },
      },
    },
    PROCESS_OUTPUT,
  );
  if (!line.go) return line.code;
  const { values } = line;
  if (!values.out) {
    process.stderr.write(`graft certs: --out DIR is required\n\n${USAGE}`);
    return 2;
  }
  const days = values.days === undefined ? 365 : Number(values.days);
  if (!Number.isInteger(days) || days < 1) {
    process.stderr.write(`graft certs: --days must be a whole number of days, got "${values.days}"\n`);
    return 2;
  }
  const named = (values.dns?.length ?? 0) + (values.ip?.length ?? 0) > 0;
  const now = new Date();
  try {
    const authority = createAuthority({ now });
    const serving = issueServingCert(authority, {
      dnsNames: named ? values.dns : ["localhost"],
      ipAddresses: named ? values.ip : ["127.0.0.1"],
      now,
      validDays: days,
    });
    await mkdir(values.out, { recursive: true });
    await writeAtomically(join(values.out, "ca.crt"), authority.cert, 0o644);
    await writeAtomically(join(values.out, "tls.key"), serving.key, 0o600);
    await writeAtomically(join(values.out, "tls.crt"), serving.cert, 0o644);
  } catch (error) {
    process.stderr.write(`graft certs: ${errorMessage(error)}\n`);
    return 1;
  }
  process.stdout.write(`wrote ca.crt, tls.crt and tls.key to ${values.out}\n`);
  return 0;
}

async function writeAtomically(path: string, content: string, mode: number): Promise<void> {
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, content, { mode });
  await rename(temporary, path);
}
