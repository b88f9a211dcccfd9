/**
 * `graft console`'s HTTP side: the page and its assets, `/api/health` (the report, or 503
 * with what went wrong reading the source), `/healthz` and `/readyz`. Knows nothing of where
 * results come from: `readResults` is the source (sources/prometheus.ts).
 */
import Fastify, { type FastifyInstance } from "fastify";
import { errorMessage } from "../core/result.js";
import { type CheckResult, HealthReportSchema, healthReport } from "./health.js";
import { FAVICON_SVG, PAGE_CSS, pageHtml, readPageScript } from "./page.js";

export type ConsoleServerOptions = {
  readResults: () => Promise<CheckResult[]>;
  /** How often the page asks for a new report. */
  refreshMs?: number;
  /** A result older than this is stale (grey); PNDA's 3 minutes by default. */
  staleAfterMs?: number;
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
  const html = pageHtml(options.refreshMs ?? 10_000);
  const script = readPageScript();
  // Every viewer within the same second of the same results gets the same body: at 5,000 checks
  // a report costs tens of ms and a MB of JSON, and viewers poll together. JSON.stringify, not
  // the route's schema, writes it (several times faster for this shape); the schema documents it.
  let last: { results: CheckResult[]; second: number; body: string } | undefined;
  const reportBody = (results: CheckResult[]): string => {
    const at = now();
    const second = Math.floor(at / 1000);
    if (last?.results !== results || last.second !== second) {
      last = {
        results,
        second,
        body: JSON.stringify(
          healthReport(
            results,
            at,
            options.staleAfterMs === undefined ? {} : { staleAfterMs: options.staleAfterMs },
          ),
        ),
      };
    }
    return last.body;
  };
  const app = Fastify({ logger: options.logger ?? false });

  app.addHook("onSend", async (_request, reply) => {
    reply.headers(SECURITY_HEADERS);
  });

  const asset = (path: string, type: string, body: string) =>
    app.get(path, async (_request, reply) => reply.type(type).send(body));
  asset("/", "text/html; charset=utf-8", html);
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
        return reply.type("application/json; charset=utf-8").send(reportBody(await options.readResults()));
      } catch (error) {
        const message = errorMessage(error);
        request.log.warn({ err: error }, "health source failed");
        return reply.code(503).send({ message });
      }
    },
  );

  app.get("/healthz", async () => ({ status: "ok" }));
  app.get("/readyz", async () => ({ status: "ready" }));
  return app;
}
