/**
 * The admission webhook's HTTPS server: the only part of the webhook that speaks HTTP. It parses
 * the AdmissionReview, calls the admission service (service/admission-service.ts) with what the
 * route claims about the namespace, meters, and answers with the uid. Everything it needs is
 * passed in: no global state, so tests run several servers side by side.
 */
import type { Server as HttpsServer } from "node:https";
import { performance } from "node:perf_hooks";
import Fastify, {
  type FastifyError,
  type FastifyInstance,
  type FastifyServerOptions,
  LogController,
} from "fastify";
import type { Registry } from "prom-client";
import type { PemPair } from "../../certs/authority.js";
import { SERVER_TLS_POLICY } from "../../certs/tls-policy.js";
import { jsonTextDepth } from "../../core/limits.js";
import { errorMessage } from "../../core/result.js";
import { ADMISSION_PATHS, type AdmissionRoute } from "../model/routes.js";
import type { AdmissionDecision } from "../pipeline/admission.js";
import { type AdmissionRequest, parseAdmissionReview, reviewResponseText } from "../pipeline/review.js";
import type { AdmissionService } from "../service/admission-service.js";
import { type ClientAuth, clientCertificateTlsOptions, requireClientCertificate } from "./client-auth.js";
import { DEFAULT_DRAIN_TIMEOUT_MS, trackConnectionsForDrain } from "./drain.js";
import { createWebhookMetrics, type ReviewOutcome } from "./metrics.js";

/**
 * Room for an UPDATE of a workload at etcd's 1.5 MiB object limit: the review carries the object
 * and the old object, and JSON is larger than the stored protobuf.
 */
export const DEFAULT_BODY_LIMIT_BYTES = 8 * 1024 * 1024;

/**
 * Levels of arrays and objects in a request body: a Kubernetes object nests ~20 (the API server
 * decodes at most 10,000). JSON.parse does not recurse, but 8 MiB nested 4 million levels deep
 * took it 2-7 s, so the depth is counted in one pass first.
 */
export const BODY_DEPTH_LIMIT = 1000;

/**
 * Bytes of request bodies read or handled at once (by their Content-Length): 200 clients each
 * sending the body limit slowly would otherwise hold 1.6 GB. Room for four reviews at the limit,
 * or hundreds of ordinary ones.
 */
export const DEFAULT_IN_FLIGHT_BODY_BYTES = 32 * 1024 * 1024;

export type WebhookServerOptions = {
  /** Decides each review (createAdmissionService). */
  admission: AdmissionService;
  registry: Registry;
  tls: PemPair;
  /** Verify the API server's client certificate on the admission routes (client-auth.ts). */
  clientAuth?: ClientAuth;
  /** fastify's pino options, or false for none (tests). */
  logger?: FastifyServerOptions["logger"];
  bodyLimitBytes?: number;
  /** See DEFAULT_IN_FLIGHT_BODY_BYTES; the first request in flight is always taken. */
  inFlightBodyBytes?: number;
  /**
   * On close: how long to keep serving with readiness failing before the listener closes (see
   * drain.ts). The CLI's default suits Kubernetes; 0 here, for tests that close servers.
   */
  drainDelayMs?: number;
};

/**
 * Which route a webhook calls tells the service what the API server's selectors already decided,
 * without an API call: `/mutate/namespace` is reached only by pods in a namespace labelled
 * inject=enabled, `/mutate/pod` only by pods in other namespaces. On `/validate` the namespace's
 * opt-in is unknown, and the core validates the workload's graft annotations regardless.
 * A route is a claim anyone reaching the port can make: the service checks it against the
 * watched Namespaces before graft reads or writes (io/namespace-cache.ts).
 */
const NAMESPACE_OPT_IN: Record<AdmissionRoute, boolean | undefined> = {
  namespacePods: true,
  labelledPods: false,
  workloads: undefined,
};

const REVIEW_PATHS: ReadonlySet<string> = new Set(Object.values(ADMISSION_PATHS));

