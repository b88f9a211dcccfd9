/**
 * `graft console --port 8080 [--prometheus-url URL]`: the health page, over Prometheus' data, or
 * without Prometheus over the agents found through the Kubernetes API.
 */
import { parseArgs } from "node:util";
import { KubeConfig } from "@kubernetes/client-node";
import { type CliIo, parsePort, processIo } from "../cli/io.js";
import { buildConsoleServer } from "./server.js";
import { kubernetesCheckResults, podLister } from "./sources/agents.js";
import { prometheusCheckResults } from "./sources/prometheus.js";

export const USAGE = `Usage: graft console [--prometheus-url URL] [--port 8080] [--host 0.0.0.0]

Serves the platform health page (a tile per source, a drill-down per pod, PNDA's colours) and
/api/health, from the graft_check_* series Prometheus scrapes from every graft agent.
  --prometheus-url URL   Prometheus' base URL (else env GRAFT_PROMETHEUS_URL)
  --kubeconfig FILE      without a Prometheus URL: find the agent pods through the Kubernetes
                         API (in-cluster, else KUBECONFIG / ~/.kube/config) and read their /status
`;

export async function runConsoleCli(argv: string[], io: CliIo): Promise<number> {
  let values: {
    port?: string;
    host?: string;
    "prometheus-url"?: string;
    kubeconfig?: string;
    help?: boolean;
  };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        port: { type: "string", default: "8080" },
        host: { type: "string", default: "0.0.0.0" },
        "prometheus-url": { type: "string" },
        kubeconfig: { type: "string" },
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
  if (prometheusUrl !== undefined && !/^https?:\/\/\S+$/.test(prometheusUrl)) {
    io.stderr(`graft console: --prometheus-url must be an http(s) URL, got "${prometheusUrl}"\n\n${USAGE}`);
    return 2;
  }
  let readResults: () => ReturnType<typeof prometheusCheckResults>;
  if (prometheusUrl !== undefined) {
    readResults = () => prometheusCheckResults({ url: prometheusUrl });
  } else {
    const kubeConfig = new KubeConfig();
    try {
      if (values.kubeconfig !== undefined) kubeConfig.loadFromFile(values.kubeconfig);
      else kubeConfig.loadFromDefault();
    } catch (error) {
      io.stderr(`graft console: cannot load the kubeconfig: ${(error as Error).message}\n`);
      return 2;
    }
    const listPods = podLister(kubeConfig);
    readResults = () => kubernetesCheckResults({ listPods });
  }

  const app = buildConsoleServer({ readResults });
  try {
    await app.listen({ port, host: values.host });
  } catch (error) {
    io.stderr(`graft console: ${(error as Error).message}\n`);
    return 1;
  }
  const address = app.server.address();
  const listening = typeof address === "object" && address ? address.port : port;
  const source = prometheusUrl ?? "kubernetes";
  io.stdout(`${JSON.stringify({ msg: "graft console listening", port: listening, source })}\n`);
  await io.stopSignal;
  await app.close();
  return 0;
}

export function run(argv: string[]): Promise<number> {
  return runConsoleCli(argv, processIo());
}
