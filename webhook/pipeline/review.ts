/**
 * The AdmissionReview `admission.k8s.io/v1` envelope: validated once here, so everything after
 * trusts the request's shape, and the reply built in one place.
 */
import type { Static } from "@sinclair/typebox";
import { truncated } from "../../core/limits.js";
import type { Result } from "../../core/result.js";
import { describeSchemaError } from "../../core/schema-errors.js";
import type { Operation } from "./patch.js";
import type { AdmissionRequestSchema, AdmissionReviewSchema } from "./review-schema.js";
import { validateAdmissionReview as validateReview } from "./review-validator.generated.js";

export type AdmissionRequest = Static<typeof AdmissionRequestSchema>;

export type ParsedReview = Result<AdmissionRequest>;

/**
 * A value from the body as a message shows it: a string quoted and cut short, anything else by its
 * type (never serialised: a body can nest a million levels, or hold 8 MiB in one string).
 */
function shown(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(truncated(value, 80));
  if (value === null || typeof value !== "object") return String(value);
  return Array.isArray(value) ? "an array" : "an object";
}

/**
 * Checks that `body` is an `admission.k8s.io/v1` AdmissionReview with a request graft can act
 * on. The message says what is wrong, for a 400 reply.
 */
export function parseAdmissionReview(body: unknown): ParsedReview {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    return { ok: false, error: "expected an AdmissionReview JSON object" };
  }
  const review = body as { apiVersion?: unknown; kind?: unknown };
  if (review.kind !== "AdmissionReview") {
    return { ok: false, error: `expected kind "AdmissionReview", got ${shown(review.kind)}` };
  }
  if (review.apiVersion !== "admission.k8s.io/v1") {
    return {
      ok: false,
      error: `expected apiVersion "admission.k8s.io/v1", got ${shown(review.apiVersion)}; set admissionReviewVersions: [v1] in the webhook configuration`,
    };
  }
  if (!validateReview(body)) {
    const [first] = validateReview.errors ?? [];
    return {
      ok: false,
      error: `invalid AdmissionReview: ${first ? describeSchemaError(first) : "unknown error"}`,
    };
  }
  const { request } = body as Static<typeof AdmissionReviewSchema>;
  if ((request.operation === "CREATE" || request.operation === "UPDATE") && !request.object) {
    return {
      ok: false,
      error: `invalid AdmissionReview: ${request.operation} request without "request.object"`,
    };
  }
  return { ok: true, value: request };
}

/** What the webhook answers for one request. */
export type ReviewOutcome = {
  allowed: boolean;
  patch?: Operation[];
  warnings?: string[];
  /** Shown by kubectl when the request is denied. */
  message?: string;
  /** HTTP-like status code of a denial (default 403). */
  code?: number;
};

export type AdmissionResponse = {
  uid: string;
  allowed: boolean;
  patchType?: "JSONPatch";
  patch?: string;
  warnings?: string[];
  status?: { code: number; message: string };
};

export type AdmissionReviewResponse = {
  apiVersion: "admission.k8s.io/v1";
  kind: "AdmissionReview";
  response: AdmissionResponse;
};

/**
 * What a reply carries at most: a denial repeats values from the object (cut to 80 characters
 * each, but an object can be wrong in many places), and the API server passes it all to the
 * client. Kubernetes itself may cut warnings over 256 characters, and drops those past 4,096.
 */
export const RESPONSE_LIMITS = { message: 4096, warning: 1024, warnings: 16 } as const;

/**
 * Builds the `admission.k8s.io/v1` reply: a base64 JSONPatch only when there is something to
 * patch, warnings only when there are some, and a status carrying the message of a denial.
 */
export function reviewResponse(uid: string, outcome: ReviewOutcome): AdmissionReviewResponse {
  const response: AdmissionResponse = { uid, allowed: outcome.allowed };
  if (outcome.allowed && outcome.patch && outcome.patch.length > 0) {
    response.patchType = "JSONPatch";
    response.patch = Buffer.from(JSON.stringify(outcome.patch)).toString("base64");
  }
  if (outcome.warnings && outcome.warnings.length > 0) {
    response.warnings = outcome.warnings
      .slice(0, RESPONSE_LIMITS.warnings)
      .map((warning) => truncated(warning, RESPONSE_LIMITS.warning));
  }
  if (!outcome.allowed) {
    const message = truncated(outcome.message ?? "denied by graft", RESPONSE_LIMITS.message);
    response.status = { code: outcome.code ?? 403, message };
  }
  return { apiVersion: "admission.k8s.io/v1", kind: "AdmissionReview", response };
}

/**
 * The reply as the JSON text the server sends, serialised once: the base64 patch (which needs no
 * escaping) is put in as it is, not escaped again as a string inside the whole reply. The same
 * JSON as `JSON.stringify(reviewResponse(uid, outcome))`.
 */
export function reviewResponseText(uid: string, outcome: ReviewOutcome): string {
  const reply = reviewResponse(uid, outcome);
  const patch = reply.response.patch;
  if (patch === undefined) return JSON.stringify(reply);
  // An empty placeholder in the patch's place; a `"patch":""` inside a string would be escaped.
  const text = JSON.stringify({ ...reply, response: { ...reply.response, patch: "" } });
  return text.replace('"patch":""', () => `"patch":"${patch}"`);
}