export function buildWebhookServer(options: WebhookServerOptions): FastifyInstance<HttpsServer> {
  const { admission } = options;
  const metrics = createWebhookMetrics(options.registry);
  const drainDelayMs = options.drainDelayMs ?? 0;
  const app = Fastify({
    https: {
      ...SERVER_TLS_POLICY,
      cert: options.tls.cert,
      key: options.tls.key,
      ...(options.clientAuth ? clientCertificateTlsOptions(options.clientAuth) : {}),
    },
    // The review is validated by a generated validator (parseAdmissionReview) and the reply is one
    // string, so no route has a schema: without these fastify would load ajv and
    // fast-json-stringify at start for nothing (docs/benchmarks.md: ~14 MiB with graft's own
    // run-time compiles, which scripts/generate-validators.ts replaced).
    schemaController: { compilersFactory: { buildValidator: noSchemas, buildSerializer: noSchemas } },
    bodyLimit: options.bodyLimitBytes ?? DEFAULT_BODY_LIMIT_BYTES,
    logger: options.logger ?? { level: "info" },
    // One line per review is written below; fastify's two lines per request would drown it.
    logController: new LogController({ disableRequestLogging: true }),
    // Shutdown is handled by drain.ts: requests that arrive while closing are answered (a 503
    // would fail the API server's call), and connections are ended only when it is safe.
    forceCloseConnections: false,
    return503OnClosing: false,
    // avvio's timeout applies to the preClose hook that runs the drain too.
    pluginTimeout: Math.max(10_000, drainDelayMs + DEFAULT_DRAIN_TIMEOUT_MS + 5_000),
  }) as unknown as FastifyInstance<HttpsServer>;

  // fastify's own JSON parser (with its prototype-poisoning checks), after a depth count.
  const parseJson = app.getDefaultJsonParser("error", "error");
  app.removeContentTypeParser("application/json");
  app.addContentTypeParser("application/json", { parseAs: "string" }, (request, body, done) => {
    if (jsonTextDepth(body as string, BODY_DEPTH_LIMIT) > BODY_DEPTH_LIMIT) {
      const error = new Error(`request body nests deeper than ${BODY_DEPTH_LIMIT} levels`);
      done(Object.assign(error, { statusCode: 400 }), undefined);
      return;
    }
    parseJson(request, body as string, done);
  });

  // Marks the start of a request (headers read, body not yet) for debugging slow clients.
  app.addHook("onRequest", async (request) => {
    request.log.debug({ method: request.method, path: request.url }, "request received");
  });

  if (options.clientAuth) requireClientCertificate(app, options.clientAuth, REVIEW_PATHS);

  // Past the budget a request is answered 503 before its body is read (and its connection closed).
  const bodyLimit = options.bodyLimitBytes ?? DEFAULT_BODY_LIMIT_BYTES;
  const bodyBudget = options.inFlightBodyBytes ?? DEFAULT_IN_FLIGHT_BODY_BYTES;
  let bodyBytesInFlight = 0;
  app.addHook("onRequest", async (request, reply) => {
    if (request.method !== "POST") return;
    const declared = Number(request.headers["content-length"]);
    const bytes = Math.min(Number.isFinite(declared) && declared >= 0 ? declared : bodyLimit, bodyLimit);
    if (bodyBytesInFlight > 0 && bodyBytesInFlight + bytes > bodyBudget) {
      const message = `graft is busy: ${bodyBytesInFlight} bytes of requests in flight, at most ${bodyBudget}; retry`;
      request.log.warn({ path: request.url, outcome: "error", status: 503, reason: message }, "review");
      return reply.code(503).header("connection", "close").send({ message });
    }
    bodyBytesInFlight += bytes;
    reply.raw.once("close", () => {
      bodyBytesInFlight -= bytes;
    });
  });

  const drain = trackConnectionsForDrain(app.server, { delayMs: drainDelayMs });
  app.addHook("preClose", () => drain.drain());

  // Bodies fastify cannot read (not JSON, too large, wrong content type) never reach a handler.
  app.setErrorHandler((error: FastifyError, request, reply) => {
    const status = error.statusCode !== undefined && error.statusCode < 500 ? error.statusCode : 500;
    const path = request.routeOptions.url;
    if (path !== undefined && REVIEW_PATHS.has(path)) {
      metrics.observeReview(path, status < 500 ? "invalid" : "error", reply.elapsedTime / 1000);
    }
    const message =
      error.code === "FST_ERR_CTP_BODY_TOO_LARGE"
        ? `request body is larger than ${options.bodyLimitBytes ?? DEFAULT_BODY_LIMIT_BYTES} bytes`
        : error.code === "FST_ERR_CTP_INVALID_MEDIA_TYPE"
          ? `expected content-type application/json, got "${request.headers["content-type"] ?? ""}"`
          : error.message;
    if (status < 500)
      request.log.info({ path: request.url, outcome: "invalid", status, reason: message }, "review");
    else request.log.error({ path: request.url, outcome: "error", status, err: error }, "review");
    return reply.code(status).send({ message });
  });

  for (const [route, path] of Object.entries(ADMISSION_PATHS) as Array<[AdmissionRoute, string]>) {
    app.post(path, async (request, reply) => {
      const started = performance.now();
      const seconds = () => (performance.now() - started) / 1000;
      const parsed = parseAdmissionReview(request.body);
      if (!parsed.ok) {
        metrics.observeReview(path, "invalid", seconds());
        request.log.info({ path, outcome: "invalid", ms: ms(seconds()), reason: parsed.error }, "review");
        return reply.code(400).send({ message: parsed.error });
      }
      const review = parsed.value;
      let result: AdmissionDecision;
      try {
        result = await admission(review, NAMESPACE_OPT_IN[route]);
      } catch (error) {
        // The API server refused graft's objects: answer 500 and let failurePolicy decide.
        metrics.observeReview(path, "error", seconds());
        request.log.error(
          { ...describe(review), path, outcome: "error", ms: ms(seconds()), err: error },
          "review",
        );
        return reply
          .code(500)
          .send({ message: `graft could not admit ${subject(review)}: ${errorMessage(error)}` });
      }

      const outcome: ReviewOutcome = !result.allowed
        ? "denied"
        : result.patch.length > 0
          ? "patched"
          : "allowed";
      if (outcome === "denied") metrics.countDenial(review.kind.kind, result.reasons?.[0]?.code);
      if (outcome === "patched") metrics.countInjections(Object.keys(result.plan?.features ?? {}));
      metrics.observeReview(path, outcome, seconds());
      const code = result.reasons?.[0]?.code ?? result.skipped?.code;
      // The warnings too: clients such as KubeSpawner drop them, and the admin reads this log.
      const warnings = result.allowed && result.warnings.length > 0 ? { warnings: result.warnings } : {};
      request.log.info(
        { ...describe(review), path, outcome, ms: ms(seconds()), ...(code && { code }), ...warnings },
        "review",
      );
      // One string, sent as it is: fastify does not serialise the reply (and its patch) again.
      return reply.type("application/json; charset=utf-8").send(reviewResponseText(review.uid, result));
    });
  }

  app.get("/healthz", async () => ({ status: "ok" }));
  // Ready once built (certificates loaded, config valid: both are checked before this point) and
  // until shutdown begins, so a Service stops sending reviews to a draining replica.
  app.get("/readyz", async (_request, reply) =>
    drain.draining ? reply.code(503).send({ status: "shutting down" }) : { status: "ready" },
  );
  app.get("/metrics", async (_request, reply) => {
    reply.type(options.registry.contentType);
    return options.registry.metrics();
  });
  return app;
}

/** fastify's compiler factories for a server whose routes have no schemas: one would be a bug. */
function noSchemas() {
  return (_route: unknown): never => {
    throw new Error("a route has a schema, but graft's server compiles none (see buildWebhookServer)");
  };
}

function describe(review: AdmissionRequest) {
  return {
    uid: review.uid,
    kind: review.kind.kind,
    namespace: review.namespace,
    name: review.name ?? nameOf(review.object),
    operation: review.operation,
    dryRun: review.dryRun === true,
  };
}

function nameOf(object: unknown): string | undefined {
  const metadata = (object as { metadata?: { name?: unknown; generateName?: unknown } } | null | undefined)
    ?.metadata;
  const name = metadata?.name ?? metadata?.generateName;
  return typeof name === "string" ? name : undefined;
}

function subject(review: AdmissionRequest): string {
  const name = review.name ?? nameOf(review.object) ?? "";
  return `${review.kind.kind} ${review.namespace ?? ""}/${name}`;
}

function ms(seconds: number): number {
  return Math.round(seconds * 1e6) / 1e3;
}
