import { mkdtemp, rename, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import type { TLSSocket } from "node:tls";
import { afterEach, describe, expect, it } from "vitest";
import { createAuthority, issueServingCert } from "../../../certs/authority.js";
import { issueClientCert } from "../../../test/services/client-cert.js";
import { accessFromKubeconfig, inClusterAccess, type KubeAccess } from "./access.js";
import { createKubeClient, hasStatus, KubeApiError, type KubeClientOptions, resourcePath } from "./client.js";
import { type FakeApiServer, type Handler, json, startFakeApiServer } from "./testdata/fake-api-server.js";

let server: FakeApiServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const tokenAccess = (url: string, token = "t0"): KubeAccess => ({
  server: new URL(url),
  authorization: async () => `Bearer ${token}`,
  describe: `test server ${url}`,
});

async function clientFor(handler: Handler, options: KubeClientOptions = {}) {
  server = await startFakeApiServer(handler);
  return { client: createKubeClient(tokenAccess(server.url), options), server };
}

/** How long `promise` takes to settle, and how it settled. */
async function timed(promise: Promise<unknown>): Promise<{ ms: number; error: unknown }> {
  const started = performance.now();
  try {
    await promise;
    return { ms: performance.now() - started, error: undefined };
  } catch (error) {
    return { ms: performance.now() - started, error };
  }
}

describe("resourcePath", () => {
  it("puts core kinds under /api and grouped ones under /apis, names escaped", () => {
    expect(resourcePath({ apiVersion: "v1", resource: "configmaps", namespace: "a", name: "b" })).toBe(
      "/api/v1/namespaces/a/configmaps/b",
    );
    expect(resourcePath({ apiVersion: "apps/v1", resource: "deployments" })).toBe(
      "/apis/apps/v1/deployments",
    );
    expect(resourcePath({ apiVersion: "v1", resource: "namespaces", name: "a/../b" })).toBe(
      "/api/v1/namespaces/a%2F..%2Fb",
    );
  });
});

describe("the client's calls", () => {
  it("gets an object as JSON, with the token and Accept: application/json", async () => {
    const { client, server } = await clientFor((_, res) => json(res, 200, { major: "1", minor: "33" }));
    expect(await client.get("/version")).toEqual({ major: "1", minor: "33" });
    expect(server.seen[0]?.headers.authorization).toBe("Bearer t0");
    expect(server.seen[0]?.headers.accept).toBe("application/json");
  });

  it("lists every page (limit, then continue) and keeps the list's resourceVersion", async () => {
    const { client, server } = await clientFor(
      (req, res) => {
        const page = req.url.searchParams.get("continue");
        if (!page)
          json(res, 200, {
            metadata: { resourceVersion: "7", continue: "p2" },
            items: [{ metadata: { name: "a" } }],
          });
        else json(res, 200, { metadata: { resourceVersion: "7" }, items: [{ metadata: { name: "b" } }] });
      },
      { pageSize: 1 },
    );
    const list = await client.list("/api/v1/namespaces", { labelSelector: "x=y" });
    expect(list.items.map((i) => i.metadata?.name)).toEqual(["a", "b"]);
    expect(list.resourceVersion).toBe("7");
    expect(server.seen.map((s) => s.url.search)).toEqual([
      "?labelSelector=x%3Dy&limit=1",
      "?labelSelector=x%3Dy&limit=1&continue=p2",
    ]);
  });

  it("patches with the content type of the patch kind, and sends the field manager", async () => {
    const { client, server } = await clientFor((_, res) => json(res, 200, { kind: "ConfigMap" }));
    await client.patch("/api/v1/namespaces/a/configmaps/b", { data: {} }, "apply", {
      fieldManager: "graft",
      force: true,
    });
    await client.patch("/api/v1/namespaces/a/configmaps/b", { metadata: {} }, "strategic");
    await client.patch("/api/v1/namespaces/a/configmaps/b", { metadata: {} }, "merge");
    expect(server.seen.map((s) => s.headers["content-type"])).toEqual([
      "application/apply-patch+yaml",
      "application/strategic-merge-patch+json",
      "application/merge-patch+json",
    ]);
    expect(server.seen[0]?.url.search).toBe("?fieldManager=graft&force=true");
    expect(JSON.parse(server.seen[0]!.body)).toEqual({ data: {} });
  });

  it("turns a Status answer into an error with the HTTP status, the reason and the message", async () => {
    const { client } = await clientFor((_, res) =>
      json(res, 404, {
        kind: "Status",
        status: "Failure",
        reason: "NotFound",
        message: 'configmaps "b" not found',
        code: 404,
      }),
    );
    const error = await client.get("/api/v1/namespaces/a/configmaps/b").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KubeApiError);
    expect(error).toMatchObject({ status: 404, reason: "NotFound", detail: 'configmaps "b" not found' });
    expect(hasStatus(error, 404)).toBe(true);
    expect((error as Error).message).toBe(
      'GET /api/v1/namespaces/a/configmaps/b: the API server answered 404 NotFound: configmaps "b" not found',
    );
  });

  it("keeps the status of an error answer that is no Status, with the start of its text", async () => {
    const { client } = await clientFor((_, res) => {
      res.writeHead(503, { "content-type": "text/html" });
      res.end(`<html>${"x".repeat(10_000)}</html>`);
    });
    const error = await client.delete("/api/v1/namespaces/a/configmaps/b").catch((e: unknown) => e);
    expect(error).toMatchObject({ status: 503, reason: undefined });
    expect((error as Error).message).toMatch(/answered 503: <html>x+ … \(\d+ more characters\)$/);
    expect((error as Error).message.length).toBeLessThan(400);
  });

  it("keeps the status of an error answer whose body is past the cap", async () => {
    const { client } = await clientFor((_, res) => {
      res.writeHead(500, { "content-length": 4 * 1024 * 1024 });
      res.write("x".repeat(1024));
    });
    await expect(client.get("/big-error")).rejects.toMatchObject({
      status: 500,
      message: "GET /big-error: the API server answered 500",
    });
  });

  it("refuses garbage JSON with a clear error", async () => {
    const { client } = await clientFor((_, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end('{"items": [1, 2,,, garbage');
    });
    await expect(client.get("/api/v1/namespaces/a")).rejects.toThrow(
      /GET \/api\/v1\/namespaces\/a: the API server answered 200 with a body that is not JSON: \{"items": \[1, 2,,, garbage/,
    );
    await expect(client.list("/api/v1/namespaces")).rejects.toThrow(/not JSON/);
  });

  it("reads a deeply nested answer (100,000 levels) without exhausting the stack, within a bound", async () => {
    const deep = `{"kind":"ConfigMap","data":${"[".repeat(100_000)}${"]".repeat(100_000)}}`;
    const { client } = await clientFor((_, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(deep);
    });
    const { ms, error } = await timed(client.get("/deep"));
    expect(error).toBeUndefined();
    expect(ms).toBeLessThan(2_000);
  });

  it("refuses an answer that is JSON but not an object, or a list without items", async () => {
    const { client } = await clientFor((req, res) =>
      json(res, 200, req.url.pathname.endsWith("s") ? { items: 3 } : [1]),
    );
    await expect(client.get("/api/v1/namespaces/a")).rejects.toThrow("is not an object");
    await expect(client.list("/api/v1/namespaces")).rejects.toThrow("is not a list");
  });

  it("stops reading a huge body at the cap, announced or not, and says which cap", async () => {
    const cap = 64 * 1024;
    let written = 0;
    const { client } = await clientFor(
      (req, res) => {
        if (req.url.pathname.endsWith("announced")) {
          res.writeHead(200, { "content-length": 10 * 1024 * 1024 });
          res.write("{");
          return;
        }
        // Chunked and endless: the client must hang up, not buffer it.
        res.writeHead(200, { "content-type": "application/json" });
        const chunk = Buffer.alloc(16 * 1024, 0x20);
        const pump = () => {
          while (written < 50 * 1024 * 1024 && res.write(chunk)) written += chunk.length;
          if (written < 50 * 1024 * 1024) res.once("drain", pump);
        };
        res.on("error", () => {});
        pump();
      },
      { maxBodyBytes: cap },
    );
    await expect(client.get("/announced")).rejects.toThrow(
      "GET /announced: test server " +
        server!.url +
        ": the API server's answer to GET /announced larger than the 64 KiB cap (10485760 bytes announced)",
    );
    const { ms, error } = await timed(client.get("/endless"));
    expect((error as Error).message).toMatch(/larger than the 64 KiB cap$/);
    expect(ms).toBeLessThan(2_000);
    expect(written).toBeLessThan(10 * 1024 * 1024);
  });

  it("gives up on a silent server within its timeout and closes the connection", async () => {
    let closed = 0;
    const { client } = await clientFor(
      (_, res, raw) => {
        raw.socket.on("close", () => closed++);
        if (res.req.url === "/headers-only") {
          res.writeHead(200, { "content-type": "application/json" });
          res.write('{"a":');
        }
      },
      { timeoutMs: 300 },
    );
    for (const target of ["/silent", "/headers-only"]) {
      const { ms, error } = await timed(client.get(target));
      expect((error as Error).message).toMatch(
        new RegExp(`^GET ${target}: .*no complete answer within 0.3 s$`),
      );
      expect((error as KubeApiError).status).toBeUndefined();
      expect(ms).toBeGreaterThanOrEqual(280);
      expect(ms).toBeLessThan(1_500);
    }
    await expect.poll(() => closed).toBe(2);
  });

  it("says the server cannot be reached, naming it, when the connection is refused or reset", async () => {
    const { client, server } = await clientFor((_, res) => res.socket?.destroy());
    await expect(client.get("/reset")).rejects.toThrow(
      /^GET \/reset: test server http:\/\/127\.0\.0\.1:\d+: socket hang up$/,
    );
    const url = server.url;
    await server.close();
    const refused = createKubeClient(tokenAccess(url));
    await expect(refused.get("/x")).rejects.toThrow(/ECONNREFUSED/);
  });
});

describe("the client's watch", () => {
  const event = (type: string, name: string, rv: string) =>
    `${JSON.stringify({ type, object: { metadata: { name, resourceVersion: rv } } })}\n`;

  it("sends watch, resourceVersion, bookmarks and a timeout, and hands over each event, even split across chunks", async () => {
    const { client, server } = await clientFor((_, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      const text = event("ADDED", "a", "2") + event("BOOKMARK", "", "3") + event("DELETED", "a", "4");
      res.write(text.slice(0, 10));
      setTimeout(() => res.end(text.slice(10)), 20);
    });
    const seen: string[] = [];
    await client.watch("/api/v1/namespaces", { resourceVersion: "1" }, (e) =>
      seen.push(`${e.type} ${e.object.metadata?.resourceVersion}`),
    );
    expect(seen).toEqual(["ADDED 2", "BOOKMARK 3", "DELETED 4"]);
    expect(Object.fromEntries(server.seen[0]!.url.searchParams)).toEqual({
      resourceVersion: "1",
      watch: "true",
      allowWatchBookmarks: "true",
      timeoutSeconds: "300",
    });
  });

  it("drops a line over the cap, whether it ends or never does", async () => {
    const { client } = await clientFor(
      (req, res) => {
        res.writeHead(200);
        const big = `{"type":"ADDED","object":{"data":"${"x".repeat(20_000)}"}}`;
        res.write(req.url.pathname === "/ended" ? `${big}\n` : big);
        if (req.url.pathname !== "/ended") res.write("y".repeat(100_000));
      },
      { maxLineBytes: 16 * 1024 },
    );
    for (const target of ["/ended", "/endless"]) {
      const { ms, error } = await timed(client.watch(target, {}, () => {}));
      expect((error as Error).message).toBe(
        `watch ${target}: test server ${server!.url}: a watch line larger than the 16 KiB cap`,
      );
      expect(ms).toBeLessThan(2_000);
    }
  });

  it("fails a watch that ends inside a line, or sends a line that is no event", async () => {
    const { client } = await clientFor((req, res) => {
      res.writeHead(200);
      if (req.url.pathname === "/cut") res.end('{"type":"ADDED","obj');
      else res.end("not json at all\n");
    });
    await expect(client.watch("/cut", {}, () => {})).rejects.toThrow("the watch ended inside an event line");
    await expect(client.watch("/garbage", {}, () => {})).rejects.toThrow(
      "a watch line is not JSON: not json at all",
    );
  });

  it("drops a watch silent past its timeout plus the margin", async () => {
    const { client } = await clientFor(
      (_, res) => {
        res.writeHead(200);
        res.write(event("ADDED", "a", "2"));
      },
      { watchSilenceMarginMs: 200 },
    );
    const { ms, error } = await timed(client.watch("/quiet", {}, () => {}, { timeoutSeconds: 1 }));
    expect((error as Error).message).toMatch(/silent for 1.2 s$/);
    expect(ms).toBeGreaterThanOrEqual(1_150);
    expect(ms).toBeLessThan(3_000);
  });

  it("gives up on a watch the server never accepts, within the client's timeout", async () => {
    const { client } = await clientFor(() => {}, { timeoutMs: 300 });
    const { ms, error } = await timed(client.watch("/never", {}, () => {}));
    expect((error as Error).message).toMatch(/not accepted within 0.3 s$/);
    expect(ms).toBeLessThan(1_500);
  });

  it("reports 410 Expired, as an answer or as an ERROR event, with its status", async () => {
    const expired = {
      kind: "Status",
      reason: "Expired",
      message: "too old resource version: 1 (5)",
      code: 410,
    };
    const { client } = await clientFor((req, res) => {
      if (req.url.pathname === "/answer") return json(res, 410, expired);
      res.writeHead(200);
      res.end(`${JSON.stringify({ type: "ERROR", object: expired })}\n`);
    });
    for (const target of ["/answer", "/event"]) {
      const error = await client.watch(target, { resourceVersion: "1" }, () => {}).catch((e: unknown) => e);
      expect(error).toMatchObject({
        status: 410,
        reason: "Expired",
        detail: "too old resource version: 1 (5)",
      });
    }
  });

  it("stops at once when its signal aborts", async () => {
    const { client } = await clientFor((_, res) => res.writeHead(200).flushHeaders());
    const controller = new AbortController();
    const watching = timed(
      client.watch("/w", {}, () => {}, { signal: controller.signal, onConnected: () => controller.abort() }),
    );
    const { ms, error } = await watching;
    expect((error as Error).message).toMatch(/stopped$/);
    expect(ms).toBeLessThan(1_000);
  });
});

describe("the client over TLS, as a kubeconfig describes it", () => {
  it("checks the server against the kubeconfig's CA and presents its client certificate", async () => {
    const authority = createAuthority({ now: new Date() });
    const serving = issueServingCert(authority, { ipAddresses: ["127.0.0.1"], now: new Date() });
    const user = issueClientCert(authority, "graft-test");
    let subject: string | undefined;
    server = await startFakeApiServer(
      (_, res, raw) => {
        subject = String((raw.socket as TLSSocket).getPeerCertificate().subject?.CN);
        json(res, 200, { kind: "Namespace" });
      },
      { ...serving, ca: authority.cert, requestCert: true },
    );
    const dir = await mkdtemp(path.join(tmpdir(), "graft-kube-"));
    try {
      await writeFile(path.join(dir, "ca.crt"), authority.cert);
      await writeFile(path.join(dir, "user.crt"), user.cert);
      const kubeconfig = {
        "current-context": "c",
        contexts: [{ name: "c", context: { cluster: "k", user: "u" } }],
        clusters: [{ name: "k", cluster: { server: server.url, "certificate-authority": "ca.crt" } }],
        users: [
          {
            name: "u",
            user: {
              "client-certificate": "user.crt",
              "client-key-data": Buffer.from(user.key).toString("base64"),
            },
          },
        ],
      };
      const access = accessFromKubeconfig(kubeconfig, { baseDir: dir, source: "test" });
      expect(await createKubeClient(access).get("/api/v1/namespaces/a")).toEqual({ kind: "Namespace" });
      expect(subject).toBe("graft-test");

      // The same server, checked against another CA: refused before anything is sent.
      const other = createAuthority({ now: new Date(), commonName: "other-ca" });
      const wrongCa = accessFromKubeconfig(
        {
          ...kubeconfig,
          clusters: [
            {
              name: "k",
              cluster: {
                server: server.url,
                "certificate-authority-data": Buffer.from(other.cert).toString("base64"),
              },
            },
          ],
        },
        { baseDir: dir, source: "test" },
      );
      await expect(createKubeClient(wrongCa).get("/api/v1/namespaces/a")).rejects.toThrow(/certificate/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 30_000);
});

describe("the ServiceAccount token", () => {
  it("is read again when the kubelet swaps the token file (rotation)", async () => {
    server = await startFakeApiServer((_, res) => json(res, 200, {}));
    const dir = await mkdtemp(path.join(tmpdir(), "graft-sa-"));
    try {
      await writeFile(path.join(dir, "token"), "first-token\n");
      const url = new URL(server.url);
      const access = inClusterAccess(
        { KUBERNETES_SERVICE_HOST: url.hostname, KUBERNETES_SERVICE_PORT: url.port },
        dir,
      );
      expect(access?.describe).toBe(`in-cluster (https://127.0.0.1:${url.port})`);
      // The fake speaks http; the in-cluster server is https: keep the access, change the scheme.
      const client = createKubeClient({ ...access!, server: new URL(server.url) });
      await client.get("/a");
      await client.get("/b");
      // As the kubelet does: a new file renamed over the old one.
      await writeFile(path.join(dir, "token.new"), "second-token");
      await rename(path.join(dir, "token.new"), path.join(dir, "token"));
      await client.get("/c");
      expect(server.seen.map((s) => s.headers.authorization)).toEqual([
        "Bearer first-token",
        "Bearer first-token",
        "Bearer second-token",
      ]);
      // An emptied token file is an error naming the file, not an anonymous call.
      await writeFile(path.join(dir, "token"), "");
      await expect(client.get("/d")).rejects.toThrow(`the token file ${path.join(dir, "token")} is empty`);
      expect(server.seen).toHaveLength(3);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("is not in-cluster without KUBERNETES_SERVICE_HOST/PORT or without a token file", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "graft-sa-"));
    try {
      expect(inClusterAccess({}, dir)).toBeUndefined();
      expect(
        inClusterAccess({ KUBERNETES_SERVICE_HOST: "10.0.0.1", KUBERNETES_SERVICE_PORT: "443" }, dir),
      ).toBeUndefined();
      await writeFile(path.join(dir, "token"), "t");
      expect(
        inClusterAccess({ KUBERNETES_SERVICE_HOST: "fd00::1", KUBERNETES_SERVICE_PORT: "443" }, dir)?.server
          .origin,
      ).toBe("https://[fd00::1]");
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
