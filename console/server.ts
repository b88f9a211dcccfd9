/**
 * `graft console`'s HTTP side: the page and its assets, `/api/health` (the report, or 503
 * with what went wrong reading the source), `/healthz` and `/readyz`. Knows nothing of where
 * results come from: `readResults` is the source (sources/prometheus.ts).
 */
import Fastify, { type FastifyInstance } from "fastify";
import { type CheckResult, HealthReportSchema, healthReport } from "./health.js";
import { FAVICON_SVG, PAGE_CSS, PAGE_HTML, pageScript } from "./page.js";

export type ConsoleServerOptions = {
  readResults: () => Promise<CheckResult[]>;
  /** How often the page asks for a new report. */
  refreshMs?: number;
  now?: () => number;
  logger?: boolean;
};

const SECURITY_HEADERS = {
  "content-security-policy": "default-src 'self'; frame-ancestors 'none'",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
};

export function buildConsoleServer(options: ConsoleServerOptions): FastifyInstance {
  const now = options.now ?? Date.now;
  const script = pageScript(options.refreshMs ?? 10_000);
  const app = Fastify({ logger: options.logger ?? false });

  app.addHook("onSend", async (_request, reply) => {
    reply.headers(SECURITY_HEADERS);
  });

  const asset = (path: string, type: string, body: string) =>
    app.get(path, async (_request, reply) => reply.type(type).send(body));
  asset("/", "text/html; charset=utf-8", PAGE_HTML);
  asset("/app.js", "text/javascript; charset=utf-8", script);
  asset("/app.css", "text/css; charset=utf-8", PAGE_CSS);
  asset("/favicon.svg", "image/svg+xml", FAVICON_SVG);

  app.get(
    "/api/health",
    {
      schema: {
        response: {
          200: HealthReportSchema,
          503: { type: "object", properties: { message: { type: "string" } }, required: ["message"] },
        },
      },
    },
    async (request, reply) => {
      try {
        return healthReport(await options.readResults(), now());
      } catch (error) {
        const message = (error as Error).message;
        request.log.warn({ err: error }, "health source failed");
        return reply.code(503).send({ message });
      }
    },
  );

  app.get("/healthz", async () => ({ status: "ok" }));
  app.get("/readyz", async () => ({ status: "ready" }));
  return app;
}
