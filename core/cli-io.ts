/** What the subcommands share: their process I/O and the parsing of their command lines. */
import { type ParseArgsOptionsConfig, parseArgs } from "node:util";
import { errorMessage } from "./result.js";

/** What a long-running subcommand (`graft agent`, `graft console`) takes from its process. */
export type CliIo = {
  env: Readonly<Record<string, string | undefined>>;
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** Resolves when the process is asked to stop (SIGTERM, SIGINT). */
  stopSignal: Promise<void>;
};

/** The real process's output streams, for the one-shot subcommands. */
export const PROCESS_OUTPUT: Pick<CliIo, "stdout" | "stderr"> = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
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

/** A subcommand's options as node:util parseArgs gives them, `--help`/`-h` included. */
export type CommandValues<O extends ParseArgsOptionsConfig> = ReturnType<
  typeof parseArgs<{ options: O & { help: { type: "boolean"; short: "h" } }; strict: true }>
>["values"];

export type CommandLine<O extends ParseArgsOptionsConfig> =
  | { go: true; values: CommandValues<O> }
  | { go: false; code: number };

/**
 * How every subcommand parses its command line: node:util parseArgs, strict, no positionals,
 * `--help`/`-h` added. When it should not go on, prints usage (help, exit 0) or the error and
 * usage (exit 2), and says with which code.
 */
export function parseCommandLine<const O extends ParseArgsOptionsConfig>(
  command: string,
  argv: string[],
  spec: { usage: string; options: O },
  out: Pick<CliIo, "stdout" | "stderr">,
): CommandLine<O> {
  let values: CommandValues<O>;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: { ...spec.options, help: { type: "boolean", short: "h" } } as O & {
        help: { type: "boolean"; short: "h" };
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    out.stderr(`graft ${command}: ${errorMessage(error)}\n\n${spec.usage}`);
    return { go: false, code: 2 };
  }
  if ((values as { help?: boolean }).help) {
    out.stdout(spec.usage);
    return { go: false, code: 0 };
  }
  return { go: true, values };
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
  const options: ParseArgsOptionsConfig = {
    port: { type: "string", default: String(spec.defaultPort) },
    host: { type: "string", default: "0.0.0.0" },
    ...Object.fromEntries(spec.names.map((name) => [name, { type: "string" as const }])),
  };
  const line = parseCommandLine(command, argv, { usage: spec.usage, options }, io);
  if (!line.go) return line;
  const values = line.values as Record<string, string | boolean | undefined>;
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
