import { Writable } from "node:stream";
import { Registry } from "prom-client";
import { afterEach, describe, expect, it, vi } from "vitest";
import { createAuthority, issueServingCert } from "../../certs/authority.js";
import { defaultWebhookConfig } from "../model/config.js";
import { ADMISSION_PATHS } from "../model/routes.js";
import { admit } from "../pipeline/admission.js";
import { type AdmissionServiceParts, createAdmissionService } from "../service/admission-service.js";
import { admissionReview, podReview } from "../testdata/review.js";
import { buildWebhookServer, type WebhookServerOptions } from "./server.js";

const now = new Date();
const tls = issueServingCert(createAuthority({ now }), { ipAddresses: ["127.0.0.1"], now });
const servers: Array<ReturnType<typeof buildWebhookServer>> = [];

afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

function server(overrides: Partial<WebhookServerOptions> = {}, parts: Partial<AdmissionServiceParts> = {}) {
  const app = buildWebhookServer({
    admission: createAdmissionService({ config: defaultWebhookConfig(), nativeSidecars: true, ...parts }),
    registry: new Registry(),
    tls,
    logger: false,
    ...overrides,
  });
  servers.push(app);
  return app;
}

const post = (
  app: ReturnType<typeof server>,
  url: string,
  payload: unknown,
  contentType = "application/json",
) =>
  app.inject({
    method: "POST",
    url,
    headers: { "content-type": contentType },
    payload: typeof payload === "string" ? payload : JSON.stringify(payload),
  });

function patchOf(body: { response: { patch?: string } }): Array<{ op: string; path: string }> {
  return body.response.patch ? JSON.parse(Buffer.from(body.response.patch, "base64").toString()) : [];
}

describe("POST /mutate/*", () => {
  it("answers with the request's uid and a base64 JSONPatch for a pod that opted in", async () => {
    const reply = await post(server(), ADMISSION_PATHS.namespacePods, podReview());
    expect(reply.statusCode).toBe(200);
    const body = reply.json();
    expect(body).toMatchObject({
      apiVersion: "admission.k8s.io/v1",
      kind: "AdmissionReview",
      response: { uid: "3f1c8a4e-0000-4000-8000-000000000001", allowed: true, patchType: "JSONPatch" },
    });
    expect(patchOf(body).some((op) => op.path.startsWith("/spec/initContainers"))).toBe(true);
  });

  it("treats a pod on /mutate/namespace as opted in by its namespace, and on /mutate/pod only by its own label", async () => {
    const app = server();
    const unlabelled = podReview();
    expect((await post(app, ADMISSION_PATHS.namespacePods, unlabelled)).json().response.patch).toBeDefined();
    expect((await post(app, ADMISSION_PATHS.labelledPods, unlabelled)).json().response).toEqual({
      uid: unlabelled.request.uid,
      allowed: true,
    });
    const labelled = podReview({ labels: { "graft.pnda.io/inject": "enabled" } });
    expect((await post(app, ADMISSION_PATHS.labelledPods, labelled)).json().response.patch).toBeDefined();
  });

  it("denies a pod with invalid graft annotations with a message naming the annotation", async () => {
    const reply = await post(
      server(),
      ADMISSION_PATHS.namespacePods,
      podReview({ annotations: { "graft.pnda.io/checks": "not a list" } }),
    );
    expect(reply.statusCode).toBe(200);
    const { response } = reply.json();
    expect(response.allowed).toBe(false);
    expect(response.status.message).toContain("graft.pnda.io/checks");
  });

  it("validates workloads on /validate without patching them", async () => {
    const review = admissionReview({
      uid: "w-1",
      kind: "Deployment",
      object: {
        metadata: { name: "ingest" },
        spec: {
          template: { metadata: { annotations: { "graft.pnda.io/checks": "[{type: nope}]" } }, spec: {} },
        },
      },
    });
    const { response } = (await post(server(), ADMISSION_PATHS.workloads, review)).json();
    expect(response.allowed).toBe(false);
    expect(response.status.message).toMatch(/Deployment "ingest".*graft\.pnda\.io\/checks/);
  });
});

