/**
 * `graft webhook --port 8443 --tls-cert F --tls-key F [--config F] [--kubeconfig F]`: the
 * admission webhook. Certificates are reloaded when their files change; on SIGTERM readiness fails,
 * every request still arriving is answered (`Connection: close`) for the drain delay, then the
 * listener closes, in-flight reviews finish, and it exits 0 (drain.ts).
 */
import { X509Certificate } from "node:crypto";
import { readFile } from "node:fs/promises";
import { collectDefaultMetrics, Registry } from "prom-client";
import { readCertificatePair, reloadCertificatesOnChange } from "../../certs/reload.js";
import { type CommandValues, PROCESS_OUTPUT, parseCommandLine, parsePort } from "../../core/cli-io.js";
import { withDeadline } from "../../core/deadline.js";
import { parseDuration } from "../../core/duration.js";
import { errorMessage } from "../../core/result.js";
import { decideNativeSidecars, fetchServerVersion } from "../io/cluster-version.js";
import { createObjectsIfAbsent } from "../io/ensure-objects.js";
import { loadKubeAccess } from "../io/kube/access.js";
import { createKubeClient, type KubeClient } from "../io/kube/client.js";
import { createNamespaceCache, namespaceInformer, namespaceReader } from "../io/namespace-cache.js";
import { createNotebooksRuntime } from "../io/notebooks/runtime.js";
import { readOwnImage } from "../io/own-image.js";
import { createPropertiesRuntime } from "../io/properties/runtime.js";
import { loadWebhookConfig, type RuntimeDefaults, type WebhookConfig } from "../model/config.js";
import { excludedNamespaces } from "../pipeline/plan.js";
import { createAdmissionService } from "../service/admission-service.js";
import { type ClientAuth, keepClientCa } from "./client-auth.js";
import { createCertificateMetrics } from "./metrics.js";
import { buildWebhookServer } from "./server.js";

