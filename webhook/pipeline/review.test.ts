import { describe, expect, it } from "vitest";
import { admissionReview } from "../testdata/review.js";
import { parseAdmissionReview, RESPONSE_LIMITS, reviewResponse, reviewResponseText } from "./review.js";

const review = (request: object = {}) =>
  admissionReview({
    uid: "705ab4f5-6393-11e8-b7cc-42010a800002",
    namespace: "shop",
    object: { apiVersion: "v1", kind: "Pod", metadata: {}, spec: { containers: [] } },
    dryRun: false,
    extra: { ...request },
  });

describe("parseAdmissionReview", () => {
  it("accepts an admission.k8s.io/v1 review and returns its request as given", () => {
    const body = review({ futureField: { kept: true } });
    expect(parseAdmissionReview(body)).toEqual({ ok: true, value: body.request });
  });

  it("says what is wrong with the envelope", () => {
    expect(parseAdmissionReview("text")).toEqual({
      ok: false,
      error: "expected an AdmissionReview JSON object",
    });
    expect(parseAdmissionReview({ ...review(), kind: "Pod" })).toEqual({
      ok: false,
      error: 'expected kind "AdmissionReview", got "Pod"',
    });
    expect(parseAdmissionReview({ ...review(), apiVersion: "admission.k8s.io/v1beta1" })).toEqual({
      ok: false,
      error:
        'expected apiVersion "admission.k8s.io/v1", got "admission.k8s.io/v1beta1"; set admissionReviewVersions: [v1] in the webhook configuration',
    });
  });

  it("names a missing uid, kind or request", () => {
    expect(parseAdmissionReview(review({ uid: undefined }))).toEqual({
      ok: false,
      error: 'invalid AdmissionReview: missing field "request.uid"',
    });
    expect(parseAdmissionReview({ apiVersion: "admission.k8s.io/v1", kind: "AdmissionReview" })).toEqual({
      ok: false,
      error: 'invalid AdmissionReview: missing field "request"',
    });
    expect(parseAdmissionReview(review({ operation: "PATCH" })).ok).toBe(false);
  });

  it("needs the object of a CREATE or UPDATE", () => {
    expect(parseAdmissionReview(review({ object: undefined }))).toEqual({
      ok: false,
      error: 'invalid AdmissionReview: CREATE request without "request.object"',
    });
    expect(parseAdmissionReview(review({ operation: "DELETE", object: null })).ok).toBe(true);
  });
});

describe("parseAdmissionReview on hostile envelopes", () => {
  it("names a wrong kind or apiVersion without serialising it (deep or huge values answered 500 or 8 MB)", () => {
    let deep: unknown = [];
    for (let i = 0; i < 1_000_000; i++) deep = [deep];
    expect(parseAdmissionReview({ ...review(), kind: deep })).toEqual({
      ok: false,
      error: 'expected kind "AdmissionReview", got an array',
    });
    const version = parseAdmissionReview({ ...review(), apiVersion: { deep } });
    expect(!version.ok && version.error).toMatch(
      /^expected apiVersion "admission.k8s.io\/v1", got an object;/,
    );
    const huge = parseAdmissionReview({ ...review(), kind: "x".repeat(8 * 1024 * 1024) });
    expect(!huge.ok && huge.error.length).toBeLessThan(200);
    expect(parseAdmissionReview({ ...review(), kind: 7 })).toEqual({
      ok: false,
      error: 'expected kind "AdmissionReview", got 7',
    });
  });
});

describe("reviewResponse", () => {
  it("answers with the uid and no patch when there is nothing to change", () => {
    expect(reviewResponse("u1", { allowed: true, patch: [], warnings: [] })).toEqual({
      apiVersion: "admission.k8s.io/v1",
      kind: "AdmissionReview",
      response: { uid: "u1", allowed: true },
    });
  });

  it("carries a patch as base64 JSONPatch, and the warnings", () => {
    const patch = [{ op: "add" as const, path: "/metadata/labels", value: { a: "b" } }];
    const { response } = reviewResponse("u1", { allowed: true, patch, warnings: ["note"] });
    expect(response.patchType).toBe("JSONPatch");
    expect(JSON.parse(Buffer.from(response.patch ?? "", "base64").toString())).toEqual(patch);
    expect(response.warnings).toEqual(["note"]);
  });

  it("denies with the status code and message", () => {
    expect(reviewResponse("u1", { allowed: false, message: "fix it", code: 400 }).response).toEqual({
      uid: "u1",
      allowed: false,
      status: { code: 400, message: "fix it" },
    });
    expect(reviewResponse("u1", { allowed: false }).response.status).toEqual({
      code: 403,
      message: "denied by graft",
    });
  });

  it("cuts a long denial message and long or many warnings to the response limits, saying so", () => {
    const message = "m".repeat(904 * 1024);
    const denied = reviewResponse("u1", { allowed: false, message, code: 400 }).response.status!;
    expect(denied.message).toHaveLength(RESPONSE_LIMITS.message);
    const [, kept, cut] = /^(m+) … \((\d+) more characters\)$/.exec(denied.message) ?? [];
    expect((kept?.length ?? 0) + Number(cut)).toBe(message.length);
    const warnings = Array.from({ length: 100 }, () => "w".repeat(10_000));
    const allowed = reviewResponse("u1", { allowed: true, warnings }).response.warnings!;
    expect(allowed).toHaveLength(RESPONSE_LIMITS.warnings);
    for (const warning of allowed) expect(warning).toHaveLength(RESPONSE_LIMITS.warning);
  });
});

describe("reviewResponseText", () => {
  const outcomes = [
    { allowed: true, patch: [], warnings: [] },
    {
      allowed: true,
      patch: [{ op: "add" as const, path: "/metadata/annotations/a~1b", value: 'say "hi" \u2028 é 🙂\n' }],
      warnings: ['quote " and \\ backslash'],
    },
    { allowed: false, message: 'bad "value" </script>', code: 400 },
    { allowed: true, patch: [{ op: "remove" as const, path: "/spec/x" }] },
  ];

  it.each(outcomes)("is the JSON of reviewResponse, byte for byte (%#)", (outcome) => {
    expect(reviewResponseText('u-"1', outcome)).toBe(JSON.stringify(reviewResponse('u-"1', outcome)));
  });
});
