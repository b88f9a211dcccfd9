/**
 * `graft webhook --port 8443 --tls-cert F --tls-key F [--config F] [--kubeconfig F]`: the
 * admission webhook. Certificates are reloaded when their files change; on SIGTERM readiness fails,
 * every request still arriving is answered (`Connection: close`) for the drain delay, then the
 * listener closes, in-flight reviews finish, and it exits 0 (drain.ts).
 */
import { readFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import { KubeConfig } from "@kubernetes/client-node";
import { collectDefaultMetrics, Registry } from "prom-client";
import { readCertificatePair, reloadCertificatesOnChange } from "../certs/reload.js";
import { parsePort } from "../cli/io.js";
import { parseDuration } from "../core/duration.js";
import { loadWebhookConfig, type RuntimeDefaults, type WebhookConfig } from "./config.js";
import { createObjectsIfAbsent } from "./ensure-objects.js";
import { createCertificateMetrics } from "./metrics.js";
import { decideNativeSidecars, fetchServerVersion } from "./native-sidecars.js";
import { readOwnImage } from "./own-image.js";
import { createPropertiesRuntime, type PropertiesRuntime } from "./properties/runtime.js";
import { buildWebhookServer } from "./server.js";

const USAGE = `Usage: graft webhook --tls-cert FILE --tls-key FILE [options]

  --port N            HTTPS port (default 8443)
  --host ADDR         address to listen on (default 0.0.0.0)
  --tls-cert FILE     PEM certificate chain; reloaded when the file changes
  --tls-key FILE      PEM private key; reloaded when the file changes
  --config FILE       webhook config YAML (default: built-in defaults)
  --kubeconfig FILE   cluster access (default: in-cluster, then KUBECONFIG / ~/.kube/config)
  --log-level LEVEL   trace|debug|info|warn|error (default info)
  --drain-delay DUR   after SIGTERM, keep answering with readiness failing this long before the
                      listener closes, while endpoints are removed (default 5s; 0 for none;
                      at most 2m)
`;

const DEFAULT_DRAIN_DELAY_MS = 5_000;
/** Longer has no use inside a pod's termination grace period. */
const MAX_DRAIN_DELAY_MS = 120_000;

type Args = {
  port: number;
  host: string;
  certFile: string;
  keyFile: string;
  configFile: string | undefined;
  kubeconfig: string | undefined;
  logLevel: string;
  drainDelayMs: number;
};

function parse(argv: string[]): Args | string {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        port: { type: "string", default: "8443" },
        host: { type: "string", default: "0.0.0.0" },
        "tls-cert": { type: "string" },
        "tls-key": { type: "string" },
        config: { type: "string" },
        kubeconfig: { type: "string" },
        "log-level": { type: "string", default: "info" },
        "drain-delay": { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    }));
  } catch (error) {
    return (error as Error).message;
  }
  if (values.help) return "";
  const port = parsePort(String(values.port));
  if (port === undefined) return `--port must be a port number, got "${values.port}"`;
  const drainDelay = values["drain-delay"];
  const drainDelayMs =
    drainDelay === undefined
      ? DEFAULT_DRAIN_DELAY_MS
      : /^0(ms|s)?$/.test(String(drainDelay))
        ? 0
        : parseDuration(String(drainDelay));
  if (drainDelayMs === undefined || drainDelayMs > MAX_DRAIN_DELAY_MS) {
    return `--drain-delay must be a duration such as 5s or 500ms, at most 2m, got "${drainDelay}"`;
  }
  const certFile = values["tls-cert"];
  const keyFile = values["tls-key"];
  if (typeof certFile !== "string" || typeof keyFile !== "string") {
    return "--tls-cert and --tls-key are required (e.g. from `graft certs --out DIR`)";
  }
  return {
    port,
    host: String(values.host),
    certFile,
    keyFile,
    configFile: typeof values.config === "string" ? values.config : undefined,
    kubeconfig: typeof values.kubeconfig === "string" ? values.kubeconfig : undefined,
    logLevel: String(values["log-level"]),
    drainDelayMs,
  };
}

async function readConfig(file: string | undefined, defaults: RuntimeDefaults): Promise<WebhookConfig> {
  if (file === undefined) return loadWebhookConfig(undefined, defaults);
  return loadWebhookConfig(await readFile(file, "utf8"), defaults);
}