const USAGE = `Usage: graft webhook --tls-cert FILE --tls-key FILE [options]

  --port N            HTTPS port (default 8443)
  --host ADDR         address to listen on (default 0.0.0.0)
  --tls-cert FILE     PEM certificate chain; reloaded when the file changes
  --tls-key FILE      PEM private key; reloaded when the file changes
  --config FILE       webhook config YAML (default: built-in defaults)
  --kubeconfig FILE   cluster access (default: KUBECONFIG, ~/.kube/config, then in-cluster)
  --client-ca FILE    PEM CA: admission requests must present a client certificate it signed
                      (the API server's, from its AdmissionConfiguration kubeConfigFile)
  --client-name CN    with --client-ca: accept only this subject CN (repeatable)
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
  clientCaFile: string | undefined;
  clientNames: string[];
  logLevel: string;
  drainDelayMs: number;
};

const OPTIONS = {
  port: { type: "string", default: "8443" },
  host: { type: "string", default: "0.0.0.0" },
  "tls-cert": { type: "string" },
  "tls-key": { type: "string" },
  config: { type: "string" },
  kubeconfig: { type: "string" },
  "client-ca": { type: "string" },
  "client-name": { type: "string", multiple: true },
  "log-level": { type: "string", default: "info" },
  "drain-delay": { type: "string" },
} as const;

/** The options' values checked and typed, or what is wrong with them. */
function argsFrom(values: CommandValues<typeof OPTIONS>): Args | string {
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
  const clientNames = Array.isArray(values["client-name"]) ? values["client-name"] : [];
  if (clientNames.length > 0 && typeof values["client-ca"] !== "string") {
    return "--client-name needs --client-ca (the CA that signs the API server's client certificate)";
  }
  return {
    port,
    host: String(values.host),
    certFile,
    keyFile,
    configFile: typeof values.config === "string" ? values.config : undefined,
    kubeconfig: typeof values.kubeconfig === "string" ? values.kubeconfig : undefined,
    clientCaFile: typeof values["client-ca"] === "string" ? values["client-ca"] : undefined,
    clientNames,
    logLevel: String(values["log-level"]),
    drainDelayMs,
  };
}

async function readConfig(file: string | undefined, defaults: RuntimeDefaults): Promise<WebhookConfig> {
  if (file === undefined) return loadWebhookConfig(undefined, defaults);
  return loadWebhookConfig(await readFile(file, "utf8"), defaults);
}

/** How long start-up waits for the first list of Namespaces before serving without it. */
const NAMESPACES_START_TIMEOUT_MS = 10_000;

/** The client CA bundle: every PEM certificate in it must parse, and there must be one. */
async function readClientCa(file: string): Promise<string> {
  const pem = await readFile(file, "utf8").catch((error: Error) => {
    throw new Error(`--client-ca ${file} cannot be read (${error.message})`);
  });
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? [];
  if (blocks.length === 0) {
    throw new Error(`--client-ca ${file} holds no PEM certificate ("-----BEGIN CERTIFICATE-----")`);
  }
  for (const block of blocks) {
    try {
      new X509Certificate(block);
    } catch (error) {
      throw new Error(`--client-ca ${file} is not a usable PEM CA certificate (${errorMessage(error)})`);
    }
  }
  return pem;
}

export async function run(argv: string[]): Promise<number> {
  const line = parseCommandLine("webhook", argv, { usage: USAGE, options: OPTIONS }, PROCESS_OUTPUT);
  if (!line.go) return line.code;
  const args = argsFrom(line.values);
  if (typeof args === "string") {
    process.stderr.write(`graft webhook: ${args}\n\n${USAGE}`);
    return 2;
  }

  // What start-up reads; any of it unusable exits 2 with the reason.
  let clientAuth: ClientAuth | undefined;
  let kube: KubeClient;
  let own: Awaited<ReturnType<typeof readOwnImage>>;
  let config: WebhookConfig;
  let tls: Awaited<ReturnType<typeof readCertificatePair>>;
  try {
    if (args.clientCaFile !== undefined) {
      clientAuth = { ca: await readClientCa(args.clientCaFile), allowedNames: args.clientNames };
    }
    kube = createKubeClient(loadKubeAccess(args.kubeconfig));
    own = await readOwnImage(kube, process.env);
    config = await readConfig(args.configFile, "image" in own ? { agentImage: own.image } : {});
    tls = await readCertificatePair({ certFile: args.certFile, keyFile: args.keyFile });
  } catch (error) {
    process.stderr.write(`graft webhook: ${errorMessage(error)}\n`);
    return 2;
  }

  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: "graft_webhook_" });
  const certificateMetrics = createCertificateMetrics(registry);
  certificateMetrics.serving(tls);
  const native = await decideNativeSidecars(config.nativeSidecars, fetchServerVersion(kube));
  // The watches log through the server's logger: they report only once the server is built.
  const log = {
    warn: (object: object, message: string) => app.log.warn(object, message),
    info: (object: object, message: string) => app.log.info(object, message),
  };
  // The namespace route's opt-in is checked against the watched Namespaces before any write.
  const namespaces = createNamespaceCache(
    namespaceInformer(kube, {
      onError: (error) => log.warn({ err: error }, "watch on Namespaces failed; retrying"),
    }),
    {
      excluded: excludedNamespaces({ config, nativeSidecars: native.native }),
      read: namespaceReader(kube),
    },
  );
  const properties = createPropertiesRuntime({ config, registry, client: kube, log });
  const admission = createAdmissionService({
    config,
    nativeSidecars: native.native,
    namespaces,
    properties,
    notebooks: createNotebooksRuntime({ ensureConfigMap: properties.ensureConfigMap }),
    createObjects: createObjectsIfAbsent(kube),
  });
  const app = buildWebhookServer({
    admission,
    registry,
    tls,
    ...(clientAuth ? { clientAuth } : {}),
    logger: { level: args.logLevel },
    drainDelayMs: args.drainDelayMs,
  });
  app.log.info({ nativeSidecars: native.native, reason: native.reason }, "native sidecars decided");
  app.log.info(
    { agentImage: config.agent.image, ...("reason" in own ? { ownImageUnknown: own.reason } : {}) },
    "agent image decided",
  );

  // A reloaded serving pair keeps the client CA: setSecureContext replaces the whole context.
  const watch = reloadCertificatesOnChange(
    keepClientCa(app.server, clientAuth),
    { certFile: args.certFile, keyFile: args.keyFile },
    app.log,
    undefined,
    { reloaded: certificateMetrics.serving, failed: certificateMetrics.reloadFailed },
  );

  const [platformStart, namespacesStart] = await Promise.allSettled([
    properties.start(),
    withDeadline(namespaces.start(), NAMESPACES_START_TIMEOUT_MS, "Namespaces were not listed"),
  ]);
  if (platformStart.status === "rejected") {
    // Until the watch recovers (it retries), pods that need application.properties get
    // properties.onFailure: denied by default, or admitted without it.
    app.log.warn({ err: platformStart.reason }, "ConfigMap graft-platform could not be read yet; retrying");
  }
  if (namespacesStart.status === "rejected") {
    // Until then, graft writes nothing for pods admitted because of their namespace's label.
    app.log.warn({ err: namespacesStart.reason }, "Namespaces could not be listed yet; retrying");
  }

  try {
    await app.listen({ port: args.port, host: args.host });
  } catch (error) {
    watch.close();
    await Promise.all([properties.stop(), namespaces.stop()]);
    kube.close();
    process.stderr.write(
      `graft webhook: cannot listen on ${args.host}:${args.port}: ${errorMessage(error)}\n`,
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
      Promise.all([app.close(), properties.stop(), namespaces.stop()]).then(
        () => {
          kube.close();
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
