/** `graft console --port 8080 --prometheus-url URL`: the health page over Prometheus' data. */
import { parseArgs } from "node:util";
import { type CliIo, parsePort, processIo } from "../cli/io.js";
import { buildConsoleServer } from "./server.js";
import { prometheusCheckResults } from "./sources/prometheus.js";

export const USAGE = `Usage: graft console --prometheus-url URL [--port 8080] [--host 0.0.0.0]

Serves the platform health page (a tile per source, a drill-down per pod, PNDA's colours) and
/api/health, from the graft_check_* series Prometheus scrapes from every graft agent.
  --prometheus-url URL   Prometheus' base URL (else env GRAFT_PROMETHEUS_URL)
`;

export async function runConsoleCli(argv: string[], io: CliIo): Promise<number> {
  let values: { port?: string; host?: string; "prometheus-url"?: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        port: { type: "string", default: "8080" },
        host: { type: "string", default: "0.0.0.0" },
        "prometheus-url": { type: "string" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
    }));
  } catch (error) {
    io.stderr(`graft console: ${(error as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    io.stdout(USAGE);
    return 0;
  }
  const port = parsePort(values.port);
  if (port === undefined) {
    io.stderr(`graft console: --port must be a port number (0-65535), got "${values.port}"\n`);
    return 2;
  }
  const prometheusUrl = values["prometheus-url"] ?? io.env.GRAFT_PROMETHEUS_URL;
  if (prometheusUrl === undefined || !/^https?:\/\/\S+$/.test(prometheusUrl)) {
    io.stderr(
      `graft console: --prometheus-url must be an http(s) URL, got ${prometheusUrl === undefined ? "none" : `"${prometheusUrl}"`}\n\n${USAGE}`,
    );
    return 2;
  }

  const app = buildConsoleServer({ readResults: () => prometheusCheckResults({ url: prometheusUrl }) });
  try {
    await app.listen({ port, host: values.host });
  } catch (error) {
    io.stderr(`graft console: ${(error as Error).message}\n`);
    return 1;
  }
  const address = app.server.address();
  const listening = typeof address === "object" && address ? address.port : port;
  io.stdout(
    `${JSON.stringify({ msg: "graft console listening", port: listening, prometheus: prometheusUrl })}\n`,
  );
  await io.stopSignal;
  await app.close();
  return 0;
}

export function run(argv: string[]): Promise<number> {
  return runConsoleCli(argv, processIo());
}
