import type { ServerResponse } from "node:http";
import { afterEach, describe, expect, it } from "vitest";
import { createKubeClient, type KubeObject } from "./client.js";
import { createInformer, type Informer } from "./informer.js";
import { type FakeApiServer, json, type Seen, startFakeApiServer } from "./testdata/fake-api-server.js";

const PATH = "/api/v1/namespaces";
const ns = (name: string, resourceVersion: string, labels: Record<string, string> = {}) => ({
  metadata: { name, resourceVersion, labels },
});
const line = (type: string, object: unknown) => `${JSON.stringify({ type, object })}\n`;

/**
 * An API server for one collection: lists answer `lists` in turn (then the last again); each
 * watch is handed to the test, which writes events, ends it, resets it or answers an error.
 */
async function collection(lists: Array<{ rv: string; items: KubeObject[] } | number>) {
  const watches: Array<{ request: Seen; response: ServerResponse }> = [];
  let listed = 0;
  const server = await startFakeApiServer((request, response) => {
    if (request.url.searchParams.get("watch") === "true") {
      watches.push({ request, response });
      return;
    }
    const answer = lists[Math.min(listed++, lists.length - 1)]!;
    if (typeof answer === "number")
      json(response, answer, {
        kind: "Status",
        reason: "InternalError",
        message: "list failed",
        code: answer,
      });
    else json(response, 200, { metadata: { resourceVersion: answer.rv }, items: answer.items });
  });
  return { server, watches, lists: () => listed };
}

let server: FakeApiServer | undefined;
let informer: Informer<KubeObject> | undefined;
afterEach(async () => {
  await informer?.stop();
  await server?.close();
  informer = undefined;
  server = undefined;
});

function inform(url: string, options: { onError?: (e: unknown) => void; retryMs?: number } = {}) {
  let changes = 0;
  informer = createInformer<KubeObject>(
    createKubeClient({ server: new URL(url), authorization: async () => undefined, describe: "fake" }),
    {
      what: "the watch on Namespaces",
      path: PATH,
      query: { labelSelector: "a=b" },
      onChange: () => changes++,
      retryMs: options.retryMs ?? 50,
      ...(options.onError ? { onError: options.onError } : {}),
    },
  );
  return { informer, changes: () => changes };
}

const watchOpen = (watches: unknown[], count: number) =>
  expect.poll(() => watches.length, { timeout: 5_000 }).toBe(count);

