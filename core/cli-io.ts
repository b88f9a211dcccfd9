/** What the subcommands share: their process I/O and the parsing of a serving command line. */
import { parseArgs } from "node:util";
import { errorMessage } from "./result.js";

/** What a long-running subcommand (`graft agent`, `graft console`) takes from its process. */
export type CliIo = {
  env: Readonly<Record<string, string | undefined>>;
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** Resolves when the process is asked to stop (SIGTERM, SIGINT). */
  stopSignal: Promise<void>;
};

/** The real process's streams, environment and stop signals. */
export function processIo(): CliIo {
  const stopSignal = new Promise<void>((resolve) => {
    process.once("SIGTERM", () => resolve());
    process.once("SIGINT", () => resolve());
  });
  return {
    env: process.env,
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    stopSignal,
  };
}

/** A TCP port number from an option's text (0 lets the system choose), or undefined. */
export function parsePort(text: string | undefined): number | undefined {
  const port = Number(text);
  return Number.isInteger(port) && port >= 0 && port <= 65535 && text?.trim() !== "" ? port : undefined;
}

/** An http(s) URL with no white space: what `--push-url` and `--prometheus-url` take. */
export function isHttpUrl(text: string): boolean {
  return /^https?:\/\/\S+$/.test(text);
}

export type ServerArgs<K extends string> =
  | { go: true; port: number; host: string; values: Partial<Record<K, string>> }
  | { go: false; code: number };

/**
 * Parses a serving subcommand's command line: `--port` (default `defaultPort`), `--host`
 * (default 0.0.0.0), `--help` and the string options `names`. When it should not go on (help
 * asked, a bad option or port), prints usage or the error and says with which exit code.
 */
export function parseServerArgs<K extends string>(
  command: string,
  argv: string[],
  io: CliIo,
  spec: { usage: string; defaultPort: number; names: readonly K[] },
): ServerArgs<K> {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        port: { type: "string", default: String(spec.defaultPort) },
        host: { type: "string", default: "0.0.0.0" },
        help: { type: "boolean", short: "h" },
        ...Object.fromEntries(spec.names.map((name) => [name, { type: "string" as const }])),
      },
      strict: true,
    }));
  } catch (error) {
    io.stderr(`graft ${command}: ${errorMessage(error)}\n\n${spec.usage}`);
    return { go: false, code: 2 };
  }
  if (values.help) {
    io.stdout(spec.usage);
    return { go: false, code: 0 };
  }
  const port = parsePort(String(values.port));
  if (port === undefined) {
    io.stderr(`graft ${command}: --port must be a port number (0-65535), got "${values.port}"\n`);
    return { go: false, code: 2 };
  }
  const named = Object.fromEntries(
    spec.names.flatMap((name) => (typeof values[name] === "string" ? [[name, values[name]]] : [])),
  ) as Partial<Record<K, string>>;
  return { go: true, port, host: String(values.host), values: named };
}