function loadKubeConfig(file: string | undefined): KubeConfig {
  const kubeConfig = new KubeConfig();
  if (!file) {
    kubeConfig.loadFromDefault();
    return kubeConfig;
  }
  try {
    kubeConfig.loadFromFile(file);
  } catch (error) {
    throw new Error(`--kubeconfig ${file} is not a usable kubeconfig (${(error as Error).message})`);
  }
  return kubeConfig;
}

export async function run(argv: string[]): Promise<number> {
  const args = parse(argv);
  if (typeof args === "string") {
    if (args === "") {
      process.stdout.write(USAGE);
      return 0;
    }
    process.stderr.write(`graft webhook: ${args}\n\n${USAGE}`);
    return 2;
  }

  let kubeConfig: KubeConfig;
  try {
    kubeConfig = loadKubeConfig(args.kubeconfig);
  } catch (error) {
    process.stderr.write(`graft webhook: ${(error as Error).message}\n`);
    return 2;
  }
  const own = await readOwnImage(kubeConfig, process.env);
  let config: WebhookConfig;
  try {
    config = await readConfig(args.configFile, "image" in own ? { agentImage: own.image } : {});
  } catch (error) {
    process.stderr.write(`graft webhook: ${(error as Error).message}\n`);
    return 2;
  }
  let tls: Awaited<ReturnType<typeof readCertificatePair>>;
  try {
    tls = await readCertificatePair({ certFile: args.certFile, keyFile: args.keyFile });
  } catch (error) {
    process.stderr.write(`graft webhook: ${(error as Error).message}\n`);
    return 2;
  }

  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: "graft_webhook_" });
  const certificateMetrics = createCertificateMetrics(registry);
  certificateMetrics.serving(tls);
  const native = await decideNativeSidecars(config.nativeSidecars, fetchServerVersion(kubeConfig));
  const createObjects = createObjectsIfAbsent(kubeConfig);
  // Built after the server, to log through it; the hooks only run once the server listens.
  let properties: PropertiesRuntime | undefined;
  const app = buildWebhookServer({
    config,
    registry,
    tls,
    nativeSidecars: native.native,
    ensureObjects: async (objects, review) =>
      createObjects(properties ? await properties.ensure(objects) : objects, review),
    gatherFacts: async (review, facts) => (properties ? properties.gatherFacts(review, facts) : facts),
    recoverFromEnsureFailure: (error, facts) => properties?.recover(error, facts),
    observeDecision: (decision) => properties?.observe(decision),
    logger: { level: args.logLevel },
    drainDelayMs: args.drainDelayMs,
  });
  app.log.info({ nativeSidecars: native.native, reason: native.reason }, "native sidecars decided");
  app.log.info(
    { agentImage: config.agent.image, ...("reason" in own ? { ownImageUnknown: own.reason } : {}) },
    "agent image decided",
  );

  const watch = reloadCertificatesOnChange(
    app.server,
    { certFile: args.certFile, keyFile: args.keyFile },
    app.log,
    undefined,
    { reloaded: certificateMetrics.serving, failed: certificateMetrics.reloadFailed },
  );

  properties = createPropertiesRuntime({ config, registry, kubeConfig, log: app.log });
  try {
    await properties.start();
  } catch (error) {
    // Until the watch recovers (it retries), pods that need application.properties get
    // properties.onFailure: denied by default, or admitted without it.
    app.log.warn({ err: error }, "ConfigMap graft-platform could not be read yet; retrying");
  }

  try {
    await app.listen({ port: args.port, host: args.host });
  } catch (error) {
    watch.close();
    await properties.stop();
    process.stderr.write(
      `graft webhook: cannot listen on ${args.host}:${args.port}: ${(error as Error).message}\n`,
    );
    return 1;
  }

  return new Promise<number>((resolve) => {
    const stop = (signal: NodeJS.Signals) => {
      process.off("SIGTERM", stop);
      process.off("SIGINT", stop);
      app.log.info(
        { signal, drainDelayMs: args.drainDelayMs },
        "shutting down: readiness fails, requests are answered with Connection: close until the listener closes",
      );
      watch.close();
      Promise.all([app.close(), properties?.stop()]).then(
        () => {
          app.log.info("stopped");
          resolve(0);
        },
        (error: unknown) => {
          app.log.error({ err: error }, "error while shutting down");
          resolve(1);
        },
      );
    };
    process.on("SIGTERM", stop);
    process.on("SIGINT", stop);
  });
}