describe("objects the admission core asks for", () => {
  const configMap = { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "graft-props-abc" } };
  const admitCreating: AdmissionServiceParts["admit"] = (request, facts) => ({
    ...admit(request, facts),
    create: [configMap],
  });

  it("are ensured before the reply", async () => {
    const ensureObjects = vi.fn(async () => {});
    await post(
      server({}, { admit: admitCreating, createObjects: ensureObjects }),
      ADMISSION_PATHS.namespacePods,
      podReview(),
    );
    expect(ensureObjects).toHaveBeenCalledWith(
      [configMap],
      expect.objectContaining({ namespace: "analytics" }),
    );
  });

  it("are not created on a dry run, which gets the same patch", async () => {
    const ensureObjects = vi.fn(async () => {});
    const app = server({}, { admit: admitCreating, createObjects: ensureObjects });
    const dry = (await post(app, ADMISSION_PATHS.namespacePods, podReview({}, { dryRun: true }))).json();
    const real = (await post(app, ADMISSION_PATHS.namespacePods, podReview({}, { dryRun: false }))).json();
    expect(ensureObjects).toHaveBeenCalledTimes(1);
    expect(dry.response.patch).toBe(real.response.patch);
  });

  it("that cannot be created make a 500 naming the pod, so failurePolicy decides", async () => {
    const ensureObjects = async () => {
      throw new Error('configmaps is forbidden: User "graft" cannot create');
    };
    const reply = await post(
      server({}, { admit: admitCreating, createObjects: ensureObjects }),
      ADMISSION_PATHS.namespacePods,
      podReview(),
    );
    expect(reply.statusCode).toBe(500);
    expect(reply.json().message).toBe(
      'graft could not admit Pod analytics/ingest-: configmaps is forbidden: User "graft" cannot create',
    );
  });
});

describe("malformed AdmissionReviews", () => {
  const review = podReview();
  const cases: Array<[string, unknown, RegExp]> = [
    ["a non-JSON body", "{not json", /not valid JSON/],
    ["a JSON array", "[]", /expected an AdmissionReview JSON object/],
    ["the wrong kind", { ...review, kind: "Pod" }, /expected kind "AdmissionReview", got "Pod"/],
    [
      "admission.k8s.io/v1beta1",
      { ...review, apiVersion: "admission.k8s.io/v1beta1" },
      /admissionReviewVersions: \[v1\]/,
    ],
    ["no request", { apiVersion: review.apiVersion, kind: review.kind }, /missing field "request"/],
    ["no uid", { ...review, request: { ...review.request, uid: undefined } }, /missing field "request.uid"/],
    [
      "a CREATE without object",
      { ...review, request: { ...review.request, object: undefined } },
      /without "request.object"/,
    ],
    ["an empty body", "", /empty/i],
  ];

  it.each(cases)("%s gets 400 with a message", async (_name, payload, message) => {
    const reply = await post(server(), ADMISSION_PATHS.namespacePods, payload);
    expect(reply.statusCode).toBe(400);
    expect(reply.json().message).toMatch(message);
  });

  it("a body over the limit gets 413 with the limit in the message", async () => {
    const app = server({ bodyLimitBytes: 64 * 1024 });
    const reply = await post(app, ADMISSION_PATHS.namespacePods, {
      ...review,
      padding: "x".repeat(65 * 1024),
    });
    expect(reply.statusCode).toBe(413);
    expect(reply.json().message).toBe("request body is larger than 65536 bytes");
  });

  it("a body that is not JSON by content type gets 415", async () => {
    const reply = await post(server(), ADMISSION_PATHS.namespacePods, "uid: 1", "application/yaml");
    expect(reply.statusCode).toBe(415);
    expect(reply.json().message).toMatch(/application\/yaml/);
  });

  it("leave the server answering the next good review", async () => {
    const app = server();
    for (const [, payload] of cases) await post(app, ADMISSION_PATHS.namespacePods, payload);
    const reply = await post(app, ADMISSION_PATHS.namespacePods, review);
    expect(reply.statusCode).toBe(200);
    expect(reply.json().response.uid).toBe(review.request.uid);
  });
});

