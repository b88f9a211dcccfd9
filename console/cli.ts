/**
 * `graft console --port 8080 [--prometheus-url URL]`: the health page, over Prometheus' data, or
 * without Prometheus over the agents found through the Kubernetes API.
 */
import { type CliIo, isHttpUrl, parseServerArgs, processIo } from "../core/cli-io.js";
import { parseDuration } from "../core/duration.js";
import { errorMessage } from "../core/result.js";
import { type CheckResult, STALE_AFTER_MS } from "./health.js";
import { startConsolePush } from "./push.js";
import { buildConsoleServer } from "./server.js";
import { DEFAULT_LOOKBACK_MS, prometheusCheckResults } from "./sources/prometheus.js";
import { sharedRefresh } from "./sources/shared.js";

export const USAGE = `Usage: graft console [--prometheus-url URL] [--port 8080] [--host 0.0.0.0]

Serves the platform health page (a tile per source, a drill-down per pod, PNDA's colours) and
/api/health, from the graft_check_* series Prometheus scrapes from every graft agent.
  --prometheus-url URL   Prometheus' base URL (else env GRAFT_PROMETHEUS_URL)
  --kubeconfig FILE      without a Prometheus URL: find the agent pods through the Kubernetes
                         API (in-cluster, else KUBECONFIG / ~/.kube/config) and read their /status
  --stale-after 3m       a check not run for this long, or whose agent is not scraped, is grey
  --lookback 10m         Prometheus: how far back checks are looked for (an agent gone for
                         longer leaves the view); longer than --stale-after
  --push-url URL         also POST each tile's <source>.health (the worst of every replica) to
                         PNDA's data logger, its metric_logger_url (else env GRAFT_PUSH_URL)
  --push-every 30s       how often
`;

/** How long one read of Prometheus answers every viewer (the page refreshes every 10 s). */
export const PROMETHEUS_MAX_AGE_MS = 5_000;
/** How long one round over every agent answers every viewer: a round of 5,000 agents takes seconds. */
export const AGENTS_MAX_AGE_MS = 10_000;
/** After that, how long the last round still answers at once while the next one runs. */
export const AGENTS_STALE_FOR_MS = 50_000;

/**
 * Prometheus when a URL is given, else the agents found through the Kubernetes API (its client,
 * tens of MB once loaded, is imported only then). One read at a time serves every viewer.
 */
async function chooseSource(
  prometheusUrl: string | undefined,
  kubeconfig: string | undefined,
  lookbackMs: number | undefined,
): Promise<() => Promise<CheckResult[]>> {
  if (prometheusUrl !== undefined) {
    const source = { url: prometheusUrl, ...(lookbackMs === undefined ? {} : { lookbackMs }) };
    return sharedRefresh(() => prometheusCheckResults(source), {
      maxAgeMs: PROMETHEUS_MAX_AGE_MS,
    });
  }
  const [{ loadKubeConfig }, { agentLister, kubernetesCheckResults }] = await Promise.all([
    import("../core/kubeconfig.js"),
    import("./sources/agents.js"),
  ]);
  const kubeConfig = loadKubeConfig(kubeconfig);
  const listAgents = agentLister(kubeConfig);
  return sharedRefresh(() => kubernetesCheckResults({ listAgents }), {
    maxAgeMs: AGENTS_MAX_AGE_MS,
    staleForMs: AGENTS_STALE_FOR_MS,
  });
}

export async function runConsoleCli(argv: string[], io: CliIo): Promise<number> {
  const args = parseServerArgs("console", argv, io, {
    usage: USAGE,
    defaultPort: 8080,
    names: ["prometheus-url", "kubeconfig", "stale-after", "lookback", "push-url", "push-every"],
  });
  if (!args.go) return args.code;
  const { port, host, values } = args;
  const durations: { staleAfterMs?: number; lookbackMs?: number; pushEveryMs?: number } = {};
  for (const [flag, key] of [
    ["stale-after", "staleAfterMs"],
    ["lookback", "lookbackMs"],
    ["push-every", "pushEveryMs"],
  ] as const) {
    const text = values[flag];
    if (text === undefined) continue;
    const ms = parseDuration(text);
    if (ms === undefined) {
      io.stderr(`graft console: --${flag} must be a duration such as 3m or 90s, got "${text}"\n\n${USAGE}`);
      return 2;
    }
    durations[key] = ms;
  }
  if ((durations.lookbackMs ?? DEFAULT_LOOKBACK_MS) <= (durations.staleAfterMs ?? STALE_AFTER_MS)) {
    io.stderr(
      "graft console: --lookback must be longer than --stale-after (else a dead agent vanishes before it greys)\n",
    );
    return 2;
  }
  const prometheusUrl = values["prometheus-url"] ?? io.env.GRAFT_PROMETHEUS_URL;
  if (prometheusUrl !== undefined && !isHttpUrl(prometheusUrl)) {
    io.stderr(`graft console: --prometheus-url must be an http(s) URL, got "${prometheusUrl}"\n\n${USAGE}`);
    return 2;
  }
  const pushUrl = values["push-url"] ?? io.env.GRAFT_PUSH_URL;
  if (pushUrl !== undefined && !isHttpUrl(pushUrl)) {
    io.stderr(`graft console: --push-url must be an http(s) URL, got "${pushUrl}"\n`);
    return 2;
  }
  let readResults: () => Promise<CheckResult[]>;
  try {
    readResults = await chooseSource(prometheusUrl, values.kubeconfig, durations.lookbackMs);
  } catch (error) {
    io.stderr(`graft console: cannot load the kubeconfig: ${errorMessage(error)}\n`);
    return 2;
  }

  const app = buildConsoleServer({
    readResults,
    ...(durations.staleAfterMs === undefined ? {} : { staleAfterMs: durations.staleAfterMs }),
  });
  try {
    await app.listen({ port, host });
  } catch (error) {
    io.stderr(`graft console: ${errorMessage(error)}\n`);
    return 1;
  }
  const push =
    pushUrl === undefined
      ? undefined
      : startConsolePush({
          url: pushUrl,
          everyMs: durations.pushEveryMs ?? 30_000,
          readResults,
          ...(durations.staleAfterMs === undefined
            ? {}
            : { report: { staleAfterMs: durations.staleAfterMs } }),
          log: (line) => io.stderr(`graft console: ${line}\n`),
        });
  const address = app.server.address();
  const listening = typeof address === "object" && address ? address.port : port;
  const source = prometheusUrl ?? "kubernetes";
  io.stdout(`${JSON.stringify({ msg: "graft console listening", port: listening, source })}\n`);
  await io.stopSignal;
  push?.stop();
  await app.close();
  return 0;
}

export function run(argv: string[]): Promise<number> {
  return runConsoleCli(argv, processIo());
}