describe("createInformer", () => {
  it("lists, then watches from the list's resourceVersion with bookmarks, and keeps every change", async () => {
    const fake = await collection([{ rv: "10", items: [ns("a", "5"), ns("b", "6")] }]);
    server = fake.server;
    const { informer, changes } = inform(fake.server.url);
    expect(informer.synced()).toBe(false);
    await informer.start();
    expect(informer.synced()).toBe(true);
    expect(informer.list().map((o) => o.metadata?.name)).toEqual(["a", "b"]);
    await watchOpen(fake.watches, 1);
    const { request, response } = fake.watches[0]!;
    expect(Object.fromEntries(request.url.searchParams)).toMatchObject({
      labelSelector: "a=b",
      resourceVersion: "10",
      watch: "true",
      allowWatchBookmarks: "true",
    });
    response.writeHead(200);
    response.write(line("ADDED", ns("c", "11")));
    response.write(line("MODIFIED", ns("a", "12", { x: "y" })));
    response.write(line("DELETED", ns("b", "13")));
    response.write(line("BOOKMARK", { metadata: { resourceVersion: "20" } }));
    await expect.poll(() => informer.get("a")?.metadata?.labels).toEqual({ x: "y" });
    expect(informer.get("b")).toBeUndefined();
    expect(informer.get("c")?.metadata?.resourceVersion).toBe("11");
    expect(changes()).toBe(4); // the list and three changes; a bookmark changes nothing
    // The server ends the watch (its timeout): watched again from the bookmark, without a list.
    response.end();
    await watchOpen(fake.watches, 2);
    expect(fake.watches[1]!.request.url.searchParams.get("resourceVersion")).toBe("20");
    expect(fake.lists()).toBe(1);
  });

  it("lists again on 410 Gone, answered or sent as an ERROR event, and replaces what it held", async () => {
    const fake = await collection([
      { rv: "10", items: [ns("a", "5")] },
      { rv: "30", items: [ns("b", "25")] },
      { rv: "40", items: [ns("c", "35")] },
    ]);
    server = fake.server;
    const errors: unknown[] = [];
    const { informer } = inform(fake.server.url, { onError: (e) => errors.push(e) });
    await informer.start();
    await watchOpen(fake.watches, 1);
    json(fake.watches[0]!.response, 410, {
      kind: "Status",
      reason: "Expired",
      message: "too old",
      code: 410,
    });
    await watchOpen(fake.watches, 2);
    expect(fake.lists()).toBe(2);
    expect(informer.list().map((o) => o.metadata?.name)).toEqual(["b"]);
    expect(fake.watches[1]!.request.url.searchParams.get("resourceVersion")).toBe("30");
    const { response } = fake.watches[1]!;
    response.writeHead(200);
    response.write(
      line("ERROR", { kind: "Status", reason: "Expired", message: "too old resource version", code: 410 }),
    );
    await watchOpen(fake.watches, 3);
    expect(fake.lists()).toBe(3);
    expect(informer.list().map((o) => o.metadata?.name)).toEqual(["c"]);
    // Expiry is routine: relisted, not reported.
    expect(errors).toEqual([]);
  });

  it("backs off when every fresh list is already too old to watch from (no relist loop)", async () => {
    let lists = 0;
    server = await startFakeApiServer((request, response) => {
      if (request.url.searchParams.get("watch") !== "true") {
        lists++;
        return json(response, 200, { metadata: { resourceVersion: "1" }, items: [] });
      }
      json(response, 410, { kind: "Status", reason: "Expired", message: "too old", code: 410 });
    });
    const { informer } = inform(server.url);
    await informer.start();
    await new Promise((resolve) => setTimeout(resolve, 700));
    // 50, 100, 200, 400 ms apart: a handful, not hundreds.
    expect(lists).toBeGreaterThanOrEqual(3);
    expect(lists).toBeLessThanOrEqual(6);
  });

  it("reconnects from the last resourceVersion after a connection reset mid-watch, reporting it", async () => {
    const fake = await collection([{ rv: "10", items: [] }]);
    server = fake.server;
    const errors: unknown[] = [];
    const { informer } = inform(fake.server.url, { onError: (e) => errors.push(e) });
    await informer.start();
    await watchOpen(fake.watches, 1);
    const { response } = fake.watches[0]!;
    response.writeHead(200);
    response.write(line("ADDED", ns("a", "11")));
    // Half an event, then the connection is cut.
    response.write('{"type":"ADDED","object":{"metadata":{"name":"half');
    await expect.poll(() => informer.get("a")).toBeDefined();
    response.socket?.destroy();
    await watchOpen(fake.watches, 2);
    expect(fake.watches[1]!.request.url.searchParams.get("resourceVersion")).toBe("11");
    expect(fake.lists()).toBe(1);
    expect(informer.get("half")).toBeUndefined();
    expect(errors).toHaveLength(1);
    expect((errors[0] as Error).message).toMatch(/^watch \/api\/v1\/namespaces: fake: /);
  });

  it("rejects start when the first list fails, then lists again after retryMs, doubling", async () => {
    const fake = await collection([500, 500, { rv: "10", items: [ns("a", "5")] }]);
    server = fake.server;
    const errors: unknown[] = [];
    const { informer } = inform(fake.server.url, { onError: (e) => errors.push(e), retryMs: 100 });
    const started = performance.now();
    await expect(informer.start()).rejects.toThrow(
      "GET /api/v1/namespaces?labelSelector=a%3Db&limit=500: the API server answered 500 InternalError: list failed",
    );
    expect(informer.synced()).toBe(false);
    await expect.poll(() => informer.synced(), { timeout: 5_000 }).toBe(true);
    // 100 ms, then 200 ms.
    expect(performance.now() - started).toBeGreaterThanOrEqual(280);
    expect(errors).toHaveLength(2);
    expect(informer.get("a")).toBeDefined();
    // Started again once synced: resolves at once.
    await informer.start();
  });

  it("stops promptly with a watch open, and a start before the first list answers is rejected", async () => {
    const fake = await collection([{ rv: "10", items: [] }]);
    server = fake.server;
    const { informer } = inform(fake.server.url);
    await informer.start();
    await watchOpen(fake.watches, 1);
    fake.watches[0]!.response.writeHead(200).flushHeaders();
    const started = performance.now();
    await informer.stop();
    expect(performance.now() - started).toBeLessThan(500);

    // A server that never answers the list: stop rejects the pending start.
    const silent = await startFakeApiServer(() => {});
    try {
      const { informer: never } = inform(silent.url);
      const start = never.start();
      await never.stop();
      await expect(start).rejects.toThrow("the watch on Namespaces was stopped");
    } finally {
      await silent.close();
    }
  });
});
