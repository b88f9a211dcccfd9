/**
 * The agent's HTTP endpoints on plain node:http. Four fixed GET routes need no router, schema
 * compiler or logger; fastify would load all three into every pod the agent runs in (see
 * docs/benchmarks.md for what that costs in resident memory).
 */
import http from "node:http";
import type { Exposition } from "./exposition.js";
import type { PndaEvents } from "./status.js";

export type AgentEndpoints = {
  registry: Exposition;
  /** True once every check has reported once. */
  isReady: () => boolean;
  status: () => PndaEvents;
};

type Reply = { status: number; type: string; body: string };

const text = (status: number, body: string): Reply => ({
  status,
  type: "text/plain; charset=utf-8",
  body: `${body}\n`,
});

async function route(path: string, endpoints: AgentEndpoints): Promise<Reply> {
  switch (path) {
    case "/metrics":
      return { status: 200, type: endpoints.registry.contentType, body: endpoints.registry.render() };
    case "/healthz":
      return text(200, "ok");
    case "/readyz":
      return endpoints.isReady() ? text(200, "ready") : text(503, "waiting for the first round of checks");
    case "/status":
      return { status: 200, type: "application/json", body: JSON.stringify(endpoints.status()) };
    default:
      return text(404, "not found: try /metrics, /status, /healthz or /readyz");
  }
}

export function createAgentServer(endpoints: AgentEndpoints): http.Server {
  return http.createServer((request, response) => {
    if (request.method !== "GET" && request.method !== "HEAD") {
      response.writeHead(405, { allow: "GET, HEAD" }).end();
      return;
    }
    const path = (request.url ?? "/").split("?")[0] ?? "/";
    route(path, endpoints).then(
      (reply) => {
        response.writeHead(reply.status, {
          "content-type": reply.type,
          "content-length": Buffer.byteLength(reply.body),
          "cache-control": "no-store",
        });
        response.end(request.method === "HEAD" ? undefined : reply.body);
      },
      (error: unknown) => {
        response.writeHead(500, { "content-type": "text/plain; charset=utf-8" });
        response.end(`${error instanceof Error ? error.message : String(error)}\n`);
      },
    );
  });
}
