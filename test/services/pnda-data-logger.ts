/**
 * A receiver that behaves as PNDA's console data logger (platform-console-backend 2.1.1,
 * console-backend-data-logger) for `POST /metrics`, storing into a real Redis as it does:
 *
 * - console-backend-data-logger/app.js (commit 2febbf3876a2c0a63cc3f1a066f88c71341d2d20) parses
 *   bodies with `bodyParser.json()`, whose default limit is 100kb (102,400 bytes): a larger body
 *   is refused with 413 and nothing of it is stored.
 * - console-backend-data-logger/routes/metrics.js (commit 569630dd01b1927d270538a96677918b2611c405)
 *   takes `req.body.data`, answers 500 for an item whose `metric` is null or "", and stores each
 *   item with `dbManager.create('metric:' + item.metric, item, 'platform-console-backend-metric-update')`.
 * - console-backend-utils/dbManager.js (commit fe53695d638af40e0b46030b848729d9537c6e8b) `create`
 *   is `HMSET <id> <item's fields>` then `PUBLISH <notification> JSON.stringify(item)`: one Redis
 *   hash per metric name, the last write to a field winning.
 *
 * Redis is spoken with the agent's own RESP helper (agent/checks/resp.ts).
 */
import http from "node:http";
import { respExchange } from "../../agent/checks/resp.js";

/** body-parser's default `limit: '100kb'`. */
export const PNDA_BODY_LIMIT_BYTES = 100 * 1024;
export const PNDA_NOTIFICATION_CHANNEL = "platform-console-backend-metric-update";

export type DataLogger = {
  url: string;
  /** Status codes answered, in order. */
  statuses: number[];
  /** Sizes of the bodies received, in bytes. */
  bodyBytes: number[];
  /** The stored hash of `metric:<name>`: its fields source, metric, value, causes, timestamp. */
  stored: (metric: string) => Promise<Record<string, string | null>>;
  stop: () => Promise<void>;
};

const FIELDS = ["source", "metric", "value", "causes", "timestamp"] as const;

export async function startPndaDataLogger(redis: { host: string; port: number }): Promise<DataLogger> {
  const statuses: number[] = [];
  const bodyBytes: number[] = [];
  const redisCommand = (commands: string[][]) => respExchange(redis, commands, AbortSignal.timeout(5_000));

  const store = async (items: unknown[]): Promise<number> => {
    for (const item of items) {
      const record = item as Record<string, unknown>;
      if (record.metric === null || record.metric === "" || record.metric === undefined) return 500;
      // node_redis' hmset(key, object): every field, each value as its string.
      const fields = Object.entries(record).flatMap(([key, value]) => [key, String(value)]);
      const [set] = await redisCommand([
        ["HMSET", `metric:${String(record.metric)}`, ...fields],
        ["PUBLISH", PNDA_NOTIFICATION_CHANNEL, JSON.stringify(record)],
      ]);
      if (set?.kind === "error") return 500;
    }
    return 200;
  };

  const server = http.createServer((request, response) => {
    const answer = (status: number) => {
      statuses.push(status);
      response.writeHead(status, { "content-type": "text/plain" }).end(http.STATUS_CODES[status]);
    };
    if (request.method !== "POST" || request.url !== "/metrics") return answer(404);
    const announced = Number(request.headers["content-length"] ?? 0);
    if (announced > PNDA_BODY_LIMIT_BYTES) {
      bodyBytes.push(announced);
      request.resume();
      return answer(413);
    }
    const chunks: Buffer[] = [];
    let received = 0;
    let refused = false;
    request.on("data", (chunk: Buffer) => {
      received += chunk.length;
      if (received > PNDA_BODY_LIMIT_BYTES && !refused) {
        refused = true;
        answer(413);
      }
      if (!refused) chunks.push(chunk);
    });
    request.on("end", () => {
      bodyBytes.push(received);
      if (refused) return;
      let body: { data?: unknown };
      try {
        body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as { data?: unknown };
      } catch {
        return answer(400);
      }
      store(Array.isArray(body.data) ? body.data : []).then(answer, () => answer(500));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}/metrics`,
    statuses,
    bodyBytes,
    stored: async (metric) => {
      const replies = await redisCommand(FIELDS.map((field) => ["HGET", `metric:${metric}`, field]));
      return Object.fromEntries(
        FIELDS.map((field, index) => {
          const reply = replies[index];
          return [field, reply?.kind === "bulk" ? reply.text : null];
        }),
      );
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
