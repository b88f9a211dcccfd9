/**
 * `graft <subcommand>`: one binary for every part. Each subcommand lives with its part and is
 * loaded only when called, so `graft agent` never loads the webhook's dependencies.
 */
export type Subcommand = {
  summary: string;
  load: () => Promise<{ run: (argv: string[]) => Promise<number> }>;
};

export const SUBCOMMANDS: Record<string, Subcommand> = {
  webhook: {
    summary: "serve the admission webhook (HTTPS; certificates reloaded on change)",
    load: () => import("../webhook/server/cli.js"),
  },
  agent: {
    summary: "run health checks; serve /metrics, /status (PNDA events), /healthz, /readyz",
    load: () => import("../agent/cli.js"),
  },
  console: {
    summary: "serve the platform health page and /api/health (from Prometheus, or the agents themselves)",
    load: () => import("../console/cli.js"),
  },
  certs: {
    summary: "write a new CA and serving certificate (ca.crt, tls.crt, tls.key) to a directory",
    load: () => import("../certs/cli.js"),
  },
  "webhook-configuration": {
    summary: "print the MutatingWebhookConfiguration for a webhook URL or Service (kubectl apply -f -)",
    load: () => import("../webhook/install/cli.js"),
  },
  check: {
    summary: "does graft work in this cluster? item by item, with the fix",
    load: () => import("../install-check/cli.js"),
  },
  inject: {
    summary: "print manifests as the webhook would admit them (offline, same code path)",
    load: () => import("../webhook/offline/cli.js"),
  },
};

function usage(): string {
  const lines = Object.entries(SUBCOMMANDS).map(([name, { summary }]) => `  ${name.padEnd(22)} ${summary}`);
  return ["Usage: graft <subcommand> [options]", "", "Subcommands:", ...lines, ""].join("\n");
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "help" || name === "--help" || name === "-h") {
    process.stdout.write(usage());
    return name === undefined ? 2 : 0;
  }
  const subcommand = SUBCOMMANDS[name];
  if (!subcommand) {
    process.stderr.write(`graft: unknown subcommand "${name}"\n\n${usage()}`);
    return 2;
  }
  const { run } = await subcommand.load();
  return run(rest);
}