describe("the admission reply", () => {
  it("is sent as the one JSON string graft built: fastify never serialises it (or its patch) again", async () => {
    const app = server();
    let serialised = 0;
    app.setReplySerializer((payload) => {
      serialised += 1;
      return JSON.stringify(payload);
    });
    const reply = await post(app, ADMISSION_PATHS.namespacePods, podReview());
    expect(reply.statusCode).toBe(200);
    expect(reply.headers["content-type"]).toMatch(/^application\/json/);
    expect(patchOf(reply.json()).length).toBeGreaterThan(0);
    expect(serialised).toBe(0);
  });
});

describe("/healthz, /readyz, /metrics", () => {
  it("report healthy and ready", async () => {
    const app = server();
    expect((await app.inject({ url: "/healthz" })).statusCode).toBe(200);
    expect((await app.inject({ url: "/readyz" })).json()).toEqual({ status: "ready" });
  });

  it("count requests by outcome, injections by feature and denials by kind and reason code", async () => {
    const registry = new Registry();
    const app = server({ registry });
    await post(app, ADMISSION_PATHS.namespacePods, podReview());
    await post(app, ADMISSION_PATHS.labelledPods, podReview());
    await post(
      app,
      ADMISSION_PATHS.namespacePods,
      podReview({ annotations: { "graft.pnda.io/health": "maybe" } }),
    );
    await post(app, ADMISSION_PATHS.namespacePods, "{");
    const text = (await app.inject({ url: "/metrics" })).body;
    expect(text).toContain('graft_webhook_requests_total{route="/mutate/namespace",outcome="patched"} 1');
    expect(text).toContain('graft_webhook_requests_total{route="/mutate/pod",outcome="allowed"} 1');
    expect(text).toContain('graft_webhook_requests_total{route="/mutate/namespace",outcome="denied"} 1');
    expect(text).toContain('graft_webhook_requests_total{route="/mutate/namespace",outcome="invalid"} 1');
    expect(text).toContain('graft_webhook_injections_total{feature="agent"} 1');
    expect(text).toContain('graft_webhook_denials_total{kind="Pod",reason="invalid-annotation"} 1');
    expect(text).toContain('graft_webhook_request_duration_seconds_count{route="/mutate/namespace"} 3');
  });
});

describe("logging", () => {
  it("writes one line per review with uid, kind, namespace, outcome and duration", async () => {
    const lines: Array<Record<string, unknown>> = [];
    const stream = new Writable({
      write(chunk, _encoding, done) {
        lines.push(JSON.parse(String(chunk)));
        done();
      },
    });
    const app = server({ logger: { level: "info", stream } });
    await post(app, ADMISSION_PATHS.namespacePods, podReview());
    const reviews = lines.filter((line) => line.msg === "review");
    expect(reviews).toHaveLength(1);
    expect(reviews[0]).toMatchObject({
      uid: "3f1c8a4e-0000-4000-8000-000000000001",
      kind: "Pod",
      namespace: "analytics",
      outcome: "patched",
      ms: expect.any(Number),
    });
    expect(reviews[0]).not.toHaveProperty("warnings");
  });

  it("logs an admitted review's warnings, which clients such as KubeSpawner drop", async () => {
    const lines: Array<Record<string, unknown>> = [];
    const stream = new Writable({
      write(chunk, _encoding, done) {
        lines.push(JSON.parse(String(chunk)));
        done();
      },
    });
    const app = server({ logger: { level: "info", stream } });
    const response = await post(
      app,
      ADMISSION_PATHS.namespacePods,
      podReview({
        annotations: {
          "graft.pnda.io/component-type": "jupyter",
          "hub.jupyter.org/username": "carol@example.org",
        },
      }),
    );
    const sent = (response.json() as { response: { warnings?: string[] } }).response.warnings ?? [];
    expect(sent.some((w) => w.includes("carol@example.org"))).toBe(true);
    const [review] = lines.filter((line) => line.msg === "review");
    expect(review?.warnings).toEqual(sent);
  });
});
