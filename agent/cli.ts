/** `graft agent --port 9464 [--checks F] [--push-url URL]`; checks from the file, else env GRAFT_CHECKS. */
import { readFileSync } from "node:fs";
import { type ChecksResult, MAX_CHECKS, parseChecksJson } from "../core/checks-spec.js";
import { type CliIo, isHttpUrl, parseServerArgs, processIo } from "../core/cli-io.js";
import { errorMessage } from "../core/result.js";
import { startAgent } from "./main.js";

export const USAGE = `Usage: graft agent [--port 9464] [--host 0.0.0.0] [--checks FILE] [--push-url URL] [--replica NAME]

Runs health checks and serves /metrics, /status (PNDA events), /healthz and /readyz.
  --checks FILE    the checks spec (YAML or JSON list); the env var GRAFT_CHECKS adds the checks
                   the file does not name (without the file, GRAFT_CHECKS alone)
  --push-url URL   also POST PNDA events to a console data logger, PNDA's metric_logger_url
                   (else env GRAFT_PUSH_URL)
  --replica NAME   this replica's name in pushed metrics, <source>.<NAME>.health (else env
                   GRAFT_POD_NAME); without it, <source>.health
Env GRAFT_APP and GRAFT_COMPONENT (set by the webhook) label every metric app and component.
`;

const LABEL_VALUE = /^[A-Za-z0-9]([A-Za-z0-9._-]{0,61}[A-Za-z0-9])?$/;

type Loaded = ChecksResult;

/** JSON without the YAML parser (the webhook injects JSON); the YAML parser only for YAML. */
async function parsedFrom(origin: string, text: string): Promise<Loaded> {
  const parsed: ChecksResult =
    parseChecksJson(text) ?? (await import("../core/checks.js")).parseChecksSpec(text);
  return parsed.ok ? parsed : { ok: false, error: parsed.error.map((error) => `${origin}: ${error}`) };
}

/**
 * The checks from `--checks` and GRAFT_CHECKS, or the messages that say what to fix. With both
 * (a checks ConfigMap and the component type's default checks, as the webhook injects them), the
 * file's checks come first and GRAFT_CHECKS adds those the file does not name.
 */
export async function loadChecks(file: string | undefined, env: CliIo["env"]): Promise<Loaded> {
  const fromEnv =
    env.GRAFT_CHECKS === undefined ? undefined : await parsedFrom("GRAFT_CHECKS", env.GRAFT_CHECKS);
  if (file === undefined) {
    return fromEnv ?? { ok: false, error: ["no checks given: pass --checks FILE or set GRAFT_CHECKS"] };
  }
  let text: string;
  try {
    // Read once before the agent starts; node:fs/promises would load ~1 MiB more for this.
    text = readFileSync(file, "utf8");
  } catch (error) {
    return { ok: false, error: [`cannot read ${file}: ${errorMessage(error)}`] };
  }
  const fromFile = await parsedFrom(file, text);
  if (!fromFile.ok || fromEnv === undefined) return fromFile;
  if (!fromEnv.ok) return fromEnv;
  const named = new Set(fromFile.value.map((check) => check.name));
  const checks = [...fromFile.value, ...fromEnv.value.filter((check) => !named.has(check.name))];
  if (checks.length > MAX_CHECKS) {
    return {
      ok: false,
      error: [`${file} and GRAFT_CHECKS: at most ${MAX_CHECKS} checks, got ${checks.length}`],
    };
  }
  return { ok: true, value: checks };
}

export async function runAgentCli(argv: string[], io: CliIo): Promise<number> {
  const args = parseServerArgs("agent", argv, io, {
    usage: USAGE,
    defaultPort: 9464,
    names: ["checks", "push-url", "replica"],
  });
  if (!args.go) return args.code;
  const { port, host, values } = args;
  const pushUrl = values["push-url"] ?? io.env.GRAFT_PUSH_URL;
  if (pushUrl !== undefined && !isHttpUrl(pushUrl)) {
    io.stderr(`graft agent: the push URL must be an http(s) URL, got "${pushUrl}"\n`);
    return 2;
  }

  const replica = values.replica ?? io.env.GRAFT_POD_NAME;
  if (replica !== undefined && !/^[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?$/.test(replica)) {
    io.stderr(
      `graft agent: the replica name must be a pod name (lowercase letters, digits, '-', '.'), got "${replica}"\n`,
    );
    return 2;
  }

  const identity: { app?: string; component?: string } = {};
  for (const [key, variable] of [
    ["app", "GRAFT_APP"],
    ["component", "GRAFT_COMPONENT"],
  ] as const) {
    const value = io.env[variable];
    if (value === undefined || value === "") continue;
    if (!LABEL_VALUE.test(value)) {
      io.stderr(
        `graft agent: ${variable} must be a Kubernetes label value (up to 63 letters, digits, '-', '_', '.'), got "${value}"\n`,
      );
      return 2;
    }
    identity[key] = value;
  }

  const loaded = await loadChecks(values.checks, io.env);
  if (!loaded.ok) {
    io.stderr(`graft agent: invalid checks, not starting:\n${loaded.error.map((e) => `  ${e}\n`).join("")}`);
    return 2;
  }

  let agent: Awaited<ReturnType<typeof startAgent>>;
  try {
    agent = await startAgent({
      checks: loaded.value,
      port,
      host,
      ...(pushUrl ? { pushUrl } : {}),
      ...(replica ? { replica } : {}),
      identity,
      env: io.env,
      log: (line) => io.stdout(`${line}\n`),
    });
  } catch (error) {
    io.stderr(`graft agent: ${errorMessage(error)}\n`);
    return 1;
  }
  io.stdout(
    `${JSON.stringify({ msg: "graft agent listening", port: agent.port, checks: loaded.value.length })}\n`,
  );
  await io.stopSignal;
  await agent.stop();
  return 0;
}

export function run(argv: string[]): Promise<number> {
  return runAgentCli(argv, processIo());
}
