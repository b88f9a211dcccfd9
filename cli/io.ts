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
